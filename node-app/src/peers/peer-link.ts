/**
 * One PeerLink per remote node: the facade the node and replication use. It composes the parts,
 * one concern each: `peer-transport.ts` (one HTTP exchange: deadline, signing, sockets, address),
 * `peer-status.ts` (up/down/unknown and the probe of a down peer), `peer-capabilities.ts` (what the
 * peer speaks: ours or the original), `peer-stream.ts` (the ordered, bounded, batched stream of
 * fire-and-forget calls). Here: request/response `call()` with stats, and the wiring.
 */
import { EventEmitter } from 'node:events';
import { HELLO_METHOD } from './batch-format';
import { type PeerLogger, nullLogger } from './logger';
import { type PeerAuthOptions } from './peer-auth';
import { PeerCapabilities, type PeerFeature, type PeerKind } from './peer-capabilities';
import { PeerResolver } from './peer-resolver';
import { newPeerLinkStats, type PeerLinkStats } from './peer-stats';
import { type PeerState, PeerStatus } from './peer-status';
import { PeerStream } from './peer-stream';
import { PeerTransport, PeerUnavailableError } from './peer-transport';
import { decodeMethodResponse, encodeMethodCall, XmlRpcFault, type XmlRpcValue } from './xmlrpc-codec';

export { PeerUnavailableError } from './peer-transport';
export type { PeerState } from './peer-status';
export type { PeerFeature, PeerKind } from './peer-capabilities';

export interface PeerLinkOptions {
  selfId: string;
  peerId: string;
  /** `http://host:port[/path]`; without a path, calls go to `/RPC2` as Python's ServerProxy does */
  address: string;
  /** deadline of every call, connection included. Default 5000 ms. */
  callTimeoutMs?: number;
  /** sign calls with the cluster secret and require signed replies (unless `legacy`) */
  auth?: PeerAuthOptions;
  /** the peer is an original Python node (LEGACY_PEERS): never probed, never signs its replies */
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
  /** how long isOriginal()/supports() wait for the hello probe by default. Default min(callTimeoutMs, 2000) ms. */
  capabilityWaitMs?: number;
  /** name resolution of the peer's host (default: one shared lookup at a time, last answer kept) */
  resolver?: PeerResolver;
}

export class PeerLink extends EventEmitter {
  readonly peerId: string;
  readonly selfId: string;
  readonly stats: PeerLinkStats = newPeerLinkStats();
  private readonly transport: PeerTransport;
  private readonly status: PeerStatus;
  private readonly caps: PeerCapabilities;
  private readonly stream: PeerStream;
  private readonly callTimeoutMs: number;
  private closed = false;

  constructor(opts: PeerLinkOptions) {
    super();
    this.peerId = opts.peerId;
    this.selfId = opts.selfId;
    const log = (opts.logger ?? nullLogger).child({ component: 'peer-link', peer: opts.peerId });
    const callTimeoutMs = (this.callTimeoutMs = opts.callTimeoutMs ?? 5000);
    const maxAttempts = opts.maxAttempts ?? 3;
    const probeIntervalMs = opts.probeIntervalMs ?? 1000;
    const streamTimeoutMs = opts.streamTimeoutMs ?? callTimeoutMs;
    this.transport = new PeerTransport({
      selfId: opts.selfId,
      peerId: opts.peerId,
      address: opts.address,
      auth: opts.auth,
      legacy: opts.legacy ?? false,
      maxResponseBytes: opts.maxResponseBytes ?? 16 * 1024 * 1024,
      maxSockets: opts.maxSockets ?? 8,
      resolver: opts.resolver ?? new PeerResolver(),
      log,
    });
    this.status = new PeerStatus({
      maxAttempts,
      probeIntervalMs,
      // a cheap call the Python original answers too (with a fault, which still proves it is alive)
      probe: () => void this.call(HELLO_METHOD, [this.selfId], { timeoutMs: Math.min(callTimeoutMs, probeIntervalMs) }).catch(() => undefined),
      emit: (event, why) => {
        // a peer that went down may come back as another version (Python or ours): ask again then
        if (event === 'down') this.caps.reset();
        this.emit(event, why);
      },
      log,
    });
    this.caps = new PeerCapabilities({
      hello: () => this.call(HELLO_METHOD, [this.selfId], { timeoutMs: streamTimeoutMs }),
      original: opts.legacy ?? false,
      waitMs: opts.capabilityWaitMs ?? Math.min(callTimeoutMs, 2000),
      log,
    });
    this.stream = new PeerStream({
      selfId: opts.selfId,
      maxBatch: opts.maxBatch ?? 1000,
      maxBatchBytes: opts.maxBatchBytes ?? 1024 * 1024,
      maxQueue: opts.maxQueue ?? 10_000,
      maxAttempts,
      retryBaseMs: opts.retryBaseMs ?? 100,
      streamTimeoutMs,
      batching: opts.batching ?? true,
      call: (method, params, timeoutMs) => this.call(method, params, { timeoutMs }),
      caps: this.caps,
      giveUp: (why) => this.status.down(why),
      isDown: () => this.status.state === 'down',
      stats: this.stats,
      log,
    });
    // 'error' is not among our events; an EventEmitter without listeners would throw on it
    this.on('error', () => undefined);
  }

  /** No answer for this long while the peer calls us: its address is suspect. */
  static get rescueAfterMs(): number {
    return PeerStatus.rescueAfterMs;
  }
  static set rescueAfterMs(ms: number) {
    PeerStatus.rescueAfterMs = ms;
  }
  /** Fresh lookups on inbound calls at most this often. */
  static get rescueEveryMs(): number {
    return PeerStatus.rescueEveryMs;
  }
  static set rescueEveryMs(ms: number) {
    PeerStatus.rescueEveryMs = ms;
  }

  get state(): PeerState {
    return this.status.state;
  }

  get address(): string {
    return this.transport.url.href;
  }

  /** Items waiting in the ordered stream. */
  get queued(): number {
    return this.stream.queued;
  }

  /** What is known of the peer now, without asking: `ours`, `original` or `unknown`. */
  get kind(): PeerKind {
    return this.caps.kind;
  }

  /**
   * Whether to call the peer as an original (DS-G1-SMS) node: it is configured as one (LEGACY_PEERS),
   * it faulted on our hello probe, or it did not answer the probe within `waitMs` (default
   * `capabilityWaitMs`). Probes the peer when nobody has yet; never waits longer than `waitMs`.
   */
  isOriginal(waitMs?: number): Promise<boolean> {
    return this.caps.isOriginal(waitMs);
  }

  /** Whether the peer speaks `feature` (`swarmchat`: our `swarmchat_*` methods; `batch`: the batch stream), with the same bounded wait. */
  supports(feature: PeerFeature, waitMs?: number): Promise<boolean> {
    return this.caps.supports(feature, waitMs);
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
      const xml = await this.transport.post(body, opts?.timeoutMs ?? this.callTimeoutMs);
      const value = decodeMethodResponse(xml);
      this.status.answered();
      return value;
    } catch (e) {
      if (e instanceof XmlRpcFault) {
        this.stats.faults++;
        this.status.answered();
        throw e;
      }
      this.stats.errors++;
      const err = e instanceof PeerUnavailableError ? e : new PeerUnavailableError(this.peerId, 'protocol', (e as Error).message);
      if (err.reason === 'timeout') this.stats.timeouts++;
      if (this.closed) throw new PeerUnavailableError(this.peerId, 'closed', 'link closed');
      this.status.failed(err.message);
      throw err;
    } finally {
      this.stats.latency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /**
   * Queues a call for in-order delivery and returns at once. Items posted while the peer is down, or
   * after close(), are dropped (counted in stats.dropped); the 'down' event tells the owner to resync.
   */
  post(method: string, params: XmlRpcValue[]): void {
    this.stream.post(method, params);
  }

  /** Resolves once everything posted so far was delivered or dropped. */
  flush(): Promise<void> {
    return this.stream.flush();
  }

  /**
   * The peer has just called us (an authenticated inbound call, from `fromAddress`): it is alive.
   * If it has not answered us lately, the address we call may be its old task's: a Swarm task
   * replaced by a stop-first update gets a new overlay IP, and the other engines' DNS answers its
   * name only ~10 s later. So we call it where its call came from, or look its name up again now.
   * Only after a failed call and no answer for `rescueAfterMs`, at most once per `rescueEveryMs`.
   */
  heardFrom(fromAddress?: string): void {
    if (this.status.rescueDue()) this.transport.rescue(fromAddress);
  }

  /** Drops what is queued, aborts calls in flight and frees the sockets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.status.close();
    this.stream.close();
    this.transport.close();
  }
}
