/**
 * Where a node's time goes: summarizes V8 .cpuprofile files (from `--ours-node-arg --cpu-prof`)
 * by the innermost frame of our own code (dist/node-app/...) or npm package on each sampled
 * stack, so time spent in Node internals and system calls is charged to the module that caused it.
 *
 *   node dist/node-app/bench/profile-summary.js [--top N] FILE.cpuprofile...
 *
 * The profiler samples wall-clock time: with several servers pinned to one core, a process that
 * is preempted inside a system call (a loopback write that wakes a peer) is charged for the wait.
 * Compare modules within one profile; use /proc CPU (the bench tables) for absolute cost.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ModuleShare {
  key: string;
  ms: number;
  share: number;
}

export function summarizeProfile(profile: Profile): { busyMs: number; idleMs: number; modules: ModuleShare[] } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const timeById = new Map<number, number>();
  profile.samples.forEach((id, i) => timeById.set(id, (timeById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const groups = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, micros] of timeById) {
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    let key: string | null = null;
    for (let cur: number | undefined = id; cur !== undefined && key === null; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url;
      const own = url.indexOf('/dist/node-app/');
      if (own >= 0) key = `${url.slice(own + '/dist/node-app/'.length)} ${byId.get(cur)!.callFrame.functionName || '(anonymous)'}`;
      else if (url.includes('node_modules/')) key = `npm:${url.split('node_modules/')[1].split('/')[0]}`;
    }
    key ??= `(node) ${leaf.callFrame.functionName || '(anonymous)'}`;
    groups.set(key, (groups.get(key) ?? 0) + micros);
  }
  const modules = [...groups.entries()]
    .map(([key, micros]) => ({ key, ms: Math.round(micros / 1000), share: Math.round((micros / Math.max(1, busy)) * 1000) / 10 }))
    .sort((a, b) => b.ms - a.ms);
  return { busyMs: Math.round(busy / 1000), idleMs: Math.round(idle / 1000), modules };
}

function main(argv: string[]): void {
  let top = 25;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else files.push(argv[i]);
  }
  if (!files.length || !Number.isInteger(top) || top <= 0) {
    process.stderr.write('usage: profile-summary [--top N] FILE.cpuprofile...\n');
    process.exit(2);
  }
  for (const f of files) {
    const s = summarizeProfile(JSON.parse(readFileSync(f, 'utf8')) as Profile);
    process.stdout.write(`== ${f}: busy ${s.busyMs} ms, idle ${s.idleMs} ms\n`);
    for (const m of s.modules.slice(0, top)) process.stdout.write(`${m.share.toFixed(1).padStart(5)}% ${String(m.ms).padStart(6)} ms  ${m.key}\n`);
  }
}

if (require.main === module) main(process.argv.slice(2));
