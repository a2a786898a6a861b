/**
 * One connection's queue of requests: bounded, handled one after another (replies keep request
 * order), and never more than a small slice of the event loop per turn. A burst of thousands of
 * frames on one socket used to run as one promise chain that never yielded, so the node answered
 * nobody else (and no peer's heartbeat) until the burst was done.
 */

export interface RequestQueueOptions {
  /** Queued requests at which the connection stops reading its socket (TCP slows the client down). */
  pauseAt: number;
  /** Requests a connection may have queued; beyond it `push` refuses (the caller answers the frame). */
  hardMax: number;
  /** Most requests handled in one turn before yielding to other connections and I/O. */
  perTurn?: number;
  /** Most milliseconds spent in one turn before yielding (checked after each request). */
  sliceMs?: number;
  pause(): void;
  resume(): void;
  /** A request handler that threw (the handlers reply themselves; this is a bug or a crash). */
  onError(err: unknown): void;
}

const DEFAULT_PER_TURN = 16;
const DEFAULT_SLICE_MS = 1;

/** Resolves in the next turn's check phase, after pending I/O callbacks have run. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class RequestQueue {
  private items: Array<(() => Promise<void> | void) | undefined> = [];
  private head = 0;
  private running = false;
  private paused = false;
  /** Set by `close`: queued requests are dropped, nothing runs after the one in progress. */
  private closed = false;

  constructor(private readonly opts: RequestQueueOptions) {}

  /** Queued and running requests. */
  get size(): number {
    return this.items.length - this.head + (this.running ? 1 : 0);
  }

  /** Queues one request; false when the queue is full (nothing was queued). */
  push(work: () => Promise<void> | void): boolean {
    if (this.closed || this.size >= this.opts.hardMax) return false;
    this.items.push(work);
    if (!this.paused && this.size >= this.opts.pauseAt) {
      this.paused = true;
      this.opts.pause();
    }
    if (!this.running) {
      this.running = true;
      void this.pump();
    }
    return true;
  }

  /** Drops what is still queued (the connection is gone). */
  close(): void {
    this.closed = true;
    this.items = [];
    this.head = 0;
  }

  private async pump(): Promise<void> {
    const perTurn = this.opts.perTurn ?? DEFAULT_PER_TURN;
    const sliceMs = this.opts.sliceMs ?? DEFAULT_SLICE_MS;
    let turnStart = performance.now();
    let inTurn = 0;
    while (this.head < this.items.length) {
      const work = this.items[this.head];
      this.items[this.head++] = undefined;
      // Compact now and then instead of shift(): shift on a long array is a copy per request.
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      try {
        await work!();
      } catch (err) {
        this.opts.onError(err);
      }
      if (this.paused && !this.closed && this.size - 1 <= this.opts.pauseAt / 4) {
        this.paused = false;
        this.opts.resume();
      }
      if (++inTurn >= perTurn || performance.now() - turnStart >= sliceMs) {
        await nextTurn();
        turnStart = performance.now();
        inTurn = 0;
      }
    }
    this.running = false;
  }
}
