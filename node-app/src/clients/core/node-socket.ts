/**
 * The transport of one connection: the WebSocket to a chat node (node-app/PROTOCOL.md §2), opened once and
 * never reopened (reconnecting is the session's job, `chat-session.ts`). Owns the handshake, the
 * liveness ping, turning raw frames into `{type, data}` objects and the close. It knows nothing of
 * requests or rooms.
 */
import WebSocket from 'ws';
import type { ServerFrame } from '../../protocol/messages';
import { LIMITS } from '../../protocol/messages';
import type { OutgoingRequest } from './requests';

export interface NodeSocketOptions {
  /** WebSocket handshake timeout. */
  connectTimeoutMs: number;
  /** Protocol-level ping interval; a node that misses one pong is dropped. 0 = off. */
  pingIntervalMs: number;
}

export interface NodeSocketHandlers {
  frame: (frame: ServerFrame) => void;
  /** A frame that is not a `{type, data}` JSON object; the connection goes on. */
  unreadable: (err: Error) => void;
  error: (err: Error) => void;
  close: (code: number, reason: string) => void;
}

export class NodeSocket {
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private awaitingPong = false;
  private closed = false;

  /** Opens the socket; rejects with a readable error if the node cannot be reached. */
  static open(url: string, options: NodeSocketOptions, handlers: NodeSocketHandlers): Promise<NodeSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        handshakeTimeout: options.connectTimeoutMs,
        maxPayload: LIMITS.maxFrameBytes,
        perMessageDeflate: false,
      });
      const onOpen = (): void => {
        ws.off('error', onError);
        resolve(new NodeSocket(url, ws, options, handlers));
      };
      const onError = (err: Error): void => {
        ws.off('open', onOpen);
        ws.terminate();
        reject(new Error(`cannot connect to ${url}: ${err.message}`));
      };
      ws.once('open', onOpen);
      ws.once('error', onError);
    });
  }

  private constructor(
    readonly url: string,
    private readonly ws: WebSocket,
    options: NodeSocketOptions,
    handlers: NodeSocketHandlers,
  ) {
    ws.on('message', (data, isBinary) => {
      const frame = this.parse(data, isBinary);
      if (frame instanceof Error) handlers.unreadable(frame);
      else handlers.frame(frame);
    });
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('error', (err) => handlers.error(err));
    ws.on('close', (code, reason) => {
      this.closed = true;
      if (this.pingTimer) clearInterval(this.pingTimer);
      handlers.close(code, reason.toString());
    });
    this.startPing(options.pingIntervalMs);
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one request; the callback reports a failed send (the socket closed under it). */
  send(request: OutgoingRequest, onFailed: (err: Error) => void): void {
    this.ws.send(JSON.stringify(request), (err) => {
      if (err) onFailed(err);
    });
  }

  /** Closes with a normal close; resolves when closed, or after 2 s by cutting the socket. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return closeWebSocket(this.ws, 'client closing');
  }

  private parse(data: WebSocket.RawData, isBinary: boolean): ServerFrame | Error {
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
        throw new Error('not a {type, data} object');
      }
      const frame = parsed as ServerFrame;
      if (typeof frame.data !== 'object' || frame.data === null) (frame as { data: unknown }).data = {};
      return frame;
    } catch (err) {
      return new Error(`unreadable ${isBinary ? 'binary' : 'text'} frame from ${this.url}: ${(err as Error).message}`);
    }
  }

  private startPing(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) {
        // A node that is gone without a FIN (power loss, partition) would otherwise look alive.
        this.ws.terminate();
        return;
      }
      this.awaitingPong = true;
      this.ws.ping();
    }, intervalMs);
    this.pingTimer.unref();
  }
}

/**
 * A normal close (1000, `reason`) that never hangs: a node that does not answer the close within
 * `deadlineMs` has its socket cut. Resolves once the socket is closed either way.
 */
export function closeWebSocket(ws: WebSocket, reason = '', deadlineMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => {
      ws.terminate();
      resolve();
    }, deadlineMs);
    ws.once('close', () => {
      clearTimeout(cut);
      resolve();
    });
    ws.close(1000, reason);
  });
}
