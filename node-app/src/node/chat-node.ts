/**
 * The chat node: lifecycle and dispatch. It holds the client connections, checks each frame
 * (protocol/schemas.ts), queues it per connection so replies keep request order, and hands it to
 * its flow; peers' XML-RPC calls go to rpc/. Where the rest lives:
 *   flows/          one client request each (create, join, leave, send, history, delete, list/discover)
 *   rpc/            the XML-RPC methods peers call (node-app/PROTOCOL.md §3), by concern
 *   remote-rooms    rooms administered elsewhere: admin cache, discovery, recent-message windows
 *   publish         committed entries to local connections and member nodes; delivery.ts writes them
 *   rejoins         live members wrongly removed as unreachable join again
 *   forwarding      sends forwarded to another node's room, both ends
 *   room-deletion   two-phase deletion, coordinator and participant
 *   failure-sweeps  heartbeat failures and inactivity
 *   node-context    what these share; rooms/room-store.ts is the one seam to the rooms
 *
 * Data flows one way: socket -> schema check -> flow -> room store (the append seam) -> local
 * sockets + ordered peer streams. A room's administrator is the only writer of its sequence.
 */
import type { NodeConfig } from '../config';
import type { Logger } from '../log';
import type { PeerHandler } from '../peers/peer-server';
import type { ClientRequest } from '../protocol/messages';
import type { Room } from '../rooms/room';
import type { AppendInput, RoomStore } from '../rooms/room-store';
import { ClientSession, type LocalRegistry } from './client-session';
import { createRoom } from './flows/create-room';
import { deleteRoom } from './flows/delete-room';
import { getHistory } from './flows/get-history';
import { joinRoom } from './flows/join-room';
import { leaveAllOnClose, leaveRoom } from './flows/leave-room';
import { discoverRooms, listRooms } from './flows/list-rooms';
import { pipelineSend } from './flows/send-message';
import { NodeContext } from './node-context';
import type { NodeMetrics } from './node-metrics';
import type { PeerDirectory } from './peer-directory';
import { nodeRpcHandlers } from './rpc';

/** Queued requests of one connection at which the node stops reading its socket (TCP backpressure). */
const PAUSE_READING_AT = 128;

export class ChatNode {
  readonly sessions = new Set<ClientSession>();
  private readonly ctx: NodeContext;
  private nextSessionId = 1;

  constructor(
    private readonly cfg: NodeConfig,
    readonly store: RoomStore,
    peers: PeerDirectory,
    private readonly log: Logger,
    private readonly metrics: NodeMetrics,
  ) {
    this.ctx = new NodeContext(cfg, store, peers, log, metrics);
  }

  get selfId(): string {
    return this.cfg.nodeId;
  }

  get registry(): LocalRegistry {
    return this.ctx.registry;
  }

  /** Set at shutdown: no new rooms, no re-joins. */
  get shuttingDown(): boolean {
    return this.ctx.shuttingDown;
  }

  set shuttingDown(v: boolean) {
    this.ctx.shuttingDown = v;
  }

  start(): void {
    this.ctx.sweeps.start();
  }

  stopTimers(): void {
    this.ctx.sweeps.stop();
  }

  /** Rooms this node administers (a replicating store may also hold copies of others' rooms). */
  localRooms(): Room[] {
    return this.ctx.localRooms();
  }

  /** Appends to a room and publishes the entry once committed (see publish.ts). */
  appendAndPublish(room: Room, input: AppendInput, opts: { exceptNode?: string } = {}) {
    return this.ctx.publisher.appendAndPublish(room, input, opts);
  }

  /** Removes idle members and idle empty rooms now (the timer calls this every CLEANUP_INTERVAL_MS). */
  sweepInactive(now = Date.now()): void {
    this.ctx.sweeps.sweepInactive(now);
  }

  /** The XML-RPC methods this node serves (rpc/). */
  rpcHandlers(): Record<string, PeerHandler> {
    return nodeRpcHandlers(this.ctx);
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
    const ctx = this.ctx;
    if (req.type === 'send_message') return pipelineSend(ctx, session, req);
    // Anything else sees the effects of this connection's earlier sends (e.g. a leave after a send).
    await session.sendsSettled();
    try {
      switch (req.type) {
        case 'list_rooms':
          return listRooms(ctx, session);
        case 'discover_rooms':
          return await discoverRooms(ctx, session);
        case 'create_room':
          return await createRoom(ctx, session, req);
        case 'join_room':
          return await joinRoom(ctx, session, req);
        case 'leave_room':
          return await leaveRoom(ctx, session, req);
        case 'delete_room':
          return await deleteRoom(ctx, session, req);
        case 'get_history':
          return await getHistory(ctx, session, req);
      }
    } catch (err) {
      this.log.error('client request failed', { session: session.id, req: requestId, type: req.type, room_id: roomId, err });
      session.sendFrame({ type: 'error', data: { success: false, message: 'Internal server error' } });
    }
  }

  /** A closed connection leaves every room it joined (§2.9). */
  onClose(session: ClientSession): void {
    if (!this.sessions.delete(session)) return;
    session.closed = true;
    leaveAllOnClose(this.ctx, session);
  }

  /** Resolves when the background peer work started so far has finished. */
  drain(): Promise<void> {
    return this.ctx.drain();
  }

  // ------------------------------------------------------------------------------ shutdown

  /** Closes every client connection (which tells admins of remote rooms they left). */
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
