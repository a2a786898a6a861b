/**
 * The browser client's transport: one WebSocket back to the node that served the page, reopened
 * with a capped backoff when it drops (up to 60 tries, then the user reloads). Frames that are not
 * `{type, data}` JSON objects are ignored.
 */
import type { ServerFrame } from '../../../protocol/messages';
import type { OutgoingRequest } from '../../core/requests';

export interface PageSocketHandlers {
  connecting: (retries: number) => void;
  open: (wasRetry: boolean) => void;
  frame: (frame: ServerFrame) => void;
  /** The socket dropped; `retrying` is false once the client gave up. */
  close: (retrying: boolean) => void;
}

const MAX_RETRIES = 60;

export class PageSocket {
  private ws: WebSocket | null = null;
  private retries = 0;
  connected = false;

  constructor(private readonly url: string, private readonly handlers: PageSocketHandlers) {}

  connect(): void {
    this.handlers.connecting(this.retries);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.connected = true;
      const wasRetry = this.retries > 0;
      this.retries = 0;
      this.handlers.open(wasRetry);
    });
    ws.addEventListener('message', (ev) => {
      let frame: unknown;
      try {
        frame = JSON.parse(typeof ev.data === 'string' ? ev.data : '');
      } catch {
        return;
      }
      if (typeof frame !== 'object' || frame === null || typeof (frame as { type?: unknown }).type !== 'string') return;
      const f = frame as ServerFrame;
      if (typeof f.data !== 'object' || f.data === null) (f as { data: unknown }).data = {};
      this.handlers.frame(f);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.connected = false;
      this.retries += 1;
      const retrying = this.retries <= MAX_RETRIES;
      this.handlers.close(retrying);
      if (retrying) setTimeout(() => this.connect(), Math.min(500 * 2 ** (this.retries - 1), 4000));
    });
  }

  get retryCount(): number {
    return this.retries;
  }

  /** Sends a request; false when not connected (nothing is queued). */
  send(request: OutgoingRequest): boolean {
    if (!this.connected || !this.ws) return false;
    this.ws.send(JSON.stringify(request));
    return true;
  }
}
