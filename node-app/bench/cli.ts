/**
 * `npm run bench`: runs the benchmark and writes results/<timestamp>/{result.json,result.md,latency.svg}.
 *
 *   node dist/node-app/bench/cli.js [--systems ours,socketio,ws] [--workloads fanout,many-rooms,connections]
 *     [--rates 100,200,500,1000,2000]
 *     [--step-ms 10000] [--drain-ms 10000] [--connections 1000,2500,5000,10000] [--smoke]
 *     [--no-pin] [--ours-env KEY=VALUE]... [--ours-no-data-dir] [--out DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderLatencyChart } from './report/chart';
import { renderMarkdown } from './report/markdown';
import { BenchConfig, BenchResult, FULL_CONFIG, runBench, SMOKE_CONFIG, WorkloadName } from './run';
import { SYSTEM_NAMES, SystemName } from './systems/types';

const USAGE = `usage: bench [--systems ours,ours-mem,socketio,ws] [--workloads fanout,many-rooms,connections] [--rates 100,200,...] [--step-ms N] [--drain-ms N] [--repeat N]
             [--members N] [--senders-per-node N] [--rooms N] [--room-members N] [--member-rate N]
             [--connections 1000,2500,...] [--smoke] [--no-pin] [--ours-env KEY=VALUE]... [--ours-no-data-dir] [--ours-node-arg ARG]... [--socketio-client-lib] [--out DIR]`;

function numbers(flag: string, v: string | undefined): number[] {
  const list = (v ?? '').split(',').map((s) => Number(s.trim()));
  if (!v || list.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`${flag} needs a comma list of positive numbers, got ${JSON.stringify(v)}`);
  return list;
}

function one(flag: string, v: string | undefined): number {
  const [x] = numbers(flag, v);
  return x;
}

export function parseArgs(argv: string[]): { config: BenchConfig; outDir: string } {
  let config: BenchConfig = structuredClone(FULL_CONFIG);
  if (argv.includes('--smoke')) config = structuredClone(SMOKE_CONFIG);
  let outDir = path.resolve(__dirname, '..', '..', '..', 'node-app', 'bench', 'results');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--smoke':
        break;
      case '--systems': {
        const names = (v ?? '').split(',').filter(Boolean);
        for (const s of names) if (!SYSTEM_NAMES.includes(s as SystemName)) throw new Error(`unknown system ${JSON.stringify(s)} (${SYSTEM_NAMES.join(', ')})`);
        if (!names.length) throw new Error('--systems needs at least one of ours, socketio, ws');
        config.systems = names as SystemName[];
        i++;
        break;
      }
      case '--workloads': {
        const names = (v ?? '').split(',').filter(Boolean);
        for (const w of names) if (!['fanout', 'many-rooms', 'connections'].includes(w)) throw new Error(`unknown workload ${JSON.stringify(w)} (fanout, many-rooms, connections)`);
        if (!names.length) throw new Error('--workloads needs at least one of fanout, many-rooms, connections');
        config.workloads = names as WorkloadName[];
        i++;
        break;
      }
      case '--rates': config.fanout.rates = numbers(a, v); i++; break;
      case '--step-ms': config.fanout.stepMs = config.manyRooms.durationMs = one(a, v); i++; break;
      case '--drain-ms': config.fanout.drainMs = config.manyRooms.drainMs = one(a, v); i++; break;
      case '--repeat': config.fanout.repeat = one(a, v); i++; break;
      case '--members': config.fanout.members = one(a, v); i++; break;
      case '--senders-per-node': config.fanout.sendersPerNode = one(a, v); i++; break;
      case '--rooms': config.manyRooms.rooms = one(a, v); i++; break;
      case '--room-members': config.manyRooms.membersPerRoom = one(a, v); i++; break;
      case '--member-rate': config.manyRooms.perMemberRate = one(a, v); i++; break;
      case '--connections': config.connections.levels = numbers(a, v).sort((x, y) => x - y); i++; break;
      case '--no-pin': config.pin = false; break;
      case '--ours-no-data-dir': config.oursDurable = false; break;
      case '--socketio-client-lib': config.socketioLibraryClient = true; break;
      case '--ours-node-arg':
        if (!v) throw new Error('--ours-node-arg needs an argument for node, e.g. --cpu-prof');
        config.oursNodeArgs.push(v);
        i++;
        break;
      case '--ours-env': {
        const eq = (v ?? '').indexOf('=');
        if (eq <= 0) throw new Error(`--ours-env needs KEY=VALUE, got ${JSON.stringify(v)}`);
        config.oursEnv[v!.slice(0, eq)] = v!.slice(eq + 1);
        i++;
        break;
      }
      case '--out':
        if (!v) throw new Error('--out needs a folder');
        outDir = path.resolve(v);
        i++;
        break;
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(a)}\n${USAGE}`);
    }
  }
  return { config, outDir };
}

export function writeResults(result: BenchResult, baseDir: string): string {
  const dir = path.join(baseDir, result.startedAt.replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(path.join(dir, 'latency.svg'), renderLatencyChart(result));
  writeFileSync(path.join(dir, 'result.md'), renderMarkdown(result, 'latency.svg'));
  return dir;
}

async function main(): Promise<void> {
  const { config, outDir } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const result = await runBench(config, (line) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`));
  const dir = writeResults(result, outDir);
  process.stdout.write(`\n${renderMarkdown(result, 'latency.svg')}\nwritten to ${dir}\n`);
  // Open handles of client libraries must not keep a finished run alive.
  process.exit(result.errors.length ? 1 : 0);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  });
}
