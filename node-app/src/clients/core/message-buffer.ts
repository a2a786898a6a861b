/**
 * Per-room ordering of `new_message` frames by the admin's sequence number (node-app/PROTOCOL.md §7.2),
 * without the original's failure modes (§9.6, §9.14):
 * - history that starts above 1 (rooms with more than 100 messages) sets the baseline instead of
 *   stalling forever;
 * - duplicates (history replayed after a rejoin, a broadcast that arrives twice) are dropped;
 * - a missing sequence number is waited for briefly, then reported ONCE as a range and skipped,
 *   so a lost message costs one notice, not a frozen room or a warning per message;
 * - memory is bounded: past `maxBuffered` out-of-order messages the gap is given up at once.
 */
import type { ChatMessage } from '../../protocol/messages';

export interface GapReport {
  room_id: string;
  /** First missing sequence number. */
  from: number;
  /** Last missing sequence number (inclusive). */
  to: number;
  missing: number;
  /** `compacted`: the node's history now begins after the gap (log retention), so it can never be filled. */
  why: 'timeout' | 'overflow' | 'compacted';
}

/** How every client words a gap it gave up (the terminal UI, the CLI and the browser). */
export function describeGap(g: GapReport): string {
  const span = g.to > g.from ? `#${g.from}-#${g.to}` : `#${g.from}`;
  return g.why === 'compacted'
    ? `${g.missing} message(s) (${span}) are no longer kept by the node (log retention) and were skipped`
    : `${g.missing} message(s) (${span}) did not arrive and were skipped`;
}

export type AddResult = 'delivered' | 'buffered' | 'duplicate' | 'invalid';

export interface MessageBufferOptions {
  roomId: string;
  /** Called with each run of messages that became displayable, in sequence order. */
  onReady: (messages: ChatMessage[]) => void;
  /** Called once per gap that was given up. */
  onGap?: (gap: GapReport) => void;
  /**
   * Called when a wait for missing messages starts, so the owner can ask the node for them
   * (`get_history`); whatever arrives in time closes the gap silently.
   */
  onMissing?: (range: { room_id: string; from: number; to: number }) => void;
  /** How long a missing message is waited for. Default 1500 ms. */
  gapWaitMs?: number;
  /** Most out-of-order messages held while waiting. Default 1000 (the original's cap). */
  maxBuffered?: number;
  /**
   * Highest sequence number already shown, when resuming (a rejoin after reconnecting).
   * Unset: the first message received sets the baseline, because a join replays at most the last
   * 100 messages, so history legitimately starts above 1.
   */
  resumeAfter?: number;
}

export function isChatMessage(value: unknown): value is ChatMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m.message_id === 'string' &&
    typeof m.room_id === 'string' &&
    typeof m.username === 'string' &&
    typeof m.content === 'string' &&
    Number.isSafeInteger(m.sequence_number) &&
    (m.sequence_number as number) >= 1
  );
}

export class RoomMessageBuffer {
  private readonly roomId: string;
  private readonly onReady: (messages: ChatMessage[]) => void;
  private readonly onGap: (gap: GapReport) => void;
  private readonly onMissing: (range: { room_id: string; from: number; to: number }) => void;
  private readonly gapWaitMs: number;
  private readonly maxBuffered: number;
  private last: number | undefined;
  private readonly pending = new Map<number, ChatMessage>();
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private askedThrough = 0;
  /** Counters for tests and the CLI's summary line. */
  readonly stats = { delivered: 0, duplicates: 0, invalid: 0, gaps: 0, skipped: 0 };

  constructor(opts: MessageBufferOptions) {
    this.roomId = opts.roomId;
    this.onReady = opts.onReady;
    this.onGap = opts.onGap ?? (() => undefined);
    this.onMissing = opts.onMissing ?? (() => undefined);
    this.gapWaitMs = opts.gapWaitMs ?? 1500;
    this.maxBuffered = opts.maxBuffered ?? 1000;
    if (opts.resumeAfter !== undefined) {
      if (!Number.isSafeInteger(opts.resumeAfter) || opts.resumeAfter < 0) {
        throw new RangeError(`resumeAfter must be a non-negative integer, got ${opts.resumeAfter}`);
      }
      this.last = opts.resumeAfter;
    }
  }

  /** Highest sequence number delivered so far (undefined before the first message). */
  get lastDelivered(): number | undefined {
    return this.last;
  }

  get bufferedCount(): number {
    return this.pending.size;
  }

  add(message: unknown): AddResult {
    if (this.disposed) return 'invalid';
    if (!isChatMessage(message) || message.room_id !== this.roomId) {
      this.stats.invalid++;
      return 'invalid';
    }
    const seq = message.sequence_number;
    if (this.last === undefined) this.last = seq - 1;
    if (seq <= this.last || this.pending.has(seq)) {
      this.stats.duplicates++;
      return 'duplicate';
    }
    this.pending.set(seq, message);
    const deliveredBefore = this.stats.delivered;
    this.flush();
    if (this.pending.size > this.maxBuffered) this.skipGap('overflow');
    this.armTimer(this.stats.delivered > deliveredBefore);
    return this.pending.has(seq) ? 'buffered' : 'delivered';
  }

  /**
   * Sets where the sequence continues when the node says so (our node's `replay_from_seq` /
   * `last_seq` join extensions). Ignored when a baseline exists already (a resume point, or a
   * message was delivered): what was shown stands, and anything between is a gap to fill.
   */
  setBaseline(lastShown: number): void {
    if (this.last !== undefined || !Number.isSafeInteger(lastShown) || lastShown < 0) return;
    this.last = lastShown;
    for (const seq of [...this.pending.keys()]) {
      if (seq <= lastShown) this.pending.delete(seq);
    }
    const before = this.stats.delivered;
    this.flush();
    this.armTimer(this.stats.delivered > before);
  }

  /**
   * The node said its history of the room begins at `firstSeq` (`get_history`'s `first_seq`): a gap
   * below it was compacted away and is reported at once instead of after the gap wait.
   */
  historyStartsAt(firstSeq: number): void {
    if (this.disposed || !Number.isSafeInteger(firstSeq)) return;
    const before = this.stats.delivered;
    // Each missing run below firstSeq is gone for good; messages received in between are still shown.
    for (let next = this.nextSeq(); next !== undefined && next < firstSeq && !this.pending.has(next); next = this.nextSeq()) {
      this.giveUp(Math.min(firstSeq, ...this.pending.keys()) - 1, 'compacted');
    }
    this.armTimer(this.stats.delivered > before);
  }

  /** Stops the gap timer; later adds are ignored. */
  dispose(): void {
    this.disposed = true;
    this.clearTimer();
    this.pending.clear();
  }

  private flush(): void {
    if (this.last === undefined) return;
    const ready: ChatMessage[] = [];
    let next = this.last + 1;
    for (let m = this.pending.get(next); m !== undefined; m = this.pending.get(next)) {
      this.pending.delete(next);
      ready.push(m);
      next++;
    }
    if (ready.length === 0) return;
    this.last = next - 1;
    this.stats.delivered += ready.length;
    this.onReady(ready);
  }

  /** Gives up on the missing range below the lowest buffered message, reports it, flushes. */
  private skipGap(why: GapReport['why']): void {
    if (this.pending.size === 0 || this.last === undefined) return;
    this.giveUp(Math.min(...this.pending.keys()) - 1, why);
  }

  /** The sequence number shown next, once a baseline exists. */
  private nextSeq(): number | undefined {
    return this.last === undefined ? undefined : this.last + 1;
  }

  /** Reports the missing range up to `to` (inclusive) as given up, once, and shows what follows it. */
  private giveUp(to: number, why: GapReport['why']): void {
    const from = (this.last ?? 0) + 1;
    this.last = to;
    this.stats.gaps++;
    this.stats.skipped += to - from + 1;
    this.onGap({ room_id: this.roomId, from, to, missing: to - from + 1, why });
    this.flush();
  }

  /**
   * One timer per gap: started when a gap opens, restarted when progress moves the gap,
   * cleared when it closes. That is what keeps a lasting gap to a single report.
   */
  private armTimer(progressed: boolean): void {
    if (this.pending.size === 0) {
      this.clearTimer();
      return;
    }
    if (this.gapTimer !== undefined && !progressed) return;
    this.clearTimer();
    if (this.last !== undefined) {
      // Ask only for numbers not asked for yet: partial progress must not re-request a range.
      const from = Math.max(this.last + 1, this.askedThrough + 1);
      const to = Math.min(...this.pending.keys()) - 1;
      if (to >= from) {
        this.askedThrough = to;
        this.onMissing({ room_id: this.roomId, from, to });
      }
    }
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.disposed) return;
      this.skipGap('timeout');
      this.armTimer(true);
    }, this.gapWaitMs);
    this.gapTimer.unref?.();
  }

  private clearTimer(): void {
    if (this.gapTimer !== undefined) clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}
