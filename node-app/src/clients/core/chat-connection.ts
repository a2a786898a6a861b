/**
 * One connection to one chat node for Node.js programs (the terminal client, the CLI commands, the
 * Swarm scenarios and the benchmark): the public API and the event dispatch. The parts live beside
 * it, one concern each: `node-socket.ts` (transport, liveness), `requests.ts` (the frames sent),
 * `pending-requests.ts` (which reply answers which request), `joined-rooms.ts` (members, ordered
 * messages and resume of the rooms joined).
 *
 * Each frame goes, in this order, to the joined rooms (so state is current before any promise
 * continuation runs), to the pending requests (matching never consumes it), to `frame` listeners
 * and to the typed event of its kind.
 */
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
} from '../../protocol/messages';
import { LIMITS } from '../../protocol/messages';
import { ChatConnectionClosedError } from './errors';
import { JoinedRooms, type JoinedRoom, type MembersChange, type RoomClosed } from './joined-rooms';
import type { GapReport } from './message-buffer';
import { NodeSocket } from './node-socket';
import { PendingRequests, replyTo, type NodeFailure, type ReplyMatcher } from './pending-requests';
import { gapFillPage, requests, type HistoryPage, type OutgoingRequest } from './requests';
import { TypedEmitter } from './typed-emitter';

export type { JoinedRoom, MembersChange, RoomClosed } from './joined-rooms';

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

/** The defaults of ChatConnectionOptions (each option's comment says why). */
const CONNECTION_DEFAULTS: Required<ChatConnectionOptions> = {
  requestTimeoutMs: 10_000,
  deleteTimeoutMs: 20_000,
  connectTimeoutMs: 5_000,
  pingIntervalMs: 15_000,
  gapWaitMs: 1_500,
  maxBufferedPerRoom: 1_000,
};

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
  server_error: (info: NodeFailure) => void;
  close: (info: { code: number; reason: string; expected: boolean }) => void;
  error: (err: Error) => void;
}

/** Frames that announce something (rather than answer a request), each its own typed event. */
type NewsFrame = MemberJoinedEvent | MemberLeftEvent | DeleteRoomInitiatedEvent | DeleteRoomCancelledEvent | RoomDeletedEvent;
const NEWS_TYPES: ReadonlySet<string> = new Set<NewsFrame['type']>(['member_joined', 'member_left', 'delete_room_initiated', 'delete_room_cancelled', 'room_deleted']);
function isNews(frame: ServerFrame): frame is NewsFrame {
  return NEWS_TYPES.has(frame.type);
}

export class ChatConnection extends TypedEmitter<ChatConnectionEvents> {
  readonly url: string;
  private socket!: NodeSocket;
  private readonly opts: Required<ChatConnectionOptions>;
  private readonly pending: PendingRequests;
  private readonly joined: JoinedRooms;
  private closing = false;
  private closed = false;
  /** False once the node said it does not know `get_history` (an original Python node). */
  private historySupported = true;

  /** Opens a connection; rejects with a readable error if the node cannot be reached. */
  static async connect(url: string, options: ChatConnectionOptions = {}): Promise<ChatConnection> {
    const conn = new ChatConnection(url, options);
    conn.socket = await NodeSocket.open(url, conn.opts, {
      frame: (frame) => conn.onFrame(frame),
      unreadable: (err) => conn.emit('error', err),
      error: (err) => conn.emit('error', err),
      close: (code, reason) => conn.onClose(code, reason),
    });
    return conn;
  }

  private constructor(url: string, options: ChatConnectionOptions) {
    super();
    this.url = url;
    this.opts = { ...CONNECTION_DEFAULTS };
    for (const key of Object.keys(CONNECTION_DEFAULTS) as (keyof ChatConnectionOptions)[]) {
      const value = options[key];
      if (value !== undefined) this.opts[key] = value;
    }
    this.pending = new PendingRequests({
      onUnclaimedFailure: (failure) => this.emit('server_error', failure),
      onRefused: (type) => {
        if (type === 'get_history') this.historySupported = false;
      },
    });
    this.joined = new JoinedRooms({
      gapWaitMs: this.opts.gapWaitMs,
      maxBufferedPerRoom: this.opts.maxBufferedPerRoom,
      onMessage: (m) => this.emit('message', m),
      onGap: (gap) => this.emit('gap', gap),
      onMembers: (change) => this.emit('members', change),
      onRoomClosed: (closed) => this.emit('room_closed', closed),
      onMissing: (roomId, from, to) => this.fetchMissing(roomId, from, to),
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.socket?.isOpen === true;
  }

  /** Rooms this connection has joined, with their live member sets. */
  get rooms(): ReadonlyMap<string, JoinedRoom> {
    return this.joined.all;
  }

  // ------------------------------------------------------------------ requests

  listRooms(): Promise<RoomsListReply['data']> {
    return this.request(requests.listRooms(), replyTo.listRooms());
  }

  discoverRooms(): Promise<GlobalRoomsListReply['data']> {
    return this.request(requests.discoverRooms(), replyTo.discoverRooms());
  }

  createRoom(roomName: string, creatorId: string, description?: string | null): Promise<RoomCreatedReply['data']> {
    return this.request(requests.createRoom(roomName, creatorId, description), replyTo.createRoom());
  }

  /**
   * Joins a room. `resumeAfter` is the highest sequence number already shown (a rejoin after a
   * reconnect), so the history replay adds only what was missed.
   */
  joinRoom(roomId: string, username: string, opts: { resumeAfter?: number } = {}): Promise<JoinRoomSuccessReply['data']> {
    const { room, sinceSeq } = this.joined.beginJoin(roomId, username, opts.resumeAfter);
    const p = this.request<JoinRoomSuccessReply['data']>(requests.joinRoom(roomId, username, sinceSeq), replyTo.joinRoom(roomId), { roomId });
    p.catch(() => this.joined.abandonJoin(room));
    return p;
  }

  leaveRoom(roomId: string, username: string): Promise<LeaveRoomSuccessReply['data']> {
    const p = this.request<LeaveRoomSuccessReply['data']>(requests.leaveRoom(roomId, username), replyTo.leaveRoom(roomId), { roomId });
    // Whatever the node answers, this socket stops tracking the room (the node unregisters it first).
    this.joined.forget(roomId);
    return p;
  }

  /** Resolves with the node's `message_sent` data (sequence number, id, timestamp). */
  sendMessage(roomId: string, username: string, content: string): Promise<MessageSentReply['data']> {
    return this.request(requests.sendMessage(roomId, username, content), replyTo.sendMessage(roomId), { roomId });
  }

  /** Runs the node's two-phase delete; resolves on `delete_room_success`. */
  deleteRoom(roomId: string, username: string): Promise<DeleteRoomSuccessReply['data']> {
    return this.request(requests.deleteRoom(roomId, username), replyTo.deleteRoom(roomId), {
      roomId,
      timeoutMs: this.opts.deleteTimeoutMs,
    });
  }

  /**
   * One page of a room's history (our node's `get_history` extension): `afterSeq` pages forward,
   * `beforeSeq` backward. An original node answers "Unknown message type", which rejects.
   */
  getHistory(roomId: string, page: HistoryPage = {}): Promise<HistoryReply['data']> {
    return this.request(requests.getHistory(roomId, page), replyTo.getHistory(roomId), { roomId });
  }

  /** Closes the socket; pending requests fail with ChatConnectionClosedError. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing = true;
    return this.socket.close();
  }

  // ------------------------------------------------------------------ internals

  private request<T>(frame: OutgoingRequest, match: ReplyMatcher, extra: { roomId?: string; timeoutMs?: number } = {}): Promise<T> {
    if (!this.isOpen) return Promise.reject(new ChatConnectionClosedError(frame.type, 'not connected'));
    const { reply, sendFailed } = this.pending.expect<T>(frame.type, match, {
      roomId: extra.roomId,
      timeoutMs: extra.timeoutMs ?? this.opts.requestTimeoutMs,
    });
    this.socket.send(frame, sendFailed);
    return reply;
  }

  private onFrame(frame: ServerFrame): void {
    this.joined.apply(frame);
    this.pending.settle(frame);
    this.emit('frame', frame);
    this.dispatch(frame);
  }

  /** The typed events of frames that are news rather than replies: emitted as they came. */
  private dispatch(frame: ServerFrame): void {
    if (isNews(frame)) this.emit(frame.type, frame.data as never);
  }


  /** Asks the node for a gap's messages; if they come in time the gap closes without a report. */
  private fetchMissing(roomId: string, from: number, to: number): void {
    if (!this.historySupported || !this.isOpen) return;
    this.getHistory(roomId, gapFillPage(from, to, LIMITS.maxHistoryPage)).then(
      (page) => this.joined.addMessages(roomId, page.messages ?? [], page.first_seq),
      () => undefined, // the gap timer reports what stays missing
    );
  }

  private onClose(code: number, reason: string): void {
    this.closed = true;
    this.pending.rejectAll(reason || `code ${code}`);
    this.joined.disposeAll();
    this.emit('close', { code, reason, expected: this.closing });
  }
}
