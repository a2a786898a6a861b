/**
 * Raw WebSocket frames a well-behaved client never sends: the start of a message that is never
 * finished, written straight to the socket of an open `ws` client.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

/** A masked client frame header (+ mask) for a text or continuation frame of `payloadLength` bytes. */
function header(payloadLength: number, opts: { fin: boolean; continuation?: boolean }): Buffer {
  const opcode = opts.continuation ? 0x0 : 0x1;
  const b0 = (opts.fin ? 0x80 : 0) | opcode;
  let h: Buffer;
  if (payloadLength < 126) {
    h = Buffer.from([b0, 0x80 | payloadLength]);
  } else if (payloadLength < 65536) {
    h = Buffer.alloc(4);
    h[0] = b0;
    h[1] = 0x80 | 126;
    h.writeUInt16BE(payloadLength, 2);
  } else {
    h = Buffer.alloc(10);
    h[0] = b0;
    h[1] = 0x80 | 127;
    h.writeBigUInt64BE(BigInt(payloadLength), 2);
  }
  return Buffer.concat([h, randomBytes(4)]);
}

/** Opens a connection (raw frames need an open one); resolves once the handshake is done. */
export function openRaw(url: string, localAddress?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode} ${res.statusMessage}`)));
  });
}

function socketOf(ws: WebSocket): { write(b: Buffer): boolean } {
  return (ws as unknown as { _socket: { write(b: Buffer): boolean } })._socket;
}

/** Starts a single-frame message of `declared` bytes and sends only `sent` of them. */
export function sendUnfinishedFrame(ws: WebSocket, declared: number, sent: number): void {
  socketOf(ws).write(Buffer.concat([header(declared, { fin: true }), randomBytes(sent)]));
}

/** Sends complete first fragments of a message (FIN=0) totalling `bytes`, and never the last one. */
export function sendUnfinishedFragments(ws: WebSocket, bytes: number, fragment = 64 * 1024): void {
  let first = true;
  for (let left = bytes; left > 0; left -= fragment) {
    const n = Math.min(fragment, left);
    socketOf(ws).write(Buffer.concat([header(n, { fin: false, continuation: !first }), randomBytes(n)]));
    first = false;
  }
}

/** Resolves with the close code and reason, or 'open' if the connection is still open after `ms`. */
export function closedWithin(ws: WebSocket, ms: number): Promise<{ code: number; reason: string } | 'open'> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('open'), ms);
    ws.once('close', (code, reason) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString() });
    });
  });
}
