/**
 * The load generator's clients, one per simulated user. Both kinds report into a Tracker: the
 * client knows its receiver index, and its sender index when it sends (-1 otherwise).
 *  - SwarmChatClient: our WebSocket protocol over npm `ws` (also spoken by the raw ws ceiling).
 *    Deliveries are decoded from the frame bytes; only control frames are JSON-parsed.
 *  - SocketIoClient: npm socket.io-client, websocket transport, acks via Socket.IO callbacks.
 */
import { io, Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { decodeContent, decodeFrame, Receipt } from './payload';
import { Tracker } from './tracker';

export interface LoadClient {
  readonly url: string;
  receiver: number;
  sender: number;
  tracker: Tracker | null;
  /** Unexpected frames (errors, garbled or unknown replies) this client saw, and the last one. */
  protocolErrors: number;
  lastProtocolError: string;
  connect(timeoutMs: number): Promise<void>;
  /** Creates a room (our protocol) and returns its id; Socket.IO rooms are plain names. */
  createRoom(name: string, creator: string, timeoutMs: number): Promise<string>;
  join(roomId: string, username: string, timeoutMs: number): Promise<void>;
  /** Fire-and-forget send; the ack or error reaches the tracker. */
  send(roomId: string, username: string, content: string): void;
  /** A cheap request/response round trip that proves the server still serves this connection. */
  ping(timeoutMs: number): Promise<void>;
  close(): void;
}

type Waiter = { type: string; resolve: (data: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * What every load client holds and how it counts what went wrong: its indexes and tracker, the
 * receipt its deliveries are decoded into, its protocol errors, and the reading of a send's reply.
 */
abstract class TrackedClient {
  receiver = -1;
  sender = -1;
  tracker: Tracker | null = null;
  /** Unexpected frames (errors, garbled or unknown replies) seen by this client. */
  protocolErrors = 0;
  lastProtocolError = '';
  protected readonly receipt: Receipt = { sender: 0, seq: 0, sendMicros: 0, roomSeq: -1 };

  protected protocolError(text: string): void {
    this.protocolErrors++;
    this.lastProtocolError = text;
  }

  /** A Socket.IO send's ack (`{ ok: true }` or an error reply, or an Error when the connection closed). */
  protected readonly onSendAck = (res: unknown): void => {
    if (!this.tracker || this.sender < 0) return;
    if ((res as { ok?: boolean } | undefined)?.ok) this.tracker.onAck(this.sender);
    else {
      this.protocolError(`send failed: ${res instanceof Error ? res.message : JSON.stringify(res)}`);
      this.tracker.onSendError(this.sender);
    }
  };
}

/** Resolves on the emitter's `openEvent`, rejects on its `errorEvent` or after `timeoutMs`. */
function connected(
  emitter: { once(event: string, listener: (arg: Error) => void): unknown },
  openEvent: string,
  errorEvent: string,
  timeoutMs: number,
  what: string,
): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      emitter.once(openEvent, () => resolve());
      emitter.once(errorEvent, reject);
    }),
    timeoutMs,
    what,
  );
}

export class SwarmChatClient extends TrackedClient implements LoadClient {
  private ws: WebSocket | null = null;
  private waiters: Waiter[] = [];

  constructor(
    readonly url: string,
    private readonly roomTotalOrder: boolean,
  ) {
    super();
  }

  connect(timeoutMs: number): Promise<void> {
    const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, skipUTF8Validation: true });
    this.ws = ws;
    ws.on('message', (data: Buffer) => this.onFrame(data));
    ws.on('error', (err) => this.failWaiters(err));
    ws.on('close', () => this.failWaiters(new Error('connection closed')));
    return connected(ws, 'open', 'error', timeoutMs, `connect ${this.url}`);
  }

  private onFrame(frame: Buffer): void {
    const r = this.receipt;
    let isDelivery: boolean;
    try {
      isDelivery = decodeFrame(frame, r, this.roomTotalOrder);
    } catch (err) {
      this.protocolError((err as Error).message);
      return;
    }
    if (isDelivery) {
      this.tracker?.onDelivery(this.receiver, r.sender, r.seq, r.sendMicros, r.roomSeq);
      return;
    }
    let msg: { type?: string; data?: Record<string, unknown> };
    try {
      msg = JSON.parse(frame.toString('utf8')) as typeof msg;
    } catch {
      this.protocolError(`not JSON: ${frame.toString('utf8', 0, 200)}`);
      return;
    }
    const type = msg.type ?? '';
    if (type === 'message_sent') {
      if (this.tracker && this.sender >= 0) this.tracker.onAck(this.sender);
      return;
    }
    if (type === 'message_error') {
      this.protocolError(`message_error: ${JSON.stringify(msg.data)}`);
      if (this.tracker && this.sender >= 0) this.tracker.onSendError(this.sender);
      return;
    }
    const i = this.waiters.findIndex((w) => w.type === type);
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(msg.data ?? {});
      return;
    }
    // member_joined and friends are expected chatter while a room fills up; nobody leaves during a
    // run, so a member_left is the node evicting someone (e.g. a peer wrongly declared dead).
    if (type === 'member_left' && this.tracker) this.protocolError(`member_left: ${JSON.stringify(msg.data)}`);
    if (type === 'error') {
      this.protocolError(`error: ${JSON.stringify(msg.data)}`);
      // During a run a sender sends nothing but send_message: the error refuses one of them
      // (our node's overload reply, "Too many requests in flight").
      if (this.tracker && this.sender >= 0) this.tracker.onSendError(this.sender);
    }
  }

  private failWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  private request(frame: unknown, replyTypes: string[], timeoutMs: number): Promise<{ type: string; data: Record<string, unknown> }> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      const mine: Waiter[] = [];
      const settle = (): void => {
        for (const w of mine) {
          clearTimeout(w.timer);
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
        }
      };
      for (const type of replyTypes) {
        const w: Waiter = {
          type,
          resolve: (data) => {
            settle();
            resolve({ type, data });
          },
          reject: (e) => {
            settle();
            reject(e);
          },
          timer: setTimeout(() => w.reject(new Error(`no ${replyTypes.join('/')} within ${timeoutMs} ms`)), timeoutMs),
        };
        mine.push(w);
        this.waiters.push(w);
      }
      ws.send(JSON.stringify(frame));
    });
  }

  async createRoom(name: string, creator: string, timeoutMs: number): Promise<string> {
    const res = await this.request({ type: 'create_room', data: { room_name: name, creator_id: creator, description: null } }, ['room_created'], timeoutMs);
    if (typeof res.data.room_id !== 'string') throw new Error(`create_room failed: ${JSON.stringify(res.data)}`);
    return res.data.room_id;
  }

  async join(roomId: string, username: string, timeoutMs: number): Promise<void> {
    const res = await this.request({ type: 'join_room', data: { room_id: roomId, username } }, ['join_room_success', 'join_room_error'], timeoutMs);
    if (res.type !== 'join_room_success') throw new Error(`join_room failed: ${JSON.stringify(res.data)}`);
  }

  send(roomId: string, username: string, content: string): void {
    this.ws!.send(`{"type":"send_message","data":{"room_id":"${roomId}","username":"${username}","content":"${content}"}}`);
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.request({ type: 'list_rooms' }, ['rooms_list'], timeoutMs);
  }

  close(): void {
    this.failWaiters(new Error('closed'));
    this.ws?.terminate();
    this.ws = null;
  }
}

/**
 * A Socket.IO v4 client speaking the wire protocol directly over npm `ws` (engine.io v4 packets on
 * the websocket transport: `0` open, `40` connect, `2`/`3` ping/pong, `42[event,data]`,
 * `42<id>[event,data]` with `43<id>[reply]` acks). socket.io-client decodes every packet into
 * objects and costs the load generator more per delivery than the Socket.IO server spends on it,
 * which would cap the comparison at the load generator; this client decodes deliveries from
 * bytes like SwarmChatClient. It sends exactly what socket.io-client sends.
 */
export class RawSocketIoClient extends TrackedClient implements LoadClient {
  private ws: WebSocket | null = null;
  private nextAckId = 1;
  private readonly pendingAcks = new Map<number, (reply: unknown) => void>();
  private connected: (() => void) | null = null;

  constructor(readonly url: string) {
    super();
  }

  connect(timeoutMs: number): Promise<void> {
    const wsUrl = `${this.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: timeoutMs, skipUTF8Validation: true });
    this.ws = ws;
    ws.on('message', (data: Buffer) => this.onPacket(data));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      for (const cb of this.pendingAcks.values()) cb(new Error('connection closed'));
      this.pendingAcks.clear();
    });
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        this.connected = resolve;
        ws.once('error', reject);
      }),
      timeoutMs,
      `connect ${this.url}`,
    );
  }

  private onPacket(frame: Buffer): void {
    const r = this.receipt;
    // Engine.io type byte, then socket.io type byte: "42" = event, "43" = ack.
    if (frame[0] === 0x34 && frame[1] === 0x32) {
      let isDelivery: boolean;
      try {
        isDelivery = decodeFrame(frame, r, false);
      } catch (err) {
        this.protocolError((err as Error).message);
        return;
      }
      if (isDelivery) this.tracker?.onDelivery(this.receiver, r.sender, r.seq, r.sendMicros, -1);
      else this.protocolError(`unexpected event: ${frame.toString('utf8', 0, 200)}`);
      return;
    }
    const text = frame.toString('utf8');
    if (text.startsWith('43')) {
      const open = text.indexOf('[');
      const id = Number(text.slice(2, open));
      const cb = this.pendingAcks.get(id);
      if (!cb) return this.protocolError(`ack for unknown id ${id}`);
      this.pendingAcks.delete(id);
      try {
        cb((JSON.parse(text.slice(open)) as unknown[])[0]);
      } catch {
        this.protocolError(`bad ack: ${text.slice(0, 200)}`);
      }
    } else if (text === '2') {
      this.ws?.send('3');
    } else if (text.startsWith('0')) {
      this.ws?.send('40');
    } else if (text.startsWith('40')) {
      this.connected?.();
      this.connected = null;
    } else if (text.startsWith('44')) {
      this.protocolError(`connect error: ${text}`);
    }
  }

  private emit(event: string, data: unknown, ack?: (reply: unknown) => void): void {
    let head = '42';
    if (ack) {
      const id = this.nextAckId++;
      this.pendingAcks.set(id, ack);
      head += id;
    }
    this.ws!.send(`${head}${JSON.stringify([event, data])}`);
  }

  createRoom(name: string): Promise<string> {
    return Promise.resolve(name);
  }

  join(roomId: string, username: string, timeoutMs: number): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        this.emit('join', { room: roomId, username }, (res) => {
          if (res instanceof Error) reject(res);
          else if ((res as { ok?: boolean })?.ok) resolve();
          else reject(new Error(`join failed: ${JSON.stringify(res)}`));
        });
      }),
      timeoutMs,
      'join',
    );
  }

  send(roomId: string, username: string, content: string): void {
    const id = this.nextAckId++;
    this.pendingAcks.set(id, this.onSendAck);
    this.ws!.send(`42${id}["send",{"room":"${roomId}","username":"${username}","content":"${content}"}]`);
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.join('bench-ping', 'ping', timeoutMs);
  }

  close(): void {
    this.ws?.terminate();
    this.ws = null;
  }
}

export class SocketIoClient extends TrackedClient implements LoadClient {
  private socket: Socket | null = null;

  constructor(readonly url: string) {
    super();
  }

  connect(timeoutMs: number): Promise<void> {
    const socket = io(this.url, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: timeoutMs });
    this.socket = socket;
    socket.on('new_message', (m: { content?: unknown }) => {
      const r = this.receipt;
      try {
        if (!decodeContent(m?.content, r)) {
          this.protocolError(`foreign message: ${JSON.stringify(m).slice(0, 200)}`);
          return;
        }
      } catch (err) {
        this.protocolError((err as Error).message);
        return;
      }
      this.tracker?.onDelivery(this.receiver, r.sender, r.seq, r.sendMicros, -1);
    });
    return connected(socket, 'connect', 'connect_error', timeoutMs, `connect ${this.url}`);
  }

  createRoom(name: string): Promise<string> {
    return Promise.resolve(name);
  }

  async join(roomId: string, username: string, timeoutMs: number): Promise<void> {
    const res = (await this.socket!.timeout(timeoutMs).emitWithAck('join', { room: roomId, username })) as { ok?: boolean; error?: string };
    if (!res?.ok) throw new Error(`join failed: ${JSON.stringify(res)}`);
  }

  send(roomId: string, username: string, content: string): void {
    this.socket!.emit('send', { room: roomId, username, content }, this.onSendAck);
  }

  async ping(timeoutMs: number): Promise<void> {
    // Joining a throwaway room is a full request/response through the node's event handler.
    await this.join('bench-ping', 'ping', timeoutMs);
  }

  close(): void {
    this.socket?.disconnect();
    this.socket = null;
  }
}

/** All clients' protocol errors together, and the text of the last one seen (for the run's report). */
export function protocolErrorsOf(clients: readonly LoadClient[]): { protocolErrors: number; lastProtocolError: string } {
  let protocolErrors = 0;
  let lastProtocolError = '';
  for (const c of clients) {
    if (c.protocolErrors > 0) {
      protocolErrors += c.protocolErrors;
      lastProtocolError = c.lastProtocolError;
    }
  }
  return { protocolErrors, lastProtocolError };
}
