/**
 * Process-level measurements from /proc, so the servers are measured from outside without any
 * cooperation (and so the figures mean the same for our node, Socket.IO and raw ws).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux we run on. */
const CLK_TCK = readClockTicks();

function readClockTicks(): number {
  try {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    const n = Number(out);
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/**
 * Whether this kernel keeps per-thread run time in nanoseconds (/proc/<pid>/task/<tid>/schedstat).
 * Decided once, so every snapshot of a run uses the same source.
 */
const SCHEDSTAT = (() => {
  try {
    readFileSync('/proc/self/schedstat', 'utf8');
    return true;
  } catch {
    return false;
  }
})();

/**
 * CPU time of a process in microseconds, or NaN if it is gone: the sum of its threads' run time
 * from schedstat (nanosecond resolution, so a short smoke step of a light server does not read as
 * 0), else utime+stime from /proc/<pid>/stat (clock ticks, 10 ms). Node's threads (libuv pool, V8
 * workers) live as long as the process, so summing the live ones misses nothing of a step.
 */
export function processCpuMicros(pid: number): number {
  return SCHEDSTAT ? threadsRunMicros(pid) : statCpuMicros(pid);
}

function threadsRunMicros(pid: number): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return Number.NaN;
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1000;
}

function statCpuMicros(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return Number.NaN;
  }
  // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/** True while pid exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Sum of processCpuMicros over pids, each pid reported too. */
export function cpuSnapshot(pids: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of pids) m.set(pid, processCpuMicros(pid));
  return m;
}

export function cpuDeltaMicros(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, b] of before) {
    const a = after.get(pid);
    if (a !== undefined && Number.isFinite(a) && Number.isFinite(b)) total += a - b;
  }
  return total;
}

/** Read and write system calls so far (/proc/<pid>/io), or NaN if unreadable. */
export function processSyscalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const r = /^syscr:\s+(\d+)/m.exec(io);
    const w = /^syscw:\s+(\d+)/m.exec(io);
    return r && w ? Number(r[1]) + Number(w[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** This process's soft open-file limit (RLIMIT_NOFILE), as the shell reports it; Infinity if unknown. */
export function openFileLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Infinity : Number(out) || Infinity;
  } catch {
    return Infinity;
  }
}

/** Resident set size in bytes (VmRSS), or NaN if the process is gone. */
export function processRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  totalMemBytes: number;
  node: string;
  platform: string;
  loadavg: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemBytes: os.totalmem(),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function loadavg1(): number {
  return Math.round(os.loadavg()[0] * 100) / 100;
}

/**
 * The core plan: the load generator gets core 0, the system under test every other core. With one
 * core nothing is pinned. Each system gets the same cores, so the comparison is per equal hardware.
 */
export interface CorePlan {
  loadGenCores: string | null;
  serverCores: string | null;
}

export function planCores(pin: boolean): CorePlan {
  const n = os.cpus().length;
  if (!pin || n < 2) return { loadGenCores: null, serverCores: null };
  return { loadGenCores: '0', serverCores: n === 2 ? '1' : `1-${n - 1}` };
}

/** Pins every thread of pid to the cpu list; returns false (and the reason) when taskset fails. */
export function pinProcess(pid: number, cpuList: string | null): { ok: boolean; error?: string } {
  if (cpuList === null) return { ok: false, error: 'not pinned' };
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
