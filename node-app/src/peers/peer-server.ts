/**
 * The node's XML-RPC endpoint, answering like Python's SimpleXMLRPCServer(allow_none=True) on the wire
 * (POST `/` and `/RPC2`, 404 `No such page` elsewhere, faultCode 1 with Python-style faultStrings,
 * gzip request bodies, gzip replies over 1400 bytes when asked) but unlike it: requests are served
 * concurrently (no single-threaded circular waits, node-app/PROTOCOL.md §9.3), over keep-alive, with body-size,
 * nesting and time limits, the batching extension, and, when a cluster secret is set, signed calls only.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import {
  BATCH_CAPABILITY,
  BATCH_METHOD,
  type BatchItemResult,
  type BatchRequest,
  HELLO_METHOD,
  parseBatchRequest,
  toBatchJson,
} from './batch-format';
import { type PeerLogger, nullLogger } from './logger';
import { normalizeAddress, type PeerAuthOptions, RequestVerifier } from './peer-auth';
import { arityFault, type PeerHandlerArity, pythonFault } from './rpc-params';
import {
  decodeMethodCall,
  encodeFault,
  encodeMethodResponse,
  XmlRpcDecodeError,
  XmlRpcFault,
  type XmlRpcValue,
} from './xmlrpc-codec';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export interface PeerHandlerContext {
  remoteAddress: string;
  /** the caller's node id, when its signature proved it */
  peerId?: string;
  authenticated: boolean;
}

export type { PeerHandlerArity } from './rpc-params';

/**
 * The one handler type of the peer server: the node's, the replication layer's and the server's own
 * handlers all have this shape. `arity`, when set, makes the server answer a wrong parameter count
 * with Python's TypeError fault before the handler runs.
 */
export type PeerHandler = ((
  params: XmlRpcValue[],
  ctx: PeerHandlerContext,
) => XmlRpcValue | undefined | Promise<XmlRpcValue | undefined>) & { arity?: PeerHandlerArity };

/** Declares a handler's positional parameters, e.g. `withArity(['room_id', 'username', 'client_node_id'], 3, fn)`. */
export function withArity(names: readonly string[], required: number, fn: PeerHandler): PeerHandler {
  const h: PeerHandler = (params, ctx) => fn(params, ctx);
  h.arity = { names, required };
  return h;
}

export interface PeerServerLimits {
  /** largest request body, compressed or not. Default 4 MiB. */
  maxBodyBytes?: number;
  /** deepest array/struct nesting. Default 32. */
  maxDepth?: number;
  /** most values in one body. Default 100 000. */
  maxValues?: number;
  /** most items in one swarmchat_batch call. Default 10 000. */
  maxBatchItems?: number;
  /** an async handler that has not settled by then is answered with a fault. Default 30 s. */
  handlerTimeoutMs?: number;
  /** most open connections; more are refused at accept. Default 1024. */
  maxConnections?: number;
  /** a request must arrive whole within this. Default 30 s. */
  requestTimeoutMs?: number;
  /** a body must arrive whole within this once its headers are accepted; else 408. Default 10 s. */
  bodyTimeoutMs?: number;
  /** most bytes of request bodies being read at once (by declared Content-Length); more: 503 at once. Default 64 MiB. */
  bodiesInFlightBytes?: number;
  /** the same, from one source address, so one sender cannot take the whole budget. Default 16 MiB. */
  bodiesInFlightPerAddressBytes?: number;
}

export interface PeerServerOptions {
  host: string;
  port: number;
  handlers: Record<string, PeerHandler>;
  /** when set, only signed calls (and unsigned ones from `auth.legacyPeers`) reach a handler; needs `nodeId` */
  auth?: PeerAuthOptions;
  limits?: PeerServerLimits;
  logger?: PeerLogger;
  /** this node's id: announced by swarmchat_hello, and the receiver every signed call must name */
  nodeId?: string;
}

export interface PeerServerStats {
  requests: number;
  faults: number;
  refused: number;
  /** of `refused`: 503 because the bodies-in-flight budget was spent */
  busy: number;
  malformed: number;
  batches: number;
  batchItems: number;
  duplicateItems: number;
}

export interface PeerServer {
  port: number;
  stats: PeerServerStats;
  close(): Promise<void>;
}

function toFault(err: unknown): XmlRpcFault {
  if (err instanceof XmlRpcFault) return err;
  if (err instanceof XmlRpcDecodeError) return pythonFault('xml.parsers.expat.ExpatError', err.message);
  if (err instanceof TypeError) return pythonFault('TypeError', err.message);
  return pythonFault('Exception', err instanceof Error ? err.message : String(err));
}

class HttpRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Bytes of request bodies being read, in total and per source address. A body is reserved at its
 * declared length before it is read, so stalled or slow uploads cannot pile up memory: over the
 * budget a request is refused at once, and one address can never take more than its share.
 */
class BodyBudget {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  constructor(private readonly limit: number, private readonly perAddress: number) {}

  /** A release function, or undefined when `bytes` more would exceed the budget. */
  reserve(address: string, bytes: number): (() => void) | undefined {
    const mine = this.byAddress.get(address) ?? 0;
    if (this.total + bytes > this.limit || mine + bytes > this.perAddress) return undefined;
    this.total += bytes;
    this.byAddress.set(address, mine + bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= bytes;
      const left = (this.byAddress.get(address) ?? bytes) - bytes;
      if (left > 0) this.byAddress.set(address, left);
      else this.byAddress.delete(address);
    };
  }

  describe(address: string): string {
    return `${this.total} of ${this.limit} bytes in total, ${this.byAddress.get(address) ?? 0} of ${this.perAddress} from ${address}`;
  }
}

/** Per sending stream: the last delivered sequence number, and the tail of its serial work. */
interface StreamState {
  stream: string;
  lastSeq: number;
  tail: Promise<unknown>;
}
const MAX_TRACKED_STREAMS = 1024;

export async function startPeerServer(opts: PeerServerOptions): Promise<PeerServer> {
  const log = (opts.logger ?? nullLogger).child({ component: 'peer-server' });
  const maxBody = opts.limits?.maxBodyBytes ?? 4 * 1024 * 1024;
  const decodeLimits = { maxDepth: opts.limits?.maxDepth, maxValues: opts.limits?.maxValues };
  const maxBatchItems = opts.limits?.maxBatchItems ?? 10_000;
  const handlerTimeoutMs = opts.limits?.handlerTimeoutMs ?? 30_000;
  const verifier = opts.auth ? new RequestVerifier(opts.auth, opts.nodeId ?? '') : undefined;
  if (verifier && !opts.nodeId) throw new Error('peer server: nodeId is required with auth (every signed call names its receiver)');
  const bodyTimeoutMs = opts.limits?.bodyTimeoutMs ?? 10_000;
  const budget = new BodyBudget(opts.limits?.bodiesInFlightBytes ?? 64 * 1024 * 1024, opts.limits?.bodiesInFlightPerAddressBytes ?? 16 * 1024 * 1024);
  // Start with the legacy addresses resolved if DNS answers promptly; a slow resolver must not
  // hold the node's start (the set fills in when the lookups finish, and is refreshed).
  if (verifier) {
    await Promise.race([verifier.legacy.ready, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
  }
  const stats: PeerServerStats = {
    requests: 0,
    faults: 0,
    refused: 0,
    busy: 0,
    malformed: 0,
    batches: 0,
    batchItems: 0,
    duplicateItems: 0,
  };
  const streams = new Map<string, StreamState>();
  const handlers = new Map(Object.entries(opts.handlers));

  async function dispatch(method: string, params: XmlRpcValue[], ctx: PeerHandlerContext): Promise<XmlRpcValue> {
    if (method === BATCH_METHOD) return runBatch(params, ctx);
    if (method === HELLO_METHOD && !handlers.has(HELLO_METHOD)) {
      return {
        node_id: opts.nodeId ?? null,
        protocol: 1,
        capabilities: [BATCH_CAPABILITY],
        max_batch_items: maxBatchItems,
      };
    }
    const h = handlers.get(method);
    if (!h) throw pythonFault('Exception', `method "${method}" is not supported`);
    if (h.arity) {
      const f = arityFault(method, h.arity, params.length);
      if (f) throw f;
    }
    const r = h(params, ctx);
    const v = r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function'
      ? await withDeadline(Promise.resolve(r as Promise<XmlRpcValue | undefined>), method)
      : (r as XmlRpcValue | undefined);
    return v === undefined ? null : v;
  }

  /** A handler that never settles would otherwise hold its caller's stream forever. */
  function withDeadline<T>(p: Promise<T>, method: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(pythonFault('TimeoutError', `${method} did not finish within ${handlerTimeoutMs} ms`)), handlerTimeoutMs);
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  }

  async function runBatch(params: XmlRpcValue[], ctx: PeerHandlerContext): Promise<XmlRpcValue> {
    if (params.length !== 1 || typeof params[0] !== 'string') {
      throw pythonFault('TypeError', `${BATCH_METHOD} takes one JSON string`);
    }
    const batch = parseBatchRequest(params[0], maxBatchItems);
    // A signed caller is who it proved to be; its payload may not claim another stream owner.
    const from = ctx.authenticated && ctx.peerId ? ctx.peerId : batch.from;
    // Keyed by sender and stream: two links of one node (say chat and replication) never share state.
    const key = `${from}\u0000${batch.stream}`;
    let st = streams.get(key);
    if (!st) {
      st = { stream: batch.stream, lastSeq: -1, tail: Promise.resolve() };
      streams.set(key, st);
      if (streams.size > MAX_TRACKED_STREAMS) streams.delete(streams.keys().next().value as string);
    }
    const state = st;
    // Batches of one stream run one after another, even when a retry overlaps the original attempt.
    const run = state.tail.then(() => deliver(batch, state, ctx));
    state.tail = run.catch(() => undefined);
    return toBatchJson({ results: await run });
  }

  async function deliver(batch: BatchRequest, st: StreamState, ctx: PeerHandlerContext): Promise<BatchItemResult[]> {
    stats.batches++;
    const results: BatchItemResult[] = [];
    for (let i = 0; i < batch.items.length; i++) {
      const seq = batch.seq + i;
      if (seq <= st.lastSeq) {
        stats.duplicateItems++;
        results.push([2]);
        continue;
      }
      const [method, params] = batch.items[i];
      try {
        if (method === BATCH_METHOD) throw pythonFault('Exception', 'batches do not nest');
        results.push([0, await dispatch(method, params, ctx)]);
      } catch (e) {
        const f = toFault(e);
        results.push([1, f.faultCode, f.faultString]);
      }
      st.lastSeq = seq;
      stats.batchItems++;
    }
    return results;
  }

  // A flood of refused calls must not become a flood of log lines: one per second, with a count.
  let lastRefusalLog = 0;
  let refusalsSinceLog = 0;
  function logRefusal(e: HttpRefusal, remote: string): void {
    refusalsSinceLog++;
    const now = Date.now();
    if (now - lastRefusalLog < 1000) return;
    log.warn('peer request refused', { status: e.status, reason: e.message, remote, refused_since_last_line: refusalsSinceLog });
    lastRefusalLog = now;
    refusalsSinceLog = 0;
  }

  /** Reads a body whose declared length was checked and reserved; bounded in size and in time. */
  function readBody(req: http.IncomingMessage, declared: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => {
        reject(new HttpRefusal(408, `request body not received within ${bodyTimeoutMs} ms`));
      }, bodyTimeoutMs);
      const done = () => clearTimeout(timer);
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > declared) {
          done();
          reject(new HttpRefusal(400, 'request body longer than its Content-Length'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        done();
        resolve(Buffer.concat(chunks, size));
      });
      req.on('error', (e) => {
        done();
        reject(e);
      });
      req.on('aborted', () => {
        done();
        reject(new Error('request aborted'));
      });
    });
  }

  /** Content-Length is required (Python's client always sends it) and bounded, before any byte is read. */
  function declaredLength(req: http.IncomingMessage): number {
    const raw = req.headers['content-length'];
    if (raw === undefined) throw new HttpRefusal(411, 'Content-Length required');
    const n = Number(raw);
    if (!/^[0-9]{1,12}$/.test(raw) || !Number.isSafeInteger(n)) throw new HttpRefusal(400, 'bad Content-Length');
    if (n > maxBody) throw new HttpRefusal(413, `request body larger than ${maxBody} bytes`);
    return n;
  }

  function send(
    res: http.ServerResponse,
    status: number,
    body: Buffer,
    type: string,
    extra: Record<string, string> = {},
  ): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(body.length), ...extra });
    res.end(body);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.requests++;
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST') {
      send(res, 501, Buffer.from(`Unsupported method ('${req.method}')`), 'text/plain', { Connection: 'close' });
      req.resume();
      return;
    }
    if (path !== '/' && path !== '/RPC2') {
      send(res, 404, Buffer.from('No such page'), 'text/plain');
      req.resume();
      return;
    }
    const remoteAddress = normalizeAddress(req.socket.remoteAddress);
    let ctx: PeerHandlerContext = { remoteAddress, authenticated: false };
    let replyNonce: string | undefined;
    let release: (() => void) | undefined;
    try {
      // Everything the headers can tell comes before a byte of the body is read or buffered.
      if (verifier) {
        const pre = verifier.precheck(req.headers, remoteAddress);
        if (pre && !pre.ok) throw new HttpRefusal(pre.status, pre.reason);
      }
      const declared = declaredLength(req);
      release = budget.reserve(remoteAddress, declared);
      if (!release) {
        stats.busy++;
        throw new HttpRefusal(503, `busy: too many request bytes in flight (${budget.describe(remoteAddress)})`);
      }
      const raw = await readBody(req, declared);
      if (verifier) {
        const v = verifier.verify(req.headers, path, raw, remoteAddress);
        if (!v.ok) throw new HttpRefusal(v.status, v.reason);
        if (v.authenticated) {
          ctx = { remoteAddress, authenticated: true, peerId: v.peerId };
          replyNonce = v.nonce;
        }
      }
      const enc = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
      let body: Buffer;
      if (enc === 'gzip') {
        try {
          body = await gunzip(raw, { maxOutputLength: maxBody });
        } catch (e) {
          throw new HttpRefusal(
            (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 413 : 400,
            'bad gzip body',
          );
        }
      } else if (enc === 'identity') {
        body = raw;
      } else {
        throw new HttpRefusal(501, `encoding ${JSON.stringify(enc)} not supported`);
      }
      release();
      release = undefined;

      let xml: string;
      try {
        let call: { method: string; params: XmlRpcValue[] };
        try {
          call = decodeMethodCall(body.toString('utf8'), decodeLimits);
        } catch (e) {
          stats.malformed++;
          throw e;
        }
        xml = encodeMethodResponse(await dispatch(call.method, call.params, ctx));
      } catch (e) {
        const f = toFault(e);
        stats.faults++;
        if (!(e instanceof XmlRpcFault)) log.debug('peer call failed', { error: f.faultString });
        xml = encodeFault(f.faultCode, f.faultString);
      }
      let out = Buffer.from(xml, 'utf8');
      const headers: Record<string, string> = {};
      if (out.length > 1400 && /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))) {
        out = await gzip(out);
        headers['Content-Encoding'] = 'gzip';
      }
      if (verifier && replyNonce) headers['X-SwarmChat-Signature'] = verifier.signResponse(replyNonce, 200, out);
      send(res, 200, out, 'text/xml', headers);
    } catch (e) {
      if (e instanceof HttpRefusal) {
        stats.refused++;
        logRefusal(e, remoteAddress);
        // The body may be unread (refused before reading): close rather than drain a stranger's upload.
        send(res, e.status, Buffer.from(e.message), 'text/plain', { Connection: 'close' });
      } else {
        log.debug('peer request aborted', { error: (e as Error).message, remote: remoteAddress });
        res.destroy();
      }
    } finally {
      release?.();
    }
  }

  const server = http.createServer({ requestTimeout: opts.limits?.requestTimeoutMs ?? 30_000, headersTimeout: 10_000 });
  server.keepAliveTimeout = 10_000;
  // peers are a handful of nodes; thousands of sockets mean a flood, not a cluster
  server.maxConnections = opts.limits?.maxConnections ?? 1024;
  server.on('request', (req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error('peer request handler crashed', { error: e });
      res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.debug('peer server listening', { host: opts.host, port });
  return {
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        verifier?.close();
        server.close(() => resolve());
        server.closeIdleConnections();
        // in-flight calls get a moment to answer; then their sockets go too
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
