/**
 * Child processes of the benchmark: spawned, awaited until they print a ready line, and always
 * stopped (SIGTERM, then SIGKILL) even if the harness itself dies.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import * as net from 'node:net';

/**
 * How long a server may take to become ready: an upper bound against hangs, not a speed check
 * (on a loaded shared machine, loading Socket.IO alone has taken over 15 s).
 */
export const READY_TIMEOUT_MS = 60_000;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills whatever is still running when the harness exits, so a crash leaves no servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Registers a child spawned elsewhere so it is killed too if the harness exits early. */
export function trackChild(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export interface StartedChild {
  child: ChildProcess;
  pid: number;
  /** The parsed JSON object of the first stdout line that contains `"ready":true`. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** How long to wait for readiness before failing (default READY_TIMEOUT_MS). */
  readyTimeoutMs?: number;
  /** Decides readiness from a stdout line; default: a JSON line with ready:true. */
  isReady?: (line: string) => Record<string, unknown> | null;
  label: string;
  /** Append the child's stdout and stderr here (for a post-mortem when it dies). */
  logFile?: string;
}

function jsonReady(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const obj = JSON.parse(line) as Record<string, unknown>;
    return obj.ready === true ? obj : null;
  } catch {
    return null;
  }
}

export function spawnReady(opts: SpawnOptions): Promise<StartedChild> {
  installExitHook();
  const isReady = opts.isReady ?? jsonReady;
  const child = spawn(opts.command, opts.args, {
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let tail = '';
  const keepTail = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stderr!.on('data', keepTail);
  if (opts.logFile) {
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    log.on('error', () => undefined);
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('exit', () => log.end());
  }

  return new Promise<StartedChild>((resolve, reject) => {
    let buf = '';
    let done = false;
    const timer = setTimeout(() => {
      fail(new Error(`${opts.label} not ready within ${opts.readyTimeoutMs ?? READY_TIMEOUT_MS} ms; output tail:\n${tail}`));
    }, opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('error', (err) => fail(new Error(`${opts.label} failed to start: ${err.message}`)));
    child.once('exit', (code, signal) => {
      fail(new Error(`${opts.label} exited before ready (code ${code}, signal ${signal}); output tail:\n${tail}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      keepTail(chunk);
      if (done) return;
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const ready = isReady(line);
        if (ready) {
          done = true;
          clearTimeout(timer);
          // Keep draining output so a chatty child never blocks on a full pipe.
          child.stdout!.on('data', () => undefined);
          resolve({ child, pid: child.pid!, ready, stop: () => stopChild(child) });
          return;
        }
      }
    });
  });
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Ports this process has handed out: systems start side by side and a probed port stays free
 * until its server binds it, so a port is never handed out twice (a run starts a few dozen servers).
 */
const handedOut = new Set<number>();

/** A free TCP port on 127.0.0.1 inside [from, to], probed by binding it, never one handed out before. */
export function freePortInRange(from: number, to: number): Promise<number> {
  return freePortRun(1, from, to);
}

/**
 * A run of `count` consecutive free ports inside [from, to], none handed out before. Candidates
 * are reserved before the (asynchronous) probe, so concurrent callers never get the same port.
 */
export async function freePortRun(count: number, from: number, to: number): Promise<number> {
  const span = to - count + 1 - from + 1;
  const first = Math.floor(Math.random() * span);
  for (let attempt = 0; attempt < Math.min(span, 200); attempt++) {
    const base = from + ((first + attempt) % span);
    const run = Array.from({ length: count }, (_, i) => base + i);
    if (run.some((p) => handedOut.has(p))) continue;
    for (const p of run) handedOut.add(p);
    let ok = true;
    for (const p of run) if (ok) ok = await canBind(p);
    if (ok) return base;
    for (const p of run) handedOut.delete(p);
  }
  throw new Error(`no run of ${count} free ports in ${from}-${to}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
