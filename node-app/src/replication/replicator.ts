/**
 * Per-room replicated log (Raft per room) over the peer link, on the durable RoomLogStore: the
 * engine's public face. It builds the parts, runs the clock's two ticks (heartbeat, election)
 * and answers the node's questions; the work is in the parts:
 *   election.ts      roles, terms, pre-vote and vote, stepping down, the quorum check
 *   commitment.ts    the admin's log, the flush (one transaction per turn), the commit index
 *   peer-channel.ts  per-peer batching, backlog, heartbeats, what is in flight
 *   follower.ts      accepting appends, catching up, hand-over on resign
 *   submit-router.ts client requests to the admin, wherever it is
 *   rpc-handlers.ts  the XML-RPC methods peers call
 *   room-watch.ts    waiting on a room's state;  clock.ts  time, injected
 * Events: `applied` (AppliedEntry, per committed entry in log order), `admin` ({roomId, adminId, term}).
 */
import { EventEmitter } from 'node:events';
import type { EntryKind, LogEntry, RoomLogStore } from '../storage/room-log-store';
import { pythonIsoNow } from '../util/time';
import { type Clock, type Timer, systemClock } from './clock';
import { Commitment } from './commitment';
import { Election } from './election';
import { Engine, type ReplicatorOptions, type ReplicatorStats, ReplicationError, shuttingDown } from './engine';
import { Follower } from './follower';
import { PeerChannels } from './peer-channel';
import type { Role } from './room-state';
import { replicationHandlers, type ReplicationHandler } from './rpc-handlers';
import { SubmitRouter } from './submit-router';
import { type AppendItem, METHOD_REPL, encodeItem } from './wire';

export { ReplicationError } from './engine';
export type { ReplicationPeer, ReplicatorOptions, ReplicatorStats, SubmitValidator } from './engine';

export class Replicator extends EventEmitter {
  readonly selfId: string;
  readonly store: RoomLogStore;
  readonly stats: ReplicatorStats;
  private readonly e: Engine;
  private readonly clock: Clock;
  private readonly router: SubmitRouter;
  private timers: Timer[] = [];

  constructor(opts: ReplicatorOptions) {
    super();
    this.selfId = opts.selfId;
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    const e = new Engine(
      opts.selfId, opts.store, opts.peers.map((p) => p.id), this.clock,
      {
        heartbeatMs: opts.heartbeatMs ?? 100,
        electionBaseMs: opts.electionBaseMs ?? 700,
        electionStepMs: opts.electionStepMs ?? 300,
        electionJitterMs: opts.electionJitterMs ?? 100,
        callTimeoutMs: opts.callTimeoutMs ?? 600,
        submitTimeoutMs: opts.submitTimeoutMs ?? 8000,
        maxEntriesPerItem: opts.maxEntriesPerItem ?? 256,
      },
      (event, payload) => this.emit(event, payload),
      opts.random ?? Math.random,
      opts.timestamp ?? (() => pythonIsoNow()),
      opts.logger?.child({ component: 'replication' }),
      opts.validate,
    );
    e.election = new Election(e);
    e.commitment = new Commitment(e);
    e.channels = new PeerChannels(e, opts.peers);
    e.follower = new Follower(e);
    this.e = e;
    this.stats = e.stats;
    this.router = new SubmitRouter(e);
  }

  get voterCount(): number {
    return this.e.members.voterCount;
  }

  /** Loads every room from the store as a follower (nobody is admin after a restart until elected). */
  start(): void {
    const e = this.e;
    const now = this.clock.now();
    for (const id of this.store.roomIds()) e.loadRoom(id, now);
    this.timers.push(this.clock.every(e.cfg.heartbeatMs, () => e.channels.heartbeatTick()));
    this.timers.push(this.clock.every(Math.max(10, Math.floor(e.cfg.heartbeatMs / 2)), () => e.election.tick()));
  }

  /**
   * Graceful hand-over before a planned stop (rolling update): every room this node administers
   * gets its committed state pushed to the followers with a "resign" flag, and they elect a
   * successor at once instead of waiting for the election timeout. Bounded by `timeoutMs`.
   */
  async resign(timeoutMs = 1000): Promise<void> {
    const e = this.e;
    const led = [...e.rooms.values()].filter((rt) => rt.role === 'leader' && !rt.deleted);
    if (led.length === 0 || e.members.voterCount === 1) return;
    // Let entries already accepted commit first, so the hand-over loses nothing in flight.
    const deadline = this.clock.now() + timeoutMs;
    await Promise.all(led.map((rt) => this.waitCommitted(rt.id, rt.lastIndex, Math.max(0, (deadline - this.clock.now()) / 2))));
    const calls: Promise<unknown>[] = [];
    for (const peer of e.channels.peers()) {
      const items: AppendItem[] = [];
      for (const rt of led) {
        if (rt.role !== 'leader') continue;
        const prevIndex = rt.durableIndex;
        items.push({ k: 'a', room: rt.id, term: rt.term, prevIndex, prevTerm: this.store.termAt(rt.id, prevIndex) ?? 0, commit: rt.commitIndex, entries: [], resign: true });
      }
      if (items.length === 0) continue;
      calls.push(peer.call(METHOD_REPL, [this.selfId, items.map(encodeItem)], { timeoutMs: Math.max(50, deadline - this.clock.now()) }).catch(() => undefined));
    }
    for (const rt of led) if (rt.role === 'leader') e.election.stepDown(rt, rt.term, null);
    // Stepped down: do not compete in the election that follows.
    for (const rt of led) rt.electionDeadlineMs = Number.MAX_SAFE_INTEGER;
    e.resigned = true;
    await Promise.all(calls);
    e.log?.info('replication: resigned as admin', { rooms: led.length });
  }

  stop(): void {
    this.e.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    for (const rt of this.e.rooms.values()) this.e.commitment.failWaiters(rt, shuttingDown());
  }

  // ------------------------------------------------------------------ queries

  /** Handlers to register on the peer server (PeerServer handlers map). */
  handlers(): Record<string, ReplicationHandler> {
    return replicationHandlers(this.e);
  }

  adminOf(roomId: string): string | null {
    return this.e.rooms.get(roomId)?.adminId ?? null;
  }

  isAdmin(roomId: string): boolean {
    return this.e.rooms.get(roomId)?.role === 'leader';
  }

  knowsRoom(roomId: string): boolean {
    return this.e.rooms.has(roomId);
  }

  roomStatus(roomId: string): { role: Role; term: number; admin: string | null; lastIndex: number; commitIndex: number; caughtUp: boolean } | undefined {
    const rt = this.e.rooms.get(roomId);
    if (!rt) return undefined;
    return { role: rt.role, term: rt.term, admin: rt.adminId, lastIndex: rt.lastIndex, commitIndex: rt.commitIndex, caughtUp: rt.caughtUp || rt.role === 'leader' };
  }

  roomIds(): string[] {
    return [...this.e.rooms.keys()];
  }

  /**
   * True when `nodeId` is one of our voting peers and has answered no replication call for two
   * election timeouts (so it is dead, frozen or cut off). Unknown nodes are not reported down.
   */
  peerDown(nodeId: string): boolean {
    const lastOk = this.e.channels.lastOkMs(nodeId);
    return lastOk !== undefined && this.clock.now() - lastOk > this.e.cfg.electionBaseMs * 2;
  }

  isPeer(nodeId: string): boolean {
    return this.e.members.isPeer(nodeId);
  }

  /** Every live room has an admin this node has caught up with (or is its admin): safe to serve. */
  caughtUpAll(): boolean {
    for (const rt of this.e.rooms.values()) {
      if (rt.deleted || rt.role === 'leader') continue;
      if (!rt.caughtUp) return false;
    }
    return true;
  }

  /**
   * What a catching-up node still waits for (the readiness diagnostic): each room not caught up
   * (role, term, the admin it knows, ms since it last heard one, commit index) and each peer's
   * last successful call (ms ago, failures in a row).
   */
  catchUpReport(): { rooms: Record<string, unknown>[]; peers: Record<string, unknown>[] } {
    const now = this.clock.now();
    const rooms: Record<string, unknown>[] = [];
    for (const rt of this.e.rooms.values()) {
      if (rt.deleted || rt.role === 'leader' || rt.caughtUp) continue;
      rooms.push({
        room_id: rt.id, role: rt.role, term: rt.term, admin: rt.adminId,
        heard_ms_ago: rt.lastHeardMs ? now - rt.lastHeardMs : null, commit_index: rt.commitIndex, election: rt.electionPhase,
      });
    }
    return { rooms, peers: this.e.channels.report(now) };
  }

  /**
   * Resolves once this node has caught up with the room's current admin (it has every entry the
   * admin had committed when it last heard from it), or is the admin; false on timeout.
   */
  waitCaughtUp(roomId: string, timeoutMs: number): Promise<boolean> {
    return this.e.watch.waitFor(roomId, timeoutMs, () => {
      const rt = this.e.rooms.get(roomId);
      return !!rt && (rt.role === 'leader' || rt.caughtUp);
    });
  }

  waitForRoom(roomId: string, timeoutMs: number): Promise<boolean> {
    return this.router.waitForRoom(roomId, timeoutMs);
  }

  waitCommitted(roomId: string, idx: number, timeoutMs: number): Promise<boolean> {
    return this.router.waitCommitted(roomId, idx, timeoutMs);
  }

  // ------------------------------------------------------------------ writes

  /** Creates a room administered by this node (term 1); resolves when the creation is committed. */
  async createRoom(roomId: string, data: { room_name: string; description: string | null; creator_id: string; created_at: string }): Promise<LogEntry> {
    const e = this.e;
    if (e.rooms.has(roomId)) throw new ReplicationError('ROOM_EXISTS', `room ${roomId} already exists`);
    const rt = e.newRoom(roomId, this.clock.now());
    rt.term = 1;
    rt.votedFor = this.selfId;
    this.store.setTermAndVote(roomId, 1, this.selfId);
    e.election.becomeLeader(rt, { kind: 'create', data: { ...data, admin_node: this.selfId } });
    return e.commitment.waitCommit(rt, 1, 1);
  }

  /** See SubmitRouter.submit: through the current admin, surviving admin changes; resolves when committed. */
  submit(roomId: string, kind: EntryKind, data: Record<string, unknown>): Promise<LogEntry> {
    return this.router.submit(roomId, kind, data);
  }
}
