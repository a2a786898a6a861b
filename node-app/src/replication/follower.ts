/**
 * The follower's side of replication: accepting an admin's append (fencing by term, log
 * matching, truncating a diverged suffix, learning the commit index), the node-level "alive"
 * heartbeat, the quick hand-over when a resigning admin says so, "caught up", and learning that a
 * room was deleted while this node was away. The append checks are pure functions in `raft-rules.ts`.
 */
import type { AppliedEntry, LogEntry } from '../storage/room-log-store';
import type { Engine } from './engine';
import { checkAppend, firstNewEntry, skipCompacted } from './raft-rules';
import { noteAppended, reloadConfig, type RoomState } from './room-state';
import type { AppendItem, AppendResult } from './wire';

export class Follower {
  constructor(private readonly e: Engine) {}

  /**
   * `from` is alive: every room whose admin we know it to be hears from its admin now. O(1): the
   * election timer reads this when it falls due (quiescent rooms get nothing else).
   */
  onAlive(from: string, now: number): void {
    this.e.aliveFrom.set(from, now);
  }

  /**
   * Fencing for an admin's append or snapshot of `term`: false (refuse) when the term is stale;
   * else `from` is the room's admin, heard from now (a newer term or a non-follower steps down).
   */
  acceptAdmin(rt: RoomState, from: string, term: number, now: number): boolean {
    const e = this.e;
    if (term < rt.term) return false;
    if (term > rt.term || rt.role !== 'follower') e.election.stepDown(rt, term, from);
    e.election.setAdmin(rt, from);
    rt.lastHeardMs = now;
    e.election.resetElectionTimer(rt, now);
    return true;
  }

  /** Runs inside the caller's transaction; committed entries are collected in `applied` for after it. */
  onAppend(rt: RoomState, from: string, sent: AppendItem, now: number, applied: [RoomState, AppliedEntry[]][]): AppendResult {
    const e = this.e;
    const it = skipCompacted(sent, rt.snapIndex, e.store.termAt(rt.id, rt.snapIndex) ?? 0);
    if (!this.acceptAdmin(rt, from, it.term, now)) return { ok: false, term: rt.term, match: 0, conflict: 0 };
    const verdict = checkAppend(
      { currentTerm: rt.term, termAtPrev: e.commitment.termAt(rt, it.prevIndex), lastIndex: rt.lastIndex, commitIndex: rt.commitIndex },
      it.term, it.prevIndex, it.prevTerm);
    if (!verdict.ok) return { ok: false, term: rt.term, match: 0, conflict: verdict.reason === 'mismatch' ? verdict.conflictIndex : 0 };
    const k = firstNewEntry(it.entries, (i) => (i <= rt.lastIndex ? e.store.termAt(rt.id, i) : undefined));
    if (k !== undefined) {
      const fresh = it.entries.slice(k);
      const truncating = fresh[0].idx <= rt.lastIndex;
      e.store.replaceFrom(rt.id, fresh[0].idx, fresh);
      noteAppended(rt, fresh);
      const last = fresh[fresh.length - 1];
      rt.lastIndex = last.idx;
      rt.lastTerm = last.term;
      rt.durableIndex = last.idx;
      if (truncating) rt.lastSeq = e.store.raftState(rt.id).lastSeq;
      else for (const x of fresh) if (x.kind === 'message') rt.lastSeq = Math.max(rt.lastSeq, Number(x.data.seq));
      // A configuration counts as soon as it is in the log (a truncated one stops counting).
      if (truncating || fresh.some((x) => x.kind === 'config' || x.kind === 'create')) reloadConfig(rt, e.store);
    }
    const lastNew = it.prevIndex + it.entries.length;
    const newCommit = Math.min(it.commit, lastNew);
    if (newCommit > rt.commitIndex) applied.push([rt, e.commitment.followerCommit(rt, newCommit)]);
    if (it.resign && rt.commitIndex >= it.commit && it.prevIndex === rt.lastIndex) {
      // The admin is leaving and we have everything it committed: the successor order decides quickly.
      rt.lastHeardMs = 0;
      rt.electionDeadlineMs = now + 20 + 60 * Math.max(0, e.members.successorRankOfSelf(rt, from));
    }
    // After a snapshot the commit index runs ahead of the log until the entries up to it arrive.
    if (!rt.caughtUp && rt.commitIndex >= it.commit && rt.lastIndex >= rt.commitIndex) {
      rt.caughtUp = true;
      e.log?.info('replication: caught up', { room_id: rt.id, commit_index: rt.commitIndex, admin: from });
    }
    return { ok: true, term: rt.term, match: lastNew, conflict: 0 };
  }

  /** A voter has this room's deletion committed: deleted here too, no more elections, nothing to catch up. */
  deletedElsewhere(rt: RoomState, from: string): void {
    const e = this.e;
    rt.deleted = true;
    rt.caughtUp = true;
    rt.electionTerm = 0;
    rt.electionPhase = 'none';
    e.store.markDeleted(rt.id);
    e.log?.info('replication: room was deleted while this node was away', { room_id: rt.id, told_by: from });
    const entry: LogEntry = { idx: rt.commitIndex, term: rt.term, kind: 'delete', data: {} };
    e.emit('applied', { roomId: rt.id, entry, changed: true } as AppliedEntry);
    e.watch.notify(rt.id);
  }
}
