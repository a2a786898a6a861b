/**
 * Where our nodes' CPU goes, from Linux `perf` samples (CPU time, unlike the V8 profiler's
 * wall-clock samples that charge a blocking fsync or a preempted process as busy). Each sample is
 * charged to the innermost frame of our own code on its stack (`dist/node-app/src/<file>` and the
 * function), so native work (SQLite, system calls, HMAC, malloc) counts for the code that asked
 * for it; samples without our code go to V8's optimizing compiler, the garbage collector, the
 * innermost Node.js module (`node:...`) or, last, the native leaf.
 *
 *   node --perf-basic-prof ...   (the bench: --ours-node-arg --perf-basic-prof)
 *   perf record -F 999 -g -p <pid,pid,pid> -o perf.data -- sleep 6
 *   perf script -i perf.data -F comm,tid,ip,sym > perf.txt
 *   node dist/node-app/bench/perf-summary.js [--top N] perf.txt
 */
import { readFileSync } from 'node:fs';

export interface PerfShare {
  key: string;
  samples: number;
  share: number;
}

export interface PerfSummary {
  samples: number;
  byFile: PerfShare[];
  byFunction: PerfShare[];
}

/** The stacks of `perf script -F comm,tid,ip,sym` output, innermost frame first (symbols only). */
export function parsePerfScript(text: string): string[][] {
  const stacks: string[][] = [];
  let cur: string[] | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur) stacks.push(cur);
      cur = null;
    } else if (!/^\s/.test(line)) {
      if (cur) stacks.push(cur);
      cur = [];
    } else if (cur) {
      // "    7f12ab34 symbol name (dso)": everything after the address
      const m = /^\s*[0-9a-f]+\s+(.*)$/.exec(line);
      cur.push(m ? m[1] : line.trim());
    }
  }
  if (cur) stacks.push(cur);
  return stacks;
}

const OWN = /\/dist\/node-app\/src\/(\S+?\.js):\d+/;

/** What one sample is charged to: [file or bucket, function]. */
export function chargeOf(stack: string[]): [string, string] {
  for (const s of stack) {
    if (!s.includes('JS:')) continue;
    const own = OWN.exec(s);
    if (own) {
      const fn = s.split('JS:')[1].split(' ')[0].replace(/^[*^~]/, '');
      return [own[1], fn || '(anonymous)'];
    }
  }
  if (stack.some((s) => s.includes('compiler::') || s.includes('OptimizingCompileDispatcher'))) return ['(v8 compiler)', ''];
  if (stack.some((s) => /Scavenge|MarkCompact|Heap::CollectGarbage|ConcurrentMarking/.test(s))) return ['(gc)', ''];
  for (const s of stack) {
    const m = s.includes('JS:') ? /(node:[\w/]+)/.exec(s) : null;
    if (m) return [m[1], ''];
  }
  return ['(native)', (stack[0] ?? '?').replace(/\s*\(.*\)$/, '').slice(0, 80)];
}

function ranked(counts: Map<string, number>, total: number): PerfShare[] {
  return [...counts]
    .map(([key, samples]) => ({ key, samples, share: Math.round((1000 * samples) / total) / 10 }))
    .sort((a, b) => b.samples - a.samples);
}

export function summarizePerf(stacks: string[][]): PerfSummary {
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const st of stacks) {
    const [file, fn] = chargeOf(st);
    byFile.set(file, (byFile.get(file) ?? 0) + 1);
    const key = fn ? `${file} ${fn}` : file;
    byFunction.set(key, (byFunction.get(key) ?? 0) + 1);
  }
  const total = Math.max(1, stacks.length);
  return { samples: stacks.length, byFile: ranked(byFile, total), byFunction: ranked(byFunction, total) };
}

function main(argv: string[]): void {
  let top = 30;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') {
      top = Number(argv[++i]);
      if (!Number.isInteger(top) || top <= 0) throw new Error('--top needs a positive integer');
    } else files.push(argv[i]);
  }
  if (files.length === 0) throw new Error('usage: perf-summary [--top N] PERF_SCRIPT_OUTPUT...');
  const s = summarizePerf(files.flatMap((f) => parsePerfScript(readFileSync(f, 'utf8'))));
  const line = (x: PerfShare) => `${x.share.toFixed(1).padStart(5)}%  ${String(x.samples).padStart(6)}  ${x.key}`;
  console.log(`== ${s.samples} samples`);
  console.log('-- by file (innermost frame of our code; else compiler, GC, Node module, native)');
  for (const x of s.byFile.slice(0, top)) console.log(line(x));
  console.log('-- by function');
  for (const x of s.byFunction.slice(0, top)) console.log(line(x));
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
}
