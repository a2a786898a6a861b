/**
 * The decision rules of per-room replication, as pure functions (no I/O, no clock), so that the
 * safety-critical parts can be tested exhaustively and read in one place. The protocol is Raft
 * (Ongaro & Ousterhout) per room, with pre-vote and leader stickiness so that a node resuming
 * from SIGSTOP or a restart cannot depose a healthy admin.
 */

/** Raft's "at least as up-to-date" comparison of two logs' last entries. */
export function isLogUpToDate(candLastTerm: number, candLastIdx: number, myLastTerm: number, myLastIdx: number): boolean {
  if (candLastTerm !== myLastTerm) return candLastTerm > myLastTerm;
  return candLastIdx >= myLastIdx;
}

export interface VoterView {
  currentTerm: number;
  votedFor: string | null;
  lastIndex: number;
  lastTerm: number;
  /** True while this node has heard from a live admin of the room within the minimum election timeout. */
  leaderRecentlySeen: boolean;
}

export interface VoteRequest {
  term: number;
  candidateId: string;
  lastIndex: number;
  lastTerm: number;
  /** Pre-vote: "would you vote for me at `term`?" — changes no state on the voter. */
  pre: boolean;
}

export interface VoteDecision {
  granted: boolean;
  /** Term and vote the voter must persist before replying (undefined = unchanged). */
  persist?: { term: number; votedFor: string | null };
  /** The voter learned of a higher term and must step down to follower. */
  stepDown: boolean;
  reason: string;
}

export function decideVote(me: VoterView, req: VoteRequest): VoteDecision {
  const upToDate = isLogUpToDate(req.lastTerm, req.lastIndex, me.lastTerm, me.lastIndex);
  if (req.pre) {
    // A pre-vote is granted only if a real vote would be, and nobody seems to be leading.
    const granted = req.term > me.currentTerm && upToDate && !me.leaderRecentlySeen;
    return { granted, stepDown: false, reason: granted ? 'pre-vote granted' : preReason(me, req, upToDate) };
  }
  // Stickiness: while a live admin exists, a vote request (even with a higher term) is ignored, so a
  // node that was frozen cannot force a needless election.
  if (me.leaderRecentlySeen) return { granted: false, stepDown: false, reason: 'admin alive' };
  if (req.term < me.currentTerm) return { granted: false, stepDown: false, reason: 'stale term' };
  let term = me.currentTerm;
  let votedFor = me.votedFor;
  let stepDown = false;
  if (req.term > term) {
    term = req.term;
    votedFor = null;
    stepDown = true;
  }
  const canVote = votedFor === null || votedFor === req.candidateId;
  const granted = canVote && upToDate;
  if (granted) votedFor = req.candidateId;
  const changed = term !== me.currentTerm || votedFor !== me.votedFor;
  return {
    granted,
    persist: changed ? { term, votedFor } : undefined,
    stepDown,
    reason: granted ? 'granted' : !upToDate ? 'candidate log behind' : 'already voted',
  };
}

function preReason(me: VoterView, req: VoteRequest, upToDate: boolean): string {
  if (req.term <= me.currentTerm) return 'stale term';
  if (!upToDate) return 'candidate log behind';
  return 'admin alive';
}

export interface AppendCheck {
  /** Follower's current term. */
  currentTerm: number;
  /** Term of the follower's entry at `prevIndex` (undefined when it has no such entry). */
  termAtPrev: number | undefined;
  lastIndex: number;
  commitIndex: number;
}

export type AppendVerdict =
  | { ok: false; reason: 'stale-term' }
  | { ok: false; reason: 'mismatch'; conflictIndex: number }
  | { ok: true };

/** Fencing and log matching for an append from an admin of term `term`. */
export function checkAppend(me: AppendCheck, term: number, prevIndex: number, prevTerm: number): AppendVerdict {
  if (term < me.currentTerm) return { ok: false, reason: 'stale-term' };
  if (prevIndex > me.lastIndex) return { ok: false, reason: 'mismatch', conflictIndex: me.lastIndex + 1 };
  if (prevIndex > 0 && me.termAtPrev !== prevTerm) {
    // Committed entries always match the admin's log, so the admin can resend from just after our
    // commit index: one round trip instead of Raft's entry-by-entry back-off. Entries that do match
    // are skipped on arrival (firstNewEntry), so the resend truncates nothing it should keep.
    return { ok: false, reason: 'mismatch', conflictIndex: Math.max(1, Math.min(prevIndex, me.commitIndex + 1)) };
  }
  return { ok: true };
}

/**
 * An append whose `prevIndex` lies inside the follower's snapshot (entries it compacted, all
 * committed, so they match the admin's log): the part up to the snapshot is already there.
 * Returns the append as if it started right after the snapshot (`snapTerm` = its last term).
 */
export function skipCompacted<A extends { prevIndex: number; prevTerm: number; entries: { idx: number }[] }>(
  it: A, snapIndex: number, snapTerm: number,
): A {
  if (it.prevIndex >= snapIndex) return it;
  return { ...it, prevIndex: snapIndex, prevTerm: snapTerm, entries: it.entries.filter((x) => x.idx > snapIndex) };
}

/**
 * Given incoming entries starting at `prevIndex + 1`, returns the index of the first one that is
 * new or conflicts with the local log (entries already present with the same term are skipped,
 * so a re-sent batch never truncates anything), or undefined when all are already present.
 */
export function firstNewEntry(
  entries: { idx: number; term: number }[],
  termAt: (idx: number) => number | undefined,
): number | undefined {
  for (let i = 0; i < entries.length; i++) {
    if (termAt(entries[i].idx) !== entries[i].term) return i;
  }
  return undefined;
}

/**
 * The highest index that a majority of voters (the admin included) store, provided its entry is
 * from the current term (Raft §5.4.2: earlier-term entries commit only indirectly).
 */
export function majorityCommitIndex(
  matchIndexes: number[],
  voterCount: number,
  currentCommit: number,
  currentTerm: number,
  termAt: (idx: number) => number | undefined,
): number {
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  const majority = Math.floor(voterCount / 2) + 1;
  if (sorted.length < majority) return currentCommit;
  const candidate = sorted[majority - 1];
  if (candidate > currentCommit && termAt(candidate) === currentTerm) return candidate;
  return currentCommit;
}

/** FNV-1a, enough to spread rooms over successors deterministically. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Deterministic successor order for a room: every node computes the same ranking, so the
 * rank-0 node times out first and usually wins without a split vote; different rooms prefer
 * different successors, spreading the admin load after a failure.
 */
export function successorRank(roomId: string, nodeId: string, voterIds: string[]): number {
  const order = [...voterIds].sort((a, b) => hash32(`${roomId}/${a}`) - hash32(`${roomId}/${b}`) || (a < b ? -1 : 1));
  return order.indexOf(nodeId);
}

export function electionTimeoutMs(base: number, step: number, rank: number, jitter: number): number {
  return base + step * Math.max(0, rank) + jitter;
}
