/**
 * One Docker engine per lab host: dockerd runs inside the host's network namespace and a fresh
 * UTS namespace named like the VM (so `docker node ls` shows chat-node1..3 and the demo's own
 * labelling commands work verbatim), each with its own data root, exec root, pidfile and socket.
 * `nsenter --net` is used rather than `ip netns exec`, which remounts /sys and hides the cgroups.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, sleep, waitFor } from './run';

export interface EngineSpec {
  hostname: string;
  netns: string;
  /** Short directory (unix socket paths below it must stay under 108 bytes). */
  root: string;
}

const DOCKERD_READY_TIMEOUT_MS = 60_000;
const DOCKERD_STOP_TIMEOUT_MS = 30_000;

export class Engine {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: EngineSpec) {}

  get socket(): string {
    return path.join(this.spec.root, 'docker.sock');
  }
  get dockerHost(): string {
    return `unix://${this.socket}`;
  }
  get pidFile(): string {
    return path.join(this.spec.root, 'docker.pid');
  }
  get logFile(): string {
    return path.join(this.spec.root, 'dockerd.log');
  }
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** Environment for a docker client (or a provisioning script) talking to this engine. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.dockerHost, ...extra };
  }

  docker(args: string[], opts: { timeoutMs?: number; allowFailure?: boolean; input?: string } = {}) {
    return run(['docker', ...args], { ...opts, env: this.env() });
  }

  /** Runs argv inside this host's network and UTS namespaces, as if on the VM. */
  inHost(argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; allowFailure?: boolean } = {}) {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`engine ${this.spec.hostname} is not running`);
    return run(['nsenter', '-t', String(pid), '-n', '-u', ...argv], { ...opts, env: opts.env ?? this.env() });
  }

  async start(): Promise<void> {
    if (this.pid !== undefined) return;
    for (const d of ['data', 'exec']) fs.mkdirSync(path.join(this.spec.root, d), { recursive: true });
    const log = fs.openSync(this.logFile, 'a');
    const dockerd = [
      'dockerd',
      `--data-root=${path.join(this.spec.root, 'data')}`,
      `--exec-root=${path.join(this.spec.root, 'exec')}`,
      `--pidfile=${this.pidFile}`,
      `-H=${this.dockerHost}`,
      '--storage-driver=overlay2',
      '--log-level=warn',
    ].join(' ');
    // Every step execs the next, so the spawned PID is dockerd's own: the engine is stopped by PID.
    const child = spawn(
      'nsenter',
      [`--net=/var/run/netns/${this.spec.netns}`, 'unshare', '--uts', 'sh', '-c', `hostname ${this.spec.hostname} && exec ${dockerd}`],
      { stdio: ['ignore', log, log], detached: true },
    );
    fs.closeSync(log);
    child.unref();
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      `dockerd of ${this.spec.hostname} to answer on ${this.socket}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}; see ${this.logFile}:\n${this.logTail()}`);
        const r = await this.docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5_000, allowFailure: true });
        return r.code === 0 ? true : undefined;
      },
      { timeoutMs: DOCKERD_READY_TIMEOUT_MS, intervalMs: 300 },
    );
  }

  /** SIGTERM (dockerd then stops its containers, like a VM's engine shutting down), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(DOCKERD_STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      process.kill(pid, 'SIGKILL');
      await Promise.race([this.exited, sleep(5_000)]);
    }
  }

  logTail(lines = 20): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
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
