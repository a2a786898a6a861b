/**
 * One PeerLink per remote node: request/response calls with a deadline, and one ordered, bounded,
 * batched stream of fire-and-forget calls (broadcasts) that never blocks its caller.
 *
 * The stream asks the peer once what it speaks (`swarmchat_hello`). Our nodes answer with the batching
 * capability and then get many items per HTTP call (`swarmchat_batch`, items numbered so that a retry
 * after a lost reply is delivered exactly once); an original Python node answers with a fault and gets
 * one plain call per item, still strictly in order. A peer that does not answer within the retries is
 * reported down and its queue is dropped: a dead or SIGSTOPped peer costs its own stream, nobody else.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import {
  BATCH_CAPABILITY,
  BATCH_METHOD,
  type BatchResponse,
  fromBatchJson,
  HELLO_METHOD,
  toBatchJson,
} from './batch-format';
import { type PeerLogger, nullLogger } from './logger';
import { AUTH_HEADERS, type PeerAuthOptions, RequestSigner } from './peer-auth';
import { newPeerLinkStats, type PeerLinkStats } from './peer-stats';
import { PeerResolver } from './peer-resolver';
import { decodeMethodResponse, encodeMethodCall, XmlRpcFault, type XmlRpcValue } from './xmlrpc-codec';

const gunzip = promisify(zlib.gunzip);

export type PeerState = 'up' | 'down' | 'unknown';

/** The peer could not be reached or did not answer properly in time (as opposed to an XmlRpcFault). */
export class PeerUnavailableError extends Error {
  constructor(
    readonly peerId: string,
    readonly reason: 'timeout' | 'connect' | 'http' | 'protocol' | 'closed',
    message: string,
  ) {
    super(`peer ${peerId}: ${message}`);
    this.name = 'PeerUnavailableError';
  }
}

export interface PeerLinkOptions {
  selfId: string;
  peerId: string;
  /** `http://host:port[/path]`; without a path, calls go to `/RPC2` as Python's ServerProxy does */
  address: string;
  /** deadline of every call, connection included. Default 5000 ms. */
  callTimeoutMs?: number;
  /** sign calls with the cluster secret and require signed replies (unless `legacy`) */
  auth?: PeerAuthOptions;
  /** the peer is an original Python node: never signs its replies, so none is required */
  legacy?: boolean;
  logger?: PeerLogger;
  /** most items per batch call. Default 1000. */
  maxBatch?: number;
  /** most JSON bytes per batch call (the server's body limit is 4 MiB). Default 1 MiB. */
  maxBatchBytes?: number;
  /** most items waiting in the stream; overflowing reports the peer down. Default 10 000. */
  maxQueue?: number;
  /** attempts of one stream step before the peer is reported down. Default 3. */
  maxAttempts?: number;
  /** first retry delay, doubled each time. Default 100 ms. */
  retryBaseMs?: number;
  /** how often a down peer is probed. Default 1000 ms. */
  probeIntervalMs?: number;
  /** deadline of stream calls (batches). Default: callTimeoutMs. */
  streamTimeoutMs?: number;
  /** largest reply accepted. Default 16 MiB. */
  maxResponseBytes?: number;
  /** most sockets to the peer at once. Default 8. */
  maxSockets?: number;
  /** use the batching extension when the peer announces it. Default true (false: one call per item). */
  batching?: boolean;
  /** name resolution of the peer's host (default: one shared lookup at a time, last answer kept) */
  resolver?: PeerResolver;
}

interface StreamItem {
  method: string;
  params: XmlRpcValue[];
}

type StreamMode = 'unknown' | 'batch' | 'plain';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class PeerLink extends EventEmitter {
  readonly peerId: string;
  readonly selfId: string;
  readonly stats: PeerLinkStats = newPeerLinkStats();
  private _state: PeerState = 'unknown';
  private readonly url: URL;
  private readonly path: string;
  private readonly agent: http.Agent;
  private readonly resolver: PeerResolver;
  private readonly signer?: RequestSigner;
  private readonly log: PeerLogger;
  private readonly o: Required<
    Pick<
      PeerLinkOptions,
      'callTimeoutMs' | 'maxBatch' | 'maxBatchBytes' | 'maxQueue' | 'maxAttempts' | 'retryBaseMs' | 'probeIntervalMs' | 'streamTimeoutMs' | 'maxResponseBytes'
    >
  >;
  private readonly legacy: boolean;
  private readonly batching: boolean;

  // the ordered stream
  private queue: StreamItem[] = [];
  private head = 0;
  private nextSeq = 0;
  private readonly streamId = randomBytes(8).toString('hex');
  private mode: StreamMode = 'unknown';
  private pumping = false;
  private flushWaiters: Array<() => void> = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** consecutive transport failures */
  private failures = 0;
  private readonly inflight = new Set<http.ClientRequest>();

  constructor(opts: PeerLinkOptions) {
    super();
    this.peerId = opts.peerId;
    this.selfId = opts.selfId;
    this.url = new URL(opts.address);
    if (this.url.protocol !== 'http:') throw new Error(`peer ${opts.peerId}: only http:// addresses are supported, got ${opts.address}`);
    this.path = this.url.pathname && this.url.pathname !== '/' ? this.url.pathname : '/RPC2';
    const callTimeoutMs = opts.callTimeoutMs ?? 5000;
    this.o = {
      callTimeoutMs,
      maxBatch: opts.maxBatch ?? 1000,
      maxBatchBytes: opts.maxBatchBytes ?? 1024 * 1024,
      maxQueue: opts.maxQueue ?? 10_000,
      maxAttempts: opts.maxAttempts ?? 3,
      retryBaseMs: opts.retryBaseMs ?? 100,
      probeIntervalMs: opts.probeIntervalMs ?? 1000,
      streamTimeoutMs: opts.streamTimeoutMs ?? callTimeoutMs,
      maxResponseBytes: opts.maxResponseBytes ?? 16 * 1024 * 1024,
    };
    this.legacy = opts.legacy ?? false;
    this.batching = opts.batching ?? true;
    this.signer = opts.auth ? new RequestSigner(opts.auth.secret, opts.selfId) : undefined;
    this.resolver = opts.resolver ?? new PeerResolver();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 8, maxFreeSockets: 4 });
    this.log = (opts.logger ?? nullLogger).child({ component: 'peer-link', peer: opts.peerId });
    // 'error' is not among our events; an EventEmitter without listeners would throw on it
    this.on('error', () => undefined);
  }

  get state(): PeerState {
    return this._state;
  }

  get address(): string {
    return this.url.href;
  }

  /** Items waiting in the ordered stream. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  private setState(next: PeerState, why?: string): void {
    if (this._state === next) return;
    this._state = next;
    if (next === 'down') {
      this.log.warn('peer down', { reason: why });
      this.emit('down', why);
      this.startProbing();
    } else if (next === 'up') {
      this.log.info('peer up');
      this.stopProbing();
      this.emit('up');
    }
  }

  /**
   * One request/response call. Rejects with XmlRpcFault (the peer answered a fault) or
   * PeerUnavailableError. `maxAttempts` consecutive transport failures (of calls and of the stream)
   * report the peer down; any answer reports it up.
   */
  async call(method: string, params: XmlRpcValue[], opts?: { timeoutMs?: number }): Promise<XmlRpcValue> {
    if (this.closed) throw new PeerUnavailableError(this.peerId, 'closed', 'link closed');
    const body = Buffer.from(encodeMethodCall(method, params), 'utf8');
    const started = process.hrtime.bigint();
    this.stats.calls++;
    try {
      const xml = await this.post1(body, opts?.timeoutMs ?? this.o.callTimeoutMs);
      const value = decodeMethodResponse(xml);
      this.answered();
      return value;
    } catch (e) {
      if (e instanceof XmlRpcFault) {
        this.stats.faults++;
        this.answered();
        throw e;
      }
      this.stats.errors++;
      const err =
        e instanceof PeerUnavailableError ? e : new PeerUnavailableError(this.peerId, 'protocol', (e as Error).message);
      if (err.reason === 'timeout') this.stats.timeouts++;
      if (this.closed) throw new PeerUnavailableError(this.peerId, 'closed', 'link closed');
      if (++this.failures >= this.o.maxAttempts) this.setState('down', err.message);
      throw err;
    } finally {
      this.stats.latency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /**
   * The peer has just called us (an authenticated inbound call, from `fromAddress`): it is alive.
   * If it has not answered us lately, the address we call may be its old task's: a Swarm task
   * replaced by a stop-first update gets a new overlay IP, and the other engines' DNS answers its
   * name only ~10 s later (lookups in that gap hang ~5 s each). So we call it where its call came
   * from (no NAT between Swarm tasks on an overlay); without a usable source address we look its
   * name up again now. Only after a failed call and no answer for `rescueAfterMs`, at most once
   * per `rescueEveryMs`; nothing to do for a peer that answers.
   */
  heardFrom(fromAddress?: string): void {
    const now = Date.now();
    if (this.closed || (this.failures === 0 && this._state !== 'down')) return;
    if (now - this.lastAnswerMs < PeerLink.rescueAfterMs || now - this.lastRescueMs < PeerLink.rescueEveryMs) return;
    this.lastRescueMs = now;
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    if (fromAddress && this.resolver.learn(host, fromAddress)) {
      this.log.info('peer unreachable at its name\'s address but calling us: calling it at its source address', { host, address: fromAddress });
      return;
    }
    const before = this.resolver.cached(host);
    void this.resolver.refreshNow(host).then((addrs) => {
      if (addrs && addrs[0]?.address !== before) this.log.info('peer name looked up again after it called us: new address', { host, addresses: addrs.map((a) => a.address) });
    });
  }

  /** No answer for this long while the peer calls us: its address is suspect. */
  static rescueAfterMs = 500;
  /** Fresh lookups on inbound calls at most this often. */
  static rescueEveryMs = 1000;
  private lastAnswerMs = Date.now();
  private lastRescueMs = 0;

  private answered(): void {
    this.lastAnswerMs = Date.now();
    this.failures = 0;
    this.setState('up');
  }

  /** One HTTP exchange; retried once when a reused keep-alive socket turns out closed by the peer. */
  private async post1(body: Buffer, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    try {
      return await this.exchange(body, timeoutMs);
    } catch (e) {
      const stale = (e as { staleSocket?: boolean }).staleSocket === true;
      const left = deadline - Date.now();
      if (!stale || left <= 0) throw e;
      return this.exchange(body, left);
    }
  }

  private exchange(body: Buffer, timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const signed = this.signer?.sign(this.path, body);
      const headers: Record<string, string> = {
        'Content-Type': 'text/xml',
        'Content-Length': String(body.length),
        'User-Agent': 'swarm-chat-peer/1',
        ...signed?.headers,
      };
      const req = http.request({
        agent: this.agent,
        host: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port || 80,
        path: this.path,
        method: 'POST',
        headers,
        // never one getaddrinfo per connection: a dead peer's name must not starve the thread pool
        lookup: this.resolver.lookup as unknown as http.RequestOptions['lookup'],
      });
      this.inflight.add(req);
      let settled = false;
      const finish = (err: Error | undefined, xml?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(req);
        if (err) reject(err);
        else resolve(xml as string);
      };
      const timer = setTimeout(() => {
        finish(new PeerUnavailableError(this.peerId, 'timeout', `no answer within ${timeoutMs} ms`));
        req.destroy();
      }, timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        const err = new PeerUnavailableError(this.peerId, 'connect', `${e.code ?? ''} ${e.message}`.trim());
        if (req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          (err as { staleSocket?: boolean }).staleSocket = true;
        }
        finish(err);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.o.maxResponseBytes) {
            finish(new PeerUnavailableError(this.peerId, 'protocol', `reply larger than ${this.o.maxResponseBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', (e) => finish(new PeerUnavailableError(this.peerId, 'connect', e.message)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks, size);
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            finish(new PeerUnavailableError(this.peerId, 'http', `HTTP ${status}: ${raw.toString('utf8', 0, 200)}`));
            return;
          }
          if (signed && !this.legacy) {
            const sig = res.headers[AUTH_HEADERS.signature];
            if (!this.signer!.verifyResponse(signed.nonce, status, raw, Array.isArray(sig) ? undefined : sig)) {
              finish(new PeerUnavailableError(this.peerId, 'protocol', 'reply not signed with the cluster secret'));
              return;
            }
          }
          if (String(res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
            gunzip(raw, { maxOutputLength: this.o.maxResponseBytes }).then(
              (b) => finish(undefined, b.toString('utf8')),
              (e: Error) => finish(new PeerUnavailableError(this.peerId, 'protocol', `bad gzip reply: ${e.message}`)),
            );
          } else {
            finish(undefined, raw.toString('utf8'));
          }
        });
      });
      req.end(body);
    });
  }

  // ---------------------------------------------------------------------------------- ordered stream

  /**
   * Queues a call for in-order delivery and returns at once. Items posted while the peer is down, or
   * after close(), are dropped (counted in stats.dropped); the 'down' event tells the owner to resync.
   */
  post(method: string, params: XmlRpcValue[]): void {
    this.stats.posted++;
    if (this.closed || this._state === 'down') {
      this.stats.dropped++;
      return;
    }
    if (this.queued >= this.o.maxQueue) {
      this.stats.dropped++;
      this.giveUp(`stream queue overflow (${this.o.maxQueue} items waiting)`);
      return;
    }
    this.queue.push({ method, params });
    this.stats.queued = this.queued;
    if (!this.pumping) {
      this.pumping = true;
      // let the rest of this tick's posts join the first batch
      setImmediate(() => void this.pump());
    }
  }

  /** Resolves once everything posted so far was delivered or dropped. */
  flush(): Promise<void> {
    if (this.queued === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  private take(n: number): StreamItem[] {
    return this.queue.slice(this.head, this.head + n);
  }

  private consume(n: number): void {
    this.head += n;
    this.nextSeq += n;
    this.stats.delivered += n;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.stats.queued = this.queued;
  }

  private dropQueue(): void {
    const n = this.queued;
    this.stats.dropped += n;
    this.nextSeq += n;
    this.queue = [];
    this.head = 0;
    this.stats.queued = 0;
  }

  private giveUp(why: string): void {
    const n = this.queued;
    this.dropQueue();
    // the peer may come back as another version (Python or ours): ask again then
    this.mode = 'unknown';
    this.log.warn('peer stream gave up', { reason: why, dropped: n });
    this.setState('down', why);
  }

  private async pump(): Promise<void> {
    let attempts = 0;
    try {
      while (this.queued > 0 && !this.closed) {
        try {
          if (this.mode === 'unknown') {
            this.mode = await this.probe();
          } else if (this.mode === 'batch') {
            await this.sendBatch();
          } else {
            await this.sendPlain();
          }
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
      this.log.error('peer stream failed', { error: e });
      this.dropQueue();
    } finally {
      this.pumping = false;
      if (this.queued > 0 && !this.closed) {
        this.pumping = true;
        setImmediate(() => void this.pump());
      } else {
        const w = this.flushWaiters;
        this.flushWaiters = [];
        for (const f of w) f();
      }
    }
  }

  /** What the peer speaks: our nodes announce batching; an original Python node faults on the name. */
  private async probe(): Promise<StreamMode> {
    if (!this.batching) return 'plain';
    try {
      const hello = await this.call(HELLO_METHOD, [this.selfId], { timeoutMs: this.o.streamTimeoutMs });
      const caps = hello && typeof hello === 'object' && !Array.isArray(hello) ? (hello as Record<string, XmlRpcValue>).capabilities : null;
      const batch = Array.isArray(caps) && caps.includes(BATCH_CAPABILITY);
      this.log.debug('peer capabilities', { batch });
      return batch ? 'batch' : 'plain';
    } catch (e) {
      if (e instanceof XmlRpcFault) return 'plain';
      throw e;
    }
  }

  private async sendBatch(): Promise<void> {
    let items = this.take(this.o.maxBatch);
    const encode = (list: StreamItem[]) =>
      toBatchJson({
        from: this.selfId,
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
    this.stats.batches++;
    let reply: XmlRpcValue;
    try {
      reply = await this.call(BATCH_METHOD, [payload], { timeoutMs: this.o.streamTimeoutMs });
    } catch (e) {
      if (e instanceof XmlRpcFault) {
        // The whole batch was refused (nothing of it ran): the peer no longer speaks the extension.
        this.log.warn('peer refused a batch; falling back to one call per item', { fault: e.faultString });
        this.mode = 'plain';
        return;
      }
      throw e;
    }
    const results = (typeof reply === 'string' ? (fromBatchJson(reply) as BatchResponse).results : null) ?? [];
    results.forEach((r, i) => {
      if (r[0] === 1) {
        this.stats.faults++;
        this.log.warn('peer stream item faulted', { method: items[i]?.method, fault: r[2] });
      }
    });
    this.consume(items.length);
  }

  /** Skips the queue's head item, which can never be sent: the rest of the stream goes on. */
  private dropHead(why: string, fields: Record<string, unknown>): void {
    this.log.error(why, fields);
    this.head++;
    this.nextSeq++;
    this.stats.dropped++;
    this.stats.queued = this.queued;
  }

  private async sendPlain(): Promise<void> {
    const [item] = this.take(1);
    try {
      await this.call(item.method, item.params, { timeoutMs: this.o.streamTimeoutMs });
    } catch (e) {
      if (e instanceof TypeError) {
        this.dropHead('dropped a stream item that cannot be encoded', { method: item.method, encoding: 'xml', error: e.message });
        return;
      }
      if (!(e instanceof XmlRpcFault)) throw e;
      // the item ran and raised: retrying would not help
      this.log.warn('peer stream item faulted', { method: item.method, fault: e.faultString });
    }
    this.consume(1);
  }

  private startProbing(): void {
    if (this.probeTimer || this.closed) return;
    this.probeTimer = setInterval(() => {
      // a cheap call the Python original answers too (with a fault, which still proves it is alive)
      this.call(HELLO_METHOD, [this.selfId], { timeoutMs: Math.min(this.o.callTimeoutMs, this.o.probeIntervalMs) }).catch(
        () => undefined,
      );
    }, this.o.probeIntervalMs);
    this.probeTimer.unref();
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** Drops what is queued, aborts calls in flight and frees the sockets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopProbing();
    this.dropQueue();
    for (const req of this.inflight) req.destroy(new Error('link closed'));
    this.agent.destroy();
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const f of w) f();
  }
}
