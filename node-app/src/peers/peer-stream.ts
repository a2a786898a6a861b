/**
 * The ordered stream of fire-and-forget calls to one peer (broadcasts): a bounded queue that never
 * blocks its caller, delivered strictly in posting order. To our nodes many items go per HTTP call
 * (`swarmchat_batch`, items numbered so that a retry after a lost reply is delivered exactly once);
 * to an original Python node one plain call per item. A step is retried with backoff; after
 * `maxAttempts` the peer is reported down and the queue dropped (the owner resyncs on 'up').
 */
import { randomBytes } from 'node:crypto';
import { BATCH_METHOD, type BatchResponse, fromBatchJson, toBatchJson } from './batch-format';
import { type PeerLogger } from './logger';
import { type PeerCapabilities } from './peer-capabilities';
import { type PeerLinkStats } from './peer-stats';
import { PeerUnavailableError } from './peer-transport';
import { XmlRpcFault, type XmlRpcValue } from './xmlrpc-codec';

export interface PeerStreamOptions {
  selfId: string;
  maxBatch: number;
  maxBatchBytes: number;
  maxQueue: number;
  maxAttempts: number;
  retryBaseMs: number;
  streamTimeoutMs: number;
  /** use the batching extension when the peer announces it */
  batching: boolean;
  /** the link's request/response call (counts answers and failures in the peer's status) */
  call: (method: string, params: XmlRpcValue[], timeoutMs: number) => Promise<XmlRpcValue>;
  caps: PeerCapabilities;
  /** the stream gave up: report the peer down */
  giveUp: (why: string) => void;
  isDown: () => boolean;
  stats: PeerLinkStats;
  log: PeerLogger;
}

interface StreamItem {
  method: string;
  params: XmlRpcValue[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class PeerStream {
  private queue: StreamItem[] = [];
  private head = 0;
  private nextSeq = 0;
  private readonly streamId = randomBytes(8).toString('hex');
  /** a batch was refused with a fault: the peer no longer speaks the extension (until it is asked again) */
  private plainOnly = false;
  private pumping = false;
  private flushWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly o: PeerStreamOptions) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  post(method: string, params: XmlRpcValue[]): void {
    const stats = this.o.stats;
    stats.posted++;
    if (this.closed || this.o.isDown()) {
      stats.dropped++;
      return;
    }
    if (this.queued >= this.o.maxQueue) {
      stats.dropped++;
      this.giveUp(`stream queue overflow (${this.o.maxQueue} items waiting)`);
      return;
    }
    this.queue.push({ method, params });
    stats.queued = this.queued;
    if (!this.pumping) {
      this.pumping = true;
      // let the rest of this tick's posts join the first batch
      setImmediate(() => void this.pump());
    }
  }

  flush(): Promise<void> {
    if (this.queued === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropQueue();
    this.releaseFlushWaiters();
  }

  /** Drops what is queued and reports the peer down; the next stream asks the peer what it speaks again. */
  giveUp(why: string): void {
    const n = this.queued;
    this.dropQueue();
    this.plainOnly = false;
    this.o.log.warn('peer stream gave up', { reason: why, dropped: n });
    this.o.giveUp(why);
  }

  private releaseFlushWaiters(): void {
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const f of w) f();
  }

  private take(n: number): StreamItem[] {
    return this.queue.slice(this.head, this.head + n);
  }

  private consume(n: number): void {
    this.head += n;
    this.nextSeq += n;
    this.o.stats.delivered += n;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.o.stats.queued = this.queued;
  }

  private dropQueue(): void {
    const n = this.queued;
    this.o.stats.dropped += n;
    this.nextSeq += n;
    this.queue = [];
    this.head = 0;
    this.o.stats.queued = 0;
  }

  /** Skips the queue's head item, which can never be sent: the rest of the stream goes on. */
  private dropHead(why: string, fields: Record<string, unknown>): void {
    this.o.log.error(why, fields);
    this.head++;
    this.nextSeq++;
    this.o.stats.dropped++;
    this.o.stats.queued = this.queued;
  }

  private async pump(): Promise<void> {
    let attempts = 0;
    try {
      while (this.queued > 0 && !this.closed) {
        try {
          await this.step();
          attempts = 0;
        } catch (e) {
          if (!(e instanceof PeerUnavailableError) || this.closed) throw e;
          if (++attempts >= this.o.maxAttempts) {
            this.giveUp(e.message);
            break;
          }
          await sleep(this.o.retryBaseMs * 2 ** (attempts - 1));
          // another path (a call() failing, the probe) may have given up meanwhile
        }
      }
    } catch (e) {
      this.o.log.error('peer stream failed', { error: e });
      this.dropQueue();
    } finally {
      this.pumping = false;
      if (this.queued > 0 && !this.closed) {
        this.pumping = true;
        setImmediate(() => void this.pump());
      } else {
        this.releaseFlushWaiters();
      }
    }
  }

  /** One step: learn what the peer speaks (once), then one batch or one plain call. */
  private async step(): Promise<void> {
    if (!this.o.batching || this.plainOnly) return this.sendPlain();
    await this.o.caps.resolve();
    return this.o.caps.batches ? this.sendBatch() : this.sendPlain();
  }

  private async sendBatch(): Promise<void> {
    let items = this.take(this.o.maxBatch);
    const encode = (list: StreamItem[]) =>
      toBatchJson({
        from: this.o.selfId,
        stream: this.streamId,
        seq: this.nextSeq,
        items: list.map((it) => [it.method, it.params]),
      });
    let payload: string;
    try {
      payload = encode(items);
    } catch {
      // Some item cannot be encoded (BigInt, a cycle): drop only that one, with a clear log line.
      const bad = items.findIndex((it) => {
        try {
          toBatchJson(it.params);
          return false;
        } catch {
          return true;
        }
      });
      if (bad <= 0) {
        this.dropHead('dropped a stream item that cannot be encoded', { method: items[0].method, encoding: 'json' });
        return;
      }
      // send what precedes it; the bad item is then at the head and dropped next round
      items = items.slice(0, bad);
      payload = encode(items);
    }
    // Keep each call under the byte cap: halve until it fits; a single item over it is dropped alone.
    while (payload.length > this.o.maxBatchBytes) {
      if (items.length === 1) {
        this.dropHead('dropped a stream item larger than the batch byte limit', {
          method: items[0].method,
          bytes: payload.length,
          limit: this.o.maxBatchBytes,
        });
        return;
      }
      items = items.slice(0, Math.ceil(items.length / 2));
      payload = encode(items);
    }
    this.o.stats.batches++;
    let reply: XmlRpcValue;
    try {
      reply = await this.o.call(BATCH_METHOD, [payload], this.o.streamTimeoutMs);
    } catch (e) {
      if (e instanceof XmlRpcFault) {
        // The whole batch was refused (nothing of it ran): the peer no longer speaks the extension.
        this.o.log.warn('peer refused a batch; falling back to one call per item', { fault: e.faultString });
        this.plainOnly = true;
        return;
      }
      throw e;
    }
    const results = (typeof reply === 'string' ? (fromBatchJson(reply) as BatchResponse).results : null) ?? [];
    results.forEach((r, i) => {
      if (r[0] === 1) {
        this.o.stats.faults++;
        this.o.log.warn('peer stream item faulted', { method: items[i]?.method, fault: r[2] });
      }
    });
    this.consume(items.length);
  }

  private async sendPlain(): Promise<void> {
    const [item] = this.take(1);
    try {
      await this.o.call(item.method, item.params, this.o.streamTimeoutMs);
    } catch (e) {
      if (e instanceof TypeError) {
        this.dropHead('dropped a stream item that cannot be encoded', { method: item.method, encoding: 'xml', error: e.message });
        return;
      }
      if (!(e instanceof XmlRpcFault)) throw e;
      // the item ran and raised: retrying would not help
      this.o.log.warn('peer stream item faulted', { method: item.method, fault: e.faultString });
    }
    this.consume(1);
  }
}
