/**
 * One HTTP exchange with a peer: POST of an encoded XML-RPC body over keep-alive sockets (`http-client.ts`), signed
 * when the cluster secret is set, with a deadline covering connect, send and reply, the reply's size
 * bounded, its signature checked and gzip undone. Owns the peer's sockets and its address (name
 * resolution through PeerResolver, and the move to a new address a peer calls us from).
 * Knows nothing of XML-RPC values, peer state or ordering: those are peer-status.ts and peer-stream.ts.
 */
import type net from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { HttpClient, type HttpExchangeError, type HttpReply } from './http-client';
import { type PeerLogger } from './logger';
import { AUTH_HEADERS, type PeerAuthOptions, RequestSigner } from './peer-auth';
import { PeerResolver } from './peer-resolver';

const gunzip = promisify(zlib.gunzip);

const STATIC_HEADERS: Readonly<Record<string, string>> = { 'Content-Type': 'text/xml', 'User-Agent': 'swarm-chat-peer/1' };

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

export interface PeerTransportOptions {
  selfId: string;
  peerId: string;
  /** `http://host:port[/path]`; without a path, calls go to `/RPC2` as Python's ServerProxy does */
  address: string;
  auth?: PeerAuthOptions;
  /** the peer is an original Python node: it never signs replies, so none is required */
  legacy: boolean;
  maxResponseBytes: number;
  maxSockets: number;
  resolver: PeerResolver;
  log: PeerLogger;
}

export class PeerTransport {
  readonly url: URL;
  readonly path: string;
  private readonly host: string;
  private readonly client: HttpClient;
  private readonly signer?: RequestSigner;
  private warnedUnsigned = false;

  constructor(private readonly o: PeerTransportOptions) {
    this.url = new URL(o.address);
    if (this.url.protocol !== 'http:') throw new Error(`peer ${o.peerId}: only http:// addresses are supported, got ${o.address}`);
    this.path = this.url.pathname && this.url.pathname !== '/' ? this.url.pathname : '/RPC2';
    this.host = this.url.hostname.replace(/^\[|\]$/g, '');
    // The signature names the receiver as we address it (its node id), so a captured call cannot be replayed to another node.
    this.signer = o.auth ? new RequestSigner(o.auth.secret, o.selfId, o.peerId) : undefined;
    this.client = new HttpClient({
      host: this.host,
      port: Number(this.url.port || 80),
      hostHeader: this.url.host,
      maxSockets: o.maxSockets,
      maxFreeSockets: 4,
      maxResponseBytes: o.maxResponseBytes,
      // never one getaddrinfo per connection: a dead peer's name must not starve the thread pool
      lookup: o.resolver.lookup as unknown as net.LookupFunction,
    });
  }

  /** One exchange; retried once when a reused keep-alive socket turns out closed by the peer. */
  async post(body: Buffer, timeoutMs: number): Promise<string> {
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

  /**
   * The peer called us from `fromAddress` although calls to its name's address fail: call it there
   * (Swarm tasks talk on the overlay without NAT); without a usable address, look its name up again.
   */
  rescue(fromAddress?: string): void {
    if (fromAddress && this.o.resolver.learn(this.host, fromAddress)) {
      this.o.log.info("peer unreachable at its name's address but calling us: calling it at its source address", {
        host: this.host,
        address: fromAddress,
      });
      return;
    }
    const before = this.o.resolver.cached(this.host);
    void this.o.resolver.refreshNow(this.host).then((addrs) => {
      if (addrs && addrs[0]?.address !== before) {
        this.o.log.info('peer name looked up again after it called us: new address', { host: this.host, addresses: addrs.map((a) => a.address) });
      }
    });
  }

  /** Aborts exchanges in flight and frees the sockets. */
  close(): void {
    this.client.close();
  }

  private fail(reason: PeerUnavailableError['reason'], message: string): PeerUnavailableError {
    return new PeerUnavailableError(this.o.peerId, reason, message);
  }

  /** A reply with no signature at all, from a peer we require one of: most likely an original node nobody listed. */
  private unsignedReply(): PeerUnavailableError {
    const msg =
      'reply not signed (the peer answered unsigned, like an original Python node: with CLUSTER_SECRET set, its replies are refused unless it is listed in LEGACY_PEERS)';
    if (!this.warnedUnsigned) {
      this.warnedUnsigned = true;
      this.o.log.error(`peer ${msg}`, { peer: this.o.peerId, setting: 'LEGACY_PEERS' });
    }
    return this.fail('protocol', msg);
  }

  private async exchange(body: Buffer, timeoutMs: number): Promise<string> {
    const signed = this.signer?.sign(this.path, body);
    const headers = signed ? { ...STATIC_HEADERS, ...signed.headers } : STATIC_HEADERS;
    let reply: HttpReply;
    try {
      reply = await this.client.post(this.path, headers, body, timeoutMs);
    } catch (e) {
      const x = e as HttpExchangeError;
      const reason = x.kind === 'timeout' || x.kind === 'protocol' || x.kind === 'closed' ? x.kind : 'connect';
      const err = this.fail(reason === 'closed' ? 'connect' : reason, x.message);
      if (x.stale) (err as { staleSocket?: boolean }).staleSocket = true;
      throw err;
    }
    const { status, body: raw } = reply;
    if (status !== 200) throw this.fail('http', `HTTP ${status}: ${raw.toString('utf8', 0, 200)}`);
    if (signed && !this.o.legacy) {
      const sig = reply.headers[AUTH_HEADERS.signature];
      if (sig === undefined) throw this.unsignedReply();
      if (!this.signer!.verifyResponse(signed.nonce, status, raw, Array.isArray(sig) ? undefined : sig)) {
        throw this.fail('protocol', 'reply not signed with the cluster secret');
      }
    }
    if (String(reply.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
      try {
        return (await gunzip(raw, { maxOutputLength: this.o.maxResponseBytes })).toString('utf8');
      } catch (e) {
        throw this.fail('protocol', `bad gzip reply: ${(e as Error).message}`);
      }
    }
    return raw.toString('utf8');
  }
}
