/**
 * The node's view of its peers: one channel (a PEER-owned PeerLink) per peer, created lazily, and
 * the measured cost of every request/response call for /metrics. Addresses come from PEER_NODES
 * first; an address learned from discovery is used only for a node PEER_NODES does not name (the
 * original preferred the advertised XMLRPC_ADDRESS and broke outside Docker, §9.13).
 */
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { Logger } from '../log';
import type { Counter, Histogram } from '../http/metrics';

/** What the node needs of a peer link (PeerLink satisfies it structurally). */
export interface PeerChannel {
  call(method: string, params: XmlRpcValue[], opts?: { timeoutMs?: number }): Promise<XmlRpcValue>;
  post(method: string, params: XmlRpcValue[]): void;
  flush(): Promise<void>;
  close(): unknown;
  readonly state: 'up' | 'down' | 'unknown';
  /** What the peer answered to the swarmchat_hello probe (PeerLink's capabilities). */
  readonly kind?: 'ours' | 'original' | 'unknown';
  isOriginal?(waitMs?: number): Promise<boolean>;
}

export type ChannelFactory = (peerId: string, address: string) => PeerChannel;

export interface PeerDirectoryOptions {
  peers: { id: string; address: string }[];
  legacyPeers: string[];
  factory: ChannelFactory;
  log: Logger;
  calls: Counter;
  latency: Histogram;
}

export class PeerDirectory {
  private readonly configured = new Map<string, string>();
  private readonly learned = new Map<string, string>();
  private readonly channels = new Map<string, { address: string; channel: PeerChannel }>();
  private readonly legacy: Set<string>;

  constructor(private readonly opts: PeerDirectoryOptions) {
    for (const p of opts.peers) this.configured.set(p.id, p.address);
    this.legacy = new Set(opts.legacyPeers);
  }

  peerIds(): string[] {
    return [...this.configured.keys()];
  }

  /** An original node: named in LEGACY_PEERS, or it did not know our hello probe (nothing configured). */
  isLegacy(peerId: string): boolean {
    return this.legacy.has(peerId) || this.channels.get(peerId)?.channel.kind === 'original';
  }

  /** Asks every configured peer what it speaks, so isLegacy knows before the first client request. */
  probe(): void {
    for (const id of this.configured.keys()) void this.channel(id)?.isOriginal?.().catch(() => undefined);
  }

  /** Remembers an advertised address for a node that PEER_NODES does not list. */
  learn(peerId: string, address: string): void {
    if (!this.configured.has(peerId) && /^https?:\/\//i.test(address)) this.learned.set(peerId, address);
  }

  addressOf(peerId: string): string | undefined {
    return this.configured.get(peerId) ?? this.learned.get(peerId);
  }

  channel(peerId: string): PeerChannel | undefined {
    const address = this.addressOf(peerId);
    if (!address) return undefined;
    const existing = this.channels.get(peerId);
    if (existing && existing.address === address) return existing.channel;
    if (existing) void Promise.resolve(existing.channel.close()).catch(() => undefined);
    const channel = this.opts.factory(peerId, address);
    this.channels.set(peerId, { address, channel });
    return channel;
  }

  /** A request/response call with a timeout, counted and timed per peer and method. */
  async call(peerId: string, method: string, params: XmlRpcValue[], timeoutMs: number): Promise<XmlRpcValue> {
    const ch = this.channel(peerId);
    if (!ch) throw new Error(`no address known for node ${peerId}`);
    const started = performance.now();
    try {
      const result = await ch.call(method, params, { timeoutMs });
      this.opts.calls.inc({ peer: peerId, method, outcome: 'ok' });
      return result;
    } catch (err) {
      this.opts.calls.inc({ peer: peerId, method, outcome: 'error' });
      throw err;
    } finally {
      this.opts.latency.observe((performance.now() - started) / 1000, { peer: peerId });
    }
  }

  /** Ordered, batched, fire-and-forget delivery (the link retries and reports the peer down). */
  post(peerId: string, method: string, params: XmlRpcValue[]): boolean {
    const ch = this.channel(peerId);
    if (!ch) {
      this.opts.log.debug('no address for node, event not sent', { peer: peerId, method });
      return false;
    }
    ch.post(method, params);
    this.opts.calls.inc({ peer: peerId, method, outcome: 'posted' });
    return true;
  }

  states(): Array<[string, 'up' | 'down' | 'unknown']> {
    return [...this.channels.entries()].map(([id, c]) => [id, c.channel.state]);
  }

  async closeAll(flushWithinMs: number): Promise<void> {
    const all = [...this.channels.values()].map((c) => c.channel);
    await Promise.race([
      Promise.allSettled(all.map((c) => c.flush())),
      new Promise((r) => setTimeout(r, flushWithinMs).unref()),
    ]);
    await Promise.allSettled(all.map((c) => Promise.resolve(c.close())));
  }
}
