/**
 * The admin's log and commitment: a client request becomes an entry (de-duplicated by
 * `message_id`, validated against committed state, stamped, numbered), entries appended in one
 * event-loop turn are written in one transaction (the flush), and the commit index advances once
 * a majority has an entry on disk. Applying committed entries resolves the waiting submits and
 * emits `applied` (followers commit through `commitTo` too).
 */
import type { AppliedEntry, EntryKind, LogEntry } from '../storage/room-log-store';
import { type Engine, NOT_LEADER, ReplicationError } from './engine';
import { majorityCommitIndex } from './raft-rules';
import type { RoomState, Waiter } from './room-state';

export class Commitment {
  private flushScheduled = false;

  constructor(private readonly e: Engine) {}

  /** On the admin: the entry for a client request, resolved when committed (a resubmitted message is logged once). */
  leaderSubmit(rt: RoomState, kind: EntryKind, data: Record<string, unknown>): Promise<LogEntry> {
    const e = this.e;
    if (kind === 'message') {
      const id = data.message_id as string;
      const stored = e.store.findMessage(rt.id, id);
      if (stored) {
        if (stored.idx <= rt.commitIndex) return Promise.resolve(e.store.entries(rt.id, stored.idx, stored.idx, 1)[0]);
        return this.waitCommit(rt, stored.idx, stored.term);
      }
      const pending = rt.pending.find((p) => p.kind === 'message' && p.data.message_id === id);
      if (pending) return this.waitCommit(rt, pending.idx, pending.term);
    }
    const info = e.store.roomInfo(rt.id);
    if (info?.deleted) return Promise.reject(new ReplicationError('ROOM_NOT_FOUND', 'Room not found'));
    e.validate?.(rt.id, kind, data, e.store);
    const stamped: Record<string, unknown> = { ...data, timestamp: e.timestamp() };
    if (kind === 'message') stamped.seq = ++rt.lastSeq;
    const entry = this.appendLocal(rt, kind, stamped);
    return this.waitCommit(rt, entry.idx, entry.term);
  }

  /** Appends to the admin's log in memory; the next flush (this turn) writes it. */
  appendLocal(rt: RoomState, kind: EntryKind, data: Record<string, unknown>): LogEntry {
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
    const e = this.e;
    this.flushScheduled = false;
    const dirty = [...e.rooms.values()].filter((rt) => rt.pending.length > 0);
    if (dirty.length === 0) return;
    try {
      e.store.transaction(() => {
        for (const rt of dirty) e.store.append(rt.id, rt.pending);
      });
      e.stats.flushes++;
    } catch (err) {
      e.log?.error('replication: local append failed', { err });
      for (const rt of dirty) {
        rt.pending = [];
        this.failWaiters(rt, new ReplicationError('INTERNAL_ERROR', `could not store the entry: ${(err as Error).message}`));
        e.reloadRoom(rt);
      }
      return;
    }
    for (const rt of dirty) {
      rt.durableIndex = rt.pending[rt.pending.length - 1].idx;
      rt.pending = [];
      this.advanceCommit(rt);
    }
    e.channels.kickAll();
  }

  waitCommit(rt: RoomState, idx: number, term: number): Promise<LogEntry> {
    return new Promise((resolve, reject) => {
      rt.waiters.push({ idx, term, resolve, reject });
    });
  }

  failWaiters(rt: RoomState, err: Error): void {
    const ws = rt.waiters;
    rt.waiters = [];
    for (const w of ws) w.reject(err);
  }

  /** On the admin: commit up to the highest index of this term a majority has on disk. */
  advanceCommit(rt: RoomState): void {
    const e = this.e;
    if (rt.role !== 'leader') return;
    const matches = [rt.durableIndex, ...e.members.peerIds.map((p) => rt.match.get(p) ?? 0)];
    const next = majorityCommitIndex(matches, e.members.voterCount, rt.commitIndex, rt.term,
      (i) => (i <= rt.durableIndex ? e.store.termAt(rt.id, i) : undefined));
    if (next > rt.commitIndex) this.commitTo(rt, next);
  }

  /** A follower told by the admin that entry (idx, term) is committed may commit up to it if its log matches. */
  learnCommit(rt: RoomState, idx: number, term: number): void {
    if (rt.role === 'leader' || idx <= rt.commitIndex || idx > rt.lastIndex) return;
    if (this.e.store.termAt(rt.id, idx) !== term) return;
    this.commitTo(rt, idx);
  }

  commitTo(rt: RoomState, idx: number): void {
    const applied = this.e.store.commit(rt.id, idx);
    rt.commitIndex = idx;
    this.afterApply(rt, applied);
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
        if (entry && entry.term === w.term) w.resolve(entry);
        else w.reject(new ReplicationError(NOT_LEADER, 'entry was replaced by a newer administrator', true));
      }
      rt.waiters = keep;
    }
    for (const a of applied) {
      if (a.entry.kind === 'delete') rt.deleted = true;
      e.emit('applied', a);
    }
    if (rt.role === 'leader' && applied.length > 0) e.channels.kickAll();
    e.watch.notify(rt.id);
  }
}
