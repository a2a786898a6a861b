/**
 * NODE's RoomStore seam (rooms/room-store.ts) backed by the replicated, durable room log.
 *
 * Every swarm-chat node holds a `Room` copy of every replicated room, built only from committed
 * log entries (so all copies agree), and is told of each committed entry through `onCommitted`:
 * that is where the node delivers to its local connections, on every node, in log order. The
 * admin of a room is whoever the replicator elected; `room.adminNode` follows it, so the node's
 * "rooms I administer" view changes by itself on failover.
 *
 * `append` works from any node: the replicator forwards to the current admin (and re-forwards
 * after a failover, de-duplicated by message_id), and resolves once the entry is committed on a
 * majority and applied here.
 */
import type { Logger } from '../log';
import { checkActive, checkMember, checkNameFree, roomNotFound, usernameTaken, type Refusal } from '../rooms/admission';
import { fromReplicatedEntry, toReplicatedEntry } from '../rooms/log-vocabulary';
import { Room, type CommittedEntry, type LogEntry as NodeEntry, type RoomInit } from '../rooms/room';
import type { AppendInput, CommittedListener, DeletedListener, HistoryQuery, RoomStore } from '../rooms/room-store';
import type { AppliedEntry, EntryKind, RoomLogStore, StoredMessage } from '../storage/room-log-store';
import { type Clock, systemClock } from './clock';
import { ReplicationError, type Replicator } from './replicator';

export type { CommittedEvent, CommittedListener, DeletedListener } from '../rooms/room-store';

/** How long an uncommitted join holds its name (a join commits in milliseconds or fails). */
const RESERVATION_MS = 10_000;

export interface ReplicatedRoomStoreOptions {
  selfId: string;
  replicator: Replicator;
  historyLimit: number;
  logger?: Logger;
  clock?: Clock;
  /**
   * Why this node must not take clients now (the others do not count it: being added or
   * removed), or undefined. A join is refused with it rather than half-joined.
   */
  notServing?: () => { code: string; detail: string } | undefined;
  /**
   * Whether this node has heard from every room's admin since it started (node-replication.ts's
   * readiness). Until then a room it does not hold may be one of ours not received yet.
   */
  nodeCaughtUp?: () => boolean;
}

/** While a node catches up, how often `ready` looks again for a room it does not hold yet. */
const UNKNOWN_ROOM_POLL_MS = 25;

function s(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export class ReplicatedRoomStore implements RoomStore {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<void>>();
  private readonly committedListeners: CommittedListener[] = [];
  private readonly deletedListeners: DeletedListener[] = [];
  private readonly repl: Replicator;
  private readonly log?: Logger;
  private readonly logStore: RoomLogStore;
  /** Admin side: names admitted by a join that is not committed yet (room -> name -> node). */
  private readonly reserved = new Map<string, Map<string, { nodeId: string; at: number }>>();

  constructor(private readonly opts: ReplicatedRoomStoreOptions) {
    this.repl = opts.replicator;
    this.logStore = opts.replicator.store;
    this.log = opts.logger?.child({ component: 'replicated-store' });
    this.load();
    this.repl.on('applied', (a: AppliedEntry) => this.onApplied(a));
    this.repl.on('admin', (ev: { roomId: string; adminId: string; term: number }) => {
      const room = this.rooms.get(ev.roomId);
      if (!room) return;
      room.adminNode = ev.adminId;
      room.term = ev.term;
    });
  }

  /** Rebuilds the room copies from the durable state (a restart reads no log, only the applied tables). */
  private load(): void {
    for (const roomId of this.logStore.liveRoomIds()) {
      const room = this.roomFromStore(roomId);
      if (room) this.rooms.set(roomId, room);
    }
  }

  /** The room's copy as the durable state has it (after a restart, or a snapshot installed here). */
  private roomFromStore(roomId: string): Room | undefined {
    const now = Date.now();
    const info = this.logStore.roomInfo(roomId);
    if (!info || info.deleted) return undefined;
    // Nobody is admin after a restart until an election says so; never claim it from old state.
    const admin = this.repl.adminOf(roomId) ?? (info.adminNode === this.opts.selfId ? '' : info.adminNode);
    const room = new Room(
      { roomId, roomName: info.roomName, description: info.description, creatorId: info.creatorId, adminNode: admin, createdAt: info.createdAt },
      this.opts.historyLimit,
    );
    this.fillFromStore(room, now);
    return room;
  }

  /** Members, recent history and last seq of a room copy, from the durable state. */
  private fillFromStore(room: Room, now: number): void {
    const roomId = room.roomId;
    room.members.clear();
    for (const m of this.logStore.members(roomId)) {
      room.members.set(m.username, { username: m.username, nodeId: m.nodeId, joinedAt: now, lastActivity: now });
    }
    room.history.length = 0;
    const recent = this.logStore.history(roomId, { limit: Math.max(1, this.opts.historyLimit) });
    if (this.opts.historyLimit > 0) room.history.push(...recent);
    room.lastSeq = this.lastCommittedSeq(roomId);
  }

  /**
   * A snapshot replaced this node's copy of the room's log: the copy is rebuilt from the store.
   * Nothing is delivered for it (the messages it covers were committed before this node had them;
   * clients page them with get_history, from `first_seq`).
   */
  private onSnapshot(roomId: string): void {
    const had = this.rooms.get(roomId);
    const live = this.logStore.roomInfo(roomId)?.deleted === false;
    if (had && live) {
      this.fillFromStore(had, Date.now());
      return;
    }
    if (!had) {
      const room = this.roomFromStore(roomId);
      if (room) this.rooms.set(roomId, room);
      return;
    }
    // The snapshot says the room is deleted.
    this.rooms.delete(roomId);
    this.reserved.delete(roomId);
    for (const fn of this.deletedListeners) fn(roomId, had.roomName);
  }

  onCommitted(fn: CommittedListener): void {
    this.committedListeners.push(fn);
  }

  onDeleted(fn: DeletedListener): void {
    this.deletedListeners.push(fn);
  }

  /** True for rooms in the replicated log (ours); false for rooms of original Python nodes. */
  replicates(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  create(init: RoomInit): Room {
    if (this.rooms.has(init.roomId)) throw new Error(`room ${init.roomId} already exists`);
    const room = new Room({ ...init, adminNode: this.opts.selfId, term: 1 }, this.opts.historyLimit);
    this.rooms.set(room.roomId, room);
    const done = this.repl
      .createRoom(room.roomId, { room_name: init.roomName, description: init.description, creator_id: init.creatorId, created_at: init.createdAt })
      .then(() => undefined);
    this.creating.set(room.roomId, done);
    done.then(
      () => this.creating.delete(room.roomId),
      (err) => {
        this.creating.delete(room.roomId);
        if (this.rooms.get(room.roomId) === room) this.rooms.delete(room.roomId);
        this.log?.warn('room creation not committed', { room_id: room.roomId, err });
      },
    );
    return room;
  }

  /** Resolves when the room's creation is stored on a majority (rejects if it could not be). */
  whenCreated(roomId: string): Promise<void> {
    return this.creating.get(roomId) ?? Promise.resolve();
  }

  get(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  list(): Room[] {
    return [...this.rooms.values()];
  }

  /** Drops the room here at once and logs its deletion, so every node drops it too (and a restart does not revive it). */
  remove(roomId: string): boolean {
    const had = this.rooms.delete(roomId);
    if (had) {
      this.repl.submit(roomId, 'delete', {}).catch((err) => this.log?.warn('room deletion not replicated', { room_id: roomId, err }));
    }
    return had;
  }

  async append(room: Room, input: AppendInput): Promise<CommittedEntry> {
    await this.whenCreated(room.roomId);
    const { kind, data } = toReplicatedEntry(input);
    const e = await this.repl.submit(room.roomId, kind, data);
    return { roomId: room.roomId, index: e.idx, term: e.term, entry: fromReplicatedEntry(room.roomId, e.kind, e.data) as NodeEntry };
  }

  /** Admin-side check before an entry is logged, against the admin's committed view of the room (rooms/admission.ts). */
  validate(roomId: string, kind: EntryKind, data: Record<string, unknown>): void {
    if (kind === 'delete') return; // remove() drops the copy before logging the deletion
    const refuse = (r: Refusal): never => {
      throw new ReplicationError(r.code, r.message);
    };
    const room = this.rooms.get(roomId);
    if (!room) return refuse(roomNotFound);
    const inactive = checkActive(room);
    if (inactive) refuse(inactive);
    if (kind === 'message') {
      const notMember = checkMember(room, s(data.username));
      if (notMember) refuse(notMember);
    }
    if (kind === 'join') {
      // Two nodes racing to admit the same name: the first wins (also while its join is still
      // uncommitted, hence the reservations); the name moves only off a dead node.
      const name = s(data.username);
      const nodeId = s(data.node_id);
      const taken = (holder: string) => holder !== nodeId && (holder === this.opts.selfId || !this.repl.peerDown(holder));
      let byRoom = this.reserved.get(roomId);
      const r = byRoom?.get(name);
      const now = Date.now();
      const held = checkNameFree(room, name, nodeId, taken);
      if (held) refuse(held);
      if (r && now - r.at < RESERVATION_MS && taken(r.nodeId)) refuse(usernameTaken(name));
      if (!byRoom) this.reserved.set(roomId, (byRoom = new Map()));
      byRoom.set(name, { nodeId, at: now });
    }
  }

  /** Committed messages from the durable log, oldest first (get_history, join with since_seq). */
  history(roomId: string, q: HistoryQuery): StoredMessage[] {
    return this.logStore.history(roomId, q);
  }

  lastCommittedSeq(roomId: string): number {
    const last = this.logStore.history(roomId, { limit: 1 });
    // None left in the log: all compacted, the snapshot knows the last.
    return last.length ? last[0].sequence_number : this.logStore.snapshots.firstSeq(roomId) - 1;
  }

  /** Where the room's history begins on this node: older messages were compacted away (log retention). */
  firstSeq(roomId: string): number {
    return this.logStore.snapshots.firstSeq(roomId);
  }

  /** True when `nodeId` is one of our nodes and has not answered replication for a while. */
  nodeDown(nodeId: string): boolean {
    return this.repl.peerDown(nodeId);
  }

  /** True when `nodeId` is one of our nodes and answered a replication call within two election timeouts. */
  nodeAnswering(nodeId: string): boolean {
    return this.repl.isPeer(nodeId) && !this.repl.peerDown(nodeId);
  }

  notServing(): { code: string; detail: string } | undefined {
    return this.opts.notServing?.();
  }

  /** Resolves once this node applied the room's log up to `index` (false on timeout). */
  waitApplied(roomId: string, index: number, timeoutMs: number): Promise<boolean> {
    return this.repl.waitCommitted(roomId, index, timeoutMs);
  }

  /**
   * Waits (bounded) until this node has caught up with the room's admin: a returning node serves
   * nothing stale. A room this node does not hold while it is still catching up (just restarted
   * without its log, or new) may be one whose admin has not reached it yet: taking it for another
   * node's room would join the client the original's way (no resume) and then replay the room's
   * whole log to it as it arrives. So it waits for the room or for the node to catch up first.
   */
  async ready(roomId: string, timeoutMs: number): Promise<boolean> {
    const clock = this.opts.clock ?? systemClock;
    const deadline = clock.now() + timeoutMs;
    const caughtUp = this.opts.nodeCaughtUp ?? (() => true);
    while (!this.rooms.has(roomId) && !caughtUp()) {
      const left = deadline - clock.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => clock.after(Math.min(UNKNOWN_ROOM_POLL_MS, left), resolve));
    }
    if (!this.rooms.has(roomId)) return true;
    return this.repl.waitCaughtUp(roomId, Math.max(0, deadline - clock.now()));
  }

  private onApplied(a: AppliedEntry): void {
    const { roomId, entry } = a;
    if (a.snapshot) {
      this.onSnapshot(roomId);
      return;
    }
    const d = entry.data;
    let room = this.rooms.get(roomId);
    if (entry.kind === 'create') {
      if (!room && !this.logStore.roomInfo(roomId)?.deleted) {
        room = new Room(
          { roomId, roomName: s(d.room_name), description: typeof d.description === 'string' ? d.description : null, creatorId: s(d.creator_id), adminNode: this.repl.adminOf(roomId) ?? s(d.admin_node), createdAt: s(d.created_at), term: entry.term },
          this.opts.historyLimit,
        );
        this.rooms.set(roomId, room);
      }
      return;
    }
    if (entry.kind === 'delete') {
      const name = room?.roomName ?? this.logStore.roomInfo(roomId)?.roomName ?? '';
      this.rooms.delete(roomId);
      this.reserved.delete(roomId);
      for (const fn of this.deletedListeners) fn(roomId, name);
      return;
    }
    if (!room) return;
    if (entry.kind === 'noop') {
      room.adminNode = this.repl.adminOf(roomId) ?? s(d.admin_node);
      room.term = entry.term;
      return;
    }
    if (entry.kind === 'join') {
      const byRoom = this.reserved.get(roomId);
      byRoom?.delete(s(d.username));
      if (byRoom && byRoom.size === 0) this.reserved.delete(roomId);
    }
    const nodeEntry = fromReplicatedEntry(roomId, entry.kind, d);
    if (!nodeEntry) return;
    // Re-joins and leaves of non-members announce nothing, as in the original; a re-join still moves
    // the member to the node it joined from (a client resuming on another node after its node died).
    if ((entry.kind === 'join' || entry.kind === 'leave') && !a.changed) {
      if (entry.kind === 'join') room.apply(nodeEntry, Date.now());
      return;
    }
    room.apply(nodeEntry, Date.now());
    const committed: CommittedEntry = { roomId, index: entry.idx, term: entry.term, entry: nodeEntry };
    for (const fn of this.committedListeners) {
      try {
        fn({ room, committed, memberCount: room.members.size });
      } catch (err) {
        this.log?.error('committed-entry listener failed', { room_id: roomId, err });
      }
    }
  }
}
