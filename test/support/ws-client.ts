/**
 * A raw protocol test client: sends `{type, data}` frames, records every frame it receives (and any
 * that is not valid JSON), and waits for a matching frame with a deadline so no test can hang.
 */
import WebSocket from 'ws';
import { closeWebSocket } from '../../node-app/src/clients/core/node-socket';

export interface Frame {
  type: string;
  data: Record<string, any>;
}

export class TestClient {
  readonly frames: Frame[] = [];
  readonly malformed: string[] = [];
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void; from: number }> = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const text = raw.toString();
      let f: Frame;
      try {
        f = JSON.parse(text);
        if (typeof f !== 'object' || f === null || typeof f.type !== 'string') throw new Error('shape');
      } catch {
        this.malformed.push(text);
        return;
      }
      this.frames.push(f);
      const idx = this.frames.length - 1;
      for (const w of [...this.waiters]) {
        if (idx >= w.from && w.pred(f)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    });
    ws.on('close', () => {
      this.closed = true;
    });
  }

  static connect(url: string, timeoutMs = 5000): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const t = setTimeout(() => {
        ws.terminate();
        reject(new Error(`connect to ${url} timed out`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(t);
        resolve(new TestClient(ws));
      });
      ws.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
  }

  send(type: string, data?: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(data === undefined ? { type } : { type, data }));
  }

  sendRaw(text: string | Buffer): void {
    this.ws.send(text);
  }

  /** Next frame (received at or after index `from`) matching `pred`, or a rejection after `timeoutMs`. */
  wait(pred: (f: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i])) return Promise.resolve(this.frames[i]);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        from,
        resolve: (f: Frame) => {
          clearTimeout(t);
          resolve(f);
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        const got = this.frames.slice(from).map((x) => x.type);
        const shown = got.length > 30 ? [`... ${got.length - 30} earlier`, ...got.slice(-30)] : got;
        reject(new Error(`timed out after ${timeoutMs} ms; got ${got.length} frames: ${JSON.stringify(shown)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends and waits for the first reply of one of `types` that arrives after the send. */
  async request(type: string, data: Record<string, unknown> | undefined, replyTypes: string[], timeoutMs = 5000): Promise<Frame> {
    const from = this.frames.length;
    this.send(type, data);
    return this.wait((f) => replyTypes.includes(f.type), timeoutMs, from);
  }

  ofType(type: string, roomId?: string): Frame[] {
    return this.frames.filter((f) => f.type === type && (roomId === undefined || f.data.room_id === roomId));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return closeWebSocket(this.ws);
  }
}

/** The clients a suite opened, closed together when it ends. */
export class TestClients {
  private readonly opened: TestClient[] = [];

  async connect(url: string): Promise<TestClient> {
    const c = await TestClient.connect(url);
    this.opened.push(c);
    return c;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((c) => c.close()));
  }
}
