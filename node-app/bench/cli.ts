/**
 * `npm run bench`: runs the benchmark and writes results/<timestamp>/{result.json,result.md,latency.svg}.
 * Options: see USAGE (and node-app/bench/README.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { numbers, one } from './args';
import { renderLatencyChart } from './report/chart';
import { renderMarkdown } from './report/markdown';
import { BenchConfig, BenchResult, FULL_CONFIG, runBench, SMOKE_CONFIG, WORKLOAD_NAMES, WorkloadName } from './run';
import { SYSTEM_NAMES, SystemName } from './systems/types';

const USAGE = `usage: bench [--only WORKLOAD] [--systems ${SYSTEM_NAMES.join(',')}] [--workloads ${WORKLOAD_NAMES.join(',')}]
             [--rates 100,200,...] [--step-ms N] [--drain-ms N] [--repeat N] [--warmup-ms N] [--members N] [--senders-per-node N]
             [--cpu-rate N] [--cpu-repeat N] [--closed-loop-senders N] [--closed-loop-ms N]
             [--idle-rooms N] [--idle-members N] [--idle-window-ms N]
             [--rooms N] [--room-members N] [--member-rate N] [--connections 1000,2500,...]
             [--smoke] [--no-pin] [--ours-env KEY=VALUE]... [--ours-no-data-dir] [--ours-node-arg ARG]... [--baseline DIR] [--socketio-client-lib] [--out DIR]
  --only W runs one workload; without --systems it runs ours and socketio (the two the targets compare).
  --baseline DIR: the system ours-base runs our nodes from DIR's build (a checkout, npm run build done there).`;

/** The systems a single workload (--only) runs unless --systems says otherwise. */
const ONLY_SYSTEMS: SystemName[] = ['ours', 'socketio'];

function workloadList(flag: string, v: string | undefined): WorkloadName[] {
  const names = (v ?? '').split(',').filter(Boolean);
  for (const w of names) if (!(WORKLOAD_NAMES as readonly string[]).includes(w)) throw new Error(`unknown workload ${JSON.stringify(w)} (${WORKLOAD_NAMES.join(', ')})`);
  if (!names.length) throw new Error(`${flag} needs at least one of ${WORKLOAD_NAMES.join(', ')}`);
  return names as WorkloadName[];
}

export function parseArgs(argv: string[]): { config: BenchConfig; outDir: string } {
  let config: BenchConfig = structuredClone(FULL_CONFIG);
  if (argv.includes('--smoke')) config = structuredClone(SMOKE_CONFIG);
  let outDir = path.resolve(__dirname, '..', '..', '..', 'node-app', 'bench', 'results');
  let systemsGiven = false;
  let only = false;
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
        systemsGiven = true;
        i++;
        break;
      }
      case '--workloads':
        config.workloads = workloadList(a, v);
        i++;
        break;
      case '--only':
        config.workloads = workloadList(a, v);
        if (config.workloads.length !== 1) throw new Error('--only takes one workload (use --workloads for several)');
        only = true;
        i++;
        break;
      case '--rates': config.fanout.rates = numbers(a, v); i++; break;
      case '--step-ms': config.fanout.stepMs = config.cpuPerDelivery.stepMs = config.manyRooms.durationMs = one(a, v); i++; break;
      case '--drain-ms': config.fanout.drainMs = config.cpuPerDelivery.drainMs = config.closedLoop.drainMs = config.idleRooms.drainMs = config.manyRooms.drainMs = one(a, v); i++; break;
      case '--repeat': config.fanout.repeat = one(a, v); i++; break;
      case '--warmup-ms': config.fanout.warmupMs = config.closedLoop.warmupMs = config.manyRooms.warmupMs = one(a, v); i++; break;
      case '--members': config.fanout.members = one(a, v); i++; break;
      case '--senders-per-node': config.fanout.sendersPerNode = one(a, v); i++; break;
      case '--rooms': config.manyRooms.rooms = one(a, v); i++; break;
      case '--room-members': config.manyRooms.membersPerRoom = one(a, v); i++; break;
      case '--cpu-rate': config.cpuPerDelivery.rate = one(a, v); i++; break;
      case '--cpu-repeat': config.cpuPerDelivery.repeat = one(a, v); i++; break;
      case '--closed-loop-senders': config.closedLoop.senders = one(a, v); i++; break;
      case '--closed-loop-ms': config.closedLoop.durationMs = one(a, v); i++; break;
      case '--idle-rooms': config.idleRooms.rooms = one(a, v); i++; break;
      case '--idle-members': config.idleRooms.membersPerRoom = one(a, v); i++; break;
      case '--idle-window-ms': config.idleRooms.windowMs = one(a, v); i++; break;
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
      case '--baseline':
        if (!v) throw new Error('--baseline needs a checkout of the project (built)');
        config.baselineDir = path.resolve(v);
        i++;
        break;
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
  if (only && !systemsGiven) config.systems = [...ONLY_SYSTEMS];
  if (config.systems.includes('ours-base') && !config.baselineDir) throw new Error('--systems ours-base needs --baseline DIR');
  return { config, outDir };
}

export function writeResults(result: BenchResult, baseDir: string): string {
  const dir = path.join(baseDir, result.startedAt.replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  const chart = result.fanout.length ? 'latency.svg' : undefined;
  if (chart) writeFileSync(path.join(dir, chart), renderLatencyChart(result));
  writeFileSync(path.join(dir, 'result.md'), renderMarkdown(result, chart));
  return dir;
}

async function main(): Promise<void> {
  const { config, outDir } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const result = await runBench(config, (line) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`));
  const dir = writeResults(result, outDir);
  process.stdout.write(`\n${renderMarkdown(result, result.fanout.length ? 'latency.svg' : undefined)}\nwritten to ${dir}\n`);
  // Open handles of client libraries must not keep a finished run alive.
  process.exit(result.errors.length ? 1 : 0);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  });
}
