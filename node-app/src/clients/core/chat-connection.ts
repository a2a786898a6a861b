/**
 * One WebSocket connection to one chat node (protocol.md §2), for Node.js programs: the terminal
 * client, the CLI commands, the Swarm scenarios and the benchmark.
 *
 * The protocol has no request ids, so replies are matched to requests by type and room id, oldest
 * request first. Unlike the original client (§7.1, §9.14), matching never consumes a frame: every
 * frame is also emitted as an event, so a broadcast that arrives while a request is in flight is
 * never lost. Joined rooms are tracked here (members, the ordered message buffer) and updated
 * synchronously as frames arrive, because a join's history can arrive in the same TCP read as its
 * `join_room_success`, before any promise continuation could run.
 */
import WebSocket from 'ws';
import type {
  ChatMessage,
  DeleteRoomCancelledEvent,
  DeleteRoomInitiatedEvent,
  DeleteRoomSuccessReply,
  GlobalRoomsListReply,
  HistoryReply,
  JoinRoomSuccessReply,
  LeaveRoomSuccessReply,
  MemberJoinedEvent,
  MemberLeftEvent,
  MessageSentReply,
  RoomCreatedReply,
  RoomDeletedEvent,
  RoomsListReply,
  ServerFrame,
  ClientRequest,
} from '../../protocol/messages';
import { LIMITS } from '../../protocol/messages';
import { ChatConnectionClosedError, ChatRequestError, ChatTimeoutError } from './errors';
import { GapReport, RoomMessageBuffer } from './message-buffer';
import { TypedEmitter } from './typed-emitter';

export interface ChatConnectionOptions {
  /** Per-request reply timeout. Default 10 s (the node's own peer timeouts are shorter). */
  requestTimeoutMs?: number;
  /** Deleting runs a two-phase commit with 5 s phases on the original; default 20 s. */
  deleteTimeoutMs?: number;
  /** WebSocket handshake timeout. Default 5 s. */
  connectTimeoutMs?: number;
  /** Protocol-level ping interval; a node that misses one pong is dropped. Default 15 s; 0 = off. */
  pingIntervalMs?: number;
  /** How long a missing sequence number is waited for before it is reported. Default 1500 ms. */
  gapWaitMs?: number;
  /** Out-of-order messages held per room. Default 1000. */
  maxBufferedPerRoom?: number;
}

export interface JoinedRoom {
  room_id: string;
  room_name: string;
  description: string | null;
  admin_node: string;
  creator_id?: string;
  /** The name this connection joined under (one socket may join rooms under different names). */
  username: string;
  members: Set<string>;
  buffer: RoomMessageBuffer;
}

export interface MembersChange {
  room_id: string;
  members: string[];
  member_count: number;
  change: { kind: 'snapshot' } | { kind: 'joined' | 'left'; username: string; reason?: string };
}

/** Why the client no longer is in a room it joined. */
export interface RoomClosed {
  room_id: string;
  room_name: string;
  reason: 'deleted' | 'removed';
  message: string;
}

export interface ChatConnectionEvents {
  /** Every frame from the node, matched to a request or not. */
  frame: (frame: ServerFrame) => void;
  /** Messages of joined rooms, in sequence order, without duplicates. */
  message: (message: ChatMessage) => void;
  /** A run of missing sequence numbers that did not arrive in time (reported once). */
  gap: (gap: GapReport) => void;
  members: (change: MembersChange) => void;
  member_joined: (data: MemberJoinedEvent['data']) => void;
  member_left: (data: MemberLeftEvent['data']) => void;
  delete_room_initiated: (data: DeleteRoomInitiatedEvent['data']) => void;
  delete_room_cancelled: (data: DeleteRoomCancelledEvent['data']) => void;
  room_deleted: (data: RoomDeletedEvent['data']) => void;
  room_closed: (closed: RoomClosed) => void;
  /** An error frame or failed reply that no pending request claimed. */
  server_error: (info: { type: string; code: string; message: string; room_id?: string }) => void;
  close: (info: { code: number; reason: string; expected: boolean }) => void;
  error: (err: Error) => void;
}

type MatchResult = 'resolve' | 'reject' | 'progress' | undefined;

interface PendingRequest {
  type: ClientRequest['type'];
  roomId?: string;
  match: (frame: ServerFrame) => MatchResult;
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const GENERIC = 'GENERIC';

export class ChatConnection extends TypedEmitter<ChatConnectionEvents> {
  readonly url: string;
  private readonly ws: WebSocket;
  private readonly opts: Required<ChatConnectionOptions>;
  private readonly pending: PendingRequest[] = [];
  private readonly joined = new Map<string, JoinedRoom>();
  private closing = false;
  private closed = false;
  private opened = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  /** False once the node said it does not know `get_history` (an original Python node). */
  private historySupported = true;

  /** Opens a connection; rejects with a readable error if the node cannot be reached. */
  static connect(url: string, options: ChatConnectionOptions = {}): Promise<ChatConnection> {
    return new Promise((resolve, reject) => {
      const conn = new ChatConnection(url, options);
      const onOpen = (): void => {
        conn.opened = true;
        conn.ws.off('error', onError);
        resolve(conn);
      };
      const onError = (err: Error): void => {
        conn.ws.off('open', onOpen);
        conn.closed = true;
        conn.ws.terminate();
        reject(new Error(`cannot connect to ${url}: ${err.message}`));
      };
      conn.ws.once('open', onOpen);
      conn.ws.once('error', onError);
    });
  }

  private constructor(url: string, options: ChatConnectionOptions) {
    super();
    this.url = url;
    this.opts = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      deleteTimeoutMs: options.deleteTimeoutMs ?? 20_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      gapWaitMs: options.gapWaitMs ?? 1_500,
      maxBufferedPerRoom: options.maxBufferedPerRoom ?? 1_000,
    };
    this.ws = new WebSocket(url, {
      handshakeTimeout: this.opts.connectTimeoutMs,
      maxPayload: LIMITS.maxFrameBytes,
      perMessageDeflate: false,
    });
    this.ws.on('open', () => this.startPing());
    this.ws.on('message', (data, isBinary) => this.onRaw(data, isBinary));
    this.ws.on('pong', () => {
      this.awaitingPong = false;
    });
    this.ws.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    this.ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Rooms this connection has joined, with their live member sets. */
  get rooms(): ReadonlyMap<string, JoinedRoom> {
    return this.joined;
  }

  // ------------------------------------------------------------------ requests

  listRooms(): Promise<RoomsListReply['data']> {
    return this.request({ type: 'list_rooms' }, (f) => (f.type === 'rooms_list' ? 'resolve' : undefined));
  }

  discoverRooms(): Promise<GlobalRoomsListReply['data']> {
    return this.request({ type: 'discover_rooms' }, (f) => {
      if (f.type === 'global_rooms_list') return 'resolve';
      if (f.type === 'error' && /discover/i.test(f.data.message)) return 'reject';
      return undefined;
    });
  }

  createRoom(roomName: string, creatorId: string, description?: string | null): Promise<RoomCreatedReply['data']> {
    return this.request(
      { type: 'create_room', data: { room_name: roomName, creator_id: creatorId, description: description ?? null } },
      (f) => {
        if (f.type !== 'room_created') return undefined;
        // Replies on one socket come in request order; the node may normalize the name, so no name check.
        return 'success' in f.data && f.data.success === false ? 'reject' : 'resolve';
      },
    );
  }

  /**
   * Joins a room. `resumeAfter` is the highest sequence number already shown (a rejoin after a
   * reconnect), so the history replay adds only what was missed.
   */
  joinRoom(roomId: string, username: string, opts: { resumeAfter?: number } = {}): Promise<JoinRoomSuccessReply['data']> {
    // The buffer exists before the request leaves, because history frames follow the reply at once.
    const previous = this.joined.get(roomId);
    previous?.buffer.dispose();
    const buffer = this.makeBuffer(roomId, opts.resumeAfter ?? previous?.buffer.lastDelivered);
    const provisional: JoinedRoom = {
      room_id: roomId,
      room_name: previous?.room_name ?? '',
      description: previous?.description ?? null,
      admin_node: previous?.admin_node ?? '',
      creator_id: previous?.creator_id,
      username,
      members: previous?.members ?? new Set(),
      buffer,
    };
    this.joined.set(roomId, provisional);
    const resume = buffer.lastDelivered;
    const p = this.request<JoinRoomSuccessReply['data']>(
      // since_seq is our node's resume extension; an original node ignores the extra field.
      { type: 'join_room', data: resume === undefined ? { room_id: roomId, username } : { room_id: roomId, username, since_seq: resume } },
      (f) => {
        if (f.type === 'join_room_success' && f.data.room_id === roomId) return 'resolve';
        if (f.type === 'join_room_error' && (f.data.room_id === roomId || f.data.room_id === '')) return 'reject';
        return undefined;
      },
      { roomId },
    );
    p.catch(() => {
      if (this.joined.get(roomId) === provisional) {
        buffer.dispose();
        this.joined.delete(roomId);
      }
    });
    return p;
  }

  leaveRoom(roomId: string, username: string): Promise<LeaveRoomSuccessReply['data']> {
    const p = this.request<LeaveRoomSuccessReply['data']>(
      { type: 'leave_room', data: { room_id: roomId, username } },
      (f) => {
        if (f.type === 'leave_room_success' && f.data.room_id === roomId) return 'resolve';
        if (f.type === 'error' && /room_id or username/.test(f.data.message)) return 'reject';
        return undefined;
      },
      { roomId },
    );
    // Whatever the node answers, this socket stops tracking the room (the node unregisters it first).
    this.forgetRoom(roomId);
    return p;
  }

  /** Resolves with the node's `message_sent` data (sequence number, id, timestamp). */
  sendMessage(roomId: string, username: string, content: string): Promise<MessageSentReply['data']> {
    return this.request(
      { type: 'send_message', data: { room_id: roomId, username, content } },
      (f) => {
        if (f.type === 'message_sent' && f.data.room_id === roomId) return 'resolve';
        if (f.type === 'message_error' && (f.data.room_id === roomId || f.data.room_id === '')) return 'reject';
        return undefined;
      },
      { roomId },
    );
  }

  /** Runs the node's two-phase delete; resolves on `delete_room_success`. */
  deleteRoom(roomId: string, username: string): Promise<DeleteRoomSuccessReply['data']> {
    return this.request(
      { type: 'delete_room', data: { room_id: roomId, username } },
      (f) => {
        if (f.type === 'delete_room_initiated' && f.data.room_id === roomId && f.data.transaction_id) return 'progress';
        if (f.type === 'delete_room_success' && f.data.room_id === roomId) return 'resolve';
        if (f.type === 'delete_room_failed' && f.data.room_id === roomId) return 'reject';
        return undefined;
      },
      { roomId, timeoutMs: this.opts.deleteTimeoutMs },
    );
  }

  /**
   * One page of a room's history (our node's `get_history` extension): `afterSeq` pages forward,
   * `beforeSeq` backward. An original node answers "Unknown message type", which rejects.
   */
  getHistory(roomId: string, page: { afterSeq?: number; beforeSeq?: number; limit?: number } = {}): Promise<HistoryReply['data']> {
    const data: { room_id: string; after_seq?: number; before_seq?: number; limit?: number } = { room_id: roomId };
    if (page.afterSeq !== undefined) data.after_seq = page.afterSeq;
    if (page.beforeSeq !== undefined) data.before_seq = page.beforeSeq;
    if (page.limit !== undefined) data.limit = page.limit;
    return this.request(
      { type: 'get_history', data },
      (f) => {
        if (f.type === 'history' && f.data.room_id === roomId) return 'resolve';
        if (f.type === 'history_error' && (f.data.room_id === roomId || f.data.room_id === '')) return 'reject';
        if (f.type === 'error' && /get_history/.test(f.data.message)) return 'reject';
        return undefined;
      },
      { roomId },
    );
  }

  /** Closes the socket; pending requests fail with ChatConnectionClosedError. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      const done = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000);
      this.ws.once('close', () => {
        clearTimeout(done);
        resolve();
      });
      this.ws.close(1000, 'client closing');
    });
  }

  // ------------------------------------------------------------------ internals

  private request<T>(
    frame: ClientRequest,
    match: (f: ServerFrame) => MatchResult,
    extra: { roomId?: string; timeoutMs?: number } = {},
  ): Promise<T> {
    if (!this.isOpen) {
      return Promise.reject(new ChatConnectionClosedError(frame.type, 'not connected'));
    }
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = extra.timeoutMs ?? this.opts.requestTimeoutMs;
      const entry: PendingRequest = {
        type: frame.type,
        roomId: extra.roomId,
        match,
        resolve: resolve as (d: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.removePending(entry);
          reject(new ChatTimeoutError(frame.type, timeoutMs));
        }, timeoutMs),
      };
      this.pending.push(entry);
      this.ws.send(JSON.stringify(frame), (err) => {
        if (err) {
          this.removePending(entry);
          reject(new ChatConnectionClosedError(frame.type, err.message));
        }
      });
    });
  }

  private removePending(entry: PendingRequest): void {
    const i = this.pending.indexOf(entry);
    if (i >= 0) this.pending.splice(i, 1);
    clearTimeout(entry.timer);
  }

  private onRaw(data: WebSocket.RawData, isBinary: boolean): void {
    let frame: ServerFrame;
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
        throw new Error('not a {type, data} object');
      }
      frame = parsed as ServerFrame;
      if (typeof frame.data !== 'object' || frame.data === null) (frame as { data: unknown }).data = {};
    } catch (err) {
      this.emit('error', new Error(`unreadable ${isBinary ? 'binary' : 'text'} frame from ${this.url}: ${(err as Error).message}`));
      return;
    }
    this.track(frame);
    this.settle(frame);
    this.emit('frame', frame);
    this.dispatch(frame);
  }

  /** Keeps joined rooms (members, buffers) current; runs before any promise continuation. */
  private track(frame: ServerFrame): void {
    switch (frame.type) {
      case 'join_room_success': {
        const room = this.joined.get(frame.data.room_id);
        if (!room) return;
        room.room_name = frame.data.room_name;
        room.description = frame.data.description ?? null;
        room.admin_node = frame.data.admin_node;
        room.creator_id = frame.data.creator_id ?? room.creator_id;
        room.members = new Set(Array.isArray(frame.data.members) ? frame.data.members : []);
        // Our node says where its replay starts; the original does not, and then the first
        // replayed message sets the baseline (history may start above 1).
        const { replay_from_seq: from, last_seq: lastSeq } = frame.data;
        if (typeof from === 'number') room.buffer.setBaseline(from - 1);
        else if (typeof lastSeq === 'number') room.buffer.setBaseline(lastSeq);
        this.emitMembers(room, { kind: 'snapshot' });
        return;
      }
      case 'new_message': {
        const room = this.joined.get(frame.data?.room_id);
        room?.buffer.add(frame.data);
        return;
      }
      case 'member_joined': {
        const room = this.joined.get(frame.data.room_id);
        if (!room) return;
        room.members.add(frame.data.username);
        this.emitMembers(room, { kind: 'joined', username: frame.data.username });
        return;
      }
      case 'member_left': {
        const room = this.joined.get(frame.data.room_id);
        if (!room) return;
        room.members.delete(frame.data.username);
        this.emitMembers(room, { kind: 'left', username: frame.data.username, reason: frame.data.reason });
        // Only a removal (inactivity, node unreachable) names ourselves: a plain leave unregisters first.
        if (frame.data.username === room.username) {
          this.forgetRoom(room.room_id);
          this.emit('room_closed', {
            room_id: room.room_id,
            room_name: room.room_name,
            reason: 'removed',
            message: `You were removed from '${room.room_name}'${frame.data.reason ? `: ${frame.data.reason}` : ''}`,
          });
        }
        return;
      }
      case 'room_deleted': {
        const room = this.joined.get(frame.data.room_id);
        if (!room) return;
        this.forgetRoom(room.room_id);
        const name = frame.data.room_name || room.room_name;
        this.emit('room_closed', {
          room_id: room.room_id,
          room_name: name,
          reason: 'deleted',
          message: frame.data.message ?? `Room '${name}' has been deleted`,
        });
        return;
      }
      default:
        return;
    }
  }

  /** Hands the frame to the oldest pending request that claims it (without consuming it). */
  private settle(frame: ServerFrame): void {
    if (frame.type === 'error') {
      // "Unknown message type: get_history" belongs to that request, not to the oldest one.
      const named = this.pending.find((e) => frame.data.message?.includes(e.type));
      if (named) {
        if (named.type === 'get_history') this.historySupported = false;
        this.removePending(named);
        named.reject(this.toError(named, frame));
        return;
      }
    }
    for (const entry of this.pending) {
      let result = entry.match(frame);
      if (result === undefined && frame.type === 'error') result = 'reject';
      if (result === undefined || result === 'progress') {
        if (result === 'progress') return;
        continue;
      }
      this.removePending(entry);
      if (result === 'resolve') entry.resolve(frame.data);
      else entry.reject(this.toError(entry, frame));
      return;
    }
    // Nobody waited for it: failures still reach the user instead of a log nobody reads (§9.14).
    const failure = this.failureOf(frame);
    if (failure) this.emit('server_error', failure);
  }

  private dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case 'member_joined':
        this.emit('member_joined', frame.data);
        break;
      case 'member_left':
        this.emit('member_left', frame.data);
        break;
      case 'delete_room_initiated':
        this.emit('delete_room_initiated', frame.data);
        break;
      case 'delete_room_cancelled':
        this.emit('delete_room_cancelled', frame.data);
        break;
      case 'room_deleted':
        this.emit('room_deleted', frame.data);
        break;
      default:
        break;
    }
  }

  private failureOf(frame: ServerFrame): { type: string; code: string; message: string; room_id?: string } | undefined {
    switch (frame.type) {
      case 'error':
        return { type: frame.type, code: GENERIC, message: frame.data.message };
      case 'message_error':
      case 'join_room_error':
        return { type: frame.type, code: frame.data.error_code, message: frame.data.error, room_id: frame.data.room_id };
      case 'delete_room_failed':
        return { type: frame.type, code: frame.data.error_code, message: frame.data.reason, room_id: frame.data.room_id };
      case 'room_created':
        if ('success' in frame.data && frame.data.success === false) {
          return { type: frame.type, code: GENERIC, message: frame.data.message };
        }
        return undefined;
      default:
        return undefined;
    }
  }

  private toError(entry: PendingRequest, frame: ServerFrame): ChatRequestError {
    const f = this.failureOf(frame);
    if (f) return new ChatRequestError(entry.type, f.code, f.message, entry.roomId);
    return new ChatRequestError(entry.type, GENERIC, `unexpected ${frame.type} reply`, entry.roomId);
  }

  private makeBuffer(roomId: string, resumeAfter: number | undefined): RoomMessageBuffer {
    return new RoomMessageBuffer({
      roomId,
      resumeAfter,
      gapWaitMs: this.opts.gapWaitMs,
      maxBuffered: this.opts.maxBufferedPerRoom,
      onReady: (messages) => {
        for (const m of messages) this.emit('message', m);
      },
      onGap: (gap) => this.emit('gap', gap),
      onMissing: (range) => this.fetchMissing(range.room_id, range.from, range.to),
    });
  }

  /** Asks the node for a gap's messages; if they come in time the gap closes without a report. */
  private fetchMissing(roomId: string, from: number, to: number): void {
    if (!this.historySupported || !this.isOpen) return;
    this.getHistory(roomId, { afterSeq: from - 1, limit: Math.min(to - from + 1, LIMITS.maxHistoryPage) }).then(
      (page) => {
        const room = this.joined.get(roomId);
        for (const m of page.messages ?? []) room?.buffer.add(m);
      },
      () => undefined, // the gap timer reports what stays missing
    );
  }

  private forgetRoom(roomId: string): void {
    this.joined.get(roomId)?.buffer.dispose();
    this.joined.delete(roomId);
  }

  private emitMembers(room: JoinedRoom, change: MembersChange['change']): void {
    this.emit('members', {
      room_id: room.room_id,
      members: [...room.members].sort((a, b) => a.localeCompare(b)),
      member_count: room.members.size,
      change,
    });
  }

  private startPing(): void {
    if (this.opts.pingIntervalMs <= 0) return;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) {
        // A node that is gone without a FIN (power loss, partition) would otherwise look alive.
        this.ws.terminate();
        return;
      }
      this.awaitingPong = true;
      this.ws.ping();
    }, this.opts.pingIntervalMs);
    this.pingTimer.unref();
  }

  private onClose(code: number, reason: string): void {
    if (!this.opened) return; // connect() failed and already rejected
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const entry of this.pending.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(new ChatConnectionClosedError(entry.type, reason || `code ${code}`));
    }
    for (const room of this.joined.values()) room.buffer.dispose();
    this.emit('close', { code, reason, expected: this.closing });
  }
}
