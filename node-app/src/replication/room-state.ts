/**
 * The engine's in-memory view of one room's Raft group (role, term, log bounds, commit, election
 * round, the admin's per-peer progress, waiters), how a fresh one looks and how it is reloaded
 * from the durable store. Only the store is the truth after a crash; this is its working copy.
 */
import type { LogEntry, RoomLogStore } from '../storage/room-log-store';

export type Role = 'follower' | 'candidate' | 'leader';

/** A `submit` waiting for entry (idx, term) to commit. */
/** A request waiting for its entry to commit; `from`: the peer that forwarded it (its answer tells that peer the commit). */
export interface Waiter { idx: number; term: number; from?: string; resolve(e: LogEntry): void; reject(err: Error): void }

export interface RoomState {
  id: string;
  role: Role;
  term: number;
  votedFor: string | null;
  adminId: string | null;
  lastIndex: number;
  lastTerm: number;
  /** Leader only: entries up to here are in SQLite; above, they wait for the next flush. */
  durableIndex: number;
  /**
   * Leader only: entries up to here are on disk (the WAL sync after their write has completed);
   * the admin's own copy counts towards a majority only up to here. Set to `lastIndex` on
   * becoming admin: only the new term's entries are counted, and each of them goes through a sync.
   */
  syncedIndex: number;
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
  /** Leader only, per peer: next index to send, highest index known stored, commit index last sent. */
  next: Map<string, number>;
  match: Map<string, number>;
  sentCommit: Map<string, number>;
  /**
   * Leader only, per peer: the highest entry whose commit an answer to the peer's own forwarded
   * request told it (it commits on the spot, having the entry): no commit-news call is owed for it.
   * The room stays non-quiescent for that peer until an append carries the commit (`sentCommit`),
   * so the next full heartbeat confirms it should the answer have been lost.
   */
  answeredCommit: Map<string, number>;
  /** Leader only: appended entries not yet written (the next flush writes them). */
  pending: LogEntry[];
  /**
   * Leader only: its latest entries in memory, contiguous, ending at `lastIndex` (every entry not
   * yet on disk is here). Peers are sent from it without reading SQLite, and before the admin's own
   * write completes; older entries come from the store.
   */
  tail: LogEntry[];
  /**
   * Follower only: the entries it appended above its commit index, contiguous and as written
   * (`commitment.ts` noteAppended), so committing applies them without reading them back.
   * Emptied whenever the log may have changed under it (reload, snapshot, a change of role).
   */
  uncommitted: LogEntry[];
  waiters: Waiter[];
  caughtUp: boolean;
  /** Its deletion is committed: no more elections or idle heartbeats for it. */
  deleted: boolean;
  /** The room's voters: from the latest config (or create) entry in the log, committed or not; null = none logged yet. */
  voters: string[] | null;
  /** Index of the entry that set `voters` (0 = none). */
  configIdx: number;
  /**
   * Leader only: the `voters` (by identity) found to be committed and equal to the cluster view,
   * so the admin has no change to make while they stay; a new configuration is a new array.
   */
  settledVoters: readonly string[] | null;
  /** Last index of the room's snapshot: entries up to here are compacted away (0 = none). */
  snapIndex: number;
  /** Follower: a snapshot was installed with the state at this commit index, and the entries up to it are still arriving (0 = none). */
  refillTo: number;
  /**
   * Leader only: index of the term's first entry (the noop or create it appends on becoming
   * admin). Every later entry is of its term too, so "an entry of its own term is committed"
   * (Raft's precondition for a membership change) is `commitIndex >= termStartIdx`.
   */
  termStartIdx: number;
  /** Successor rank of this node for the room, computed for admin `rankFor`. */
  rank: number;
  rankFor: string | null;
}

export function freshRoomState(id: string, now: number): RoomState {
  return {
    id, role: 'follower', term: 0, votedFor: null, adminId: null, lastIndex: 0, lastTerm: 0, durableIndex: 0, syncedIndex: 0,
    commitIndex: 0, lastSeq: 0, lastHeardMs: now, electionDeadlineMs: 0, electionTerm: 0, electionPhase: 'none', preVotes: new Set(),
    votes: new Set(), next: new Map(), match: new Map(), sentCommit: new Map(), answeredCommit: new Map(), pending: [], tail: [], uncommitted: [], waiters: [], caughtUp: false,
    deleted: false, voters: null, configIdx: 0, settledVoters: null, snapIndex: 0, refillTo: 0, termStartIdx: 0, rank: -1, rankFor: null,
  };
}

/** Re-reads term, vote, log bounds, commit and last seq from the store (after a restart or a failed write). */
export function reloadRoomState(rt: RoomState, store: RoomLogStore): void {
  const s = store.raftState(rt.id);
  rt.term = s.currentTerm;
  rt.votedFor = s.votedFor;
  rt.lastIndex = s.lastIndex;
  rt.lastTerm = s.lastTerm;
  rt.durableIndex = s.lastIndex;
  rt.syncedIndex = s.lastIndex;
  rt.commitIndex = s.commitIndex;
  rt.lastSeq = s.lastSeq;
  rt.uncommitted = [];
  rt.snapIndex = store.snapshots.meta(rt.id)?.lastIndex ?? 0;
  // Restarted in the middle of a refill after a snapshot: the room's copy is refreshed when it ends.
  rt.refillTo = s.lastIndex < s.commitIndex ? s.commitIndex : 0;
  reloadConfig(rt, store);
}

/** The latest voter configuration in the room's log (after a restart, a truncation or a dropped pending config). */
export function reloadConfig(rt: RoomState, store: RoomLogStore): void {
  const c = store.latestConfig(rt.id);
  rt.voters = c ? c.voters : null;
  rt.configIdx = c ? c.idx : 0;
  rt.rank = -1;
}

/** Entries a follower keeps in `uncommitted` (a longer run is applied from SQLite instead). */
const MAX_UNCOMMITTED = 8192;

/**
 * A follower appended `fresh` (contiguous; it replaced everything from `fresh[0].idx` on): its
 * `uncommitted` run follows. A run that would not stay contiguous or grows too long starts over.
 */
export function noteAppended(rt: RoomState, fresh: readonly LogEntry[]): void {
  const run = rt.uncommitted;
  const from = fresh[0].idx;
  while (run.length > 0 && run[run.length - 1].idx >= from) run.pop();
  if (run.length > 0 && run[run.length - 1].idx !== from - 1) run.length = 0;
  for (const x of fresh) run.push(x);
  if (run.length > MAX_UNCOMMITTED) run.splice(0, run.length - MAX_UNCOMMITTED);
}

/** Drops from a follower's `uncommitted` run what its commit index has reached. */
export function dropCommitted(rt: RoomState): void {
  const run = rt.uncommitted;
  let k = 0;
  while (k < run.length && run[k].idx <= rt.commitIndex) k++;
  if (k > 0) run.splice(0, k);
}
