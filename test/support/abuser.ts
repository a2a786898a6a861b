/**
 * Runs test/e2e/fixtures/abuser.js (an abusive client in its own process) and follows its report:
 * how many replies of which type it got, and whether the node closed its connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface AbuserReport {
  sent: number;
  replies: number;
  types: Record<string, number>;
  closed?: { code: number; reason: string };
  error?: string;
}

export class Abuser {
  readonly report: AbuserReport = { sent: 0, replies: 0, types: {} };
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (typeof line.sent === 'number') this.report.sent = line.sent;
        if (typeof line.replies === 'number') {
          this.report.replies = line.replies;
          this.report.types = line.types;
        }
        if (typeof line.closed === 'number') this.report.closed = { code: line.closed, reason: line.reason };
        if (typeof line.error === 'string') this.report.error = line.error;
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Sends `frame` `count` times in one burst from a new connection to `wsUrl`. */
  static start(wsUrl: string, count: number, frame: string): Abuser {
    const script = path.join(__dirname, '..', 'e2e', 'fixtures', 'abuser.js');
    // cwd is the repository, so the script finds `ws` in its node_modules.
    const child = spawn(process.execPath, [script, wsUrl, String(count), frame], {
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Abuser(child);
  }

  async stop(): Promise<AbuserReport> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
    return this.report;
  }
}

/** Resident set size of a process in MB (Linux /proc). */
export function rssMb(pid: number): number {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const status: string = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}
