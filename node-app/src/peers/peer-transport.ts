/**
 * One HTTP exchange with a peer: POST of an encoded XML-RPC body over a keep-alive agent, signed
 * when the cluster secret is set, with a deadline covering connect, send and reply, the reply's size
 * bounded, its signature checked and gzip undone. Owns the peer's sockets and its address (name
 * resolution through PeerResolver, and the move to a new address a peer calls us from).
 * Knows nothing of XML-RPC values, peer state or ordering: those are peer-status.ts and peer-stream.ts.
 */
import http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { type PeerLogger } from './logger';
import { AUTH_HEADERS, type PeerAuthOptions, RequestSigner } from './peer-auth';
import { PeerResolver } from './peer-resolver';

const gunzip = promisify(zlib.gunzip);

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
  private readonly agent: http.Agent;
  private readonly signer?: RequestSigner;
  private readonly inflight = new Set<http.ClientRequest>();
  private warnedUnsigned = false;

  constructor(private readonly o: PeerTransportOptions) {
    this.url = new URL(o.address);
    if (this.url.protocol !== 'http:') throw new Error(`peer ${o.peerId}: only http:// addresses are supported, got ${o.address}`);
    this.path = this.url.pathname && this.url.pathname !== '/' ? this.url.pathname : '/RPC2';
    this.host = this.url.hostname.replace(/^\[|\]$/g, '');
    // The signature names the receiver as we address it (its node id), so a captured call cannot be replayed to another node.
    this.signer = o.auth ? new RequestSigner(o.auth.secret, o.selfId, o.peerId) : undefined;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: 4 });
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
    for (const req of this.inflight) req.destroy(new Error('link closed'));
    this.agent.destroy();
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

  private exchange(body: Buffer, timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const signed = this.signer?.sign(this.path, body);
      const req = http.request({
        agent: this.agent,
        host: this.host,
        port: this.url.port || 80,
        path: this.path,
        method: 'POST',
        headers: {
          'Content-Type': 'text/xml',
          'Content-Length': String(body.length),
          'User-Agent': 'swarm-chat-peer/1',
          ...signed?.headers,
        },
        // never one getaddrinfo per connection: a dead peer's name must not starve the thread pool
        lookup: this.o.resolver.lookup as unknown as http.RequestOptions['lookup'],
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
        finish(this.fail('timeout', `no answer within ${timeoutMs} ms`));
        req.destroy();
      }, timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        const err = this.fail('connect', `${e.code ?? ''} ${e.message}`.trim());
        if (req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) (err as { staleSocket?: boolean }).staleSocket = true;
        finish(err);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.o.maxResponseBytes) {
            finish(this.fail('protocol', `reply larger than ${this.o.maxResponseBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', (e) => finish(this.fail('connect', e.message)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks, size);
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            finish(this.fail('http', `HTTP ${status}: ${raw.toString('utf8', 0, 200)}`));
            return;
          }
          if (signed && !this.o.legacy) {
            const sig = res.headers[AUTH_HEADERS.signature];
            if (sig === undefined) return finish(this.unsignedReply());
            if (!this.signer!.verifyResponse(signed.nonce, status, raw, Array.isArray(sig) ? undefined : sig)) {
              return finish(this.fail('protocol', 'reply not signed with the cluster secret'));
            }
          }
          if (String(res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
            gunzip(raw, { maxOutputLength: this.o.maxResponseBytes }).then(
              (b) => finish(undefined, b.toString('utf8')),
              (e: Error) => finish(this.fail('protocol', `bad gzip reply: ${e.message}`)),
            );
          } else {
            finish(undefined, raw.toString('utf8'));
          }
        });
      });
      req.end(body);
    });
  }
}
