/**
 * The admin's log and commitment: a client request becomes an entry (de-duplicated by
 * `message_id`, validated against committed state, stamped, numbered); the entries appended in one
 * event-loop turn are sent to the peers first and then written locally in one transaction (the
 * flush), so the admin's write and sync run while the followers store theirs; the admin's own copy
 * counts towards the majority once the store says the write is on disk (`whenDurable`: an
 * fdatasync off the event loop, shared by every write made while the previous one ran). The
 * commit index advances once a majority has an entry on disk. Applying committed entries resolves the waiting submits and emits `applied`
 * (followers commit through `commitTo` too).
 */
import type { AppliedEntry, EntryKind, LogEntry } from '../storage/room-log-store';
import { type Engine, NOT_LEADER, ReplicationError } from './engine';
import { majorityCommitIndex } from './raft-rules';
import { dropCommitted, type RoomState, type Waiter } from './room-state';

/** Entries kept in a leader's in-memory tail beyond what every peer has (older ones are read from SQLite). */
const MAX_TAIL = 8192;

export class Commitment {
  private flushScheduled = false;
  /** Led rooms with entries appended since the last flush. */
  private readonly dirty = new Set<RoomState>();
  /** Led rooms whose peers' progress moved this turn: their commit index is decided at its end. */
  private readonly commitDue = new Set<RoomState>();

  constructor(private readonly e: Engine) {}

  /**
   * On the admin: the entry for a client request, resolved when committed (a resubmitted message is
   * logged once). `from`: the peer that forwarded the request, when one did.
   */
  leaderSubmit(rt: RoomState, kind: EntryKind, data: Record<string, unknown>, from?: string): Promise<LogEntry> {
    const e = this.e;
    // `after_id`: the sender's previous message, which must be logged first (per-sender order).
    const { after_id: afterId, ...fields } = data;
    if (kind === 'message') {
      // Searched in the whole log, uncommitted entries of earlier terms included: a message the
      // previous admin logged and this one inherited is the same message, not a new one.
      const found = this.findInLog(rt, fields.message_id as string);
      if (found) {
        if (found.idx <= rt.commitIndex) return Promise.resolve(e.store.entries(rt.id, found.idx, found.idx, 1)[0]);
        return this.waitCommit(rt, found.idx, found.term, from);
      }
      if (typeof afterId === 'string' && !this.findInLog(rt, afterId)) {
        return Promise.reject(new ReplicationError('OUT_OF_ORDER', 'the sender\'s previous message is not logged yet', true));
      }
    }
    // Until this term's first entry commits, an entry of an earlier term missing here could still
    // win (another candidate may be elected with it): refusing now could be an error-then-commit.
    if (this.termAt(rt, rt.commitIndex) !== rt.term) {
      return Promise.reject(new ReplicationError('NOT_READY', 'the administrator is taking over; try again', true));
    }
    if (rt.deleted) return Promise.reject(new ReplicationError('ROOM_NOT_FOUND', 'Room not found'));
    e.validate?.(rt.id, kind, fields, e.store);
    const stamped: Record<string, unknown> = { ...fields, timestamp: e.timestamp() };
    if (kind === 'message') stamped.seq = ++rt.lastSeq;
    const entry = this.appendLocal(rt, kind, stamped);
    return this.waitCommit(rt, entry.idx, entry.term, from);
  }

  /**
   * A message's entry in this admin's log, by `message_id`: on disk, or appended and not yet
   * written (maybe already sent; the tail holds every such entry).
   */
  private findInLog(rt: RoomState, messageId: string): { idx: number; term: number } | undefined {
    return this.e.store.findMessage(rt.id, messageId)
      ?? rt.tail.find((p) => p.idx > rt.durableIndex && p.kind === 'message' && p.data.message_id === messageId);
  }

  /** Appends to the admin's log in memory; the next flush (this turn) writes it. */
  appendLocal(rt: RoomState, kind: EntryKind, data: Record<string, unknown>): LogEntry {
    const entry: LogEntry = { idx: rt.lastIndex + 1, term: rt.term, kind, data };
    rt.lastIndex = entry.idx;
    rt.lastTerm = entry.term;
    rt.pending.push(entry);
    rt.tail.push(entry);
    this.dirty.add(rt);
    this.e.channels.wake(rt);
    this.scheduleFlush();
    return entry;
  }

  /**
   * Term of entry `idx` of a room: the last entry's is in memory, a led room's latest are in its
   * tail, the rest is read from the store.
   */
  termAt(rt: RoomState, idx: number): number | undefined {
    if (idx === rt.lastIndex) return rt.lastTerm;
    const first = rt.tail.length > 0 ? rt.tail[0].idx : rt.lastIndex + 1;
    if (idx >= first && idx <= rt.lastIndex) return rt.tail[idx - first].term;
    return this.e.store.termAt(rt.id, idx);
  }

  /** Up to `max` entries of a led room from `from` on: from the tail, or (older ones) from the store. */
  entriesFrom(rt: RoomState, from: number, max: number): LogEntry[] {
    const first = rt.tail.length > 0 ? rt.tail[0].idx : rt.lastIndex + 1;
    if (from >= first) return rt.tail.slice(from - first, from - first + max);
    return this.e.store.entries(rt.id, from, Math.min(first - 1, rt.durableIndex), max);
  }

  /** Drops tail entries every peer has (and, past MAX_TAIL, the oldest written ones: the store has them). */
  private trimTail(rt: RoomState): void {
    let keepFrom = rt.durableIndex + 1;
    for (const p of this.e.members.peerIds) keepFrom = Math.min(keepFrom, (rt.match.get(p) ?? 0) + 1);
    keepFrom = Math.max(keepFrom, Math.min(rt.durableIndex + 1, rt.lastIndex + 1 - MAX_TAIL));
    const first = rt.tail.length > 0 ? rt.tail[0].idx : 0;
    if (rt.tail.length > 0 && keepFrom > first) rt.tail.splice(0, keepFrom - first);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Sends every led room's new entries to the peers, then (next turn, once the calls are on the
   * wire) writes them in one transaction. The admin's write and the followers' run in parallel;
   * nothing commits before a majority, the admin's copy counting only once synced, has it on
   * disk. A write or sync that fails steps the admin down: its entries may already be on
   * followers, and their indexes must not be reused in this term with other content.
   */
  private flush(): void {
    const e = this.e;
    this.flushScheduled = false;
    if (this.dirty.size === 0 || e.stopped) return;
    const batch: [RoomState, number, LogEntry[]][] = [];
    for (const rt of this.dirty) {
      if (rt.pending.length > 0) batch.push([rt, rt.term, rt.pending]);
      rt.pending = [];
    }
    this.dirty.clear();
    e.channels.kickAll();
    setImmediate(() => this.write(batch));
  }

  private write(batch: [RoomState, number, LogEntry[]][]): void {
    const e = this.e;
    if (e.stopped) return;
    // A room whose admin stepped down meanwhile dropped these entries (and its waiters).
    const live = batch.filter(([rt, term]) => rt.role === 'leader' && rt.term === term);
    if (live.length === 0) return;
    try {
      e.store.transaction(() => {
        for (const [rt, , entries] of live) e.store.append(rt.id, entries);
      });
      e.stats.flushes++;
    } catch (err) {
      this.stepDownAfterFailedWrite(live, 'replication: local append failed; stepping down', err);
      return;
    }
    for (const [rt, , entries] of live) rt.durableIndex = Math.max(rt.durableIndex, entries[entries.length - 1].idx);
    // Counted once on disk; the event loop runs on meanwhile (more appends, the peers' answers).
    e.store.whenDurable((err) => {
      if (err) {
        this.stepDownAfterFailedWrite(live, 'replication: local log sync failed; stepping down', err);
        return;
      }
      for (const [rt, term, entries] of live) {
        if (rt.role !== 'leader' || rt.term !== term) continue;
        rt.syncedIndex = Math.max(rt.syncedIndex, entries[entries.length - 1].idx);
        this.advanceCommit(rt);
      }
    });
  }

  private stepDownAfterFailedWrite(live: [RoomState, number, LogEntry[]][], what: string, err: unknown): void {
    const e = this.e;
    if (e.stopped) return;
    e.log?.error(what, { err });
    for (const [rt, term] of live) {
      if (rt.role !== 'leader' || rt.term !== term) continue;
      e.election.stepDown(rt, rt.term, null);
      e.reloadRoom(rt);
    }
  }

  waitCommit(rt: RoomState, idx: number, term: number, from?: string): Promise<LogEntry> {
    return new Promise((resolve, reject) => {
      rt.waiters.push({ idx, term, from, resolve, reject });
    });
  }

  failWaiters(rt: RoomState, err: Error): void {
    const ws = rt.waiters;
    rt.waiters = [];
    for (const w of ws) w.reject(err);
  }

  /**
   * On the admin: commit up to the highest index of this term a majority has on disk. Decided at
   * the end of the turn for every room whose progress moved, and applied in one transaction (not
   * one per peer answer): several answers of one turn cost one commit.
   */
  advanceCommit(rt: RoomState): void {
    if (rt.role !== 'leader') return;
    this.commitDue.add(rt);
    if (this.commitDue.size === 1) setImmediate(() => this.commitDueRooms());
  }

  private commitDueRooms(): void {
    const e = this.e;
    const due: [RoomState, number][] = [];
    const visited = [...this.commitDue];
    this.commitDue.clear();
    for (const rt of visited) {
      if (rt.role !== 'leader') continue;
      // Only up to what the admin itself has written: it applies committed entries from its store;
      // its own copy counts up to what is synced. Counted over the room's voters (its latest
      // configuration); learners receive the log but do not count.
      const voters = e.members.votersOf(rt);
      const own = Math.min(rt.durableIndex, rt.syncedIndex);
      const matches = voters.map((v) => (v === e.selfId ? own : Math.min(rt.durableIndex, rt.match.get(v) ?? 0)));
      const next = majorityCommitIndex(matches, voters.length, rt.commitIndex, rt.term,
        (i) => (i <= rt.durableIndex ? this.termAt(rt, i) : undefined));
      if (next > rt.commitIndex) due.push([rt, next]);
    }
    if (due.length > 0 && !e.stopped) {
      // Applied from the tail (what this admin sent and wrote), not read back from SQLite.
      const applied = e.store.transaction(() => due.map(([rt, idx]) => e.store.commit(rt.id, idx, rt.tail)), { durable: false });
      due.forEach(([rt, idx], i) => {
        rt.commitIndex = idx;
        this.afterApply(rt, applied[i]);
      });
    }
    // After applying: the tail may drop what every peer has, the entries just applied included.
    for (const rt of visited) if (rt.role === 'leader') this.trimTail(rt);
  }

  /** A follower told by the admin that entry (idx, term) is committed may commit up to it if its log matches. */
  learnCommit(rt: RoomState, idx: number, term: number): void {
    if (rt.role === 'leader' || idx <= rt.commitIndex || idx > rt.lastIndex) return;
    if (this.termAt(rt, idx) !== term) return;
    this.commitTo(rt, idx);
  }

  commitTo(rt: RoomState, idx: number): void {
    this.afterApply(rt, this.followerCommit(rt, idx));
  }

  /**
   * A follower commits up to `idx` (its log holds it): applied from its `uncommitted` run where it
   * can, inside the caller's transaction if there is one; the caller emits what was applied.
   */
  followerCommit(rt: RoomState, idx: number): AppliedEntry[] {
    const applied = this.e.store.commit(rt.id, idx, rt.uncommitted);
    rt.commitIndex = idx;
    dropCommitted(rt);
    return applied;
  }

  /** Committed entries were applied to the store: resolve their waiters, emit them in log order. */
  afterApply(rt: RoomState, applied: AppliedEntry[]): void {
    const e = this.e;
    if (rt.waiters.length > 0) {
      const byIdx = new Map(applied.map((a) => [a.entry.idx, a.entry]));
      const keep: Waiter[] = [];
      for (const w of rt.waiters) {
        if (w.idx > rt.commitIndex) {
          keep.push(w);
          continue;
        }
        const entry = byIdx.get(w.idx) ?? e.store.entries(rt.id, w.idx, w.idx, 1)[0];
        if (entry && entry.term === w.term) {
          // The answer names the committed entry, and the peer that forwarded it holds it (it
          // acknowledged the append): it commits on the spot, so no commit-news call is owed for it.
          if (w.from !== undefined && (rt.match.get(w.from) ?? 0) >= w.idx) {
            rt.answeredCommit.set(w.from, Math.max(rt.answeredCommit.get(w.from) ?? -1, w.idx));
          }
          w.resolve(entry);
        } else w.reject(new ReplicationError(NOT_LEADER, 'entry was replaced by a newer administrator', true));
      }
      rt.waiters = keep;
    }
    for (const a of applied) {
      if (a.entry.kind === 'delete') rt.deleted = true;
      e.emit('applied', a);
    }
    if (rt.role === 'leader' && applied.length > 0) {
      e.channels.wake(rt);
      e.channels.kickAll();
    }
    e.watch.notify(rt.id);
  }
}
