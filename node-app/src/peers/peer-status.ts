/**
 * Whether one peer is up, down or not yet known, as seen by our calls to it: any answer (a fault
 * included) is up, `maxAttempts` consecutive transport failures (or the stream giving up) are down,
 * and a down peer is probed every `probeIntervalMs` until it answers. Also decides when a peer that
 * calls us but does not answer us has a suspect address (see PeerLink.heardFrom).
 */
import { type PeerLogger } from './logger';

export type PeerState = 'up' | 'down' | 'unknown';

export interface PeerStatusOptions {
  maxAttempts: number;
  probeIntervalMs: number;
  /** one cheap call that proves the peer alive if it answers at all */
  probe: () => void;
  /** the link's 'up' / 'down' events */
  emit: (event: 'up' | 'down', why?: string) => void;
  log: PeerLogger;
}

export class PeerStatus {
  /** No answer for this long while the peer calls us: its address is suspect. */
  static rescueAfterMs = 500;
  /** Fresh lookups on inbound calls at most this often. */
  static rescueEveryMs = 1000;

  private _state: PeerState = 'unknown';
  /** consecutive transport failures (of calls and of the stream) */
  private failures = 0;
  private lastAnswerMs = Date.now();
  private lastRescueMs = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: PeerStatusOptions) {}

  get state(): PeerState {
    return this._state;
  }

  /** The peer answered (a result or a fault). */
  answered(): void {
    this.lastAnswerMs = Date.now();
    this.failures = 0;
    this.set('up');
  }

  /** A transport failure; the last of `maxAttempts` in a row reports the peer down. */
  failed(why: string): void {
    if (++this.failures >= this.o.maxAttempts) this.set('down', why);
  }

  down(why: string): void {
    this.set('down', why);
  }

  /** True (at most once per `rescueEveryMs`) when the peer failed us and has not answered for `rescueAfterMs`. */
  rescueDue(now = Date.now()): boolean {
    if (this.closed || (this.failures === 0 && this._state !== 'down')) return false;
    if (now - this.lastAnswerMs < PeerStatus.rescueAfterMs || now - this.lastRescueMs < PeerStatus.rescueEveryMs) return false;
    this.lastRescueMs = now;
    return true;
  }

  close(): void {
    this.closed = true;
    this.stopProbing();
  }

  private set(next: PeerState, why?: string): void {
    if (this._state === next) return;
    this._state = next;
    if (next === 'down') {
      this.o.log.warn('peer down', { reason: why });
      this.o.emit('down', why);
      this.startProbing();
    } else if (next === 'up') {
      this.o.log.info('peer up');
      this.stopProbing();
      this.o.emit('up');
    }
  }

  private startProbing(): void {
    if (this.probeTimer || this.closed) return;
    this.probeTimer = setInterval(this.o.probe, this.o.probeIntervalMs);
    this.probeTimer.unref();
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}
