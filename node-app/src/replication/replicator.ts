/**
 * Per-room replicated log (Raft per room) over the peer link, on the durable RoomLogStore.
 *
 * Every room has an admin (Raft leader) for a term. A client request becomes a log entry on the
 * admin; it is committed once a majority of the voting nodes (the admin included) stored it in
 * SQLite; only then does `submit` resolve (→ `message_sent`) and does every node apply it and
 * deliver it (`applied` events, in log order). Admin failure → pre-vote + election among the
 * survivors; the voter only votes for a candidate whose log is at least as up to date, so every
 * committed entry survives and sequence numbers continue without gap or reuse. A deposed admin's
 * appends carry a stale term and are refused (fencing).
 *
 * Traffic: one `swarmchat_repl` call per peer in flight at a time, carrying every room's pending
 * appends, heartbeats and votes; what piles up while it is in flight goes in the next one. One
 * SQLite transaction per incoming call and per local flush, so a burst costs one fsync.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import { pythonIsoNow } from '../util/time';
import type { AppliedEntry, EntryKind, LogEntry, RoomLogStore } from '../storage/room-log-store';
import {
  checkAppend, decideVote, electionTimeoutMs, firstNewEntry, majorityCommitIndex, successorRank,
} from './raft-rules';
import {
  AppendItem, METHOD_REPL, METHOD_SUBMIT, METHOD_SUBMIT_BATCH, ReplItem, SubmitReply, VoteItem, VoteResult, WireError,
  decodeAppendResult, decodeItem, decodeSubmitReply, decodeVoteResult, encodeAppendResult, encodeItem,
  encodeSubmitReply, encodeVoteResult, ENTRY_KINDS,
} from './wire';

/** A voting peer (another swarm-chat node). `call` is PeerLink.call in production. */
export interface ReplicationPeer {
  id: string;
  call(method: string, params: XmlRpcValue[], opts: { timeoutMs: number }): Promise<XmlRpcValue>;
}

export class ReplicationError extends Error {
  constructor(readonly code: string, message: string, readonly retryable = false) {
    super(message);
    this.name = 'ReplicationError';
  }
}

/** Rejects a request before it is logged (e.g. NOT_MEMBER); runs on the admin, against committed state. */
export type SubmitValidator = (roomId: string, kind: EntryKind, data: Record<string, unknown>, store: RoomLogStore) => void;

export interface ReplicatorOptions {
  selfId: string;
  store: RoomLogStore;
  /** The other voting (swarm-chat) nodes; original Python peers are not voters. */
  peers: ReplicationPeer[];
  logger?: Logger;
  heartbeatMs?: number;
  /** Election timeout = base + step × successor rank + jitter. */
  electionBaseMs?: number;
  electionStepMs?: number;
  electionJitterMs?: number;
  callTimeoutMs?: number;
  submitTimeoutMs?: number;
  maxEntriesPerItem?: number;
  /** Seedable source of randomness for the election jitter. */
  random?: () => number;
  timestamp?: () => string;
  validate?: SubmitValidator;
}

type Role = 'follower' | 'candidate' | 'leader';

interface Waiter { idx: number; term: number; resolve(e: LogEntry): void; reject(err: Error): void }

interface RoomRt {
  id: string;
  role: Role;
  term: number;
  votedFor: string | null;
  adminId: string | null;
  lastIndex: number;
  lastTerm: number;
  /** Leader only: entries up to here are in SQLite; above, they wait for the next flush. */
  durableIndex: number;
  commitIndex: number;
  lastSeq: number;
  lastHeardMs: number;
  electionDeadlineMs: number;
  /** Term a pre-vote / vote round is running for (0 = none). */
  electionTerm: number;
  /** Which round of the election for `electionTerm` runs: pre-vote, then the real vote. */
  electionPhase: 'none' | 'pre' | 'vote';
  preVotes: Set<string>;
  votes: Set<string>;
  next: Map<string, number>;
  match: Map<string, number>;
  sentCommit: Map<string, number>;
  pending: LogEntry[];
  waiters: Waiter[];
  caughtUp: boolean;
  /** Its deletion is committed: no more elections or idle heartbeats for it. */
  deleted: boolean;
  /** Successor rank of this node for the room, computed for admin `rankFor`. */
  rank: number;
  rankFor: string | null;
}

interface ForwardItem {
  roomId: string;
  kind: EntryKind;
  json: string;
  resolve(r: SubmitReply): void;
  reject(err: Error): void;
}

interface Channel {
  peer: ReplicationPeer;
  inFlight: boolean;
  /** This heartbeat carries every led room (not just the node-level "alive"). */
  fullHeartbeat: boolean;
  /** Client requests waiting to be forwarded to this peer as admin, and whether a batch is out. */
  forwards: ForwardItem[];
  forwardInFlight: boolean;
  heartbeatDue: boolean;
  votes: { item: VoteItem; done(r: VoteResult | null): void }[];
  lastOkMs: number;
  failures: number;
}

const NOT_LEADER = 'NOT_LEADER';
const FULL_HEARTBEAT_EVERY = 4;
/** JSON size of the entries one replication call carries (≈ XML body ≤ 5 × this in the worst case). */
const MAX_CALL_JSON_BYTES = 512 * 1024;

export interface ReplicatorStats {
  rooms: number;
  leaderOf: number;
  elections: number;
  replCalls: number;
  replCallErrors: number;
  entriesSent: number;
  flushes: number;
}

export class Replicator extends EventEmitter {
  readonly selfId: string;
  readonly store: RoomLogStore;
  private readonly peers: ReplicationPeer[];
  private readonly log?: Logger;
  private readonly hbMs: number;
  private readonly elBase: number;
  private readonly elStep: number;
  private readonly elJitter: number;
  private readonly callTimeoutMs: number;
  private readonly submitTimeoutMs: number;
  private readonly maxEntries: number;
  private readonly random: () => number;
  private readonly timestamp: () => string;
  private readonly validate?: SubmitValidator;
  private readonly rooms = new Map<string, RoomRt>();
  private readonly channels = new Map<string, Channel>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private timers: NodeJS.Timeout[] = [];
  private flushScheduled = false;
  private heartbeats = 0;
  private stopped = false;
  /** After resign(): this node is leaving and stands in no election. */
  private resigned = false;
  readonly stats: ReplicatorStats = { rooms: 0, leaderOf: 0, elections: 0, replCalls: 0, replCallErrors: 0, entriesSent: 0, flushes: 0 };

  constructor(opts: ReplicatorOptions) {
    super();
    this.selfId = opts.selfId;
    this.store = opts.store;
    this.peers = opts.peers;
    this.log = opts.logger?.child({ component: 'replication' });
    this.hbMs = opts.heartbeatMs ?? 100;
    this.elBase = opts.electionBaseMs ?? 700;
    this.elStep = opts.electionStepMs ?? 300;
    this.elJitter = opts.electionJitterMs ?? 100;
    this.callTimeoutMs = opts.callTimeoutMs ?? 600;
    this.submitTimeoutMs = opts.submitTimeoutMs ?? 8000;
    this.maxEntries = opts.maxEntriesPerItem ?? 256;
    this.random = opts.random ?? Math.random;
    this.timestamp = opts.timestamp ?? (() => pythonIsoNow());
    this.validate = opts.validate;
    if (this.peers.some((p) => p.id === this.selfId)) throw new Error(`replication: peer list contains self (${this.selfId})`);
    for (const p of this.peers) {
      this.channels.set(p.id, { peer: p, inFlight: false, fullHeartbeat: true, forwards: [], forwardInFlight: false, heartbeatDue: true, votes: [], lastOkMs: 0, failures: 0 });
    }
  }

  get voterCount(): number {
    return this.peers.length + 1;
  }

  private get majority(): number {
    return Math.floor(this.voterCount / 2) + 1;
  }

  /** Loads every room from the store as a follower (nobody is admin after a restart until elected). */
  start(): void {
    const now = Date.now();
    for (const id of this.store.roomIds()) this.loadRoom(id, now);
    this.timers.push(setInterval(() => this.heartbeatTick(), this.hbMs));
    this.timers.push(setInterval(() => this.electionTick(), Math.max(10, Math.floor(this.hbMs / 2))));
    for (const t of this.timers) t.unref();
  }

  /**
   * Graceful hand-over before a planned stop (rolling update): every room this node administers
   * gets its committed state pushed to the followers with a "resign" flag, and they elect a
   * successor at once instead of waiting for the election timeout. Bounded by `timeoutMs`.
   */
  async resign(timeoutMs = 1000): Promise<void> {
    const led = [...this.rooms.values()].filter((rt) => rt.role === 'leader' && !rt.deleted);
    if (led.length === 0 || this.peers.length === 0) return;
    // Let entries already accepted commit first, so the hand-over loses nothing in flight.
    const deadline = Date.now() + timeoutMs;
    await Promise.all(led.map((rt) => this.waitCommitted(rt.id, rt.lastIndex, Math.max(0, (deadline - Date.now()) / 2))));
    const calls: Promise<unknown>[] = [];
    for (const ch of this.channels.values()) {
      const items: AppendItem[] = [];
      for (const rt of led) {
        if (rt.role !== 'leader') continue;
        const prevIndex = rt.durableIndex;
        items.push({ k: 'a', room: rt.id, term: rt.term, prevIndex, prevTerm: this.store.termAt(rt.id, prevIndex) ?? 0, commit: rt.commitIndex, entries: [], resign: true });
      }
      if (items.length === 0) continue;
      calls.push(ch.peer.call(METHOD_REPL, [this.selfId, items.map(encodeItem)], { timeoutMs: Math.max(50, deadline - Date.now()) }).catch(() => undefined));
    }
    for (const rt of led) if (rt.role === 'leader') this.stepDown(rt, rt.term, null);
    // Stepped down: do not compete in the election that follows.
    for (const rt of led) rt.electionDeadlineMs = Number.MAX_SAFE_INTEGER;
    this.resigned = true;
    await Promise.all(calls);
    this.log?.info('replication: resigned as admin', { rooms: led.length });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const rt of this.rooms.values()) this.failWaiters(rt, new ReplicationError('SHUTTING_DOWN', 'node is shutting down', true));
  }

  // ------------------------------------------------------------------ public queries

  /** Handlers to register on the peer server (PeerServer handlers map). */
  handlers(): Record<string, (params: XmlRpcValue[], ctx?: { peerId?: string; authenticated?: boolean }) => XmlRpcValue | Promise<XmlRpcValue>> {
    // When the link is signed, the signature names the caller: it must be the node the call claims to be from.
    const check = (params: XmlRpcValue[], ctx?: { peerId?: string; authenticated?: boolean }) => {
      if (ctx?.authenticated && ctx.peerId && params[0] !== ctx.peerId) {
        throw new WireError(`caller ${ctx.peerId} claims to be ${String(params[0])}`);
      }
    };
    return {
      [METHOD_REPL]: (params, ctx) => {
        check(params, ctx);
        return this.onRepl(params);
      },
      [METHOD_SUBMIT]: (params, ctx) => {
        check(params, ctx);
        return this.onSubmit(params);
      },
      [METHOD_SUBMIT_BATCH]: (params, ctx) => {
        check(params, ctx);
        return this.onSubmitBatch(params);
      },
    };
  }

  adminOf(roomId: string): string | null {
    return this.rooms.get(roomId)?.adminId ?? null;
  }

  isAdmin(roomId: string): boolean {
    return this.rooms.get(roomId)?.role === 'leader';
  }

  knowsRoom(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  roomStatus(roomId: string): { role: Role; term: number; admin: string | null; lastIndex: number; commitIndex: number; caughtUp: boolean } | undefined {
    const rt = this.rooms.get(roomId);
    if (!rt) return undefined;
    return { role: rt.role, term: rt.term, admin: rt.adminId, lastIndex: rt.lastIndex, commitIndex: rt.commitIndex, caughtUp: rt.caughtUp || rt.role === 'leader' };
  }

  roomIds(): string[] {
    return [...this.rooms.keys()];
  }

  /**
   * True when `nodeId` is one of our voting peers and has answered no replication call for two
   * election timeouts (so it is dead, frozen or cut off). Unknown nodes are not reported down.
   */
  peerDown(nodeId: string): boolean {
    const ch = this.channels.get(nodeId);
    return !!ch && Date.now() - ch.lastOkMs > this.elBase * 2;
  }

  isPeer(nodeId: string): boolean {
    return this.channels.has(nodeId);
  }

  /** Every live room has an admin this node has caught up with (or is its admin): safe to serve. */
  caughtUpAll(): boolean {
    for (const rt of this.rooms.values()) {
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
    const now = Date.now();
    const rooms: Record<string, unknown>[] = [];
    for (const rt of this.rooms.values()) {
      if (rt.deleted || rt.role === 'leader' || rt.caughtUp) continue;
      rooms.push({
        room_id: rt.id, role: rt.role, term: rt.term, admin: rt.adminId,
        heard_ms_ago: rt.lastHeardMs ? now - rt.lastHeardMs : null, commit_index: rt.commitIndex, election: rt.electionPhase,
      });
    }
    const peers = [...this.channels.entries()].map(([id, ch]) => ({ peer: id, ok_ms_ago: ch.lastOkMs ? now - ch.lastOkMs : null, failures: ch.failures }));
    return { rooms, peers };
  }

  /**
   * Resolves once this node has caught up with the room's current admin (it has every entry the
   * admin had committed when it last heard from it), or is the admin; false on timeout.
   */
  waitCaughtUp(roomId: string, timeoutMs: number): Promise<boolean> {
    return this.waitFor(roomId, timeoutMs, () => {
      const rt = this.rooms.get(roomId);
      return !!rt && (rt.role === 'leader' || rt.caughtUp);
    });
  }

  waitForRoom(roomId: string, timeoutMs: number): Promise<boolean> {
    return this.waitFor(roomId, timeoutMs, () => this.rooms.has(roomId));
  }

  waitCommitted(roomId: string, idx: number, timeoutMs: number): Promise<boolean> {
    return this.waitFor(roomId, timeoutMs, () => (this.rooms.get(roomId)?.commitIndex ?? 0) >= idx);
  }

  // ------------------------------------------------------------------ writes

  /** Creates a room administered by this node (term 1); resolves when the creation is committed. */
  async createRoom(roomId: string, data: { room_name: string; description: string | null; creator_id: string; created_at: string }): Promise<LogEntry> {
    if (this.rooms.has(roomId)) throw new ReplicationError('ROOM_EXISTS', `room ${roomId} already exists`);
    const rt = this.newRoom(roomId, Date.now());
    rt.term = 1;
    rt.votedFor = this.selfId;
    this.store.setTermAndVote(roomId, 1, this.selfId);
    this.becomeLeader(rt, { kind: 'create', data: { ...data, admin_node: this.selfId } });
    return this.waitCommit(rt, 1, 1);
  }

  /**
   * Appends `kind`/`data` to the room's log through its current admin, wherever that is, and
   * resolves with the committed entry. Survives admin changes: on a timeout or a new admin it
   * resubmits; messages carry their `message_id`, which the admin de-duplicates, so a resubmitted
   * message is logged once.
   */
  async submit(roomId: string, kind: EntryKind, data: Record<string, unknown>): Promise<LogEntry> {
    if (kind === 'create') throw new ReplicationError('INVALID_REQUEST', 'use createRoom');
    if (kind === 'message' && typeof data.message_id !== 'string') throw new ReplicationError('INVALID_REQUEST', 'message needs a message_id');
    const deadline = Date.now() + this.submitTimeoutMs;
    let lastError = 'no administrator reachable';
    let hinted: string | undefined;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.stopped) break;
      let rt = this.rooms.get(roomId);
      if (!rt) {
        if (!(await this.waitForRoom(roomId, Math.min(remaining, 1000)))) throw new ReplicationError('ROOM_NOT_FOUND', 'Room not found');
        rt = this.rooms.get(roomId) as RoomRt;
      }
      if (rt.role === 'leader') {
        try {
          return await this.leaderSubmit(rt, kind, data);
        } catch (err) {
          if (err instanceof ReplicationError && err.retryable) {
            lastError = err.message;
            continue;
          }
          throw err;
        }
      }
      // A node that answered NOT_LEADER may name the admin before our own view catches up.
      const followingHint = !!hinted && hinted !== this.selfId;
      const admin = followingHint ? (hinted as string) : rt.adminId;
      hinted = undefined;
      const ch = admin ? this.channels.get(admin) : undefined;
      if (!ch) {
        await this.waitAdminChange(roomId, admin, Math.min(remaining, 200));
        continue;
      }
      // "Changed" = our own view moved on to some third node (not merely: it differs from a hint we follow).
      const viewAtStart = rt.adminId;
      const changed = this.watch(roomId, remaining, () => {
        const r = this.rooms.get(roomId);
        return !!r && r.adminId !== null && r.adminId !== admin && r.adminId !== viewAtStart;
      });
      let reply: SubmitReply | 'changed' | 'failed';
      try {
        reply = await Promise.race([
          this.forward(ch, roomId, kind, JSON.stringify(data)),
          changed.promise.then((c) => (c ? ('changed' as const) : ('failed' as const))),
        ]);
      } catch (err) {
        lastError = `administrator ${admin} failed: ${(err as Error).message}`;
        reply = 'failed';
      } finally {
        changed.cancel();
      }
      if (reply === 'changed') continue;
      if (reply === 'failed') {
        // The admin is probably dead; an election will name a new one within the election timeout.
        await this.waitAdminChange(roomId, admin, Math.min(deadline - Date.now(), 150));
        continue;
      }
      if (reply.ok) {
        this.learnCommit(rt, reply.idx, reply.term);
        // Deliver locally before the caller acknowledges (the original sends new_message before message_sent).
        await this.waitCommitted(roomId, reply.idx, Math.min(500, Math.max(0, deadline - Date.now())));
        return reply.entry;
      }
      if (reply.code === NOT_LEADER || reply.code === 'SHUTTING_DOWN') {
        lastError = reply.message;
        // Follow a hint once; two nodes with stale views must not bounce the request between them.
        if (!reply.admin || reply.admin === admin || followingHint) await this.waitAdminChange(roomId, admin, Math.min(deadline - Date.now(), 150));
        else hinted = reply.admin;
        continue;
      }
      throw new ReplicationError(reply.code, reply.message);
    }
    throw new ReplicationError('ADMIN_NODE_UNAVAILABLE', `Administrator node unavailable (${lastError})`, true);
  }

  /**
   * Queues a client request for the admin behind `ch`. One batch call per admin is in flight at a
   * time; requests arriving meanwhile go together in the next one, so the admin appends them in
   * one flush (one fsync) and the link carries one HTTP exchange for many requests.
   */
  private forward(ch: Channel, roomId: string, kind: EntryKind, json: string): Promise<SubmitReply> {
    return new Promise((resolve, reject) => {
      ch.forwards.push({ roomId, kind, json, resolve, reject });
      if (!ch.forwardInFlight) {
        ch.forwardInFlight = true;
        setImmediate(() => this.sendForwards(ch));
      }
    });
  }

  private sendForwards(ch: Channel): void {
    let bytes = 0;
    let n = 0;
    while (n < ch.forwards.length && n < 512 && (n === 0 || bytes + ch.forwards[n].json.length < MAX_CALL_JSON_BYTES)) {
      bytes += ch.forwards[n].json.length;
      n++;
    }
    const batch = ch.forwards.splice(0, n);
    if (batch.length === 0 || this.stopped) {
      ch.forwardInFlight = false;
      for (const f of batch) f.reject(new ReplicationError('SHUTTING_DOWN', 'node is shutting down', true));
      return;
    }
    const items: XmlRpcValue[] = batch.map((f) => ({ r: f.roomId, k: f.kind, d: f.json }));
    ch.peer.call(METHOD_SUBMIT_BATCH, [this.selfId, items], { timeoutMs: this.callTimeoutMs * 3 })
      .then((res) => {
        if (!Array.isArray(res) || res.length !== batch.length) throw new WireError('swarmchat_submit_batch: result count mismatch');
        batch.forEach((f, i) => {
          const r = safe(() => decodeSubmitReply(res[i]));
          if (r) f.resolve(r);
          else f.reject(new WireError('swarmchat_submit_batch: bad result'));
        });
      })
      .catch((err: Error) => {
        for (const f of batch) f.reject(err);
      })
      .finally(() => {
        if (ch.forwards.length > 0) setImmediate(() => this.sendForwards(ch));
        else ch.forwardInFlight = false;
      });
  }

  // ------------------------------------------------------------------ admin side

  private leaderSubmit(rt: RoomRt, kind: EntryKind, data: Record<string, unknown>): Promise<LogEntry> {
    if (kind === 'message') {
      const id = data.message_id as string;
      const stored = this.store.findMessage(rt.id, id);
      if (stored) {
        if (stored.idx <= rt.commitIndex) return Promise.resolve(this.store.entries(rt.id, stored.idx, stored.idx, 1)[0]);
        return this.waitCommit(rt, stored.idx, stored.term);
      }
      const pending = rt.pending.find((e) => e.kind === 'message' && e.data.message_id === id);
      if (pending) return this.waitCommit(rt, pending.idx, pending.term);
    }
    const info = this.store.roomInfo(rt.id);
    if (info?.deleted) return Promise.reject(new ReplicationError('ROOM_NOT_FOUND', 'Room not found'));
    this.validate?.(rt.id, kind, data, this.store);
    const stamped: Record<string, unknown> = { ...data, timestamp: this.timestamp() };
    if (kind === 'message') stamped.seq = ++rt.lastSeq;
    const entry = this.appendLocal(rt, kind, stamped);
    return this.waitCommit(rt, entry.idx, entry.term);
  }

  private appendLocal(rt: RoomRt, kind: EntryKind, data: Record<string, unknown>): LogEntry {
    const entry: LogEntry = { idx: rt.lastIndex + 1, term: rt.term, kind, data };
    rt.lastIndex = entry.idx;
    rt.lastTerm = entry.term;
    rt.pending.push(entry);
    this.scheduleFlush();
    return entry;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes every room's pending admin entries in one transaction, then replicates them. */
  private flush(): void {
    this.flushScheduled = false;
    const dirty = [...this.rooms.values()].filter((rt) => rt.pending.length > 0);
    if (dirty.length === 0) return;
    try {
      this.store.transaction(() => {
        for (const rt of dirty) this.store.append(rt.id, rt.pending);
      });
      this.stats.flushes++;
    } catch (err) {
      this.log?.error('replication: local append failed', { err });
      for (const rt of dirty) {
        rt.pending = [];
        this.failWaiters(rt, new ReplicationError('INTERNAL_ERROR', `could not store the entry: ${(err as Error).message}`));
        this.reloadRoom(rt);
      }
      return;
    }
    for (const rt of dirty) {
      rt.durableIndex = rt.pending[rt.pending.length - 1].idx;
      rt.pending = [];
      this.advanceCommit(rt);
    }
    this.kickAll();
  }

  private waitCommit(rt: RoomRt, idx: number, term: number): Promise<LogEntry> {
    return new Promise((resolve, reject) => {
      rt.waiters.push({ idx, term, resolve, reject });
    });
  }

  private failWaiters(rt: RoomRt, err: Error): void {
    const ws = rt.waiters;
    rt.waiters = [];
    for (const w of ws) w.reject(err);
  }

  private advanceCommit(rt: RoomRt): void {
    if (rt.role !== 'leader') return;
    const matches = [rt.durableIndex, ...this.peers.map((p) => rt.match.get(p.id) ?? 0)];
    const next = majorityCommitIndex(matches, this.voterCount, rt.commitIndex, rt.term,
      (i) => (i <= rt.durableIndex ? this.store.termAt(rt.id, i) : undefined));
    if (next > rt.commitIndex) this.commitTo(rt, next);
  }

  private commitTo(rt: RoomRt, idx: number): void {
    const applied = this.store.commit(rt.id, idx);
    rt.commitIndex = idx;
    this.afterApply(rt, applied);
  }

  private afterApply(rt: RoomRt, applied: AppliedEntry[]): void {
    if (rt.waiters.length > 0) {
      const byIdx = new Map(applied.map((a) => [a.entry.idx, a.entry]));
      const keep: Waiter[] = [];
      for (const w of rt.waiters) {
        if (w.idx > rt.commitIndex) {
          keep.push(w);
          continue;
        }
        const e = byIdx.get(w.idx) ?? this.store.entries(rt.id, w.idx, w.idx, 1)[0];
        if (e && e.term === w.term) w.resolve(e);
        else w.reject(new ReplicationError(NOT_LEADER, 'entry was replaced by a newer administrator', true));
      }
      rt.waiters = keep;
    }
    for (const a of applied) {
      if (a.entry.kind === 'delete') rt.deleted = true;
      this.emit('applied', a);
    }
    if (rt.role === 'leader' && applied.length > 0) this.kickAll();
    this.notify(rt.id);
  }

  private becomeLeader(rt: RoomRt, first?: { kind: EntryKind; data: Record<string, unknown> }): void {
    rt.role = 'leader';
    rt.adminId = this.selfId;
    rt.electionTerm = 0;
    rt.electionPhase = 'none';
    rt.durableIndex = rt.lastIndex;
    rt.lastSeq = this.store.raftState(rt.id).lastSeq;
    for (const p of this.peers) {
      rt.next.set(p.id, rt.lastIndex + 1);
      rt.match.set(p.id, 0);
      rt.sentCommit.set(p.id, -1);
    }
    this.stats.leaderOf++;
    this.log?.info('replication: became admin', { room_id: rt.id, term: rt.term, last_index: rt.lastIndex });
    // The term's first entry: commits everything before it (Raft §5.4.2) and records the admin change.
    const e = first ?? { kind: 'noop' as EntryKind, data: { admin_node: this.selfId, term: rt.term } };
    this.appendLocal(rt, e.kind, e.data);
    this.emit('admin', { roomId: rt.id, adminId: this.selfId, term: rt.term });
    this.notify(rt.id);
  }

  private stepDown(rt: RoomRt, term: number, adminId: string | null): void {
    const wasLeader = rt.role === 'leader';
    if (term > rt.term) {
      rt.term = term;
      rt.votedFor = null;
      this.store.setTermAndVote(rt.id, term, null);
    }
    rt.role = 'follower';
    rt.electionTerm = 0;
    rt.electionPhase = 'none';
    if (wasLeader) {
      this.stats.leaderOf--;
      rt.pending = [];
      rt.lastIndex = rt.durableIndex;
      rt.lastTerm = this.store.termAt(rt.id, rt.lastIndex) ?? 0;
      this.failWaiters(rt, new ReplicationError(NOT_LEADER, 'no longer the administrator of this room', true));
      this.log?.warn('replication: stepped down', { room_id: rt.id, term: rt.term });
    }
    this.setAdmin(rt, adminId);
    this.resetElectionTimer(rt, Date.now());
  }

  private setAdmin(rt: RoomRt, adminId: string | null): void {
    if (rt.adminId === adminId) return;
    rt.adminId = adminId;
    if (adminId) this.emit('admin', { roomId: rt.id, adminId, term: rt.term });
    this.notify(rt.id);
  }

  // ------------------------------------------------------------------ peer traffic (sending)

  private kickAll(): void {
    for (const ch of this.channels.values()) this.sendTo(ch);
  }

  private heartbeatTick(): void {
    if (this.stopped) return;
    // Idle rooms cost O(rooms) per heartbeat; a node-level "alive" every tick keeps their
    // followers from electing, and a per-room heartbeat every FULL_HEARTBEAT_EVERY ticks (well
    // inside the election timeout) re-syncs terms and admins that a follower may not know yet.
    const full = this.heartbeats++ % FULL_HEARTBEAT_EVERY === 0;
    for (const ch of this.channels.values()) {
      ch.heartbeatDue = true;
      ch.fullHeartbeat ||= full;
      this.sendTo(ch);
    }
  }

  private sendTo(ch: Channel): void {
    if (ch.inFlight || this.stopped) return;
    const items: ReplItem[] = [];
    const handlers: ((r: XmlRpcValue | undefined) => void)[] = [];
    const votes = ch.votes;
    ch.votes = [];
    for (const v of votes) {
      items.push(v.item);
      handlers.push((r) => v.done(r === undefined ? null : safe(() => decodeVoteResult(r))));
    }
    // A peer that failed several calls in a row is probed with the node-level heartbeat only, once
    // per tick: reading and encoding up to 2048 entries from SQLite for every call to a dead peer
    // is work that grows with what it missed and only ever times out. Its first answer ends this.
    const probing = ch.failures >= 3;
    if (probing && !ch.heartbeatDue && ch.votes.length === 0) return;
    let entryBudget = this.maxEntries * 8;
    // Bytes too: the peer server refuses bodies over 4 MiB, and XML escaping can multiply the JSON
    // size of hostile content by up to ~5; a call that can never be accepted would stall the room.
    let byteBudget = MAX_CALL_JSON_BYTES;
    for (const rt of probing ? [] : this.rooms.values()) {
      if (rt.role !== 'leader') continue;
      const next = rt.next.get(ch.peer.id) ?? rt.durableIndex + 1;
      const hasEntries = next <= rt.durableIndex;
      const commitNews = (rt.sentCommit.get(ch.peer.id) ?? -1) < rt.commitIndex;
      if (!hasEntries && !commitNews && (!ch.heartbeatDue || !ch.fullHeartbeat || rt.deleted)) continue;
      const count = hasEntries ? Math.min(this.maxEntries, entryBudget, rt.durableIndex - next + 1) : 0;
      if (hasEntries && (count <= 0 || byteBudget <= 0)) continue;
      const entries = count > 0 ? this.store.entries(rt.id, next, next + count - 1, count) : [];
      for (let k = 0; k < entries.length; k++) {
        byteBudget -= JSON.stringify(entries[k].data).length + 64;
        // Always at least one entry per item, so a single large entry still makes progress.
        if (byteBudget < 0 && k > 0) {
          entries.length = k;
          break;
        }
      }
      entryBudget -= entries.length;
      const prevIndex = next - 1;
      const item: AppendItem = {
        k: 'a', room: rt.id, term: rt.term, prevIndex, prevTerm: this.store.termAt(rt.id, prevIndex) ?? 0,
        commit: rt.commitIndex, entries,
      };
      items.push(item);
      const sentTerm = rt.term;
      const sentCommit = rt.commitIndex;
      handlers.push((r) => this.onAppendResult(rt, ch.peer.id, sentTerm, sentCommit, item, r));
    }
    if (ch.heartbeatDue && this.stats.leaderOf > 0) {
      items.push({ k: 'h' });
      handlers.push(() => undefined);
    }
    if (items.length === 0) return;
    if (ch.heartbeatDue) ch.fullHeartbeat = false;
    ch.heartbeatDue = false;
    ch.inFlight = true;
    this.stats.replCalls++;
    const sentEntries = items.reduce((n, it) => n + (it.k === 'a' ? it.entries.length : 0), 0);
    this.stats.entriesSent += sentEntries;
    ch.peer.call(METHOD_REPL, [this.selfId, items.map(encodeItem)], { timeoutMs: this.callTimeoutMs })
      .then((res) => {
        if (!Array.isArray(res) || res.length !== items.length) throw new WireError('swarmchat_repl: result count mismatch');
        ch.lastOkMs = Date.now();
        ch.failures = 0;
        handlers.forEach((h, i) => h(res[i]));
        ch.inFlight = false;
        setImmediate(() => this.sendTo(ch));
      })
      .catch((err: Error) => {
        this.stats.replCallErrors++;
        ch.failures++;
        if (ch.failures === 1 || ch.failures % 50 === 0) {
          this.log?.warn('replication: peer call failed', { peer: ch.peer.id, failures: ch.failures, err: err.message });
        }
        for (const h of handlers) h(undefined);
        ch.inFlight = false;
        // Retry at the next heartbeat tick, not at once: a dead peer must not cost a busy loop.
      });
  }

  private onAppendResult(rt: RoomRt, peerId: string, sentTerm: number, sentCommit: number, item: AppendItem, raw: XmlRpcValue | undefined): void {
    if (raw === undefined || rt.role !== 'leader' || rt.term !== sentTerm) return;
    const r = safe(() => decodeAppendResult(raw));
    if (!r) return;
    if (r.term > rt.term) {
      this.stepDown(rt, r.term, null);
      return;
    }
    if (r.ok) {
      const m = item.prevIndex + item.entries.length;
      if (m > (rt.match.get(peerId) ?? 0)) rt.match.set(peerId, m);
      rt.next.set(peerId, Math.max(rt.next.get(peerId) ?? 0, m + 1));
      if (sentCommit > (rt.sentCommit.get(peerId) ?? -1)) rt.sentCommit.set(peerId, sentCommit);
      this.advanceCommit(rt);
    } else if (r.conflict > 0) {
      rt.next.set(peerId, Math.max(1, Math.min(r.conflict, rt.durableIndex + 1)));
    }
  }

  // ------------------------------------------------------------------ elections

  private electionTick(): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const rt of this.rooms.values()) {
      if (rt.deleted || this.resigned) continue;
      if (rt.role === 'leader') {
        this.checkQuorum(rt, now);
        continue;
      }
      if (now >= rt.electionDeadlineMs) this.startPreVote(rt, now);
    }
  }

  /** An admin that has heard from no majority for a while stops taking writes (it may be the fenced one). */
  private checkQuorum(rt: RoomRt, now: number): void {
    if (this.voterCount === 1) return;
    const recent = [...this.channels.values()].filter((c) => now - c.lastOkMs < this.elBase * 2).length + 1;
    if (recent < this.majority && now - rt.lastHeardMs > this.elBase * 2) this.stepDown(rt, rt.term, null);
  }

  private resetElectionTimer(rt: RoomRt, now: number): void {
    // Ranked among the nodes that could succeed the current admin: if it dies, the rank-0 survivor
    // is first, not second behind the dead admin itself. Cached: heartbeats reset this often.
    if (rt.rankFor !== rt.adminId || rt.rank < 0) {
      const voters = [this.selfId, ...this.peers.map((p) => p.id)].filter((v) => v === this.selfId || v !== rt.adminId);
      rt.rank = successorRank(rt.id, this.selfId, voters);
      rt.rankFor = rt.adminId;
    }
    rt.electionDeadlineMs = now + electionTimeoutMs(this.elBase, this.elStep, rt.rank, Math.floor(this.random() * this.elJitter));
  }

  private leaderRecentlySeen(rt: RoomRt, now: number): boolean {
    if (rt.role === 'leader') {
      const recent = [...this.channels.values()].filter((c) => now - c.lastOkMs < this.elBase).length + 1;
      return recent >= this.majority;
    }
    return rt.adminId !== null && now - rt.lastHeardMs < this.elBase;
  }

  private startPreVote(rt: RoomRt, now: number): void {
    this.resetElectionTimer(rt, now);
    const term = rt.term + 1;
    rt.electionTerm = term;
    rt.electionPhase = 'pre';
    rt.preVotes = new Set([this.selfId]);
    if (this.voterCount === 1) {
      this.startElection(rt);
      return;
    }
    const item: VoteItem = { k: 'v', room: rt.id, term, lastIndex: rt.lastIndex, lastTerm: rt.lastTerm, pre: true };
    for (const ch of this.channels.values()) {
      ch.votes.push({
        item,
        done: (r) => {
          // Only the pre-vote round it belongs to counts (a candidate whose vote round failed may run
          // a new pre-vote; a late pre-vote grant must not start a second election).
          if (r?.deleted && !rt.deleted) {
            this.deletedElsewhere(rt, ch.peer.id);
            return;
          }
          if (!r || rt.electionTerm !== term || rt.electionPhase !== 'pre' || rt.role === 'leader') return;
          if (r.term > rt.term && !r.granted) {
            this.stepDown(rt, r.term, null);
            return;
          }
          if (r.granted) rt.preVotes.add(ch.peer.id);
          if (rt.preVotes.size >= this.majority) this.startElection(rt);
        },
      });
      this.sendTo(ch);
    }
  }

  private startElection(rt: RoomRt): void {
    this.stats.elections++;
    rt.role = 'candidate';
    rt.term += 1;
    rt.votedFor = this.selfId;
    this.store.setTermAndVote(rt.id, rt.term, this.selfId);
    rt.electionTerm = rt.term;
    rt.electionPhase = 'vote';
    rt.votes = new Set([this.selfId]);
    this.setAdmin(rt, null);
    this.log?.info('replication: election', { room_id: rt.id, term: rt.term });
    if (rt.votes.size >= this.majority) {
      this.becomeLeader(rt);
      return;
    }
    const term = rt.term;
    const item: VoteItem = { k: 'v', room: rt.id, term, lastIndex: rt.lastIndex, lastTerm: rt.lastTerm, pre: false };
    for (const ch of this.channels.values()) {
      ch.votes.push({
        item,
        done: (r) => {
          if (!r || rt.role !== 'candidate' || rt.term !== term) return;
          if (r.term > rt.term) {
            this.stepDown(rt, r.term, null);
            return;
          }
          if (r.granted) rt.votes.add(ch.peer.id);
          if (rt.votes.size >= this.majority) this.becomeLeader(rt);
        },
      });
      this.sendTo(ch);
    }
  }

  // ------------------------------------------------------------------ peer traffic (receiving)

  private onRepl(params: XmlRpcValue[]): XmlRpcValue {
    if (params.length !== 2 || typeof params[0] !== 'string' || !Array.isArray(params[1])) {
      throw new WireError('swarmchat_repl(from_node, items[]) expects 2 parameters');
    }
    const from = params[0];
    if (!this.channels.has(from)) throw new WireError(`swarmchat_repl: ${from} is not a voting peer of ${this.selfId}`);
    const items = params[1].map(decodeItem);
    const now = Date.now();
    const results: XmlRpcValue[] = [];
    const applied: [RoomRt, AppliedEntry[]][] = [];
    // Entries, votes and term changes must be on disk before we answer; a batch of plain
    // heartbeats only moves commit indexes, which are recomputable, and skips the fsync.
    const durable = items.some((it) => it.k === 'h' ? false : it.k === 'v'
      ? !it.pre
      : it.entries.length > 0 || it.term !== this.rooms.get(it.room)?.term || it.resign === true);
    this.store.transaction(() => {
      for (const it of items) {
        if (it.k === 'h') {
          for (const rt of this.rooms.values()) {
            if (rt.role === 'follower' && rt.adminId === from) {
              rt.lastHeardMs = now;
              this.resetElectionTimer(rt, now);
            }
          }
          results.push(true);
        } else if (it.k === 'a') {
          const rt = this.rooms.get(it.room) ?? this.newRoom(it.room, now);
          try {
            results.push(encodeAppendResult(this.store.transaction(() => this.onAppend(rt, from, it, now, applied))));
          } catch (err) {
            this.log?.error('replication: append failed', { room_id: it.room, err });
            this.reloadRoom(rt);
            results.push(encodeAppendResult({ ok: false, term: rt.term, match: 0, conflict: rt.commitIndex + 1 }));
          }
        } else {
          const rt = this.rooms.get(it.room) ?? this.newRoom(it.room, now);
          results.push(encodeVoteResult(this.onVote(rt, from, it, now)));
        }
      }
    }, { durable });
    for (const [rt, a] of applied) this.afterApply(rt, a);
    return results;
  }

  private onAppend(rt: RoomRt, from: string, it: AppendItem, now: number, applied: [RoomRt, AppliedEntry[]][]) {
    if (it.term < rt.term) return { ok: false, term: rt.term, match: 0, conflict: 0 };
    if (it.term > rt.term || rt.role !== 'follower') this.stepDown(rt, it.term, from);
    this.setAdmin(rt, from);
    rt.lastHeardMs = now;
    this.resetElectionTimer(rt, now);
    const verdict = checkAppend(
      { currentTerm: rt.term, termAtPrev: this.store.termAt(rt.id, it.prevIndex), lastIndex: rt.lastIndex, commitIndex: rt.commitIndex },
      it.term, it.prevIndex, it.prevTerm);
    if (!verdict.ok) return { ok: false, term: rt.term, match: 0, conflict: verdict.reason === 'mismatch' ? verdict.conflictIndex : 0 };
    const k = firstNewEntry(it.entries, (i) => (i <= rt.lastIndex ? this.store.termAt(rt.id, i) : undefined));
    if (k !== undefined) {
      const fresh = it.entries.slice(k);
      const truncating = fresh[0].idx <= rt.lastIndex;
      this.store.replaceFrom(rt.id, fresh[0].idx, fresh);
      const last = fresh[fresh.length - 1];
      rt.lastIndex = last.idx;
      rt.lastTerm = last.term;
      rt.durableIndex = last.idx;
      if (truncating) rt.lastSeq = this.store.raftState(rt.id).lastSeq;
      else for (const e of fresh) if (e.kind === 'message') rt.lastSeq = Math.max(rt.lastSeq, Number(e.data.seq));
    }
    const lastNew = it.prevIndex + it.entries.length;
    const newCommit = Math.min(it.commit, lastNew);
    if (newCommit > rt.commitIndex) {
      applied.push([rt, this.store.commit(rt.id, newCommit)]);
      rt.commitIndex = newCommit;
    }
    if (it.resign && rt.commitIndex >= it.commit && it.prevIndex === rt.lastIndex) {
      // The admin is leaving and we have everything it committed: the successor order decides quickly.
      rt.lastHeardMs = 0;
      const voters = [this.selfId, ...this.peers.map((p) => p.id)].filter((v) => v !== from);
      rt.electionDeadlineMs = now + 20 + 60 * Math.max(0, successorRank(rt.id, this.selfId, voters));
    }
    if (!rt.caughtUp && rt.commitIndex >= it.commit) {
      rt.caughtUp = true;
      this.log?.info('replication: caught up', { room_id: rt.id, commit_index: rt.commitIndex, admin: from });
    }
    return { ok: true, term: rt.term, match: lastNew, conflict: 0 };
  }

  /** A voter has this room's deletion committed: deleted here too, no more elections, nothing to catch up. */
  private deletedElsewhere(rt: RoomRt, from: string): void {
    rt.deleted = true;
    rt.caughtUp = true;
    rt.electionTerm = 0;
    rt.electionPhase = 'none';
    this.store.markDeleted(rt.id);
    this.log?.info('replication: room was deleted while this node was away', { room_id: rt.id, told_by: from });
    const entry: LogEntry = { idx: rt.commitIndex, term: rt.term, kind: 'delete', data: {} };
    this.emit('applied', { roomId: rt.id, entry, changed: true, memberCount: 0 } as AppliedEntry);
    this.notify(rt.id);
  }

  private onVote(rt: RoomRt, from: string, it: VoteItem, now: number): VoteResult {
    const d = decideVote(
      { currentTerm: rt.term, votedFor: rt.votedFor, lastIndex: rt.lastIndex, lastTerm: rt.lastTerm, leaderRecentlySeen: this.leaderRecentlySeen(rt, now) },
      { term: it.term, candidateId: from, lastIndex: it.lastIndex, lastTerm: it.lastTerm, pre: it.pre });
    if (d.stepDown) this.stepDown(rt, d.persist?.term ?? it.term, null);
    if (d.persist) {
      this.store.setTermAndVote(rt.id, d.persist.term, d.persist.votedFor);
      rt.term = d.persist.term;
      rt.votedFor = d.persist.votedFor;
    }
    if (d.granted && !it.pre) this.resetElectionTimer(rt, now);
    // A deleted room has no admin any more: a candidate that missed the deletion would wait for
    // one forever (and a restarted node would report catching_up until its 10 s cap, every time).
    if (rt.deleted && it.lastIndex < rt.commitIndex) return { granted: false, term: rt.term, deleted: true };
    return { granted: d.granted, term: rt.term };
  }

  private async onSubmit(params: XmlRpcValue[]): Promise<XmlRpcValue> {
    if (params.length !== 4 || params.some((p) => typeof p !== 'string')) {
      throw new WireError('swarmchat_submit(from_node, room_id, kind, data_json) expects 4 strings');
    }
    const [, roomId, kind, json] = params as string[];
    if (!(ENTRY_KINDS as readonly string[]).includes(kind) || kind === 'create') throw new WireError(`swarmchat_submit: bad kind ${kind}`);
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(json) as Record<string, unknown>;
    } catch {
      throw new WireError('swarmchat_submit: data is not JSON');
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new WireError('swarmchat_submit: data must be an object');
    const rt = this.rooms.get(roomId);
    if (!rt) return encodeSubmitReply({ ok: false, code: 'ROOM_NOT_FOUND', message: 'Room not found' });
    if (rt.role !== 'leader') return encodeSubmitReply({ ok: false, code: NOT_LEADER, message: 'not the administrator', admin: rt.adminId ?? undefined });
    try {
      const e = await this.leaderSubmit(rt, kind as EntryKind, data);
      return encodeSubmitReply({ ok: true, idx: e.idx, term: e.term, entry: e });
    } catch (err) {
      if (err instanceof ReplicationError) {
        return encodeSubmitReply({ ok: false, code: err.code, message: err.message, admin: rt.adminId ?? undefined });
      }
      throw err;
    }
  }

  private async onSubmitBatch(params: XmlRpcValue[]): Promise<XmlRpcValue> {
    if (params.length !== 2 || typeof params[0] !== 'string' || !Array.isArray(params[1])) {
      throw new WireError('swarmchat_submit_batch(from_node, items[]) expects 2 parameters');
    }
    if (params[1].length > 1024) throw new WireError('swarmchat_submit_batch: at most 1024 items');
    // Each item is handled as its own submit (own validation, own outcome), all in this turn, so
    // their appends share one flush.
    const results = params[1].map((it) => {
      if (it === null || typeof it !== 'object' || Array.isArray(it) || it instanceof Date || Buffer.isBuffer(it)) {
        return Promise.resolve(encodeSubmitReply({ ok: false, code: 'INVALID_REQUEST', message: 'item must be a struct' }));
      }
      const o = it as Record<string, XmlRpcValue>;
      return this.onSubmit([params[0], o.r, o.k, o.d]).catch((err: Error) =>
        encodeSubmitReply({ ok: false, code: 'INVALID_REQUEST', message: err.message }));
    });
    return Promise.all(results);
  }

  /** A follower told by the admin that entry (idx, term) is committed may commit up to it if its log matches. */
  private learnCommit(rt: RoomRt, idx: number, term: number): void {
    if (rt.role === 'leader' || idx <= rt.commitIndex || idx > rt.lastIndex) return;
    if (this.store.termAt(rt.id, idx) !== term) return;
    this.commitTo(rt, idx);
  }

  // ------------------------------------------------------------------ room bookkeeping

  private newRoom(id: string, now: number): RoomRt {
    const rt: RoomRt = {
      id, role: 'follower', term: 0, votedFor: null, adminId: null, lastIndex: 0, lastTerm: 0, durableIndex: 0,
      commitIndex: 0, lastSeq: 0, lastHeardMs: now, electionDeadlineMs: 0, electionTerm: 0, electionPhase: 'none', preVotes: new Set(),
      votes: new Set(), next: new Map(), match: new Map(), sentCommit: new Map(), pending: [], waiters: [], caughtUp: false,
      deleted: false, rank: -1, rankFor: null,
    };
    this.resetElectionTimer(rt, now);
    this.rooms.set(id, rt);
    this.stats.rooms = this.rooms.size;
    this.notify(id);
    return rt;
  }

  private loadRoom(id: string, now: number): RoomRt {
    const rt = this.rooms.get(id) ?? this.newRoom(id, now);
    this.reloadRoom(rt);
    rt.deleted = this.store.roomInfo(id)?.deleted ?? false;
    return rt;
  }

  private reloadRoom(rt: RoomRt): void {
    const s = this.store.raftState(rt.id);
    rt.term = s.currentTerm;
    rt.votedFor = s.votedFor;
    rt.lastIndex = s.lastIndex;
    rt.lastTerm = s.lastTerm;
    rt.durableIndex = s.lastIndex;
    rt.commitIndex = s.commitIndex;
    rt.lastSeq = s.lastSeq;
  }

  // ------------------------------------------------------------------ waiting

  private notify(roomId: string): void {
    const set = this.watchers.get(roomId);
    if (!set) return;
    for (const fn of [...set]) fn();
  }

  private waitFor(roomId: string, timeoutMs: number, cond: () => boolean): Promise<boolean> {
    return this.watch(roomId, timeoutMs, cond).promise;
  }

  /** A condition on one room, re-checked whenever the room changes; cancellable so a race loser leaves nothing behind. */
  private watch(roomId: string, timeoutMs: number, cond: () => boolean): { promise: Promise<boolean>; cancel(): void } {
    if (cond()) return { promise: Promise.resolve(true), cancel: () => undefined };
    if (timeoutMs <= 0) return { promise: Promise.resolve(false), cancel: () => undefined };
    let cancel: () => void = () => undefined;
    const promise = new Promise<boolean>((resolve) => {
      let set = this.watchers.get(roomId);
      if (!set) this.watchers.set(roomId, (set = new Set()));
      const watchers = set;
      const done = (v: boolean) => {
        clearTimeout(timer);
        watchers.delete(check);
        if (watchers.size === 0 && this.watchers.get(roomId) === watchers) this.watchers.delete(roomId);
        resolve(v);
      };
      const check = () => {
        if (cond()) done(true);
      };
      const timer = setTimeout(() => done(cond()), timeoutMs);
      watchers.add(check);
      cancel = () => done(false);
    });
    return { promise, cancel };
  }

  private waitAdminChange(roomId: string, from: string | null, timeoutMs: number): Promise<boolean> {
    return this.waitFor(roomId, timeoutMs, () => {
      const rt = this.rooms.get(roomId);
      return !!rt && rt.adminId !== null && rt.adminId !== from;
    });
  }
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
