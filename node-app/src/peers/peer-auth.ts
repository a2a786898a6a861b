/**
 * The trusted peer link: every call between our nodes carries an HMAC-SHA256 made with the cluster
 * secret over the method path, the sending node's id, the receiving node's id (as the sender
 * addresses it, so a call captured on its way to one node is refused by every other), a timestamp,
 * a nonce and the exact body bytes. The receiver checks everything the headers alone can tell
 * (`precheck`: shape, receiver, timestamp, nonce) before it reads the body, then the MAC before it
 * decodes the body or runs any handler. Replies are signed too (bound to the request's nonce), so a
 * node that answers in a peer's place cannot feed us results. The signed strings are documented in
 * README.md ("Auth").
 *
 * Original Python nodes cannot sign: the addresses listed in `legacyPeers` (LEGACY_PEERS) may call
 * unauthenticated (their handlers see `authenticated: false`), and nothing else may.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { pooledRandom } from '../util/random-pool';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface PeerAuthOptions {
  /** The cluster secret (at least 16 bytes). */
  secret: string | Buffer;
  /** Largest accepted difference between the sender's clock and ours. Default 30 000 ms. */
  maxSkewMs?: number;
  /**
   * Original Python peers allowed to call without a signature: URLs (`http://node4:9090`), host names
   * or IP addresses. Names are resolved (also as `tasks.<name>`, which is where a Swarm service's
   * connections come from) and re-resolved every `legacyRefreshMs`.
   */
  legacyPeers?: readonly string[];
  legacyRefreshMs?: number;
  /** Most nonces remembered at once; beyond it new calls are refused rather than memory growing. Default 500 000. */
  maxNonces?: number;
  /** When set, only these sender node ids are accepted (checked before the body is read). */
  peerIds?: readonly string[];
}

export const AUTH_HEADERS = {
  node: 'x-swarmchat-node',
  timestamp: 'x-swarmchat-timestamp',
  nonce: 'x-swarmchat-nonce',
  signature: 'x-swarmchat-signature',
  /** the receiving node's id, as the sender addresses it */
  to: 'x-swarmchat-to',
} as const;

/** v2 names the receiver; v1 (without it) is refused, since a v1 call can be replayed to any node. */
const SIG_PREFIX = 'v2=';
const NODE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const NONCE = /^[0-9a-f]{16,64}$/;
const TIMESTAMP = /^[0-9]{1,16}$/;
const SIGNATURE = /^v2=[0-9a-f]{64}$/;
const MIN_SECRET_BYTES = 16;

export function secretBytes(secret: string | Buffer): Buffer {
  const b = typeof secret === 'string' ? Buffer.from(secret.trim(), 'utf8') : secret;
  if (b.length < MIN_SECRET_BYTES) {
    throw new Error(`cluster secret is ${b.length} bytes; at least ${MIN_SECRET_BYTES} are required`);
  }
  return b;
}

/** The signed string: README.md ("Auth") documents it; change both together. */
function requestMac(key: Buffer, path: string, from: string, to: string, ts: string, nonce: string, body: Buffer): Buffer {
  return createHmac('sha256', key)
    .update(`swarmchat-request-v2\nPOST\n${path}\n${from}\n${to}\n${ts}\n${nonce}\n`)
    .update(body)
    .digest();
}

function responseMac(key: Buffer, nonce: string, status: number, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`swarmchat-response-v1\n${nonce}\n${status}\n`).update(body).digest();
}

function sameMac(header: string | undefined, mac: Buffer): boolean {
  if (!header || !header.startsWith(SIG_PREFIX)) return false;
  const got = Buffer.from(header.slice(SIG_PREFIX.length), 'hex');
  return got.length === mac.length && timingSafeEqual(got, mac);
}

/** The sending side: headers for a request, and the check of the reply's signature. */
export class RequestSigner {
  private readonly key: Buffer;
  /** `peerId`: the receiver's node id, as configured for it (PEER_NODES); it must be the receiver's NODE_ID. */
  constructor(secret: string | Buffer, private readonly selfId: string, private readonly peerId: string) {
    this.key = secretBytes(secret);
  }

  sign(path: string, body: Buffer, now = Date.now()): { headers: Record<string, string>; nonce: string } {
    const ts = String(now);
    const nonce = pooledRandom(16).toString('hex');
    const mac = requestMac(this.key, path, this.selfId, this.peerId, ts, nonce, body);
    return {
      nonce,
      headers: {
        [AUTH_HEADERS.node]: this.selfId,
        [AUTH_HEADERS.to]: this.peerId,
        [AUTH_HEADERS.timestamp]: ts,
        [AUTH_HEADERS.nonce]: nonce,
        [AUTH_HEADERS.signature]: SIG_PREFIX + mac.toString('hex'),
      },
    };
  }

  verifyResponse(nonce: string, status: number, body: Buffer, header: string | undefined): boolean {
    return sameMac(header, responseMac(this.key, nonce, status, body));
  }
}

export type AuthVerdict =
  | { ok: true; authenticated: true; peerId: string; nonce: string }
  | { ok: true; authenticated: false }
  | { ok: false; status: number; reason: string };

type Headers = Record<string, string | string[] | undefined>;

function one(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? undefined : v;
}

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:10.0.0.5` and `10.0.0.5` compare equal. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}

/** The host part of a URL, or the string itself when it is already a host name or address. */
function hostOf(entry: string): string {
  const e = entry.trim();
  if (/^[a-z]+:\/\//i.test(e)) {
    const h = new URL(e).hostname;
    return h.startsWith('[') ? h.slice(1, -1) : h;
  }
  return e;
}

/** Source addresses of the listed legacy peers, resolved in the background and refreshed. */
export class LegacyPeerSet {
  private addrs = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly hosts: string[];
  readonly ready: Promise<void>;

  constructor(entries: readonly string[], private readonly refreshMs = 30_000) {
    this.hosts = [...new Set(entries.map(hostOf).filter((h) => h.length > 0))];
    this.ready = this.hosts.length > 0 ? this.refresh() : Promise.resolve();
    if (this.hosts.length > 0 && this.hosts.some((h) => isIP(h) === 0)) {
      // Never two refreshes at once: with a resolver that hangs, overlapping rounds would pile up
      // getaddrinfo calls on libuv's 4-thread pool and starve every other lookup (see peer-resolver.ts).
      let running = false;
      this.timer = setInterval(() => {
        if (running) return;
        running = true;
        void this.refresh().finally(() => {
          running = false;
        });
      }, this.refreshMs);
      this.timer.unref();
    }
  }

  private async refresh(): Promise<void> {
    const next = new Set<string>();
    await Promise.all(
      this.hosts.map(async (h) => {
        if (isIP(h)) {
          next.add(normalizeAddress(h));
          return;
        }
        // `tasks.<service>` only means something for a Swarm service name (no dots)
        const names = h.includes('.') || h === 'localhost' ? [h] : [h, `tasks.${h}`];
        for (const name of names) {
          try {
            for (const r of await lookup(name, { all: true })) next.add(normalizeAddress(r.address));
          } catch {
            // a name that does not resolve (yet) admits nobody; the next refresh tries again
          }
        }
      }),
    );
    this.addrs = next;
  }

  has(addr: string): boolean {
    return this.addrs.has(normalizeAddress(addr));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** The receiving side: decides, from the headers and then the raw body, whether a call may run. */
export class RequestVerifier {
  private readonly key: Buffer;
  private readonly maxSkewMs: number;
  private readonly maxNonces: number;
  private readonly peerIds?: ReadonlySet<string>;
  /** nonce → forget-after time; insertion order is expiry order, so pruning pops from the front. */
  private readonly nonces = new Map<string, number>();
  readonly legacy: LegacyPeerSet;
  refusals = 0;

  /** `selfId`: this node's id; a call signed for any other receiver is refused. */
  constructor(opts: PeerAuthOptions, private readonly selfId: string) {
    this.key = secretBytes(opts.secret);
    this.maxSkewMs = opts.maxSkewMs ?? 30_000;
    this.maxNonces = opts.maxNonces ?? 500_000;
    this.peerIds = opts.peerIds ? new Set(opts.peerIds) : undefined;
    this.legacy = new LegacyPeerSet(opts.legacyPeers ?? [], opts.legacyRefreshMs);
  }

  private refuse(reason: string, status = 401): AuthVerdict {
    this.refusals++;
    return { ok: false, status, reason: `peer call refused: ${reason}` };
  }

  /**
   * Everything the headers alone can tell, checked before the body is read: an unsigned call from
   * anyone but a legacy peer, malformed or v1 signature headers, another receiver, an unknown
   * sender (with `peerIds`), a stale timestamp and a nonce already seen are refused at once.
   * Returns undefined when the call is signed and may be read (then `verify` decides).
   */
  precheck(headers: Headers, remoteAddress: string, now = Date.now()): AuthVerdict | undefined {
    const sig = one(headers, AUTH_HEADERS.signature);
    if (sig === undefined) {
      if (this.legacy.has(remoteAddress)) return { ok: true, authenticated: false };
      return this.refuse(
        `missing signature from ${remoteAddress || 'an unknown address'}: CLUSTER_SECRET is set, so only signed calls ` +
          'and unsigned calls from LEGACY_PEERS addresses are accepted (list an original Python node in LEGACY_PEERS)',
      );
    }
    const node = one(headers, AUTH_HEADERS.node);
    const to = one(headers, AUTH_HEADERS.to);
    const ts = one(headers, AUTH_HEADERS.timestamp);
    const nonce = one(headers, AUTH_HEADERS.nonce);
    if (sig.startsWith('v1=') && to === undefined) return this.refuse('signature v1 does not name the receiver (the caller runs an older version)');
    if (!SIGNATURE.test(sig) || !node || !NODE_ID.test(node) || !to || !ts || !TIMESTAMP.test(ts) || !nonce || !NONCE.test(nonce)) {
      return this.refuse('incomplete signature headers');
    }
    if (to !== this.selfId) return this.refuse(`signed for node ${to}, this is node ${this.selfId} (check the caller's PEER_NODES)`);
    if (this.peerIds && !this.peerIds.has(node)) return this.refuse(`unknown node ${node}`);
    if (Math.abs(now - Number(ts)) > this.maxSkewMs) return this.refuse('stale timestamp (check the clocks)');
    this.prune(now);
    if (this.nonces.has(nonce)) return this.refuse('replayed nonce');
    if (this.nonces.size >= this.maxNonces) return this.refuse('replay cache full, retry later', 503);
    return undefined;
  }

  verify(headers: Headers, path: string, body: Buffer, remoteAddress: string, now = Date.now()): AuthVerdict {
    // again: the clock moved while the body arrived, and a copy of this call may have run meanwhile
    const pre = this.precheck(headers, remoteAddress, now);
    if (pre) return pre;
    const node = one(headers, AUTH_HEADERS.node)!;
    const ts = one(headers, AUTH_HEADERS.timestamp)!;
    const nonce = one(headers, AUTH_HEADERS.nonce)!;
    if (!sameMac(one(headers, AUTH_HEADERS.signature), requestMac(this.key, path, node, this.selfId, ts, nonce, body))) {
      return this.refuse('bad signature');
    }
    // Remembered until a replay would fail the timestamp check anyway.
    this.nonces.set(nonce, now + 2 * this.maxSkewMs);
    return { ok: true, authenticated: true, peerId: node, nonce };
  }

  signResponse(nonce: string, status: number, body: Buffer): string {
    return SIG_PREFIX + responseMac(this.key, nonce, status, body).toString('hex');
  }

  private prune(now: number): void {
    for (const [n, until] of this.nonces) {
      if (until > now) break;
      this.nonces.delete(n);
    }
  }

  close(): void {
    this.legacy.close();
  }
}
