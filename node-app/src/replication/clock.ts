/**
 * Time for the replication engine: the only place it reads the time or arms a timer. Production
 * passes `systemClock`; tests pass a `ManualClock` and move time themselves, so elections,
 * heartbeats and timeouts happen exactly when a test says (etcd's raft gets the same from a
 * logical `Tick()`). The engine's state machines never call `Date.now()` or `setTimeout`.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds; only differences matter. */
  now(): number;
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` until cancelled; does not keep the process alive on its own. */
  every(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

interface Scheduled {
  due: number;
  seq: number;
  period: number;
  fn: () => void;
  live: boolean;
}

/**
 * A clock that stands still until `advance` moves it. Timers fire in due order (ties in the order
 * they were armed), each with `now()` equal to its due time, so a run is the same every time.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Scheduled[] = [];

  /** Starts well above 0 so that "never" (0) reads as long ago, as it does on the system clock. */
  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): Timer {
    return this.arm(ms, 0, fn);
  }

  every(ms: number, fn: () => void): Timer {
    return this.arm(ms, Math.max(1, ms), fn);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.nextDue();
      if (!next || next.due > end) break;
      this.t = next.due;
      if (next.period > 0) {
        next.due += next.period;
        next.seq = this.seq++;
      } else {
        next.live = false;
        this.timers = this.timers.filter((x) => x !== next);
      }
      next.fn();
    }
    this.t = end;
  }

  /** Timers still armed (for tests that check nothing is left behind). */
  get pending(): number {
    return this.timers.length;
  }

  private arm(ms: number, period: number, fn: () => void): Timer {
    const s: Scheduled = { due: this.t + Math.max(0, ms), seq: this.seq++, period, fn, live: true };
    this.timers.push(s);
    return {
      cancel: () => {
        if (!s.live) return;
        s.live = false;
        this.timers = this.timers.filter((x) => x !== s);
      },
    };
  }

  private nextDue(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const s of this.timers) if (!best || s.due < best.due || (s.due === best.due && s.seq < best.seq)) best = s;
    return best;
  }
}
