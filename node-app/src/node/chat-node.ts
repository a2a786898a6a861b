/**
 * The chat node's logic: client requests (protocol.md §2), the XML-RPC methods peers call (§3) and
 * the flows between them (§4), with none of the original's bugs (§9).
 *
 * Data flows one way: socket -> schema check -> room logic -> room store (the append seam) ->
 * local sockets + ordered peer streams. A room's administrator is the only writer of its sequence;
 * other nodes hold a cache of where rooms live and a short window of each joined room's recent
 * messages (to close the race between a remote join's reply and the broadcasts that follow it).
 */
import { randomUUID } from 'node:crypto';
import type { NodeConfig } from '../config';
import type { Logger } from '../log';
import type {
  ChatMessage,
  ClientRequest,
  CreateRoomRequest,
  DeleteRoomRequest,
  JoinRoomRequest,
  LeaveRoomRequest,
  RoomSummary,
  SendMessageRequest,
  ServerFrame,
} from '../protocol/messages';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import { XmlRpcFault } from '../peers/xmlrpc-codec';
import type { Room } from '../rooms/room';
import type { AppendInput, RoomStore } from '../rooms/room-store';
import { runTwoPhaseDelete, type Vote } from '../rooms/two-phase-delete';
import { ReplicatedRoomStore, type CommittedEvent } from '../replication/replicated-room-store';
import type { GetHistoryRequest } from '../protocol/messages';
import { LIMITS } from '../protocol/messages';
import { pythonIsoNow } from '../util/time';
import { ClientSession, LocalRegistry } from './client-session';
import { roomCreationRefusal } from '../limits/room-quota';
import { lookalikeOf } from '../protocol/usernames';
import { FailureDetector } from './failure-detector';
import type { NodeMetrics } from './node-metrics';
import type { PeerDirectory } from './peer-directory';
import { checkArity, isStruct, stringParam, structParam, type Struct } from '../peers/rpc-params';

export type RpcHandler = (params: XmlRpcValue[], ctx: { remoteAddress: string; peerId?: string; authenticated: boolean }) => XmlRpcValue | Promise<XmlRpcValue>;

/** Event types a peer may relay to our clients via receive_member_event_broadcast (§9.8: not any string). */
const RELAYABLE_EVENTS = new Set(['member_joined', 'member_left', 'delete_room_initiated']);
/** Queued requests of one connection at which the node stops reading its socket (TCP backpressure). */
const PAUSE_READING_AT = 128;
/** Sends of one connection submitted but not yet acknowledged; more wait (backpressure). */
const MAX_INFLIGHT_SENDS = 64;

interface RemoteRoomView {
  adminNode: string;
  lastSeq: number;
  /** Recent messages received for the room, oldest first, for replay to a connection that just joined. */
  recent: ChatMessage[];
  waiters: Array<{ seq: number; resolve: () => void }>;
}

type AdminLookup = { nodeId: string; cached: boolean } | undefined;

interface DiscoveryResult {
  rooms: RoomSummary[];
  queried: string[];
  available: string[];
  unavailable: string[];
}

const rejoinKey = (roomId: string, username: string): string => `${roomId}\0${username}`;

export class ChatNode {
  readonly registry = new LocalRegistry();
  readonly sessions = new Set<ClientSession>();
  private readonly views = new Map<string, RemoteRoomView>();
  /** room_id -> admin node id: the admin location cache (§9.10: not rediscovered per operation). */
  private readonly adminCache = new Map<string, string>();
  /** Sends forwarded over the stream, waiting for their result: request id -> resolver. */
  private readonly pendingForwards = new Map<string, (result: Struct) => void>();
  /** Delete transactions prepared here for rooms administered elsewhere: room_id -> transaction id. */
  private readonly preparedRemote = new Map<string, string>();
  private readonly pendingJoins = new Map<string, number>();
  /** room_id \0 username -> re-join in progress of a live member wrongly removed as "Node unreachable". */
  private readonly rejoins = new Map<string, Promise<boolean>>();
  private discoveryInFlight: Promise<DiscoveryResult> | undefined;
  private readonly detector: FailureDetector;
  private sweepTimer: NodeJS.Timeout | undefined;
  private nextSessionId = 1;
  /** Background peer work (disconnect notifications) that shutdown waits for. */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Set when rooms are replicated (issue 6): then delivery follows the committed log on every node. */
  private readonly repl: ReplicatedRoomStore | undefined;
  shuttingDown = false;

  constructor(
    private readonly cfg: NodeConfig,
    readonly store: RoomStore,
    private readonly peers: PeerDirectory,
    private readonly log: Logger,
    private readonly metrics: NodeMetrics,
  ) {
    this.detector = new FailureDetector({
      intervalMs: cfg.heartbeatIntervalMs,
      timeoutMs: cfg.heartbeatTimeoutMs,
      failures: cfg.heartbeatFailures,
      targets: () => this.watchedNodes(),
      ping: (id, timeoutMs) => this.peers.call(id, 'heartbeat', [], timeoutMs),
      // A node whose replication calls still succeed is alive, whatever happened to the pings.
      stillAlive: (id) => !!this.repl && !this.peers.isLegacy(id) && this.repl.nodeAnswering(id),
      onFailed: (id) => this.onNodeFailed(id),
      onRecovered: (id) => this.log.info('node reachable again', { peer: id }),
    });
    this.repl = store instanceof ReplicatedRoomStore ? store : undefined;
    this.repl?.onCommitted((ev) => this.onCommitted(ev));
    this.repl?.onDeleted((roomId) => this.dropLocalRoom(roomId));
  }

  get selfId(): string {
    return this.cfg.nodeId;
  }

  start(): void {
    this.detector.start();
    this.sweepTimer = setInterval(() => this.sweepInactive(), this.cfg.cleanupIntervalMs);
    this.sweepTimer.unref();
  }

  stopTimers(): void {
    this.detector.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  /** Rooms this node administers (a replicating store may also hold copies of others' rooms). */
  localRooms(): Room[] {
    return this.store.list().filter((r) => r.adminNode === this.selfId);
  }

  /**
   * The room as the client flows see it: one this node administers or, with replication, any
   * replicated room (requests go through the replicated log to whoever administers it).
   */
  private clientRoom(roomId: string): Room | undefined {
    return this.localRoom(roomId) ?? (this.repl?.replicates(roomId) ? this.store.get(roomId) : undefined);
  }

  /** A node back from a restart serves a replicated room only once it has caught up (bounded wait). */
  private async readyRoom(roomId: string): Promise<Room | undefined> {
    if (this.repl?.replicates(roomId)) await this.repl.ready(roomId, 3000);
    return this.clientRoom(roomId);
  }

  private localRoom(roomId: string): Room | undefined {
    const r = this.store.get(roomId);
    return r && r.adminNode === this.selfId ? r : undefined;
  }

  // ------------------------------------------------------------------------------ connections

  openSession(ws: ClientSession['ws'], remoteAddress: string): ClientSession {
    const id = this.nextSessionId++;
    const session = new ClientSession(id, ws, remoteAddress, this.cfg.wsMaxBufferedBytes, this.log, () =>
      this.metrics.slowConsumers.inc(),
    );
    this.sessions.add(session);
    return session;
  }

  /** Every frame goes through here; work is queued per connection so replies keep request order. */
  onFrame(session: ClientSession, raw: string): void {
    const accepted = session.enqueue(() => this.dispatch(session, raw), { pauseAt: PAUSE_READING_AT, hardMax: this.cfg.wsMaxQueuedRequests });
    if (!accepted) {
      this.metrics.clientErrors.inc({ type: 'overload' });
      session.sendFrame({ type: 'error', data: { success: false, message: 'Too many requests in flight; slow down' } });
    }
  }

  private async dispatch(session: ClientSession, raw: string): Promise<void> {
    if (session.closed) return;
    const parsed = session.parseFrame(raw, this.cfg);
    if (!parsed.ok) {
      this.metrics.clientErrors.inc({ type: parsed.reply.type });
      session.sendFrame(parsed.reply);
      return;
    }
    const req: ClientRequest = parsed.request;
    this.metrics.clientRequests.inc({ type: req.type });
    const requestId = ++session.requestCount;
    const roomId = (req as { data?: { room_id?: string } }).data?.room_id;
    this.log.debug('request', { session: session.id, req: requestId, type: req.type, room_id: roomId });
    if (req.type === 'send_message') return this.pipelineSend(session, req);
    // Anything else sees the effects of this connection's earlier sends (e.g. a leave after a send).
    await session.sendsSettled();
    try {
      switch (req.type) {
        case 'list_rooms': {
          const rooms = this.localRooms().map((r) => r.summary());
          session.sendFrame({ type: 'rooms_list', data: { rooms, total_count: rooms.length } });
          return;
        }
        case 'discover_rooms':
          return await this.discoverForClient(session);
        case 'create_room':
          return await this.createRoom(session, req);
        case 'join_room':
          return await this.joinRoom(session, req);
        case 'leave_room':
          return await this.leaveRoom(session, req);
        case 'delete_room':
          return await this.deleteRoom(session, req);
        case 'get_history':
          return await this.getHistory(session, req);
      }
    } catch (err) {
      this.log.error('client request failed', { session: session.id, req: requestId, type: req.type, room_id: roomId, err });
      session.sendFrame({ type: 'error', data: { success: false, message: 'Internal server error' } });
    }
  }

  /**
   * Sends are pipelined: the connection's next request starts as soon as this send is *submitted*
   * (appended to the log, or posted on the ordered stream to the admin), not when it is acknowledged.
   * Order is kept because submission is in request order and acknowledgements resolve in log order;
   * one connection's throughput is then no longer one round trip (or one majority commit) per message.
   */
  private async pipelineSend(session: ClientSession, req: SendMessageRequest): Promise<void> {
    while (session.inflightSends.size >= MAX_INFLIGHT_SENDS) await Promise.race(session.inflightSends);
    let submitted!: () => void;
    const isSubmitted = new Promise<void>((resolve) => (submitted = resolve));
    const done = this.sendMessage(session, req, submitted)
      .catch((err) => {
        this.log.error('send failed', { session: session.id, err });
        session.sendFrame({ type: 'message_error', data: { room_id: req.data.room_id, error: 'Internal server error', error_code: 'INTERNAL_ERROR' } });
      })
      .finally(submitted);
    session.trackSend(done);
    await isSubmitted;
  }

  /** A closed connection leaves every room it joined (§2.9). */
  onClose(session: ClientSession): void {
    if (!this.sessions.delete(session)) return;
    session.closed = true;
    for (const [roomId, binding] of [...session.rooms]) {
      this.registry.unregister(roomId, session);
      // Another connection on this node still holds the name: the membership stays theirs.
      if (this.registry.holder(roomId, binding.username)) continue;
      const room = this.clientRoom(roomId);
      if (room) {
        const m = room.members.get(binding.username);
        if (m && m.nodeId === this.selfId) {
          this.track(
            this.appendAndPublish(room, { kind: 'member_left', username: binding.username, nodeId: this.selfId, timestamp: pythonIsoNow(), reason: 'User disconnected' }).catch((err) =>
              this.log.warn('disconnect not recorded', { room_id: roomId, err }),
            ),
          );
        }
      } else {
        this.releaseView(roomId);
        const admin = this.adminCache.get(roomId) ?? this.views.get(roomId)?.adminNode;
        if (admin) {
          this.track(
            this.peers
              .call(admin, 'notify_member_disconnect', [roomId, binding.username, this.selfId, 'User disconnected'], this.cfg.peerCallTimeoutMs)
              .catch((err) => this.log.warn('disconnect notification failed', { room_id: roomId, peer: admin, err: errText(err) })),
          );
        }
      }
    }
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Resolves when the background peer work started so far has finished. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  // ------------------------------------------------------------------------------ client requests

  private async createRoom(session: ClientSession, req: CreateRoomRequest): Promise<void> {
    const { room_name, creator_id } = req.data;
    const description = req.data.description ?? null;
    const fail = (message: string): void => {
      session.sendFrame({ type: 'room_created', data: { success: false, message } });
    };
    if (this.shuttingDown) return fail('Node is shutting down');
    const refused = roomCreationRefusal(session.createdRooms.size, this.localRooms().length, this.cfg);
    if (refused) return fail(refused);
    if (this.localRooms().some((r) => r.roomName === room_name)) return fail(`Room with name '${room_name}' already exists`);
    const room = this.store.create({
      roomId: randomUUID(),
      roomName: room_name,
      description,
      creatorId: creator_id,
      adminNode: this.selfId,
      createdAt: pythonIsoNow(),
    });
    if (this.repl) {
      // Acknowledged only once the creation is on a majority: a room we announced survives its node.
      try {
        await this.repl.whenCreated(room.roomId);
      } catch (err) {
        this.log.warn('room creation not committed', { room_id: room.roomId, err: errText(err) });
        return fail('Room could not be stored on a majority of nodes; try again');
      }
    }
    session.createdRooms.add(room.roomId);
    this.log.info('room created', { room_id: room.roomId, room_name, creator_id });
    session.sendFrame({
      type: 'room_created',
      data: {
        room_id: room.roomId,
        room_name: room.roomName,
        admin_node: this.selfId,
        members: [],
        created_at: room.createdAt,
        description,
        creator_id,
      },
    });
  }

  private async joinRoom(session: ClientSession, req: JoinRoomRequest): Promise<void> {
    const { room_id, username } = req.data;
    const fail = (error: string, error_code: string): void => {
      session.sendFrame({ type: 'join_room_error', data: { room_id, error, error_code } });
    };
    const bound = session.rooms.get(room_id);
    if (bound && bound.username !== username) {
      return fail(`This connection already joined the room as '${bound.username}'`, 'ALREADY_JOINED');
    }
    if (this.registry.holder(room_id, username, session)) {
      return fail(`Username '${username}' is already in use in this room`, 'USERNAME_TAKEN');
    }
    const room = await this.readyRoom(room_id);
    if (room) return this.joinLocal(session, room, username, req.data.since_seq);
    await this.joinRemote(session, room_id, username);
  }

  private async joinLocal(session: ClientSession, room: Room, username: string, sinceSeq?: number): Promise<void> {
    const fail = (error: string, error_code: string): void => {
      session.sendFrame({ type: 'join_room_error', data: { room_id: room.roomId, error, error_code } });
    };
    if (room.state !== 'ACTIVE') return fail('Room is being deleted', 'INVALID_STATE');
    const lookalike = lookalikeOf(username, room.members.keys());
    if (lookalike) return fail(`Username '${username}' looks like '${lookalike}', who is in this room`, 'USERNAME_TAKEN');
    const member = room.members.get(username);
    // With replication, a member whose node is down may resume here (its connection died with it).
    const takeover = !!member && member.nodeId !== this.selfId && !!this.repl?.nodeDown(member.nodeId);
    if (member && member.nodeId !== this.selfId && !takeover) {
      return fail(`Username '${username}' is already in use in this room`, 'USERNAME_TAKEN');
    }
    // Replicated: a membership on this node that this connection does not hold may be stale (the
    // admin may have removed it while this node was cut off): the join goes through the admin.
    const confirmed = !!member && !takeover && (!this.repl || session.rooms.get(room.roomId)?.username === username);
    if (confirmed && member) {
      member.lastActivity = Date.now();
    } else {
      try {
        const c = await this.appendAndPublish(room, { kind: 'member_joined', username, nodeId: this.selfId, timestamp: pythonIsoNow() });
        // Answer once this node's copy holds the membership, so the next send is not refused here.
        if (this.repl) await this.repl.waitApplied(room.roomId, c.index, this.cfg.peerCallTimeoutMs);
      } catch (err) {
        // Replicated: the admin refused (USERNAME_TAKEN, room being deleted) or no majority in time.
        const code = (err as { code?: unknown }).code;
        return fail(errText(err), typeof code === 'string' ? code : 'INTERNAL_ERROR');
      }
    }
    if (session.closed) {
      // The client left while its join was being committed: take the membership back out.
      if (!this.registry.holder(room.roomId, username) && room.members.get(username)?.nodeId === this.selfId) {
        this.track(
          this.appendAndPublish(room, { kind: 'member_left', username, nodeId: this.selfId, timestamp: pythonIsoNow(), reason: 'User disconnected' }).catch((err) =>
            this.log.warn('disconnect not recorded', { room_id: room.roomId, err: errText(err) }),
          ),
        );
      }
      return;
    }
    // Registered only now, so the joiner does not get its own member_joined (as in the original).
    this.registry.register(room.roomId, session, username);
    if (sinceSeq === undefined) {
      session.sendFrame({ type: 'join_room_success', data: { ...roomInfoData(room.info()) } });
      for (const m of room.history) this.deliverTo(session, room.roomId, m);
      return;
    }
    // Resume (issue 6): exactly the messages after since_seq, from the durable log when there is one.
    // No await between this read and the registration above, so live delivery continues seamlessly.
    const replay = this.repl
      ? this.repl.history(room.roomId, { afterSeq: sinceSeq, limit: LIMITS.maxResumeReplay })
      : room.history.filter((m) => m.sequence_number > sinceSeq).slice(0, LIMITS.maxResumeReplay);
    const lastSeq = this.repl ? this.repl.lastCommittedSeq(room.roomId) : room.lastSeq;
    const binding = session.rooms.get(room.roomId);
    if (binding && binding.deliveredSeq < sinceSeq) binding.deliveredSeq = sinceSeq;
    session.sendFrame({
      type: 'join_room_success',
      data: { ...roomInfoData(room.info()), last_seq: lastSeq, ...(replay.length ? { replay_from_seq: replay[0].sequence_number } : {}) },
    });
    for (const m of replay) this.deliverTo(session, room.roomId, m);
  }

  /** get_history (issue 6): one page of the room's committed messages, oldest first. */
  private async getHistory(session: ClientSession, req: GetHistoryRequest): Promise<void> {
    const { room_id, before_seq, after_seq } = req.data;
    const limit = req.data.limit ?? 100;
    const room = await this.readyRoom(room_id);
    if (!room) {
      session.sendFrame({ type: 'history_error', data: { room_id, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' } });
      return;
    }
    // One extra row tells whether another page exists.
    const q = { beforeSeq: before_seq, afterSeq: after_seq, limit: limit + 1 };
    let page = this.repl
      ? this.repl.history(room_id, q)
      : room.history.filter((m) => (before_seq === undefined || m.sequence_number < before_seq) && (after_seq === undefined || m.sequence_number > after_seq));
    const hasMore = page.length > limit;
    if (hasMore) page = after_seq !== undefined ? page.slice(0, limit) : page.slice(page.length - limit);
    const lastSeq = this.repl ? this.repl.lastCommittedSeq(room_id) : room.lastSeq;
    session.sendFrame({ type: 'history', data: { room_id, messages: page, has_more: hasMore, last_seq: lastSeq } });
  }

  private async joinRemote(session: ClientSession, roomId: string, username: string): Promise<void> {
    const fail = (error: string, error_code: string): void => {
      session.sendFrame({ type: 'join_room_error', data: { room_id: roomId, error, error_code } });
    };
    this.pendingJoins.set(roomId, (this.pendingJoins.get(roomId) ?? 0) + 1);
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const admin = await this.resolveAdmin(roomId, attempt > 0);
        if (!admin) return fail('Room not found', 'ROOM_NOT_FOUND');
        this.ensureView(roomId, admin.nodeId);
        let result: XmlRpcValue;
        try {
          result = await this.peers.call(admin.nodeId, 'join_room', [roomId, username, this.selfId], this.cfg.peerCallTimeoutMs);
        } catch (err) {
          this.adminCache.delete(roomId);
          if (admin.cached && attempt === 0) continue;
          return fail(`Failed to contact administrator node: ${errText(err)}`, 'ADMIN_NODE_UNAVAILABLE');
        }
        if (!isStruct(result)) return fail('Administrator node sent an invalid reply', 'ADMIN_NODE_UNAVAILABLE');
        if (result.success !== true) {
          const code = typeof result.error_code === 'string' ? result.error_code : 'UNKNOWN_ERROR';
          if (code === 'ROOM_NOT_FOUND') {
            this.adminCache.delete(roomId);
            if (admin.cached && attempt === 0) continue;
          }
          return fail(typeof result.message === 'string' ? result.message : 'Join failed', code);
        }
        const info = result.room_info;
        if (!isStruct(info)) return fail('Administrator node sent an invalid reply', 'ADMIN_NODE_UNAVAILABLE');
        if (session.closed && !this.registry.holder(roomId, username)) {
          // The client left while its join was on the way: take the new membership back out.
          this.track(
            this.peers
              .call(admin.nodeId, 'notify_member_disconnect', [roomId, username, this.selfId, 'User disconnected'], this.cfg.peerCallTimeoutMs)
              .catch((err) => this.log.warn('disconnect notification failed', { room_id: roomId, peer: admin.nodeId, err: errText(err) })),
          );
          return;
        }
        const view = this.ensureView(roomId, admin.nodeId);
        this.registry.register(roomId, session, username);
        session.sendFrame({ type: 'join_room_success', data: roomInfoData(info) });
        const history = Array.isArray(result.messages) ? result.messages : [];
        for (const m of history) {
          const msg = toChatMessage(m, roomId);
          if (!msg) continue;
          this.deliverTo(session, roomId, msg);
          if (msg.sequence_number > view.lastSeq) view.lastSeq = msg.sequence_number;
        }
        // Broadcasts that reached us before the reply: replay what this connection has not seen.
        for (const msg of view.recent) this.deliverTo(session, roomId, msg);
        return;
      }
    } finally {
      const n = (this.pendingJoins.get(roomId) ?? 1) - 1;
      if (n > 0) this.pendingJoins.set(roomId, n);
      else this.pendingJoins.delete(roomId);
      this.releaseView(roomId);
    }
  }

  private async leaveRoom(session: ClientSession, req: LeaveRoomRequest): Promise<void> {
    const { room_id, username } = req.data;
    const bound = session.rooms.get(room_id);
    if (bound && bound.username !== username) {
      session.sendFrame({ type: 'error', data: { success: false, message: `This connection joined the room as '${bound.username}', not '${username}'` } });
      return;
    }
    if (bound) {
      this.registry.unregister(room_id, session);
      if (!this.registry.holder(room_id, username)) {
        const room = this.clientRoom(room_id);
        if (room) {
          const m = room.members.get(username);
          if (m && m.nodeId === this.selfId) {
            await this.appendAndPublish(room, { kind: 'member_left', username, nodeId: this.selfId, timestamp: pythonIsoNow() }).catch((err) =>
              this.log.warn('leave not recorded', { room_id, err: errText(err) }),
            );
          }
        } else {
          this.releaseView(room_id);
          const admin = this.adminCache.get(room_id) ?? this.views.get(room_id)?.adminNode;
          if (admin) {
            await this.peers
              .call(admin, 'leave_room', [room_id, username, this.selfId], this.cfg.peerCallTimeoutMs)
              .catch((err) => this.log.warn('remote leave failed', { room_id, peer: admin, err: errText(err) }));
          }
        }
      }
    }
    // Always success, as in the original: leaving a room one is not in leaves one not in it.
    session.sendFrame({ type: 'leave_room_success', data: { room_id, username } });
  }

  private async sendMessage(session: ClientSession, req: SendMessageRequest, submitted: () => void = () => undefined): Promise<void> {
    const { room_id, username, content } = req.data;
    const fail = (error: string, error_code: string): void => {
      session.sendFrame({ type: 'message_error', data: { room_id, error, error_code } });
    };
    const bound = session.rooms.get(room_id);
    if (!bound) return fail('You are not a member of this room', 'NOT_MEMBER');
    if (bound.username !== username) {
      return fail(`This connection joined the room as '${bound.username}' and cannot send as '${username}'`, 'UNAUTHORIZED');
    }
    const room = await this.readyRoom(room_id);
    if (room) {
      if (room.state !== 'ACTIVE') return fail('Room is being deleted', 'INVALID_STATE');
      const rejoin = this.rejoins.get(rejoinKey(room_id, username));
      if (rejoin) await rejoin;
      const m = room.members.get(username);
      // Replicated: a copy that lags behind the admin may not show a join yet; the admin checks.
      if (m ? m.nodeId !== this.selfId : !this.repl) return fail('You are no longer a member of this room', 'NOT_MEMBER');
      let c: Awaited<ReturnType<ChatNode['appendAndPublish']>> | undefined;
      for (let attempt = 0; !c; attempt++) {
        try {
          const appended = this.appendAndPublish(room, { kind: 'message', draft: { username, content } });
          if (attempt === 0) submitted();
          c = await appended;
        } catch (err) {
          // Replicated: no admin could commit it in time (no majority), or the admin refused it.
          const code = (err as { code?: unknown }).code;
          // The admin removed this live member as unreachable and our copy has not heard yet: the
          // refused message was not logged; join again and send it once more.
          if (code === 'NOT_MEMBER' && attempt === 0 && this.repl && !session.closed && room.members.get(username)?.nodeId === this.selfId) {
            if (await this.rejoin(room, username)) continue;
          }
          return fail(errText(err), typeof code === 'string' ? code : 'INTERNAL_ERROR');
        }
      }
      const msg = (c.entry as { message: ChatMessage }).message;
      session.sendFrame({ type: 'message_sent', data: { room_id, message_id: msg.message_id, sequence_number: msg.sequence_number, timestamp: msg.timestamp } });
      return;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const admin = await this.resolveAdmin(room_id, attempt > 0);
      if (!admin) return fail('Room not found', 'ROOM_NOT_FOUND');
      let result: XmlRpcValue;
      try {
        if (this.peers.isLegacy(admin.nodeId)) {
          // Separate HTTP calls could overtake each other: toward a Python admin, one send at a time.
          result = await this.peers.call(admin.nodeId, 'forward_message', [room_id, username, content, this.selfId], this.cfg.peerCallTimeoutMs);
        } else {
          const forwarded = this.forwardViaStream(admin.nodeId, room_id, username, content);
          submitted();
          result = await forwarded;
        }
      } catch (err) {
        // Not retried: the admin may have sequenced it, and a retry would duplicate it (§9.3).
        this.adminCache.delete(room_id);
        return fail(`Failed to contact administrator node: ${errText(err)}`, 'ADMIN_NODE_UNAVAILABLE');
      }
      if (!isStruct(result)) return fail('Administrator node sent an invalid reply', 'ADMIN_NODE_UNAVAILABLE');
      if (result.success !== true) {
        const code = typeof result.error_code === 'string' ? result.error_code : 'UNKNOWN_ERROR';
        if (code === 'ROOM_NOT_FOUND') {
          this.adminCache.delete(room_id);
          if (admin.cached && attempt === 0) continue;
        }
        return fail(typeof result.error === 'string' ? result.error : 'Send failed', code);
      }
      const seq = typeof result.sequence_number === 'number' ? result.sequence_number : 0;
      // The sender sees its own new_message before message_sent: wait for our copy of the broadcast.
      await this.waitForSeq(room_id, seq);
      session.sendFrame({
        type: 'message_sent',
        data: { room_id, message_id: String(result.message_id ?? ''), sequence_number: seq, timestamp: String(result.timestamp ?? '') },
      });
      return;
    }
  }

  private async deleteRoom(session: ClientSession, req: DeleteRoomRequest): Promise<void> {
    const { room_id, username } = req.data;
    const fail = (reason: string, error_code: string, transaction_id?: string): void => {
      session.sendFrame({ type: 'delete_room_failed', data: { room_id, reason, error_code, ...(transaction_id ? { transaction_id } : {}) } });
    };
    const bound = session.rooms.get(room_id);
    const actsAs = bound?.username === username || (session.createdRooms.has(room_id) && !bound);
    const room = this.localRoom(room_id);
    if (!room) {
      // Extension: a creator connected to another node may delete too, when the admin is one of ours.
      const replicatedAdmin = this.repl?.replicates(room_id) ? this.store.get(room_id)?.adminNode || undefined : undefined;
      const admin = replicatedAdmin ?? this.adminCache.get(room_id) ?? this.views.get(room_id)?.adminNode;
      if (!admin || this.peers.isLegacy(admin) || !bound) return fail('Room not found', 'ROOM_NOT_FOUND');
      if (bound.username !== username) return fail('Only the room creator can delete the room', 'UNAUTHORIZED');
      let result: XmlRpcValue;
      try {
        result = await this.peers.call(admin, 'swarmchat_delete_room', [room_id, username, this.selfId], this.cfg.deletePhaseTimeoutMs * 2 + this.cfg.peerCallTimeoutMs);
      } catch (err) {
        return fail(`Failed to contact administrator node: ${errText(err)}`, 'INTERNAL_ERROR');
      }
      if (!isStruct(result)) return fail('Administrator node sent an invalid reply', 'INTERNAL_ERROR');
      const tx = typeof result.transaction_id === 'string' ? result.transaction_id : undefined;
      if (result.success === true && tx) {
        session.sendFrame({ type: 'delete_room_initiated', data: { room_id, transaction_id: tx, status: 'in_progress' } });
        session.sendFrame({ type: 'delete_room_success', data: { room_id, transaction_id: tx, message: 'Room deleted successfully' } });
        return;
      }
      if (tx) session.sendFrame({ type: 'delete_room_initiated', data: { room_id, transaction_id: tx, status: 'in_progress' } });
      return fail(String(result.reason ?? 'Deletion failed'), String(result.error_code ?? 'DELETION_FAILED'), tx);
    }
    if (username !== room.creatorId || !actsAs) return fail('Only the room creator can delete the room', 'UNAUTHORIZED');
    if (room.state !== 'ACTIVE') return fail(`Room is in ${room.state} state, cannot delete`, 'INVALID_STATE');
    const outcome = await this.coordinateDelete(room, username, (tx) =>
      session.sendFrame({ type: 'delete_room_initiated', data: { room_id, transaction_id: tx, status: 'in_progress' } }),
    );
    if (outcome.ok) {
      session.sendFrame({ type: 'delete_room_success', data: { room_id, transaction_id: outcome.tx, message: 'Room deleted successfully' } });
    } else {
      fail(outcome.reason, 'DELETION_FAILED', outcome.tx);
    }
  }

  /**
   * 2PC over the nodes that matter: those holding members of the room and not declared failed
   * (§9.9: the original asked every peer, so any down node blocked every deletion). The room is
   * frozen (no joins, no sends) while the transaction runs.
   */
  private async coordinateDelete(room: Room, initiator: string, onStarted: (tx: string) => void): Promise<{ ok: true; tx: string } | { ok: false; tx: string; reason: string }> {
    const tx = randomUUID();
    room.state = 'DELETION_PENDING';
    room.pendingTx = tx;
    onStarted(tx);
    const participants = [...room.memberNodes(this.selfId)].filter((id) => !this.detector.isFailed(id) && this.peers.addressOf(id));
    const initiated = { room_id: room.roomId, initiator, status: 'in_progress' };
    this.deliverLocal(room.roomId, JSON.stringify({ type: 'delete_room_initiated', data: initiated }));
    for (const p of participants) {
      if (!this.peers.isLegacy(p)) this.peers.post(p, 'receive_member_event_broadcast', [room.roomId, 'delete_room_initiated', initiated]);
    }
    this.log.info('room deletion started', { room_id: room.roomId, transaction_id: tx, participants });
    const t = this.cfg.deletePhaseTimeoutMs;
    const outcome = await runTwoPhaseDelete({
      transactionId: tx,
      participants,
      phaseTimeoutMs: t,
      prepare: async (p) => {
        const r = await this.peers.call(p, 'prepare_delete_room', [room.roomId, tx, this.selfId], t);
        if (!isStruct(r)) return { vote: 'ABORT', reason: `Node ${p} sent an invalid vote` } satisfies Vote;
        return { vote: r.vote === 'READY' ? 'READY' : 'ABORT', reason: typeof r.reason === 'string' ? r.reason : undefined };
      },
      commit: (p) => this.peers.call(p, 'commit_delete_room', [room.roomId, tx, room.roomName], t),
      rollback: (p) => this.peers.call(p, 'rollback_delete_room', [room.roomId, tx], t),
    });
    if (outcome.outcome === 'committed') {
      room.state = 'COMMITTING';
      this.store.remove(room.roomId);
      const frame = JSON.stringify({ type: 'room_deleted', data: { room_id: room.roomId, room_name: room.roomName, message: `Room '${room.roomName}' has been deleted` } });
      this.deliverLocal(room.roomId, frame);
      this.dropLocalRoom(room.roomId);
      this.log.info('room deleted', { room_id: room.roomId, transaction_id: tx });
      return { ok: true, tx };
    }
    room.state = 'ACTIVE';
    room.pendingTx = undefined;
    // The original left admin-local members without a cancel event (§9.9).
    this.deliverLocal(room.roomId, JSON.stringify({ type: 'delete_room_cancelled', data: { room_id: room.roomId, transaction_id: tx } }));
    this.log.info('room deletion aborted', { room_id: room.roomId, transaction_id: tx, reason: outcome.reason });
    return { ok: false, tx, reason: outcome.reason };
  }

  // ------------------------------------------------------------------------------ discovery

  private async discoverForClient(session: ClientSession): Promise<void> {
    const d = await this.discover();
    const local = this.localRooms().map((r) => r.summary());
    const seen = new Set(local.map((r) => r.room_id));
    const rooms = [...local, ...d.rooms.filter((r) => !seen.has(r.room_id))];
    if (this.repl) {
      // Every replicated room is known here, also while its admin is being replaced (and so
      // answers no get_hosted_rooms): list it from the local copy rather than drop it.
      for (const r of rooms) seen.add(r.room_id);
      for (const r of this.store.list()) if (!seen.has(r.roomId) && r.state === 'ACTIVE' && this.repl.replicates(r.roomId)) rooms.push(r.summary());
    }
    session.sendFrame({
      type: 'global_rooms_list',
      data: {
        rooms,
        total_count: rooms.length,
        nodes_queried: [this.selfId, ...d.queried],
        nodes_available: [this.selfId, ...d.available],
        nodes_unavailable: d.unavailable,
      },
    });
  }

  /** Asks every peer in parallel, each bounded by the discovery timeout; partial results are results. */
  private discover(): Promise<DiscoveryResult> {
    if (this.discoveryInFlight) return this.discoveryInFlight;
    const run = (async (): Promise<DiscoveryResult> => {
      const out: DiscoveryResult = { rooms: [], queried: [], available: [], unavailable: [] };
      const found = new Map<string, string>();
      await Promise.all(
        this.peers.peerIds().map(async (peer) => {
          try {
            const r = await this.peers.call(peer, 'get_hosted_rooms', [], this.cfg.discoveryTimeoutMs);
            out.queried.push(peer);
            out.available.push(peer);
            if (!Array.isArray(r)) return;
            for (const item of r) {
              const s = toRoomSummary(item);
              if (!s) continue;
              out.rooms.push(s);
              found.set(s.room_id, s.admin_node);
              if (s.node_address) this.peers.learn(s.admin_node, s.node_address);
            }
          } catch (err) {
            out.queried.push(peer);
            out.unavailable.push(peer);
            this.log.debug('discovery: peer unavailable', { peer, err: errText(err) });
          }
        }),
      );
      // A complete answer replaces the cache (rooms deleted elsewhere drop out); a partial one adds.
      if (out.unavailable.length === 0) this.adminCache.clear();
      for (const [roomId, admin] of found) this.adminCache.set(roomId, admin);
      return out;
    })();
    this.discoveryInFlight = run;
    void run.finally(() => {
      if (this.discoveryInFlight === run) this.discoveryInFlight = undefined;
    });
    return run;
  }

  private async resolveAdmin(roomId: string, fresh: boolean): Promise<AdminLookup> {
    if (!fresh) {
      const cached = this.adminCache.get(roomId);
      if (cached && cached !== this.selfId) return { nodeId: cached, cached: true };
    }
    await this.discover();
    const admin = this.adminCache.get(roomId);
    return admin && admin !== this.selfId ? { nodeId: admin, cached: false } : undefined;
  }

  // ------------------------------------------------------------------------------ delivery

  /**
   * Appends to a room this node administers and, once committed, delivers to local connections and
   * posts to the member nodes' ordered streams. Targets are computed at append time (before the
   * entry applies, so a leaving member's node still hears of its leave).
   */
  appendAndPublish(room: Room, input: AppendInput, opts: { exceptNode?: string } = {}) {
    // Replicated rooms: delivery (local and to original Python member nodes) happens in onCommitted,
    // on every node, when the entry commits; the caller learns its outcome here.
    if (this.repl?.replicates(room.roomId)) return this.store.append(room, input);
    const targets = room.memberNodes(this.selfId);
    const committed = this.store.append(room, input);
    for (const n of room.memberNodes(this.selfId)) targets.add(n);
    if (opts.exceptNode) targets.delete(opts.exceptNode);
    const memberCount = room.members.size;
    return committed.then((c) => {
      const e = c.entry;
      if (e.kind === 'message') {
        this.metrics.messagesSequenced.inc();
        this.deliverMessageLocal(room.roomId, e.message);
        for (const t of targets) this.peers.post(t, 'receive_message_broadcast', [room.roomId, e.message as unknown as Struct]);
      } else {
        const data: Record<string, string | number> = { room_id: room.roomId, username: e.username, member_count: memberCount, timestamp: e.timestamp };
        if (e.kind === 'member_left' && e.reason) data.reason = e.reason;
        this.deliverLocal(room.roomId, JSON.stringify({ type: e.kind, data }));
        if (e.kind === 'member_left') this.evictLocal(room.roomId, e.username);
        for (const t of targets) this.peers.post(t, 'receive_member_event_broadcast', [room.roomId, e.kind, data]);
      }
      return c;
    });
  }

  /**
   * A replicated entry committed (on this node, in log order): deliver it to the connections here;
   * the room's admin also relays it to original Python member nodes, which know no replication.
   */
  private onCommitted(ev: CommittedEvent): void {
    const { room, committed, memberCount } = ev;
    const e = committed.entry;
    const isAdmin = room.adminNode === this.selfId;
    const legacyTargets = isAdmin ? [...room.memberNodes(this.selfId)].filter((n) => this.peers.isLegacy(n)) : [];
    if (e.kind === 'message') {
      if (isAdmin) this.metrics.messagesSequenced.inc();
      this.deliverMessageLocal(room.roomId, e.message);
      for (const t of legacyTargets) this.peers.post(t, 'receive_message_broadcast', [room.roomId, e.message as unknown as Struct]);
      return;
    }
    const data: Record<string, string | number> = { room_id: room.roomId, username: e.username, member_count: memberCount, timestamp: e.timestamp };
    if (e.kind === 'member_left' && e.reason) data.reason = e.reason;
    const rejoining =
      (e.kind === 'member_left' && this.rejoinIfLive(room, e.username, e.nodeId, e.reason)) ||
      (e.kind === 'member_joined' && this.rejoins.has(rejoinKey(room.roomId, e.username)));
    // The member itself is not told it left and came back; everyone else sees both events.
    this.deliverLocal(room.roomId, JSON.stringify({ type: e.kind, data }), rejoining ? e.username : undefined);
    if (e.kind === 'member_left' && !rejoining) this.evictLocal(room.roomId, e.username);
    if (isAdmin) {
      const targets = new Set(legacyTargets);
      // The leaver's node still hears of the leave, unless it is the node that failed.
      if (e.kind === 'member_left' && this.peers.isLegacy(e.nodeId) && e.reason !== 'Node unreachable') targets.add(e.nodeId);
      for (const t of targets) this.peers.post(t, 'receive_member_event_broadcast', [room.roomId, e.kind, data]);
    }
  }

  /** Writes one serialized frame to every local connection in the room. */
  private deliverLocal(roomId: string, text: string, exceptUsername?: string): void {
    for (const s of this.registry.sessions(roomId)) {
      if (exceptUsername !== undefined && s.rooms.get(roomId)?.username === exceptUsername) continue;
      if (s.send(text)) this.metrics.framesDelivered.inc();
    }
  }

  /** Serializes once; each connection gets each sequence number at most once and in order. */
  private deliverMessageLocal(roomId: string, msg: ChatMessage): void {
    let text: string | undefined;
    for (const s of this.registry.sessions(roomId)) {
      const b = s.rooms.get(roomId);
      if (!b || msg.sequence_number <= b.deliveredSeq) continue;
      text ??= JSON.stringify({ type: 'new_message', data: msg });
      b.deliveredSeq = msg.sequence_number;
      if (s.send(text)) this.metrics.framesDelivered.inc();
    }
  }

  private deliverTo(session: ClientSession, roomId: string, msg: ChatMessage): void {
    const b = session.rooms.get(roomId);
    if (!b || msg.sequence_number <= b.deliveredSeq) return;
    b.deliveredSeq = msg.sequence_number;
    if (session.sendFrame({ type: 'new_message', data: msg })) this.metrics.framesDelivered.inc();
  }

  /** After a member_left, connections still holding that name (inactivity, node failure) leave too. */
  private evictLocal(roomId: string, username: string): void {
    for (const s of [...this.registry.sessions(roomId)]) {
      if (s.rooms.get(roomId)?.username === username) this.registry.unregister(roomId, s);
    }
    if (!this.localRoom(roomId)) this.releaseView(roomId);
  }

  /**
   * The admin removed a member of this node as "Node unreachable" while its connection here is
   * alive (this node was slow, frozen or cut off, not dead): the member joins again at once and
   * stays registered meanwhile, so it misses no committed message and its sends wait for the
   * re-join instead of being refused. True when a re-join started.
   */
  private rejoinIfLive(room: Room, username: string, nodeId: string, reason: string | undefined): boolean {
    if (reason !== 'Node unreachable' || nodeId !== this.selfId || this.shuttingDown) return false;
    const key = rejoinKey(room.roomId, username);
    if (this.rejoins.has(key)) return true;
    const live = [...this.registry.sessions(room.roomId)].some((s) => !s.closed && s.rooms.get(room.roomId)?.username === username);
    if (!live || room.members.has(username)) return false;
    void this.rejoin(room, username);
    return true;
  }

  /** Joins a member of a live connection here again (see rejoinIfLive); one at a time per member. */
  private rejoin(room: Room, username: string): Promise<boolean> {
    const key = rejoinKey(room.roomId, username);
    const running = this.rejoins.get(key);
    if (running) return running;
    this.log.warn('member removed as unreachable while connected here; joining again', { room_id: room.roomId, username });
    const done = this.appendAndPublish(room, { kind: 'member_joined', username, nodeId: this.selfId, timestamp: pythonIsoNow() })
      .then(() => true, (err) => {
        this.log.warn('re-join failed; the member leaves', { room_id: room.roomId, username, err: errText(err) });
        this.evictLocal(room.roomId, username);
        return false;
      })
      .finally(() => this.rejoins.delete(key));
    this.rejoins.set(key, done);
    this.track(done);
    return done;
  }

  private dropLocalRoom(roomId: string): void {
    for (const s of [...this.registry.sessions(roomId)]) this.registry.unregister(roomId, s);
    this.views.delete(roomId);
    this.adminCache.delete(roomId);
  }

  private ensureView(roomId: string, adminNode: string): RemoteRoomView {
    let v = this.views.get(roomId);
    if (!v) this.views.set(roomId, (v = { adminNode, lastSeq: 0, recent: [], waiters: [] }));
    v.adminNode = adminNode;
    return v;
  }

  /** Forgets a remote room's view once no connection here is in it or joining it (bounded memory). */
  private releaseView(roomId: string): void {
    if (this.registry.hasRoom(roomId) || this.pendingJoins.has(roomId)) return;
    const v = this.views.get(roomId);
    if (!v) return;
    for (const w of v.waiters) w.resolve();
    this.views.delete(roomId);
  }

  private waitForSeq(roomId: string, seq: number): Promise<void> {
    const v = this.views.get(roomId);
    if (!v || v.lastSeq >= seq || this.cfg.echoWaitMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        v.waiters = v.waiters.filter((w) => w !== waiter);
        resolve();
      }, this.cfg.echoWaitMs);
      const waiter = { seq, resolve: () => { clearTimeout(timer); resolve(); } };
      v.waiters.push(waiter);
    });
  }

  private noteRemoteMessage(roomId: string, msg: ChatMessage): void {
    let v = this.views.get(roomId);
    if (!v && (this.registry.hasRoom(roomId) || this.pendingJoins.has(roomId))) v = this.ensureView(roomId, this.adminCache.get(roomId) ?? '');
    if (!v || msg.sequence_number <= v.lastSeq) return;
    v.lastSeq = msg.sequence_number;
    v.recent.push(msg);
    // Trimmed in bulk, not per message: the window only has to hold at least `keep` messages.
    const keep = Math.max(this.cfg.historyLimit, 256);
    if (v.recent.length > keep * 2) v.recent.splice(0, v.recent.length - keep);
    if (v.waiters.length) {
      const due = v.waiters.filter((w) => w.seq <= msg.sequence_number);
      v.waiters = v.waiters.filter((w) => w.seq > msg.sequence_number);
      for (const w of due) w.resolve();
    }
  }

  // ------------------------------------------------------------------------------ failure handling

  private watchedNodes(): Set<string> {
    const nodes = new Set<string>();
    for (const r of this.localRooms()) for (const n of r.memberNodes(this.selfId)) nodes.add(n);
    return nodes;
  }

  /** A member node stopped answering heartbeats: its members leave every room we administer. */
  private onNodeFailed(nodeId: string): void {
    this.log.warn('member node unreachable; removing its members', { peer: nodeId });
    for (const room of this.localRooms()) {
      for (const m of [...room.members.values()]) {
        if (m.nodeId !== nodeId) continue;
        void this.appendAndPublish(room, { kind: 'member_left', username: m.username, nodeId, timestamp: pythonIsoNow(), reason: 'Node unreachable' }, { exceptNode: nodeId }).catch((err) =>
          this.log.warn('failed to record node failure', { room_id: room.roomId, err }),
        );
      }
    }
  }

  /** Removes members idle longer than the inactivity timeout; every message and join resets the clock. */
  sweepInactive(now = Date.now()): void {
    const cutoff = now - this.cfg.inactivityTimeoutMs;
    for (const room of this.localRooms()) {
      // Empty rooms nobody used for ROOM_IDLE_TTL_MS go away (the original piled them up, §9.11).
      if (this.cfg.roomIdleTtlMs > 0 && room.members.size === 0 && room.state === 'ACTIVE' && now - room.lastActiveAt > this.cfg.roomIdleTtlMs) {
        this.log.info('removing idle empty room', { room_id: room.roomId, room_name: room.roomName });
        this.store.remove(room.roomId);
        this.dropLocalRoom(room.roomId);
        continue;
      }
      for (const m of [...room.members.values()]) {
        if (m.lastActivity >= cutoff) continue;
        void this.appendAndPublish(room, { kind: 'member_left', username: m.username, nodeId: m.nodeId, timestamp: pythonIsoNow(), reason: 'Inactivity' }).catch((err) =>
          this.log.warn('failed to record inactivity', { room_id: room.roomId, err }),
        );
      }
    }
  }

  // ------------------------------------------------------------------------------ XML-RPC (§3)

  rpcHandlers(): Record<string, RpcHandler> {
    const self = this.selfId;
    const notFound = { success: false, message: 'Room not found', error_code: 'ROOM_NOT_FOUND' };
    const maxName = this.cfg.maxUsernameChars * 4;
    return {
      get_hosted_rooms: (params): XmlRpcValue => {
        checkArity('get_hosted_rooms', params, []);
        return this.localRooms().map((r) => ({ ...r.summary(), node_address: this.cfg.rpcAddress }));
      },

      heartbeat: (params): XmlRpcValue => {
        checkArity('heartbeat', params, []);
        return { status: 'ok', node_id: self, timestamp: pythonIsoNow() };
      },

      join_room: async (params, ctx): Promise<XmlRpcValue> => {
        checkArity('join_room', params, ['room_id', 'username', 'client_node_id']);
        const roomId = stringParam(params, 0, 'room_id');
        const username = stringParam(params, 1, 'username', maxName);
        const nodeId = stringParam(params, 2, 'client_node_id', 128);
        // A signed caller speaks only for its own members (§9.8).
        if (ctx.peerId !== undefined && ctx.peerId !== nodeId) return { success: false, message: 'client_node_id is not the calling node', error_code: 'UNAUTHORIZED', room_info: null };
        const room = this.localRoom(roomId);
        if (!room) return { ...notFound, room_info: null };
        if (!username) return { success: false, message: 'Missing username', error_code: 'INVALID_REQUEST', room_info: null };
        if (room.state !== 'ACTIVE') return { success: false, message: 'Room is being deleted', error_code: 'INVALID_STATE', room_info: null };
        const m = room.members.get(username);
        const lookalike = lookalikeOf(username, room.members.keys());
        if (lookalike) return { success: false, message: `Username '${username}' looks like '${lookalike}', who is in this room`, error_code: 'USERNAME_TAKEN', room_info: null };
        if (m && m.nodeId !== nodeId) {
          return { success: false, message: `Username '${username}' is already in use in this room`, error_code: 'USERNAME_TAKEN', room_info: null };
        }
        let message = 'Already in room, re-registered';
        if (m) {
          m.lastActivity = Date.now();
        } else {
          if (!this.peers.addressOf(nodeId)) this.log.warn('member joined from a node not in PEER_NODES; it will get no events', { peer: nodeId, room_id: roomId });
          await this.appendAndPublish(room, { kind: 'member_joined', username, nodeId, timestamp: pythonIsoNow() });
          message = 'Successfully joined room';
        }
        return { success: true, message, room_info: room.info(), messages: room.history as unknown as Struct[] };
      },

      leave_room: async (params, ctx): Promise<XmlRpcValue> => {
        checkArity('leave_room', params, ['room_id', 'username', 'client_node_id']);
        const roomId = stringParam(params, 0, 'room_id');
        const username = stringParam(params, 1, 'username', maxName);
        const nodeId = stringParam(params, 2, 'client_node_id', 128);
        // A signed caller speaks only for its own members (§9.8).
        if (ctx.peerId !== undefined && ctx.peerId !== nodeId) return { success: false, message: 'client_node_id is not the calling node', error_code: 'UNAUTHORIZED' };
        const room = this.localRoom(roomId);
        if (!room) return { success: false, message: 'Room not found', error_code: 'ROOM_NOT_FOUND' };
        const m = room.members.get(username);
        // Only the node a member is on may take the member out (§9.8).
        if (!m || m.nodeId !== nodeId) return { success: false, message: 'Not in room', error_code: 'NOT_IN_ROOM' };
        await this.appendAndPublish(room, { kind: 'member_left', username, nodeId, timestamp: pythonIsoNow() });
        return { success: true, message: 'Successfully left room' };
      },

      forward_message: async (params, ctx): Promise<XmlRpcValue> => {
        checkArity('forward_message', params, ['room_id', 'username', 'content', 'sender_node_id']);
        const roomId = stringParam(params, 0, 'room_id');
        const username = stringParam(params, 1, 'username', maxName);
        const nodeId = stringParam(params, 3, 'sender_node_id', 128);
        return this.admitForward(roomId, username, params[2], nodeId, ctx.peerId);
      },

      /**
       * Extension: forward_message over the ordered, batched stream. Returns at once; the result goes
       * back on our stream to the sender's node *after* the message's broadcast, so that node delivers
       * new_message to its sender before message_sent without waiting, and many sends share one HTTP call.
       */
      swarmchat_forward: (params, ctx): XmlRpcValue => {
        checkArity('swarmchat_forward', params, ['request_id', 'room_id', 'username', 'content', 'sender_node_id']);
        const requestId = stringParam(params, 0, 'request_id', 64);
        const roomId = stringParam(params, 1, 'room_id');
        const username = stringParam(params, 2, 'username', maxName);
        const nodeId = stringParam(params, 4, 'sender_node_id', 128);
        void this.admitForward(roomId, username, params[3], nodeId, ctx.peerId).then((result) =>
          this.peers.post(nodeId, 'swarmchat_forward_result', [requestId, result]),
        );
        return true;
      },

      swarmchat_forward_result: (params): XmlRpcValue => {
        checkArity('swarmchat_forward_result', params, ['request_id', 'result']);
        const requestId = stringParam(params, 0, 'request_id', 64);
        const result = structParam(params, 1, 'result');
        this.pendingForwards.get(requestId)?.(result);
        return true;
      },

      receive_message_broadcast: (params): XmlRpcValue => {
        checkArity('receive_message_broadcast', params, ['room_id', 'message_data']);
        const roomId = stringParam(params, 0, 'room_id');
        const msg = toChatMessage(structParam(params, 1, 'message_data'), roomId);
        if (!msg) throw new XmlRpcFault(1, "<class 'ValueError'>:message_data is not a valid message");
        // Our own rooms are sequenced here; a copy from elsewhere is stale or forged. Replicated
        // rooms are delivered from the committed log, never from a broadcast.
        if (this.localRoom(roomId) || this.repl?.replicates(roomId)) return true;
        this.noteRemoteMessage(roomId, msg);
        this.deliverMessageLocal(roomId, msg);
        return true;
      },

      receive_member_event_broadcast: (params): XmlRpcValue => {
        checkArity('receive_member_event_broadcast', params, ['room_id', 'event_type', 'event_data']);
        const roomId = stringParam(params, 0, 'room_id');
        const type = stringParam(params, 1, 'event_type', 64);
        const data = structParam(params, 2, 'event_data');
        if (!RELAYABLE_EVENTS.has(type)) throw new XmlRpcFault(1, `<class 'ValueError'>:event type "${type}" is not relayed`);
        if (this.localRoom(roomId)) return true;
        // Membership of replicated rooms is delivered from the committed log (delete_room_initiated is not logged).
        if (type !== 'delete_room_initiated' && this.repl?.replicates(roomId)) return true;
        // A remote joiner may already be registered when its own member_joined arrives; it is not news to it.
        const except = type === 'member_joined' && typeof data.username === 'string' ? data.username : undefined;
        this.deliverLocal(roomId, JSON.stringify({ type, data: { ...data, room_id: roomId } }), except);
        if (type === 'member_left' && typeof data.username === 'string') this.evictLocal(roomId, data.username);
        return true;
      },

      notify_member_disconnect: async (params, ctx): Promise<XmlRpcValue> => {
        checkArity('notify_member_disconnect', params, ['room_id', 'username', 'member_node_id', 'reason'], 3);
        const roomId = stringParam(params, 0, 'room_id');
        const username = stringParam(params, 1, 'username', maxName);
        const nodeId = stringParam(params, 2, 'member_node_id', 128);
        // A signed caller speaks only for its own members (§9.8).
        if (ctx.peerId !== undefined && ctx.peerId !== nodeId) return { success: false, message: 'member_node_id is not the calling node' };
        const reason = params.length > 3 ? stringParam(params, 3, 'reason', 200) : 'User disconnected';
        const room = this.localRoom(roomId);
        if (!room) return { success: false, message: 'Room not found' };
        const m = room.members.get(username);
        if (!m || m.nodeId !== nodeId) return { success: true, message: 'User not in room' };
        await this.appendAndPublish(room, { kind: 'member_left', username, nodeId, timestamp: pythonIsoNow(), reason });
        return { success: true, message: 'Member removed successfully' };
      },

      prepare_delete_room: (params): XmlRpcValue => {
        checkArity('prepare_delete_room', params, ['room_id', 'transaction_id', 'coordinator_node']);
        const roomId = stringParam(params, 0, 'room_id');
        const tx = stringParam(params, 1, 'transaction_id', 128);
        const room = this.localRoom(roomId);
        if (room) {
          if (room.state !== 'ACTIVE') return { vote: 'ABORT', node_id: self, transaction_id: tx, reason: `Room in ${room.state} state` };
          room.state = 'DELETION_PENDING';
          room.pendingTx = tx;
        } else {
          this.preparedRemote.set(roomId, tx);
          // A replica here (issue 6) is frozen like the admin's copy: no joins or sends through us.
          const replica = this.store.get(roomId);
          if (replica && replica.state === 'ACTIVE') {
            replica.state = 'DELETION_PENDING';
            replica.pendingTx = tx;
          }
        }
        return { vote: 'READY', node_id: self, transaction_id: tx };
      },

      commit_delete_room: (params): XmlRpcValue => {
        checkArity('commit_delete_room', params, ['room_id', 'transaction_id', 'room_name'], 2);
        const roomId = stringParam(params, 0, 'room_id');
        const tx = stringParam(params, 1, 'transaction_id', 128);
        const room = this.localRoom(roomId);
        // Only the transaction that was prepared commits (§9.8: any id deleted any room).
        if (room) {
          if (room.pendingTx !== tx) return { success: false, node_id: self };
          this.store.remove(roomId);
        } else {
          if (this.preparedRemote.get(roomId) !== tx) return { success: false, node_id: self };
          this.preparedRemote.delete(roomId);
          // The replicated deletion follows from the admin; until it lands the copy is gone for clients.
          const replica = this.store.get(roomId);
          if (replica) replica.state = 'COMMITTING';
        }
        const roomName = room?.roomName ?? (typeof params[2] === 'string' ? params[2] : '');
        this.deliverLocal(roomId, JSON.stringify({ type: 'room_deleted', data: { room_id: roomId, room_name: roomName, transaction_id: tx } }));
        this.dropLocalRoom(roomId);
        return { success: true, node_id: self };
      },

      rollback_delete_room: (params): XmlRpcValue => {
        checkArity('rollback_delete_room', params, ['room_id', 'transaction_id']);
        const roomId = stringParam(params, 0, 'room_id');
        const tx = stringParam(params, 1, 'transaction_id', 128);
        const room = this.localRoom(roomId);
        if (room) {
          if (room.pendingTx === tx) {
            room.state = 'ACTIVE';
            room.pendingTx = undefined;
          }
        } else if (this.preparedRemote.get(roomId) === tx) {
          this.preparedRemote.delete(roomId);
          const replica = this.store.get(roomId);
          if (replica && replica.pendingTx === tx) {
            replica.state = 'ACTIVE';
            replica.pendingTx = undefined;
          }
          this.deliverLocal(roomId, JSON.stringify({ type: 'delete_room_cancelled', data: { room_id: roomId, transaction_id: tx } }));
        }
        return { success: true, node_id: self };
      },

      /** Extension: deletion requested by a creator connected to another of our nodes. */
      swarmchat_delete_room: async (params): Promise<XmlRpcValue> => {
        checkArity('swarmchat_delete_room', params, ['room_id', 'username', 'origin_node']);
        const roomId = stringParam(params, 0, 'room_id');
        const username = stringParam(params, 1, 'username', maxName);
        const origin = stringParam(params, 2, 'origin_node', 128);
        const room = this.localRoom(roomId);
        if (!room) return { success: false, reason: 'Room not found', error_code: 'ROOM_NOT_FOUND' };
        const m = room.members.get(username);
        if (username !== room.creatorId || !m || m.nodeId !== origin) {
          return { success: false, reason: 'Only the room creator can delete the room', error_code: 'UNAUTHORIZED' };
        }
        if (room.state !== 'ACTIVE') return { success: false, reason: `Room is in ${room.state} state, cannot delete`, error_code: 'INVALID_STATE' };
        const r = await this.coordinateDelete(room, username, () => undefined);
        return r.ok
          ? { success: true, transaction_id: r.tx }
          : { success: false, transaction_id: r.tx, reason: r.reason, error_code: 'DELETION_FAILED' };
      },
    };
  }

  /**
   * The admin's side of a forwarded send: the original's checks in its order, then sequencing.
   * A signed caller may only send for members on its own node (§9.8).
   */
  private async admitForward(roomId: string, username: string, content: XmlRpcValue | undefined, nodeId: string, caller: string | undefined): Promise<Struct> {
    const fail = (error: string, error_code: string) => ({ success: false, error, error_code });
    if (content === null || content === '' || content === undefined) return fail('Message content cannot be empty', 'INVALID_CONTENT');
    if (typeof content !== 'string') return fail('Message content must be a string', 'INVALID_CONTENT');
    if ([...content].length > this.cfg.maxContentChars) return fail(`Message content too long (max ${this.cfg.maxContentChars} characters)`, 'INVALID_CONTENT');
    const room = this.localRoom(roomId);
    if (!room) return fail('Room not found', 'ROOM_NOT_FOUND');
    const m = room.members.get(username);
    if (!m || m.nodeId !== nodeId || (caller !== undefined && caller !== nodeId)) return fail('You are not a member of this room', 'NOT_MEMBER');
    if (room.state !== 'ACTIVE') return fail('Room is being deleted', 'INVALID_STATE');
    try {
      const c = await this.appendAndPublish(room, { kind: 'message', draft: { username, content } });
      const msg = (c.entry as { message: ChatMessage }).message;
      return { success: true, message_id: msg.message_id, sequence_number: msg.sequence_number, timestamp: msg.timestamp };
    } catch (err) {
      this.log.warn('message not committed', { room_id: roomId, err: errText(err) });
      return fail('Failed to add message', 'INTERNAL_ERROR');
    }
  }

  /** Sends forward_message as a stream item to one of our nodes and waits for its result item. */
  private forwardViaStream(admin: string, roomId: string, username: string, content: string): Promise<XmlRpcValue> {
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingForwards.delete(requestId);
        reject(new Error(`no answer from ${admin} within ${this.cfg.peerCallTimeoutMs} ms`));
      }, this.cfg.peerCallTimeoutMs);
      this.pendingForwards.set(requestId, (result) => {
        clearTimeout(timer);
        this.pendingForwards.delete(requestId);
        resolve(result);
      });
      if (!this.peers.post(admin, 'swarmchat_forward', [requestId, roomId, username, content, this.selfId])) {
        clearTimeout(timer);
        this.pendingForwards.delete(requestId);
        reject(new Error(`no address known for node ${admin}`));
      }
    });
  }

  // ------------------------------------------------------------------------------ shutdown

  /** Closes every client connection (which tells admins of remote rooms they left) and stops timers. */
  closeAllSessions(code: number, reason: string): void {
    for (const s of [...this.sessions]) {
      try {
        s.ws.close(code, reason);
      } catch {
        /* already closing */
      }
      this.onClose(s);
    }
  }
}

// ------------------------------------------------------------------------------ wire helpers

function errText(err: unknown): string {
  if (err instanceof XmlRpcFault) return err.faultString;
  return err instanceof Error ? err.message : String(err);
}

function roomInfoData(info: Struct | ReturnType<Room['info']>): ServerFrame['data'] & { room_id: string } {
  const i = info as Record<string, unknown>;
  const members = Array.isArray(i.members) ? i.members.filter((m): m is string => typeof m === 'string') : [];
  const data: Record<string, unknown> = {
    room_id: String(i.room_id ?? ''),
    room_name: String(i.room_name ?? ''),
    description: typeof i.description === 'string' ? i.description : null,
    members,
    member_count: typeof i.member_count === 'number' ? i.member_count : members.length,
    admin_node: String(i.admin_node ?? ''),
  };
  if (typeof i.creator_id === 'string') data.creator_id = i.creator_id;
  return data as ServerFrame['data'] & { room_id: string };
}

export function toChatMessage(v: XmlRpcValue | undefined, roomId: string): ChatMessage | undefined {
  if (!isStruct(v)) return undefined;
  const { message_id, username, content, sequence_number, timestamp } = v;
  if (typeof message_id !== 'string' || typeof username !== 'string' || typeof content !== 'string') return undefined;
  if (typeof sequence_number !== 'number' || !Number.isInteger(sequence_number) || sequence_number < 1) return undefined;
  return { message_id, room_id: roomId, username, content, sequence_number, timestamp: typeof timestamp === 'string' ? timestamp : '' };
}

function toRoomSummary(v: XmlRpcValue): RoomSummary | undefined {
  if (!isStruct(v)) return undefined;
  const { room_id, room_name, description, member_count, admin_node, creator_id, node_address } = v;
  if (typeof room_id !== 'string' || typeof room_name !== 'string' || typeof admin_node !== 'string') return undefined;
  const s: RoomSummary = {
    room_id,
    room_name,
    description: typeof description === 'string' ? description : null,
    member_count: typeof member_count === 'number' ? member_count : 0,
    admin_node,
    creator_id: typeof creator_id === 'string' ? creator_id : '',
  };
  if (typeof node_address === 'string') s.node_address = node_address;
  return s;
}
