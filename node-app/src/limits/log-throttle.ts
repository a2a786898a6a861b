/**
 * Rate-limited logging for what a client can trigger at will (bad frames, failing requests): the
 * first occurrence of each kind in an interval is logged in full, the rest are only counted, and
 * one summary line per interval gives the counts. 10 000 bad frames used to write 10 000 stack
 * traces (6.4 MB of log).
 */
import type { Logger } from '../log';

export interface LogThrottleOptions {
  intervalMs?: number;
  /** Current time; injectable for tests. */
  now?: () => number;
}

const DEFAULT_INTERVAL_MS = 10_000;

export class LogThrottle {
  private counts = new Map<string, number>();
  private windowStart: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    private readonly summaryMsg: string,
    opts: LogThrottleOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.windowStart = this.now();
  }

  /**
   * Counts one event of `kind`; the first of its kind in the interval is written with `write`
   * (so its details are seen once), the others only go into the summary.
   */
  note(kind: string, write?: (log: Logger) => void): void {
    const n = this.counts.get(kind) ?? 0;
    this.counts.set(kind, n + 1);
    if (n === 0 && write) write(this.log);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes the summary line for the interval so far (if anything happened) and starts a new one. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.counts.size === 0) return;
    const byKind = Object.fromEntries(this.counts);
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const seconds = Math.max(1, Math.round((this.now() - this.windowStart) / 1000));
    this.log.warn(this.summaryMsg, { count: total, by_kind: byKind, interval_s: seconds });
    this.counts = new Map();
    this.windowStart = this.now();
  }
}

const throttles = new WeakMap<Logger, Map<string, LogThrottle>>();

/** The node's one throttle for `summaryMsg` on this logger (sessions share it; one summary per node). */
export function throttleFor(log: Logger, summaryMsg: string): LogThrottle {
  let byMsg = throttles.get(log);
  if (!byMsg) throttles.set(log, (byMsg = new Map()));
  let t = byMsg.get(summaryMsg);
  if (!t) byMsg.set(summaryMsg, (t = new LogThrottle(log, summaryMsg)));
  return t;
}
