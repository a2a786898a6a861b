/**
 * Log compaction and snapshots of a room, in the same SQLite file as its log (room-log-store.ts).
 *
 * A room's snapshot stands for the compacted prefix of its log: the index and term of the last
 * entry it includes, the last chat sequence number in it, the voter configuration as of it. The
 * state machine (room_info, members) is not kept per snapshot: the state tables hold it at the
 * commit index, which is at or after the snapshot. So a snapshot sent to a peer is the metadata
 * of this node's compacted prefix (index S) plus the state tables at its commit index C, and says
 * so (`appliedIndex`): the peer installs both atomically, sets its commit index to C, and
 * receives the retained entries S+1..C as ordinary appends, stored without being applied again
 * (they are in the state already). So a new node gets the retained history, not only the state.
 *
 * Compaction runs in bounded steps (at most `maxEntries` deleted per call, one transaction), so
 * a room with a long log never holds the event loop; the caller decides the target index from
 * the retention policy (`retentionPoint`).
 */
import type Database from 'better-sqlite3';
import type { MemberRow, RoomInfoRow, RoomLogStore } from './room-log-store';

/** What a compacted prefix leaves behind (the `snapshots` row). */
export interface SnapshotMeta {
  /** Index and term of the last entry the snapshot includes; the log continues at lastIndex + 1. */
  lastIndex: number;
  lastTerm: number;
  /** Highest chat sequence number in the compacted prefix: history begins at lastSeq + 1. */
  lastSeq: number;
  /** The room's voters as of lastIndex (null: none logged by then). */
  voters: string[] | null;
  /** Index of the entry that set `voters` (≤ lastIndex; 0 = none). */
  configIdx: number;
}

/** A snapshot as sent to a peer: the compacted prefix's metadata and the state machine at `appliedIndex` (≥ lastIndex). */
export interface RoomSnapshot extends SnapshotMeta {
  /** The commit index the state is at, and the term of its entry. */
  appliedIndex: number;
  appliedTerm: number;
  info: Omit<RoomInfoRow, 'roomId'> | null;
  members: MemberRow[];
}

/** Which committed messages a node keeps (0 = no such limit); see node-app/README.md "Log retention". */
export interface RetentionPolicy {
  /** Keep the newest this many messages. */
  messages: number;
  /** Keep messages younger than this many days. */
  days: number;
  /**
   * Never compact a message younger than this (whatever the limits say): the window in which a
   * resubmitted message is still recognized by its `message_id` and an `after_id` still finds
   * its predecessor (replication/README.md "Log compaction").
   */
  minAgeMs: number;
}

export const SNAPSHOT_SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  room_id TEXT PRIMARY KEY,
  last_index INTEGER NOT NULL,
  last_term INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  voters TEXT,
  config_idx INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`;

const DAY_MS = 24 * 3600_000;
/** Messages whose timestamps one retention check reads (the age limits walk from the oldest). */
const AGE_SCAN_ROWS = 256;

interface MetaRow { last_index: number; last_term: number; last_seq: number; voters: string | null; config_idx: number }

function voterList(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
}

export class RoomSnapshots {
  private readonly st: ReturnType<RoomSnapshots['prepare']>;

  constructor(private readonly db: Database.Database, private readonly store: RoomLogStore) {
    this.st = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      meta: db.prepare<[string], MetaRow>('SELECT last_index, last_term, last_seq, voters, config_idx FROM snapshots WHERE room_id = ?'),
      upsert: db.prepare(
        `INSERT INTO snapshots (room_id, last_index, last_term, last_seq, voters, config_idx) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(room_id) DO UPDATE SET last_index = excluded.last_index, last_term = excluded.last_term,
           last_seq = excluded.last_seq, voters = excluded.voters, config_idx = excluded.config_idx`),
      deleteUpTo: db.prepare('DELETE FROM entries WHERE room_id = ? AND idx <= ?'),
      deleteAll: db.prepare('DELETE FROM entries WHERE room_id = ?'),
      // The last committed message: a short walk down the seq index (only uncommitted ones are above it).
      seqUpTo: db.prepare<[string, number], { seq: number }>(
        'SELECT seq FROM entries WHERE room_id = ? AND seq IS NOT NULL AND idx <= ? ORDER BY seq DESC LIMIT 1'),
      // Within one step's range of the primary key (at most a step's entries are read).
      seqInRange: db.prepare<[string, number, number], { s: number | null }>(
        'SELECT MAX(seq) AS s FROM entries WHERE room_id = ? AND idx > ? AND idx <= ?'),
      configInRange: db.prepare<[string, number, number], { idx: number; data: string }>(
        "SELECT idx, data FROM entries WHERE room_id = ? AND idx > ? AND idx <= ? AND kind IN ('config', 'create') ORDER BY idx DESC LIMIT 1"),
      commitIndex: db.prepare<[string], { commit_index: number }>('SELECT commit_index FROM raft WHERE room_id = ?'),
      newestAtOrBelowSeq: db.prepare<[string, number, number], { idx: number }>(
        'SELECT idx FROM entries WHERE room_id = ? AND seq IS NOT NULL AND seq <= ? AND idx <= ? ORDER BY seq DESC LIMIT 1'),
      oldestMessages: db.prepare<[string, number, number, number], { idx: number; data: string }>(
        'SELECT idx, data FROM entries WHERE room_id = ? AND idx > ? AND idx <= ? AND seq IS NOT NULL ORDER BY idx ASC LIMIT ?'),
      infoReplace: db.prepare(
        `INSERT OR REPLACE INTO room_info (room_id, room_name, description, creator_id, created_at, admin_node, deleted, message_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      infoDelete: db.prepare('DELETE FROM room_info WHERE room_id = ?'),
      membersDelete: db.prepare('DELETE FROM members WHERE room_id = ?'),
      memberInsert: db.prepare('INSERT INTO members (room_id, username, node_id, joined_at) VALUES (?, ?, ?, ?)'),
      raftEnsure: db.prepare('INSERT OR IGNORE INTO raft (room_id, current_term, voted_for) VALUES (?, 0, NULL)'),
      raftCommit: db.prepare('UPDATE raft SET commit_index = ? WHERE room_id = ?'),
      lastEntry: db.prepare<[string], { idx: number }>('SELECT idx FROM entries WHERE room_id = ? ORDER BY idx DESC LIMIT 1'),
    };
  }

  /** The room's compacted prefix, or undefined when nothing was compacted (the log starts at 1). */
  meta(roomId: string): SnapshotMeta | undefined {
    const r = this.st.meta.get(roomId);
    if (!r) return undefined;
    return { lastIndex: r.last_index, lastTerm: r.last_term, lastSeq: r.last_seq, voters: r.voters === null ? null : voterList(JSON.parse(r.voters)), configIdx: r.config_idx };
  }

  private writeMeta(roomId: string, m: SnapshotMeta): void {
    this.st.upsert.run(roomId, m.lastIndex, m.lastTerm, m.lastSeq, m.voters ? JSON.stringify(m.voters) : null, m.configIdx);
  }

  /** Where the room's history begins here (`first_seq`): messages below it were compacted away. */
  firstSeq(roomId: string): number {
    return (this.st.meta.get(roomId)?.last_seq ?? 0) + 1;
  }

  private commitIndex(roomId: string): number {
    return this.st.commitIndex.get(roomId)?.commit_index ?? 0;
  }

  /** The metadata of a snapshot at `idx`, from the previous one and the entries after it up to `idx` (all still in the log). */
  private metaAt(roomId: string, idx: number, prev: SnapshotMeta | undefined): SnapshotMeta {
    const term = this.store.termAt(roomId, idx);
    if (term === undefined) throw new Error(`room snapshots: no entry ${idx} in room ${roomId}`);
    const from = prev?.lastIndex ?? 0;
    const seq = this.st.seqInRange.get(roomId, from, idx)?.s ?? undefined;
    const cfg = this.st.configInRange.get(roomId, from, idx);
    const cfgVoters = cfg ? voterList((JSON.parse(cfg.data) as { voters?: unknown }).voters) : null;
    return {
      lastIndex: idx,
      lastTerm: term,
      lastSeq: seq ?? prev?.lastSeq ?? 0,
      voters: cfg ? cfgVoters : prev?.voters ?? null,
      configIdx: cfg ? (cfgVoters ? cfg.idx : 0) : prev?.configIdx ?? 0,
    };
  }

  /** The snapshot for a peer whose next entries are compacted here: this node's compacted prefix and its state at the commit index. */
  build(roomId: string): RoomSnapshot {
    const meta = this.meta(roomId);
    if (!meta) throw new Error(`room snapshots: room ${roomId} has no snapshot`);
    const appliedIndex = this.commitIndex(roomId);
    const info = this.store.roomInfo(roomId);
    const infoOut = info ? (({ roomId: _id, ...rest }) => rest)(info) : null;
    return {
      ...meta, appliedIndex, appliedTerm: this.store.termAt(roomId, appliedIndex) ?? 0,
      info: infoOut, members: this.store.members(roomId),
    };
  }

  /**
   * One bounded compaction step towards `upTo` (clamped to the commit index): removes at most
   * `maxEntries` entries from the start of the log and records the new snapshot metadata, in one
   * transaction. Returns the snapshot's last index afterwards (unchanged when there was nothing to do).
   */
  compact(roomId: string, upTo: number, maxEntries: number): number {
    // Not fsynced: a crash that loses this step brings the entries back, which is harmless.
    return this.store.transaction(() => {
      const prev = this.meta(roomId);
      const from = prev?.lastIndex ?? 0;
      // Up to the commit index, and only over entries this node has (after installing a snapshot
      // the entries up to the commit index arrive afterwards).
      const last = this.st.lastEntry.get(roomId)?.idx ?? from;
      const target = Math.min(upTo, this.commitIndex(roomId), last, from + Math.max(1, maxEntries));
      if (target <= from) return from;
      const meta = this.metaAt(roomId, target, prev);
      this.st.deleteUpTo.run(roomId, target);
      this.writeMeta(roomId, meta);
      return target;
    }, { durable: false });
  }

  /**
   * The highest committed index the retention policy lets go: the newest message outside some
   * limit (beyond the newest `messages`, or older than `days`) that is also older than `minAgeMs`,
   * or the current snapshot index when there is none. Bounded: the age limits read at most
   * AGE_SCAN_ROWS messages from the oldest on (the next call continues after the step).
   */
  retentionPoint(roomId: string, policy: RetentionPolicy, nowMs: number): number {
    const meta = this.meta(roomId);
    const from = meta?.lastIndex ?? 0;
    const commit = this.commitIndex(roomId);
    if (commit <= from || (policy.messages <= 0 && policy.days <= 0)) return from;
    let point = from;
    if (policy.messages > 0) {
      const lastSeq = this.st.seqUpTo.get(roomId, commit)?.seq ?? 0;
      const dropBelow = lastSeq - policy.messages;
      if (dropBelow > (meta?.lastSeq ?? 0)) point = Math.max(point, this.st.newestAtOrBelowSeq.get(roomId, dropBelow, commit)?.idx ?? from);
    }
    if (policy.days > 0) point = Math.max(point, this.newestOlderThan(roomId, from, commit, nowMs - policy.days * DAY_MS));
    if (point > from && policy.minAgeMs > 0) point = Math.min(point, this.newestOlderThan(roomId, from, point, nowMs - policy.minAgeMs));
    return point;
  }

  /** Index of the newest message in (from, upTo] stamped before `cutoffMs`, among the oldest AGE_SCAN_ROWS; `from` if none. */
  private newestOlderThan(roomId: string, from: number, upTo: number, cutoffMs: number): number {
    let found = from;
    for (const r of this.st.oldestMessages.all(roomId, from, upTo, AGE_SCAN_ROWS)) {
      const ts = Date.parse(String((JSON.parse(r.data) as { timestamp?: unknown }).timestamp));
      // An unreadable timestamp is never taken as old: nothing is removed on a guess.
      if (!(ts < cutoffMs)) break;
      found = r.idx;
    }
    return found;
  }

  /**
   * Installs a snapshot sent by the room's admin, atomically: the state tables become the
   * snapshot's, the commit index its `appliedIndex`. If this log holds the entry at
   * `appliedIndex` (same term), every entry up to it matches the admin's (Raft's log matching):
   * the entries after the snapshot stay. Otherwise the whole log goes, and the admin sends the
   * entries after the snapshot again. Returns false (nothing changed) when this node has that
   * much committed already.
   */
  install(roomId: string, snap: RoomSnapshot): boolean {
    return this.store.transaction(() => {
      if (snap.appliedIndex <= this.commitIndex(roomId)) return false;
      const own = this.meta(roomId);
      const keepsTail = this.store.termAt(roomId, snap.appliedIndex) === snap.appliedTerm;
      if (keepsTail) this.st.deleteUpTo.run(roomId, snap.lastIndex);
      else this.st.deleteAll.run(roomId);
      // A log kept whole after a longer compaction of its own keeps its own (later) snapshot.
      const meta = keepsTail && own && own.lastIndex > snap.lastIndex ? own : snap;
      this.st.raftEnsure.run(roomId);
      this.st.raftCommit.run(snap.appliedIndex, roomId);
      if (snap.info) {
        const i = snap.info;
        this.st.infoReplace.run(roomId, i.roomName, i.description, i.creatorId, i.createdAt, i.adminNode, i.deleted ? 1 : 0, i.messageCount);
      } else this.st.infoDelete.run(roomId);
      this.st.membersDelete.run(roomId);
      for (const m of snap.members) this.st.memberInsert.run(roomId, m.username, m.nodeId, m.joinedAt);
      this.writeMeta(roomId, meta);
      return true;
    });
  }
}
