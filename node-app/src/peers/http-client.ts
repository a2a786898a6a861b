/**
 * A small HTTP/1.1 client for one origin: POST a body, get the status, headers and body back, over
 * a pool of keep-alive sockets. It is what the peer link calls through instead of Node's `http`
 * client, because a peer call is a tiny exchange made thousands of times a second and Node's client
 * (ClientRequest, IncomingMessage, the agent, header validation, streams) cost about as much CPU as
 * the rest of the call; this one writes each request with one system call and parses the reply in
 * place (`test/node-app/peers/codec.bench.ts`, section 3, measures both).
 *
 * What it speaks: requests with `Content-Length` (never chunked); replies framed by `Content-Length`,
 * `Transfer-Encoding: chunked` or the end of the connection (an HTTP/1.0 server such as Python's
 * `SimpleXMLRPCServer`), `1xx` interim replies skipped, `Connection: close` / HTTP/1.0 honoured.
 * No pipelining: a socket carries one exchange at a time. Knows nothing of XML-RPC or signatures.
 */
import net from 'node:net';

export interface HttpReply {
  status: number;
  /** header names lower-cased; a header sent more than once is an array */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Why an exchange failed: `stale` when a reused keep-alive socket was closed by the server before any reply byte. */
export class HttpExchangeError extends Error {
  constructor(
    readonly kind: 'connect' | 'timeout' | 'protocol' | 'closed',
    message: string,
    readonly code?: string,
    readonly stale = false,
  ) {
    super(message);
    this.name = 'HttpExchangeError';
  }
}

export interface HttpClientOptions {
  host: string;
  port: number;
  /** the Host header (`host:port`, IPv6 in brackets) */
  hostHeader: string;
  /** most sockets open at once; further requests wait for one. */
  maxSockets: number;
  /** most idle sockets kept open. Default 4. */
  maxFreeSockets?: number;
  /** largest reply body accepted. */
  maxResponseBytes: number;
  /** largest reply head (status line and headers). Default 64 KiB. */
  maxHeaderBytes?: number;
  /** name resolution for new connections (the signature of `dns.lookup`). */
  lookup?: net.LookupFunction;
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const UNSAFE_HEADER_VALUE = /[\r\n\0]/;

type BodyMode = 'length' | 'chunked' | 'close';

interface Exchange {
  resolve: (r: HttpReply) => void;
  reject: (e: HttpExchangeError) => void;
  timer: NodeJS.Timeout;
  /** any byte of the reply arrived */
  gotBytes: boolean;
  // reply head
  head: Buffer | null;
  status: number;
  headers: Record<string, string | string[]>;
  keepAlive: boolean;
  // reply body
  mode: BodyMode | null;
  remaining: number;
  chunks: Buffer[];
  size: number;
  /** chunked: bytes not parsed yet, and where the parser is */
  pending: Buffer | null;
  chunkState: 'size' | 'data' | 'data-crlf' | 'trailer';
}

class Connection {
  reused = false;
  exchange: Exchange | null = null;
  constructor(readonly socket: net.Socket) {}
}

export class HttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Array<() => void> = [];
  private readonly maxFree: number;
  private readonly maxHeader: number;
  private closed = false;

  constructor(private readonly o: HttpClientOptions) {
    this.maxFree = o.maxFreeSockets ?? 4;
    this.maxHeader = o.maxHeaderBytes ?? 64 * 1024;
  }

  /** Sockets open now (idle and busy). */
  get sockets(): number {
    return this.all.size;
  }

  /**
   * POSTs `body` to `path` with `headers` (values must not hold CR, LF or NUL). The deadline covers
   * waiting for a socket, connecting, sending and the whole reply.
   */
  post(path: string, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<HttpReply> {
    if (this.closed) return Promise.reject(new HttpExchangeError('closed', 'client closed'));
    let head = `POST ${path} HTTP/1.1\r\nHost: ${this.o.hostHeader}\r\nContent-Length: ${body.length}\r\n`;
    for (const name in headers) {
      const value = headers[name];
      if (UNSAFE_HEADER_VALUE.test(value) || UNSAFE_HEADER_VALUE.test(name)) {
        return Promise.reject(new HttpExchangeError('protocol', `invalid character in header ${JSON.stringify(name)}`));
      }
      head += `${name}: ${value}\r\n`;
    }
    head += '\r\n';
    return new Promise<HttpReply>((resolve, reject) => {
      const x: Exchange = {
        resolve, reject,
        timer: setTimeout(() => this.fail(x, conn, new HttpExchangeError('timeout', `no answer within ${timeoutMs} ms`)), timeoutMs),
        gotBytes: false, head: null, status: 0, headers: {}, keepAlive: true,
        mode: null, remaining: 0, chunks: [], size: 0, pending: null, chunkState: 'size',
      };
      let conn: Connection | null = null;
      let queued: (() => void) | null = null;
      const start = (): void => {
        queued = null;
        if (this.closed) return this.fail(x, null, new HttpExchangeError('closed', 'client closed'));
        conn = this.idle.pop() ?? this.connect();
        conn.exchange = x;
        conn.socket.ref();
        const s = conn.socket;
        s.cork();
        s.write(head, 'latin1');
        s.write(body);
        s.uncork();
      };
      // A timed-out request still waiting for a socket leaves the queue.
      x.reject = (e) => {
        if (queued) this.waiting.splice(this.waiting.indexOf(queued), 1);
        reject(e);
      };
      if (this.idle.length > 0 || this.all.size < this.o.maxSockets) start();
      else this.waiting.push((queued = start));
    });
  }

  /** Fails every exchange in flight or waiting and closes every socket. */
  close(): void {
    this.closed = true;
    for (const c of [...this.all]) {
      if (c.exchange) this.fail(c.exchange, c, new HttpExchangeError('closed', 'client closed'));
      else this.drop(c);
    }
    for (const w of this.waiting.splice(0)) w();
  }

  private connect(): Connection {
    const socket = net.connect({ host: this.o.host, port: this.o.port, lookup: this.o.lookup, noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000 });
    const conn = new Connection(socket);
    this.all.add(conn);
    socket.on('data', (d: Buffer) => this.onData(conn, d));
    socket.on('end', () => this.onEnd(conn));
    socket.on('close', () => this.onEnd(conn));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const x = conn.exchange;
      if (!x) return this.drop(conn);
      const stale = conn.reused && !x.gotBytes && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
      this.fail(x, conn, new HttpExchangeError('connect', `${e.code ?? ''} ${e.message}`.trim(), e.code, stale));
    });
    return conn;
  }

  private onEnd(conn: Connection): void {
    const x = conn.exchange;
    if (!x) return this.drop(conn);
    if (x.mode === 'close') return this.finish(conn, x, false);
    const stale = conn.reused && !x.gotBytes;
    this.fail(x, conn, new HttpExchangeError('connect', 'connection closed before the whole reply arrived', 'ECONNRESET', stale));
  }

  private onData(conn: Connection, d: Buffer): void {
    const x = conn.exchange;
    if (!x) return this.drop(conn); // bytes nobody asked for: the connection is out of step
    x.gotBytes = true;
    if (x.mode === null) {
      const buf = x.head ? Buffer.concat([x.head, d]) : d;
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > this.maxHeader) return this.fail(x, conn, new HttpExchangeError('protocol', `reply head larger than ${this.maxHeader} bytes`));
        x.head = buf;
        return;
      }
      x.head = null;
      const err = this.parseHead(x, buf.toString('latin1', 0, end));
      if (err) return this.fail(x, conn, new HttpExchangeError('protocol', err));
      const rest = buf.subarray(end + 4);
      if (x.status < 200) {
        // an interim reply (100 Continue): the real one follows
        x.mode = null;
        x.headers = {};
        if (rest.length > 0) this.onData(conn, rest);
        return;
      }
      if (x.mode === 'length' && x.remaining === 0) return this.finish(conn, x, rest.length === 0);
      if (rest.length > 0) this.body(conn, x, rest);
      return;
    }
    this.body(conn, x, d);
  }

  /** Reads the status line and headers into `x`; returns an error text for a malformed head. */
  private parseHead(x: Exchange, text: string): string | undefined {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]);
    if (!m) return `malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`;
    x.status = Number(m[2]);
    const headers: Record<string, string | string[]> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = headers[name];
      headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
    x.headers = headers;
    if (x.status < 200) return undefined;
    const connection = String(headers.connection ?? '').toLowerCase();
    x.keepAlive = m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (te !== undefined) {
      if (String(te).toLowerCase() !== 'chunked') return `unsupported transfer encoding ${JSON.stringify(te)}`;
      x.mode = 'chunked';
    } else if (cl !== undefined) {
      if (Array.isArray(cl) || !/^\d{1,15}$/.test(cl)) return `malformed Content-Length ${JSON.stringify(cl)}`;
      x.remaining = Number(cl);
      if (x.remaining > this.o.maxResponseBytes) return `reply larger than ${this.o.maxResponseBytes} bytes`;
      x.mode = 'length';
    } else {
      x.mode = 'close';
      x.keepAlive = false;
    }
    return undefined;
  }

  private body(conn: Connection, x: Exchange, d: Buffer): void {
    if (x.mode === 'length') {
      if (d.length > x.remaining) return this.fail(x, conn, new HttpExchangeError('protocol', 'reply longer than its Content-Length'));
      this.take(x, d);
      x.remaining -= d.length;
      if (x.remaining === 0) this.finish(conn, x, true);
      return;
    }
    if (x.mode === 'close') {
      if (x.size + d.length > this.o.maxResponseBytes) return this.fail(x, conn, new HttpExchangeError('protocol', `reply larger than ${this.o.maxResponseBytes} bytes`));
      this.take(x, d);
      return;
    }
    this.chunked(conn, x, d);
  }

  /** Transfer-Encoding: chunked, resumable at any byte. */
  private chunked(conn: Connection, x: Exchange, d: Buffer): void {
    let buf = x.pending ? Buffer.concat([x.pending, d]) : d;
    x.pending = null;
    for (;;) {
      if (x.chunkState === 'data') {
        const n = Math.min(x.remaining, buf.length);
        if (x.size + n > this.o.maxResponseBytes) return this.fail(x, conn, new HttpExchangeError('protocol', `reply larger than ${this.o.maxResponseBytes} bytes`));
        this.take(x, buf.subarray(0, n));
        x.remaining -= n;
        buf = buf.subarray(n);
        if (x.remaining > 0) return;
        x.chunkState = 'data-crlf';
      }
      const eol = buf.indexOf(CRLF);
      if (eol < 0) {
        if (buf.length > this.maxHeader) return this.fail(x, conn, new HttpExchangeError('protocol', 'chunk framing line too long'));
        if (buf.length > 0) x.pending = buf;
        return;
      }
      const line = buf.toString('latin1', 0, eol);
      buf = buf.subarray(eol + 2);
      if (x.chunkState === 'data-crlf') {
        if (line !== '') return this.fail(x, conn, new HttpExchangeError('protocol', 'chunk not followed by CRLF'));
        x.chunkState = 'size';
      } else if (x.chunkState === 'size') {
        const m = /^([0-9a-fA-F]{1,12})(?:;.*)?$/.exec(line);
        if (!m) return this.fail(x, conn, new HttpExchangeError('protocol', `malformed chunk size ${JSON.stringify(line.slice(0, 40))}`));
        x.remaining = parseInt(m[1], 16);
        x.chunkState = x.remaining === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        // the empty line after the last chunk's trailers: done
        return this.finish(conn, x, buf.length === 0);
      }
    }
  }

  private take(x: Exchange, d: Buffer): void {
    x.chunks.push(d);
    x.size += d.length;
  }

  /** The reply is whole: resolve, and keep the socket for the next exchange when it may be reused. */
  private finish(conn: Connection, x: Exchange, reusable: boolean): void {
    clearTimeout(x.timer);
    conn.exchange = null;
    const body = x.chunks.length === 1 ? x.chunks[0] : Buffer.concat(x.chunks, x.size);
    x.resolve({ status: x.status, headers: x.headers, body });
    if (reusable && x.keepAlive && !this.closed) this.release(conn);
    else this.drop(conn);
  }

  private fail(x: Exchange, conn: Connection | null, err: HttpExchangeError): void {
    clearTimeout(x.timer);
    if (conn) {
      conn.exchange = null;
      this.drop(conn);
    }
    x.reject(err);
  }

  private release(conn: Connection): void {
    conn.reused = true;
    const next = this.waiting.shift();
    if (next) {
      this.idle.push(conn);
      next();
      return;
    }
    if (this.idle.length >= this.maxFree) return this.drop(conn);
    conn.socket.unref();
    this.idle.push(conn);
  }

  /** Closes a socket for good and lets a waiting request open another. */
  private drop(conn: Connection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    conn.socket.destroy();
    const next = this.waiting.shift();
    if (next) next();
  }
}
