/**
 * What one hop between two processes costs this machine's CPU at a given rate: a TCP round trip
 * (a small request, an echo) between two Node processes pinned to the core the bench gives its
 * servers, measured as the CPU time of both processes (per-thread schedstat) and their main
 * threads' voluntary context switches per round trip. A chat message crosses several such hops
 * between our nodes (peer calls and their answers), Socket.IO's crosses fewer (its nodes and
 * Redis); at low rates both processes sleep between round trips and each round trip wakes them
 * again, so this is what a message's hops cost before any of our code runs.
 *
 *   node dist/node-app/bench/hop-cost.js [--rates 20,100,1000] [--seconds 5] [--bytes 500] [--no-pin]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { numbers, one } from './args';
import { pinProcess, planCores, processCpuMicros } from './measure/proc';

export interface HopCostOptions {
  rates: number[];
  seconds: number;
  bytes: number;
  pin: boolean;
}

export interface HopCostRow {
  rate: number;
  roundTrips: number;
  /** CPU of the caller and the echoing process per round trip, µs */
  callerMicros: number;
  echoMicros: number;
  /** voluntary context switches of both processes' main threads per round trip */
  switches: number;
}

/** Voluntary context switches of `pid`'s main thread so far (`/proc/<pid>/status` counts that thread alone). */
function voluntarySwitches(pid: number): number {
  const m = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** The echoing process: a plain Node TCP echo server, its port on stdout (no file of ours to load). */
const ECHO_SOURCE = `
const net = require('node:net');
const server = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function startEcho(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ECHO_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ child, port: Number(out.trim()) });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`echo process exited (${code}) before listening`)));
  });
}

/** One rate: `seconds` worth of round trips, a request sent every 1000/rate ms. */
async function measureRate(port: number, echoPid: number, o: HopCostOptions, rate: number): Promise<HopCostRow> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
  const payload = Buffer.alloc(o.bytes, 'x');
  let received = 0;
  let answered = 0;
  socket.on('data', (d) => {
    received += d.length;
    answered = Math.floor(received / o.bytes);
  });
  // Bounded: an echo that stops answering fails the run instead of hanging it.
  const run = (count: number) =>
    new Promise<void>((resolve, reject) => {
      let sent = 0;
      const target = answered + count;
      const deadline = Date.now() + (count * 1000) / rate + 5000;
      const timer = setInterval(() => {
        if (sent < count) {
          socket.write(payload);
          sent++;
        } else if (answered >= target) {
          clearInterval(timer);
          resolve();
        } else if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error(`hop-cost: ${target - answered} of ${count} round trips unanswered 5 s after the last was sent`));
        }
      }, 1000 / rate);
    });
  try {
    // A short unmeasured run first: the measured window starts with both sides' code compiled.
    await run(Math.min(50, rate));
    const self = process.pid;
    const cpu0 = [processCpuMicros(self), processCpuMicros(echoPid)];
    const sw0 = voluntarySwitches(self) + voluntarySwitches(echoPid);
    const before = answered;
    await run(Math.max(1, Math.round(rate * o.seconds)));
    const n = answered - before;
    const cpu1 = [processCpuMicros(self), processCpuMicros(echoPid)];
    const sw1 = voluntarySwitches(self) + voluntarySwitches(echoPid);
    return {
      rate,
      roundTrips: n,
      callerMicros: (cpu1[0] - cpu0[0]) / n,
      echoMicros: (cpu1[1] - cpu0[1]) / n,
      switches: (sw1 - sw0) / n,
    };
  } finally {
    socket.destroy();
  }
}

export async function runHopCost(o: HopCostOptions): Promise<HopCostRow[]> {
  const cores = planCores(o.pin).serverCores;
  const { child, port } = await startEcho();
  try {
    for (const pid of [process.pid, child.pid!]) pinProcess(pid, cores);
    const rows: HopCostRow[] = [];
    for (const rate of o.rates) rows.push(await measureRate(port, child.pid!, o, rate));
    return rows;
  } finally {
    child.kill();
    // The caller ran pinned; later work in this process need not be.
    if (cores !== null) pinProcess(process.pid, `0-${os.cpus().length - 1}`);
  }
}

export function renderHopCost(o: HopCostOptions, rows: HopCostRow[]): string {
  const lines = [
    `TCP round trips of ${o.bytes} bytes between two processes${o.pin ? ` pinned to core ${planCores(true).serverCores ?? '(any)'}` : ''}` +
      `; ${o.seconds} s per rate`,
    '| rate /s | round trips | CPU µs per round trip (caller + echo) | voluntary context switches per round trip |',
    '|---:|---:|---|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.rate} | ${r.roundTrips} | ${(r.callerMicros + r.echoMicros).toFixed(0)} (${r.callerMicros.toFixed(0)} + ${r.echoMicros.toFixed(0)}) | ${r.switches.toFixed(1)} |`);
  }
  return lines.join('\n');
}

export function parseHopCostArgs(argv: string[]): HopCostOptions {
  const o: HopCostOptions = { rates: [20, 100, 1000], seconds: 5, bytes: 500, pin: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--rates') {
      o.rates = numbers(a, v);
      i++;
    } else if (a === '--seconds') {
      o.seconds = one(a, v);
      i++;
    } else if (a === '--bytes') {
      o.bytes = Math.round(one(a, v));
      i++;
    } else if (a === '--no-pin') o.pin = false;
    else throw new Error(`unknown option ${a} (--rates, --seconds, --bytes, --no-pin)`);
  }
  return o;
}

if (require.main === module) {
  let o: HopCostOptions;
  try {
    o = parseHopCostArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  runHopCost(o).then(
    (rows) => console.log(renderHopCost(o, rows)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
