/**
 * One Docker engine per lab host: dockerd runs inside the host's network namespace and a fresh
 * UTS namespace named like the VM (so `docker node ls` shows chat-node1..3 and the demo's own
 * labelling commands work verbatim), each with its own data root, exec root, pidfile and socket.
 * `nsenter --net` is used rather than `ip netns exec`, which remounts /sys and hides the cgroups.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dockerd } from './dockerd';
import { run, sleep } from './run';

export interface EngineSpec {
  hostname: string;
  netns: string;
  /** Short directory (unix socket paths below it must stay under 108 bytes). */
  root: string;
}

export class Engine extends Dockerd {
  constructor(readonly spec: EngineSpec) {
    super(spec.root, `dockerd of ${spec.hostname}`);
  }

  /** Runs argv inside this host's network and UTS namespaces, as if on the VM. */
  inHost(argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; allowFailure?: boolean } = {}) {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`engine ${this.spec.hostname} is not running`);
    return run(['nsenter', '-t', String(pid), '-n', '-u', ...argv], { ...opts, env: opts.env ?? this.env() });
  }

  /** Every step execs the next, so the spawned PID is dockerd's own: the engine is stopped by PID. */
  start(): Promise<void> {
    const dockerd = ['dockerd', ...this.dockerdArgs()].join(' ');
    return this.launch([
      'nsenter',
      `--net=/var/run/netns/${this.spec.netns}`,
      'unshare',
      '--uts',
      'sh',
      '-c',
      `hostname ${this.spec.hostname} && exec ${dockerd}`,
    ]);
  }
}

/** PIDs of processes whose command line mentions `dir` (container shims left by a killed engine). */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Mount points below `dir`, deepest first (overlay layers and namespace files of the engines). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p && p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/**
 * Stops whatever a lab rooted at `dir` left running (also from a crashed earlier run): processes
 * are found by their own PID files and command lines below `dir`, never by program name.
 */
export async function killLeftovers(dir: string): Promise<number[]> {
  const pids = processesUnder(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(200);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  return pids;
}

/** Unmounts everything below `dir` (deepest first), then `dir` itself if it is a mount, then deletes it. */
export async function unmountAndRemove(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) await run(['umount', '-l', m], { allowFailure: true, timeoutMs: 10_000 });
  if (isMountPoint(dir)) await run(['umount', '-l', dir], { timeoutMs: 10_000 });
  fs.rmSync(dir, { recursive: true, force: true });
}

function isMountPoint(dir: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === dir.replace(/\/$/, ''));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
