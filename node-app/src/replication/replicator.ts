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
import { COMPACT_EVERY_MS, Compactor, KEEP_EVERYTHING } from './compaction';
import { Election } from './election';
import { Engine, type ReplicatorOptions, type ReplicatorStats, ReplicationError, shuttingDown } from './engine';
import { Follower } from './follower';
import { PeerChannels } from './peer-channel';
import { SnapshotTransfer } from './snapshot-transfer';
import type { Role } from './room-state';
import { replicationHandlers, type ReplicationHandler } from './rpc-handlers';
import { SubmitRouter, type SubmitOptions } from './submit-router';
import { type AppendItem, METHOD_REPL, encodeItem } from './wire';

export { ReplicationError } from './engine';
export type { ReplicationPeer, ReplicatorOptions, ReplicatorStats, SubmitValidator } from './engine';
export type { SubmitOptions } from './submit-router';

export class Replicator extends EventEmitter {
  readonly selfId: string;
  readonly store: RoomLogStore;
  readonly stats: ReplicatorStats;
  private readonly e: Engine;
  private readonly clock: Clock;
  private readonly router: SubmitRouter;
  private readonly compactor: Compactor;
  private timers: Timer[] = [];
  /**
   * Since when this node is counted by every peer that answers: its start, or when the last peer
   * that refused it started counting it. Readiness waits one election timeout from here.
   */
  private countedSinceMs = 0;
  private refused = false;

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
    e.snapshots = new SnapshotTransfer(e);
    this.compactor = new Compactor(e, opts.retention ?? KEEP_EVERYTHING, opts.wallClock ?? (() => Date.now()));
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
    // Just started: a room whose admin has not reached this node yet is not in its log (a restart
    // without DATA_DIR has none), so "every room caught up" means nothing before they had time to.
    this.countedSinceMs = now;
    for (const id of this.store.roomIds()) e.loadRoom(id, now);
    this.timers.push(this.clock.every(e.cfg.heartbeatMs, () => e.channels.heartbeatTick()));
    this.timers.push(this.clock.every(Math.max(10, Math.floor(e.cfg.heartbeatMs / 2)), () => e.election.tick()));
    if (this.compactor.enabled) this.timers.push(this.clock.every(COMPACT_EVERY_MS, () => this.compactor.tick()));
  }

  /**
   * Graceful hand-over before a planned stop (rolling update): every room this node administers
   * gets its committed state pushed to the followers with a "resign" flag, and they elect a
   * successor at once instead of waiting for the election timeout. Bounded by `timeoutMs`.
   */
  async resign(timeoutMs = 1000): Promise<void> {
    const e = this.e;
    const led = [...e.rooms.values()].filter((rt) => rt.role === 'leader' && !rt.deleted);
    if (led.length === 0 || led.every((rt) => e.members.alone(rt))) return;
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

  /** Last index of the room's snapshot here (entries up to it are compacted away; 0 = none). */
  snapshotIndex(roomId: string): number {
    return this.e.rooms.get(roomId)?.snapIndex ?? 0;
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

  /** The room's voters as this node's log has them (latest configuration, committed or not). */
  votersOf(roomId: string): string[] | undefined {
    const rt = this.e.rooms.get(roomId);
    return rt ? [...this.e.members.votersOf(rt)] : undefined;
  }

  /**
   * Whether this node may serve clients: every live room is caught up with its admin (or led
   * here) and counts this node among its voters in a committed configuration (the others count
   * it). Otherwise the rooms it waits for and why: `not_a_voter` (a new node still a learner, or a
   * node being removed) or `catching_up` (behind, or its configuration not committed yet).
   */
  readiness(): { ready: boolean; notCountedBy: string[]; waiting: { room_id: string; reason: 'catching_up' | 'not_a_voter' }[] } {
    const e = this.e;
    const waiting: { room_id: string; reason: 'catching_up' | 'not_a_voter' }[] = [];
    // Peers that refuse our calls as "not a peer": with a majority of them, we are being added or removed.
    const notCountedBy = e.channels.notCountedBy();
    const counted = e.members.voterCount - notCountedBy.length;
    for (const rt of e.rooms.values()) {
      if (rt.deleted) continue;
      if (counted < e.members.majorityOf(rt) || !e.members.isVoter(rt, this.selfId)) waiting.push({ room_id: rt.id, reason: 'not_a_voter' });
      // A voter by a configuration not committed yet (just added, or after a crash) is not counted by all yet.
      else if (rt.configIdx > rt.commitIndex || (rt.role !== 'leader' && !rt.caughtUp)) waiting.push({ room_id: rt.id, reason: 'catching_up' });
    }
    // Every answering peer must count us: one that does not (not rolled onto the new topology yet) leads
    // rooms it never sends us, so we would not hold every room; while it is being removed, we drain.
    // Just started or just counted by all: every admin sends its rooms within a full heartbeat (4
    // ticks); give them one election timeout to arrive, so "every room" includes rooms not seen yet.
    const now = this.clock.now();
    if (notCountedBy.length > 0) this.refused = true;
    else if (this.refused) {
      this.refused = false;
      this.countedSinceMs = now;
    }
    const settled = now - this.countedSinceMs >= e.cfg.electionBaseMs;
    const ready = waiting.length === 0 && notCountedBy.length === 0 && settled;
    return { ready, notCountedBy, waiting };
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
    // A new room starts with this node's cluster view as its voters.
    rt.voters = [...e.members.clusterView];
    rt.configIdx = 1;
    e.election.becomeLeader(rt, { kind: 'create', data: { ...data, admin_node: this.selfId, voters: rt.voters } });
    return e.commitment.waitCommit(rt, 1, 1);
  }

  /** See SubmitRouter.submit: through the current admin, surviving admin changes; resolves when committed. */
  submit(roomId: string, kind: EntryKind, data: Record<string, unknown>, opts: SubmitOptions = {}): Promise<LogEntry> {
    return this.router.submit(roomId, kind, data, opts);
  }
}
