/**
 * A user's session over one or more known nodes: connects to the first node that answers, and
 * when that node goes away reconnects to another one and rejoins the rooms it was in, resuming
 * each room's message order where it stopped (the original had no reconnection at all, §9.14).
 * Every step is reported as a `status` event so a UI can show what happened.
 */
import type { ChatMessage, GlobalRoomsListReply, MessageSentReply, RoomCreatedReply, RoomsListReply, ServerFrame } from '../../protocol/messages';
import { ChatConnection, ChatConnectionEvents, ChatConnectionOptions, JoinedRoom, MembersChange, RoomClosed } from './chat-connection';
import { normalizeNodeAddress } from './address';
import { ChatConnectionClosedError, ChatRequestError, isPassingJoinRefusal } from './errors';
import type { GapReport } from './message-buffer';
import { TypedEmitter } from './typed-emitter';

export type SessionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

export interface SessionStatus {
  state: SessionState;
  /** The node in use (connected) or being tried (connecting/reconnecting). */
  node?: string;
  /** Human-readable line for a status bar. */
  text: string;
}

export interface ChatSessionOptions extends ChatConnectionOptions {
  /** ws:// URLs of the nodes this session may use, in order of preference. */
  nodes: string[];
  username: string;
  /** Reconnect attempts (over all nodes) before giving up. Default 40. */
  maxReconnectAttempts?: number;
  /** First retry delay after a full round of nodes failed; doubles up to maxRetryDelayMs. Default 250 ms. */
  retryDelayMs?: number;
  /** Default 5 s. */
  maxRetryDelayMs?: number;
  /** How long a rejoin keeps retrying while the node still holds the name for the lost node. Default 20 s. */
  rejoinWaitMs?: number;
}

/** The connection's ordered messages, gaps, member changes, closed rooms and raw frames pass through unchanged. */
export interface ChatSessionEvents extends Pick<ChatConnectionEvents, 'message' | 'gap' | 'members' | 'room_closed' | 'frame'> {
  status: (status: SessionStatus) => void;
  rejoined: (info: { room_id: string; room_name: string; node: string }) => void;
  rejoin_failed: (info: { room_id: string; room_name: string; error: string }) => void;
  server_error: (info: { type: string; code: string; message: string; room_id?: string }) => void;
}

export class ChatSession extends TypedEmitter<ChatSessionEvents> {
  readonly username: string;
  readonly nodes: readonly string[];
  private readonly opts: ChatSessionOptions;
  private conn: ChatConnection | undefined;
  private nodeIndex = 0;
  private stateValue: SessionState = 'idle';
  private stopping = false;
  /** Rooms to rejoin after a reconnect, kept across connections. */
  private readonly memory = new Map<string, { room_name: string; lastSeq?: number }>();

  constructor(opts: ChatSessionOptions) {
    super();
    if (opts.nodes.length === 0) throw new Error('a chat session needs at least one node address');
    if (opts.username.trim() === '') throw new Error('a chat session needs a non-empty username');
    this.opts = opts;
    this.nodes = opts.nodes.map(normalizeNodeAddress);
    this.username = opts.username;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get node(): string | undefined {
    return this.conn?.url;
  }

  get connection(): ChatConnection | undefined {
    return this.conn;
  }

  /** Rooms joined on the current connection. */
  get rooms(): ReadonlyMap<string, JoinedRoom> {
    return this.conn?.rooms ?? new Map();
  }

  /** Connects to the first node that answers (one round over the list); rejects listing every failure. */
  async connect(): Promise<void> {
    this.stopping = false;
    const failures: string[] = [];
    for (let i = 0; i < this.nodes.length; i++) {
      const index = (this.nodeIndex + i) % this.nodes.length;
      const node = this.nodes[index];
      this.setStatus('connecting', node, `Connecting to ${node} ...`);
      try {
        await this.attach(await ChatConnection.connect(node, this.opts), index);
        return;
      } catch (err) {
        failures.push((err as Error).message);
        if (this.stopping) break;
      }
    }
    this.setStatus('offline', undefined, `No node reachable: ${failures.join('; ')}`);
    throw new Error(`no node reachable: ${failures.join('; ')}`);
  }

  async close(): Promise<void> {
    this.stopping = true;
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
    this.setStatus('closed', undefined, 'Disconnected');
  }

  listRooms(): Promise<RoomsListReply['data']> {
    return this.use().listRooms();
  }

  discoverRooms(): Promise<GlobalRoomsListReply['data']> {
    return this.use().discoverRooms();
  }

  /** Creates a room and, unless told otherwise, joins the creator to it (the original did not). */
  async createRoom(name: string, description?: string | null, opts: { join?: boolean } = {}): Promise<RoomCreatedReply['data']> {
    const created = await this.use().createRoom(name, this.username, description);
    if (opts.join !== false) await this.joinRoom(created.room_id);
    return created;
  }

  async joinRoom(roomId: string): Promise<JoinedRoom> {
    const remembered = this.memory.get(roomId);
    // Remembered before the request: the history replay arrives before the reply's continuation
    // runs, and its sequence numbers must be recorded for a later resume.
    const entry = remembered ?? { room_name: '' };
    this.memory.set(roomId, entry);
    let reply;
    try {
      reply = await this.use().joinRoom(roomId, this.username, { resumeAfter: remembered?.lastSeq });
    } catch (err) {
      if (!remembered) this.memory.delete(roomId);
      throw err;
    }
    entry.room_name = reply.room_name;
    const room = this.use().rooms.get(roomId);
    if (!room) throw new Error(`joined ${roomId} but the room was closed at once`);
    return room;
  }

  async leaveRoom(roomId: string): Promise<void> {
    this.memory.delete(roomId);
    await this.use().leaveRoom(roomId, this.username);
  }

  sendMessage(roomId: string, content: string): Promise<MessageSentReply['data']> {
    return this.use().sendMessage(roomId, this.username, content);
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.use().deleteRoom(roomId, this.username);
    this.memory.delete(roomId);
  }

  // ------------------------------------------------------------------ internals

  private use(): ChatConnection {
    if (!this.conn || !this.conn.isOpen) {
      throw new ChatConnectionClosedError('request', this.stateValue === 'reconnecting' ? 'reconnecting' : 'not connected');
    }
    return this.conn;
  }

  private async attach(conn: ChatConnection, index: number): Promise<void> {
    this.conn = conn;
    this.nodeIndex = index;
    conn.on('message', (m) => {
      const r = this.memory.get(m.room_id);
      if (r) r.lastSeq = m.sequence_number;
      this.emit('message', m);
    });
    conn.on('gap', (g) => {
      const r = this.memory.get(g.room_id);
      if (r && (r.lastSeq ?? 0) < g.to) r.lastSeq = g.to;
      this.emit('gap', g);
    });
    conn.on('members', (c) => this.emit('members', c));
    conn.on('room_closed', (c) => {
      this.memory.delete(c.room_id);
      this.emit('room_closed', c);
    });
    conn.on('server_error', (e) => this.emit('server_error', e));
    conn.on('frame', (f) => this.emit('frame', f));
    conn.on('error', () => undefined); // socket errors end in 'close', which is what we act on
    conn.on('close', (info) => {
      if (this.conn !== conn || info.expected || this.stopping) return;
      this.conn = undefined;
      void this.reconnect(conn.url, info.reason || `code ${info.code}`);
    });
    this.setStatus('connected', conn.url, `Connected to ${conn.url}`);
  }

  private async reconnect(lost: string, why: string): Promise<void> {
    this.setStatus('reconnecting', lost, `Lost ${lost} (${why}); reconnecting ...`);
    const max = this.opts.maxReconnectAttempts ?? 40;
    let delay = this.opts.retryDelayMs ?? 250;
    const maxDelay = this.opts.maxRetryDelayMs ?? 5000;
    // Start with the next node: the one that just failed is the least likely to answer.
    let index = (this.nodeIndex + (this.nodes.length > 1 ? 1 : 0)) % this.nodes.length;
    for (let attempt = 1; attempt <= max && !this.stopping; attempt++) {
      const node = this.nodes[index];
      this.setStatus('reconnecting', node, `Lost ${lost}; trying ${node} (attempt ${attempt}/${max}) ...`);
      try {
        const conn = await ChatConnection.connect(node, this.opts);
        if (this.stopping) {
          await conn.close();
          return;
        }
        await this.attach(conn, index);
        await this.rejoinAll(conn);
        return;
      } catch {
        index = (index + 1) % this.nodes.length;
        // Back off only after a full round, so a healthy second node is reached at once.
        if (attempt % this.nodes.length === 0) {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, maxDelay);
        }
      }
    }
    if (!this.stopping) this.setStatus('offline', undefined, `Gave up after ${max} attempts; no node reachable`);
  }

  private async rejoinAll(conn: ChatConnection): Promise<void> {
    for (const [roomId, r] of [...this.memory]) {
      const deadline = Date.now() + (this.opts.rejoinWaitMs ?? 20_000);
      for (let attempt = 1; ; attempt++) {
        try {
          await conn.joinRoom(roomId, this.username, { resumeAfter: r.lastSeq });
          this.emit('rejoined', { room_id: roomId, room_name: r.room_name, node: conn.url });
          break;
        } catch (err) {
          // A name still bound to the lost node, or a node still catching up, refuses for a moment.
          const passing = err instanceof ChatRequestError && isPassingJoinRefusal(err.code);
          if (passing && Date.now() < deadline && conn.isOpen && !this.stopping) {
            this.setStatus('connected', conn.url, `Rejoining ${r.room_name}: ${(err as ChatRequestError).code === 'NODE_NOT_READY' ? 'the node is not ready yet' : 'waiting for the old membership to expire'} ...`);
            await new Promise((res) => setTimeout(res, Math.min(250 * attempt, 2000)));
            continue;
          }
          this.memory.delete(roomId);
          this.emit('rejoin_failed', { room_id: roomId, room_name: r.room_name, error: (err as Error).message });
          break;
        }
      }
    }
    if (conn.isOpen) this.setStatus('connected', conn.url, `Connected to ${conn.url}`);
  }

  private setStatus(state: SessionState, node: string | undefined, text: string): void {
    this.stateValue = state;
    this.emit('status', { state, node, text });
  }
}
