/**
 * Where a node's time goes: summarizes V8 .cpuprofile files (from `--ours-node-arg --cpu-prof`)
 * three ways, each as a share of the busy (non-idle) samples:
 *  - modules: by the innermost frame of our own code (dist/node-app/...) or npm package on each
 *    sampled stack, so time in Node internals and system calls is charged to the module that caused it;
 *  - categories: by the innermost frame on the stack that names a kind of work (SQLite and fsync,
 *    HMAC, XML-RPC encode/decode, socket I/O, peer HTTP, ws framing, JSON, heartbeats, GC; Node's
 *    timers only when nothing more specific is on the stack). V8 shows JSON.parse/stringify as
 *    frames of their own only sometimes; otherwise their time is the calling function's),
 *    and inclusively: the share of samples with that kind of work anywhere on the stack (a
 *    heartbeat that encodes XML counts for both);
 *  - self time: the sampled leaf function itself (file:line), a native leaf shown with the nearest
 *    JavaScript function that called it.
 *
 *   node dist/node-app/bench/profile-summary.js [--top N] [--merge] [--skip-ms N] [--until-ms N] FILE.cpuprofile...
 *
 * --merge adds the files up (the three nodes of a run); --skip-ms drops each profile's first N ms
 * (the node's start-up and the clients' set-up, which are not the workload); --until-ms drops
 * everything after N ms (e.g. the idle-rooms wake-up burst after the idle window).
 *
 * The profiler samples wall-clock time: with several servers pinned to one core, a process that
 * is preempted inside a system call (a loopback write that wakes a peer) is charged for the wait.
 * Compare shares within one profile; use /proc CPU (the bench tables) for absolute cost.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber?: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  key: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  modules: Share[];
  categories: Share[];
  /** Per category, the samples with a matching frame anywhere on the stack (shares overlap). */
  inclusive: Share[];
  selfTime: Share[];
}

const OWN = '/dist/node-app/';

/**
 * The kinds of work, tried on each frame from the leaf up; the first frame that matches a specific
 * one names the sample's category; the fallbacks (generic Node internals) only when none does.
 */
const CATEGORIES: { name: string; fallback?: boolean; test: (f: CallFrame) => boolean }[] = [
  { name: 'GC', test: (f) => f.functionName === '(garbage collector)' },
  { name: 'SQLite (storage, incl. fsync)', test: (f) => f.url.includes('node_modules/better-sqlite3/') || f.url.includes(`${OWN}src/storage/`) },
  {
    name: 'HMAC / crypto (peer auth)',
    test: (f) => f.url.includes('node:internal/crypto') || f.url.includes(`${OWN}src/peers/peer-auth`) || /^(createHmac|Hmac|digest|timingSafeEqual)$/.test(f.functionName),
  },
  { name: 'XML-RPC encode/decode', test: (f) => f.url.includes(`${OWN}src/peers/xmlrpc-codec`) || f.url.includes(`${OWN}src/peers/batch-format`) },
  // The write/read system calls themselves, whoever asked (clients' ws frames, leave in one writev per turn).
  { name: 'socket I/O (writev/read, any caller)', test: (f) => /node:(net|internal\/stream_base_commons|internal\/streams)/.test(f.url) },
  { name: 'JSON', test: (f) => f.url === '' && (f.functionName === 'stringify' || f.functionName === 'parse') },
  { name: 'ws send (client frames)', test: (f) => f.url.includes('node_modules/ws/lib/sender') },
  { name: 'ws receive', test: (f) => f.url.includes('node_modules/ws/lib/receiver') || f.url.includes('node_modules/ws/lib/buffer-util') },
  { name: 'ws (other)', test: (f) => f.url.includes('node_modules/ws/') },
  {
    name: 'peer HTTP (client and server)',
    test: (f) => /node:_http_|node:internal\/http|node:http$/.test(f.url) || /\/dist\/node-app\/src\/peers\/peer-(link|server|transport|stream)\./.test(f.url),
  },
  { name: 'heartbeats / failure detector', test: (f) => (f.url.includes(OWN) && /heartbeat/i.test(f.functionName)) || f.url.includes(`${OWN}src/node/failure-detector`) },
  { name: 'replication (other)', test: (f) => f.url.includes(`${OWN}src/replication/`) },
  { name: 'node / rooms / protocol (other)', test: (f) => /\/dist\/node-app\/src\/(node|rooms|protocol|http)\//.test(f.url) },
  { name: 'peers (other)', test: (f) => f.url.includes(`${OWN}src/peers/`) },
  { name: 'other own code', test: (f) => f.url.includes(OWN) },
  { name: 'timers (Node internals)', fallback: true, test: (f) => f.url.includes('node:internal/timers') },
];

function shortUrl(url: string): string {
  const own = url.indexOf(OWN);
  if (own >= 0) return url.slice(own + OWN.length);
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return url;
}

function frameName(f: CallFrame): string {
  const where = f.url ? ` ${shortUrl(f.url)}${f.lineNumber !== undefined && f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
}

function shares(groups: Map<string, number>, busy: number): Share[] {
  return [...groups.entries()]
    .map(([key, micros]) => ({ key, ms: Math.round(micros / 1000), share: Math.round((micros / Math.max(1, busy)) * 1000) / 10 }))
    .sort((a, b) => b.ms - a.ms);
}

export function summarizeProfile(profile: Profile, skipMs = 0, untilMs = Infinity): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const timeById = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    elapsed += profile.timeDeltas[i] ?? 0;
    if (elapsed >= skipMs * 1000 && elapsed < untilMs * 1000) timeById.set(id, (timeById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const modules = new Map<string, number>();
  const categories = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
  let busy = 0;
  let idle = 0;
  for (const [id, micros] of timeById) {
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    const stack: CallFrame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!.callFrame);

    let mod: string | null = null;
    for (const f of stack) {
      const own = f.url.indexOf(OWN);
      if (own >= 0) mod = `${f.url.slice(own + OWN.length)} ${f.functionName || '(anonymous)'}`;
      else if (f.url.includes('node_modules/')) mod = `npm:${f.url.split('node_modules/')[1].split('/')[0]}`;
      if (mod) break;
    }
    add(modules, mod ?? `(node) ${leaf.callFrame.functionName || '(anonymous)'}`, micros);

    let cat: string | null = null;
    for (const fallback of [false, true]) {
      for (const f of stack) {
        cat = CATEGORIES.find((c) => !!c.fallback === fallback && c.test(f))?.name ?? null;
        if (cat) break;
      }
      if (cat) break;
    }
    for (const c of CATEGORIES) if (stack.some((f) => c.test(f))) add(inclusive, c.name, micros);
    add(categories, cat ?? (leaf.callFrame.functionName.startsWith('(') ? `V8 ${leaf.callFrame.functionName}` : 'Node internals (other)'), micros);

    // A native leaf (no url) says little alone: name the JavaScript function that called it.
    let selfKey = frameName(leaf.callFrame);
    if (!leaf.callFrame.url && !leaf.callFrame.functionName.startsWith('(')) {
      const caller = stack.find((f) => f.url);
      if (caller) selfKey += ` ← ${frameName(caller)}`;
    }
    add(self, selfKey, micros);
  }
  return { busyMs: Math.round(busy / 1000), idleMs: Math.round(idle / 1000), modules: shares(modules, busy), categories: shares(categories, busy), inclusive: shares(inclusive, busy), selfTime: shares(self, busy) };
}

/** Several profiles (e.g. the three nodes of one run) added together. */
export function mergeSummaries(list: ProfileSummary[]): ProfileSummary {
  const busy = list.reduce((s, x) => s + x.busyMs, 0);
  const merge = (pick: (s: ProfileSummary) => Share[]): Share[] => {
    const m = new Map<string, number>();
    for (const s of list) for (const x of pick(s)) m.set(x.key, (m.get(x.key) ?? 0) + x.ms * 1000);
    return shares(m, busy * 1000);
  };
  return { busyMs: busy, idleMs: list.reduce((s, x) => s + x.idleMs, 0), modules: merge((s) => s.modules), categories: merge((s) => s.categories), inclusive: merge((s) => s.inclusive), selfTime: merge((s) => s.selfTime) };
}

function print(title: string, s: ProfileSummary, top: number): void {
  const rows = (list: Share[], n: number): string => list.slice(0, n).map((m) => `${m.share.toFixed(1).padStart(5)}% ${String(m.ms).padStart(6)} ms  ${m.key}`).join('\n');
  process.stdout.write(`== ${title}: busy ${s.busyMs} ms, idle ${s.idleMs} ms\n`);
  process.stdout.write(`-- by kind of work\n${rows(s.categories, s.categories.length)}\n`);
  process.stdout.write(`-- inclusive (anywhere on the stack; shares overlap)\n${rows(s.inclusive, s.inclusive.length)}\n`);
  process.stdout.write(`-- by module (innermost own or npm frame)\n${rows(s.modules, top)}\n`);
  process.stdout.write(`-- self time (leaf function)\n${rows(s.selfTime, top)}\n`);
}

function main(argv: string[]): void {
  let top = 25;
  let merged = false;
  let skipMs = 0;
  let untilMs = Infinity;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else if (argv[i] === '--merge') merged = true;
    else if (argv[i] === '--skip-ms') skipMs = Number(argv[++i]);
    else if (argv[i] === '--until-ms') untilMs = Number(argv[++i]);
    else files.push(argv[i]);
  }
  if (!files.length || !Number.isInteger(top) || top <= 0 || !(skipMs >= 0) || !(untilMs > skipMs)) {
    process.stderr.write('usage: profile-summary [--top N] [--merge] [--skip-ms N] [--until-ms N > skip] FILE.cpuprofile...\n');
    process.exit(2);
  }
  const summaries = files.map((f) => summarizeProfile(JSON.parse(readFileSync(f, 'utf8')) as Profile, skipMs, untilMs));
  if (merged) print(`${files.length} profiles together`, mergeSummaries(summaries), top);
  else summaries.forEach((s, i) => print(files[i], s, top));
}

if (require.main === module) main(process.argv.slice(2));
