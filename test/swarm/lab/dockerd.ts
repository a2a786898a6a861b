/**
 * One dockerd process of a lab: its own data root, exec root, pidfile, socket and log under one
 * short folder; started detached, waited for until it answers, stopped by PID (never by program
 * name, so the machine's own engine is never touched). The Swarm lab runs it inside a network
 * namespace, the Vagrant lab in the root namespace on a bridge of its own; both build on this.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, sleep, waitFor } from './run';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export class Dockerd {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  /** `root` must stay short: unix socket paths below it are limited to 108 bytes. */
  constructor(
    readonly root: string,
    private readonly label: string,
  ) {}

  get socket(): string {
    return path.join(this.root, 'docker.sock');
  }
  get dockerHost(): string {
    return `unix://${this.socket}`;
  }
  get pidFile(): string {
    return path.join(this.root, 'docker.pid');
  }
  get logFile(): string {
    return path.join(this.root, 'dockerd.log');
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

  /** dockerd's arguments for this folder, then `extra`. */
  dockerdArgs(extra: string[] = []): string[] {
    return [
      `--data-root=${path.join(this.root, 'data')}`,
      `--exec-root=${path.join(this.root, 'exec')}`,
      `--pidfile=${this.pidFile}`,
      `-H=${this.dockerHost}`,
      '--storage-driver=overlay2',
      '--log-level=warn',
      ...extra,
    ];
  }

  /**
   * Spawns `argv`, whose process must become dockerd (directly, or by exec through wrappers, so the
   * spawned PID is dockerd's own), and waits until it answers on its socket.
   */
  protected async launch(argv: string[]): Promise<void> {
    if (this.pid !== undefined) return;
    for (const d of ['data', 'exec']) fs.mkdirSync(path.join(this.root, d), { recursive: true });
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    child.unref();
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      `${this.label} to answer on ${this.socket}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}; see ${this.logFile}:\n${this.logTail()}`);
        const r = await this.docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5_000, allowFailure: true });
        return r.code === 0 ? true : undefined;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 300 },
    );
  }

  /** SIGTERM (dockerd then stops its containers, like a VM's engine shutting down), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
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
