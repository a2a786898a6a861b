/**
 * Durable per-room replicated log on SQLite (better-sqlite3, WAL).
 *
 * One database file per node holds, for every room it replicates:
 *  - the consensus state that must survive a crash before the node answers a peer
 *    (current term, the vote cast in it), see `setTermAndVote`;
 *  - the log itself, `(room_id, idx)` -> term, kind, JSON data; chat messages also carry their
 *    `message_id` and `seq` in indexed columns so history paging and de-duplication are index reads;
 *  - the state machine that committed entries produce (room info, members, last applied index),
 *    updated in the same transaction that advances the commit index, so a restart never has to
 *    replay the log to know who is in a room.
 *
 * better-sqlite3 is synchronous: each call is a short, bounded piece of work on the event loop and
 * `transaction()` lets the replication layer write a whole batch (many rooms, many entries) at once.
 * A durable write is on disk once `whenDurable` says so: at once with `inline` (the default: the
 * store fdatasyncs the WAL before the transaction returns), or, with `full`, when an fdatasync off
 * the event loop has covered it (`wal-sync.ts`); the replication layer acknowledges only then.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChatMessage } from '../protocol/messages';
import { RoomSnapshots, SNAPSHOT_SCHEMA } from './room-snapshots';
import { type SyncCall, type SyncNowCall, WalSync } from './wal-sync';

/** `config`: the room's voters from here on (one server added or removed per entry); `create` carries the first set. */
export type EntryKind = 'create' | 'noop' | 'join' | 'leave' | 'message' | 'delete' | 'config';

/** One log entry. `data` is kind-specific plain JSON (see `replication/entries.ts`). */
export interface LogEntry {
  idx: number;
  term: number;
  kind: EntryKind;
  data: Record<string, unknown>;
}

export interface RoomRaftState {
  roomId: string;
  currentTerm: number;
  votedFor: string | null;
  commitIndex: number;
  lastIndex: number;
  lastTerm: number;
  /** Highest chat sequence number anywhere in the log (committed or not). */
  lastSeq: number;
}

export interface RoomInfoRow {
  roomId: string;
  roomName: string;
  description: string | null;
  creatorId: string;
  createdAt: string;
  adminNode: string;
  deleted: boolean;
  messageCount: number;
}

export interface MemberRow { username: string; nodeId: string; joinedAt: string }

/** A message as the log stores it: exactly the wire's message (protocol/messages.ts). */
export type StoredMessage = ChatMessage;

export interface HistoryQuery {
  /** Only messages with a smaller sequence number (page backwards). */
  beforeSeq?: number;
  /** Only messages with a larger sequence number (resume forwards). */
  afterSeq?: number;
  limit: number;
}

export interface StoreOptions {
  /** Directory for `rooms.sqlite`; created if missing. Ignored when `file` is given. */
  dir?: string;
  /** Explicit file, or `:memory:` for tests. */
  file?: string;
  /**
   * How a durable write reaches the disk (see `Durability`). Default `inline`. Ignored for `:memory:`.
   */
  synchronous?: Durability;
  /** The fdatasync `full` runs (default `fs.fdatasync`); tests wrap the real one to hold its completion. */
  syncCall?: SyncCall;
  /** The fdatasync run on the event loop (`inline`, and Raft state outside a batch); default `fs.fdatasyncSync`. */
  syncNowCall?: SyncNowCall;
  /** How long opening waits for another process to release the file before failing. Default 5000 ms. */
  lockWaitMs?: number;
}

/**
 * SQLite always runs with `synchronous=NORMAL` (a commit writes its WAL frames without an fsync);
 * the store itself syncs the WAL file (`wal-sync.ts`) where a mode asks for it:
 * - `full`: durable against power loss once `whenDurable` says so: one fdatasync at a time runs
 *   off the event loop, covering every commit before it (group commit);
 * - `inline`: every outermost durable transaction fdatasyncs the WAL on the event loop before it
 *   returns (cheaper in CPU per commit than `full` where measured: node-app/bench/README.md);
 * - `normal`: no sync of commits: durable across process crashes (kill -9) only; an OS crash may
 *   lose the last transactions.
 * A non-durable transaction (`durable: false`) is never synced of its own: it reaches disk with the
 * next synced one. Syncing ourselves rather than with SQLite's `synchronous=FULL` lets a
 * non-durable transaction skip the sync without re-preparing `PRAGMA synchronous` twice (SQLite
 * applies the pragma when it is prepared), which cost more than the transaction itself.
 */
export type Durability = 'full' | 'inline' | 'normal';

/** A state-machine change caused by applying one committed entry; returned so callers can emit events. */
export interface AppliedEntry {
  roomId: string;
  entry: LogEntry;
  /** For join/leave: whether membership actually changed (a re-join or a non-member leave does not). */
  changed: boolean;
  /**
   * A snapshot was installed in place of the entries up to `entry.idx` (then `entry` is a stand-in
   * noop): the room's state must be re-read from the store, not updated from this entry.
   */
  snapshot?: true;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS raft (
  room_id TEXT PRIMARY KEY,
  current_term INTEGER NOT NULL DEFAULT 0,
  voted_for TEXT,
  commit_index INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
  room_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  term INTEGER NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL,
  message_id TEXT,
  seq INTEGER,
  PRIMARY KEY (room_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_seq ON entries(room_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_by_message_id ON entries(message_id) WHERE message_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS room_info (
  room_id TEXT PRIMARY KEY,
  room_name TEXT NOT NULL,
  description TEXT,
  creator_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  admin_node TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  message_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS members (
  room_id TEXT NOT NULL,
  username TEXT NOT NULL,
  node_id TEXT NOT NULL,
  joined_at TEXT NOT NULL,
  PRIMARY KEY (room_id, username)
) WITHOUT ROWID;
`;

interface EntryRow { idx: number; term: number; kind: string; data: string }

function rowToEntry(r: EntryRow): LogEntry {
  return { idx: r.idx, term: r.term, kind: r.kind as EntryKind, data: JSON.parse(r.data) as Record<string, unknown> };
}

/** `known`'s entries `from..upTo` when it holds all of them (it is contiguous), else undefined. */
function covering(known: readonly LogEntry[] | undefined, from: number, upTo: number): LogEntry[] | undefined {
  if (!known || known.length === 0) return undefined;
  const first = known[0].idx;
  if (from < first || upTo > known[known.length - 1].idx) return undefined;
  const run = known.slice(from - first, upTo - first + 1);
  // Contiguity is the caller's promise; the ends are checked so a broken one reads the store instead.
  return run.length === upTo - from + 1 && run[0].idx === from && run[run.length - 1].idx === upTo ? run : undefined;
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

export class RoomLogStore {
  private readonly db: Database.Database;
  private readonly st: ReturnType<RoomLogStore['prepare']>;
  /** `inline`: each outermost durable transaction syncs the WAL before it returns. */
  private readonly syncEachCommit: boolean;
  /** Compaction and snapshots (room-snapshots.ts): the log may start after a snapshot's last index. */
  readonly snapshots: RoomSnapshots;
  /** On a file with `full` or `inline` durability: the WAL's syncs. */
  private readonly walSync: WalSync | null;
  /**
   * Runs its argument in a transaction (a savepoint inside another). One wrapper for the store's
   * life: better-sqlite3 builds a wrapper per `db.transaction(fn)`, which costs more than a small
   * transaction itself (test/node-app/storage/transaction.bench.ts measures both).
   */
  private readonly inTransaction: (fn: () => unknown) => unknown;

  private constructor(db: Database.Database, syncEachCommit: boolean, walSync: WalSync | null) {
    this.db = db;
    this.syncEachCommit = syncEachCommit;
    this.walSync = walSync;
    this.inTransaction = db.transaction((fn: () => unknown) => fn());
    this.st = this.prepare();
    this.snapshots = new RoomSnapshots(db, this);
  }

  static open(opts: StoreOptions = {}): RoomLogStore {
    let file = opts.file;
    if (!file) {
      if (!opts.dir) throw new Error('room log store: give either dir (DATA_DIR) or file');
      fs.mkdirSync(opts.dir, { recursive: true });
      file = path.join(opts.dir, 'rooms.sqlite');
    }
    const mode = opts.synchronous ?? 'inline';
    const db = new Database(file, { timeout: opts.lockWaitMs ?? 5000 });
    try {
      // One process owns the file for its whole life (taken at once, held until close): SQLite then
      // keeps the WAL index in the heap and takes no file lock per transaction (a third of the
      // store's system calls per message, test/node-app/storage/message-path.bench.ts), and a
      // second node pointed at the same DATA_DIR is refused instead of corrupting its log.
      // Set before the first WAL access, or SQLite would already have mapped the shared index.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(
          `room log ${file} is in use by another process (waited ${opts.lockWaitMs ?? 5000} ms): ` +
            'two nodes must not share a data directory (DATA_DIR)',
        );
      }
      throw e;
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = OFF');
    db.exec(SCHEMA);
    db.exec(SNAPSHOT_SCHEMA);
    let walSync: WalSync | null = null;
    if (mode !== 'normal' && file !== ':memory:') {
      // The schema read above opened the WAL (SQLite creates the file on a WAL-mode connection's first read).
      walSync = new WalSync(`${file}-wal`, opts.syncCall, opts.syncNowCall);
    }
    return new RoomLogStore(db, mode === 'inline' && walSync !== null, walSync);
  }

  private prepare() {
    const db = this.db;
    return {
      raftGet: db.prepare<[string], { current_term: number; voted_for: string | null; commit_index: number }>(
        'SELECT current_term, voted_for, commit_index FROM raft WHERE room_id = ?'),
      raftUpsert: db.prepare(
        `INSERT INTO raft (room_id, current_term, voted_for) VALUES (?, ?, ?)
         ON CONFLICT(room_id) DO UPDATE SET current_term = excluded.current_term, voted_for = excluded.voted_for`),
      raftCommit: db.prepare('UPDATE raft SET commit_index = ? WHERE room_id = ?'),
      raftAll: db.prepare<[], { room_id: string }>('SELECT room_id FROM raft'),
      last: db.prepare<[string], { idx: number; term: number }>(
        'SELECT idx, term FROM entries WHERE room_id = ? ORDER BY idx DESC LIMIT 1'),
      lastSeq: db.prepare<[string], { s: number | null }>('SELECT MAX(seq) AS s FROM entries WHERE room_id = ?'),
      termAt: db.prepare<[string, number], { term: number }>('SELECT term FROM entries WHERE room_id = ? AND idx = ?'),
      insert: db.prepare(
        'INSERT INTO entries (room_id, idx, term, kind, data, message_id, seq) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      truncate: db.prepare('DELETE FROM entries WHERE room_id = ? AND idx >= ?'),
      range: db.prepare<[string, number, number, number], EntryRow>(
        'SELECT idx, term, kind, data FROM entries WHERE room_id = ? AND idx >= ? AND idx <= ? ORDER BY idx LIMIT ?'),
      byMessageId: db.prepare<[string, string], { idx: number; term: number; seq: number }>(
        'SELECT idx, term, seq FROM entries WHERE message_id = ? AND room_id = ?'),
      infoGet: db.prepare<[string], {
        room_id: string; room_name: string; description: string | null; creator_id: string; created_at: string;
        admin_node: string; deleted: number; message_count: number;
      }>('SELECT * FROM room_info WHERE room_id = ?'),
      infoAll: db.prepare<[], { room_id: string }>('SELECT room_id FROM room_info WHERE deleted = 0 ORDER BY rowid'),
      infoInsert: db.prepare(
        `INSERT OR IGNORE INTO room_info (room_id, room_name, description, creator_id, created_at, admin_node)
         VALUES (?, ?, ?, ?, ?, ?)`),
      infoAdmin: db.prepare('UPDATE room_info SET admin_node = ? WHERE room_id = ?'),
      infoDeleted: db.prepare('UPDATE room_info SET deleted = 1 WHERE room_id = ?'),
      infoCount: db.prepare('UPDATE room_info SET message_count = message_count + 1 WHERE room_id = ?'),
      memberGet: db.prepare<[string, string], { username: string }>(
        'SELECT username FROM members WHERE room_id = ? AND username = ?'),
      memberAdd: db.prepare(
        `INSERT INTO members (room_id, username, node_id, joined_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(room_id, username) DO UPDATE SET node_id = excluded.node_id`),
      memberDel: db.prepare('DELETE FROM members WHERE room_id = ? AND username = ?'),
      memberDelOnNode: db.prepare('DELETE FROM members WHERE room_id = ? AND username = ? AND node_id = ?'),
      members: db.prepare<[string], { username: string; node_id: string; joined_at: string }>(
        'SELECT username, node_id, joined_at FROM members WHERE room_id = ? ORDER BY joined_at, username'),
      histBefore: db.prepare<[string, number, number, number], EntryRow & { seq: number }>(
        `SELECT idx, term, kind, data, seq FROM entries
         WHERE room_id = ? AND seq IS NOT NULL AND seq < ? AND idx <= ? ORDER BY seq DESC LIMIT ?`),
      histAfter: db.prepare<[string, number, number, number], EntryRow & { seq: number }>(
        `SELECT idx, term, kind, data, seq FROM entries
         WHERE room_id = ? AND seq IS NOT NULL AND seq > ? AND idx <= ? ORDER BY seq ASC LIMIT ?`),
    };
  }

  /**
   * Runs `fn` in one transaction; nested calls join the outer one. A durable transaction is on
   * disk once `whenDurable` (called after it) says so. `durable: false` is for work that is
   * recomputable after a crash (commit index, applied state): nobody waits for it — it still
   * survives a process crash, and reaches disk with the next synced transaction.
   */
  transaction<T>(fn: () => T, opts: { durable?: boolean } = {}): T {
    if (opts.durable === false) return this.inTransaction(fn) as T;
    return this.durably(fn, this.syncEachCommit);
  }

  /**
   * `fn` in a transaction; the outermost one is noted as a write the WAL syncs cover, and synced
   * before returning when `syncNow`. A failed sync throws: the caller treats the write as failed
   * (the admin steps down, a follower's answer fails), as it would a failed commit.
   */
  private durably<T>(fn: () => T, syncNow: boolean): T {
    const outermost = !this.db.inTransaction;
    const result = this.inTransaction(fn) as T;
    if (outermost && this.walSync) {
      this.walSync.noteWrite();
      if (syncNow) this.walSync.syncNow();
    }
    return result;
  }

  /**
   * `done()` once every durable transaction committed so far is on disk (at once, synchronously,
   * unless `full` durability has an fdatasync to wait for); `done(err)` when that cannot be
   * promised (the sync failed, or the store is closing): whatever waited must not be acknowledged.
   */
  whenDurable(done: (err?: Error) => void): void {
    if (this.walSync) this.walSync.whenSynced(done);
    else done();
  }

  /** WAL syncs completed so far, on and off the event loop (0 with `normal` durability or in memory). */
  get walSyncs(): number {
    return this.walSync?.syncs ?? 0;
  }

  /**
   * Runs `fn` as a transaction that is on disk when it returns (the event loop waits for the
   * fsync), for Raft's persistent state outside a batch: rare (elections, new rooms), and a vote
   * must be durable before anything acts on it. Inside an outer transaction it joins it, and the
   * caller's `whenDurable` covers it.
   */
  private durableNow(fn: () => void): void {
    this.durably(fn, true);
  }

  close(): void {
    this.walSync?.close();
    if (this.db.open) this.db.close();
  }

  roomIds(): string[] {
    return this.st.raftAll.all().map((r) => r.room_id);
  }

  hasRoom(roomId: string): boolean {
    return this.st.raftGet.get(roomId) !== undefined;
  }

  raftState(roomId: string): RoomRaftState {
    const r = this.st.raftGet.get(roomId);
    const last = this.st.last.get(roomId);
    const seq = this.st.lastSeq.get(roomId);
    // After compaction the log may be empty: its bounds are then the snapshot's.
    const snap = this.snapshots.meta(roomId);
    return {
      roomId,
      currentTerm: r?.current_term ?? 0,
      votedFor: r?.voted_for ?? null,
      commitIndex: r?.commit_index ?? 0,
      lastIndex: last?.idx ?? snap?.lastIndex ?? 0,
      lastTerm: last?.term ?? snap?.lastTerm ?? 0,
      lastSeq: Math.max(seq?.s ?? 0, snap?.lastSeq ?? 0),
    };
  }

  /**
   * Must be durable before a vote is granted or a higher term acknowledged (Raft's persistent
   * state): synced before it returns, unless it joins an outer transaction (then that
   * transaction's `whenDurable` covers it).
   */
  setTermAndVote(roomId: string, term: number, votedFor: string | null): void {
    this.durableNow(() => this.st.raftUpsert.run(roomId, term, votedFor));
  }

  termAt(roomId: string, idx: number): number | undefined {
    if (idx === 0) return 0;
    const term = this.st.termAt.get(roomId, idx)?.term;
    if (term !== undefined) return term;
    const snap = this.snapshots.meta(roomId);
    return snap?.lastIndex === idx ? snap.lastTerm : undefined;
  }

  /**
   * Deletes every entry from `fromIdx` on and appends `entries` (which must start at `fromIdx`
   * and be contiguous). Refuses to touch committed entries: that would be a consensus bug, and
   * failing loudly beats silently rewriting acknowledged history.
   */
  replaceFrom(roomId: string, fromIdx: number, entries: LogEntry[]): void {
    this.transaction(() => {
      const raft = this.st.raftGet.get(roomId);
      const commit = raft?.commit_index ?? 0;
      const last = this.st.last.get(roomId)?.idx ?? this.snapshots.meta(roomId)?.lastIndex ?? 0;
      if (fromIdx <= commit && last >= fromIdx) {
        throw new Error(`room log store: refusing to rewrite committed entry ${fromIdx} (commit ${commit}) of room ${roomId}`);
      }
      if (fromIdx > last + 1) throw new Error(`room log store: gap in room ${roomId}: append at ${fromIdx} after ${last}`);
      if (!raft) this.st.raftUpsert.run(roomId, 0, null);
      // Only a conflicting suffix is deleted: an append at the tail (every message) has none, and
      // a DELETE opens a write cursor on the table and both indexes even when it finds no row.
      if (fromIdx <= last) this.st.truncate.run(roomId, fromIdx);
      let expect = fromIdx;
      for (const e of entries) {
        if (e.idx !== expect) throw new Error(`room log store: non-contiguous entries for room ${roomId}: ${e.idx} != ${expect}`);
        expect++;
        const isMsg = e.kind === 'message';
        this.st.insert.run(roomId, e.idx, e.term, e.kind, JSON.stringify(e.data),
          isMsg ? str(e.data.message_id) : null, isMsg ? Number(e.data.seq) : null);
      }
    });
  }

  append(roomId: string, entries: LogEntry[]): void {
    if (entries.length === 0) return;
    this.replaceFrom(roomId, entries[0].idx, entries);
  }

  /** Entries with `from <= idx <= to`, at most `max`. */
  entries(roomId: string, from: number, to: number, max: number): LogEntry[] {
    return this.st.range.all(roomId, from, to, max).map(rowToEntry);
  }

  /**
   * The room's latest voter configuration in its log, committed or not (Raft uses the latest it
   * has): the last `config` entry, else the `create` entry if it names voters.
   */
  latestConfig(roomId: string): { idx: number; voters: string[] } | undefined {
    const r = this.db.prepare("SELECT idx, data FROM entries WHERE room_id = ? AND kind IN ('config', 'create') ORDER BY idx DESC LIMIT 1")
      .get(roomId) as { idx: number; data: string } | undefined;
    if (!r) {
      // Compacted away: the configuration as of the snapshot.
      const snap = this.snapshots.meta(roomId);
      return snap?.voters ? { idx: snap.configIdx, voters: snap.voters } : undefined;
    }
    const voters = (JSON.parse(r.data) as { voters?: unknown }).voters;
    return Array.isArray(voters) && voters.every((v) => typeof v === 'string') ? { idx: r.idx, voters: voters as string[] } : undefined;
  }

  findMessage(roomId: string, messageId: string): { idx: number; term: number; seq: number } | undefined {
    return this.st.byMessageId.get(messageId, roomId);
  }

  /**
   * Records that the room's deletion was committed by the cluster while this node missed the
   * entry (a peer that has it committed said so): the room is gone here too. Returns whether it
   * was live before.
   */
  markDeleted(roomId: string): boolean {
    const before = this.roomInfo(roomId);
    this.st.infoDeleted.run(roomId);
    return !!before && !before.deleted;
  }

  /**
   * Advances the commit index to `upTo` and applies the newly committed entries to the room
   * state, all in one transaction. Returns what was applied, in log order. `known`: the caller's
   * in-memory copy of the latest entries (contiguous, as written here); when it covers the range,
   * the entries are not read back and parsed again.
   */
  commit(roomId: string, upTo: number, known?: readonly LogEntry[]): AppliedEntry[] {
    // The commit index and the state it produces need no fsync of their own: Raft recomputes the
    // commit index after a crash (it is not part of its persistent state), and this transaction
    // reaches disk with the next synced append. Skipping the fsync keeps it off the ack path.
    return this.transaction(() => {
      const r = this.st.raftGet.get(roomId);
      const from = (r?.commit_index ?? 0) + 1;
      if (upTo < from) return [];
      const applied: AppliedEntry[] = [];
      const entries = covering(known, from, upTo) ?? this.st.range.all(roomId, from, upTo, upTo - from + 1).map(rowToEntry);
      if (entries.length !== upTo - from + 1) {
        throw new Error(`room log store: cannot commit ${roomId} up to ${upTo}: entries missing`);
      }
      for (const e of entries) applied.push(this.apply(roomId, e));
      this.st.raftCommit.run(upTo, roomId);
      return applied;
    }, { durable: false });
  }

  private apply(roomId: string, e: LogEntry): AppliedEntry {
    const d = e.data;
    let changed = true;
    switch (e.kind) {
      case 'create':
        this.st.infoInsert.run(roomId, str(d.room_name), typeof d.description === 'string' ? d.description : null,
          str(d.creator_id), str(d.created_at), str(d.admin_node));
        break;
      case 'noop':
        this.st.infoAdmin.run(str(d.admin_node), roomId);
        break;
      case 'join':
        // A re-join is not news (no event) but moves the member to the node it joined from, like Room.apply.
        changed = this.st.memberGet.get(roomId, str(d.username)) === undefined;
        this.st.memberAdd.run(roomId, str(d.username), str(d.node_id), str(d.timestamp));
        break;
      case 'leave':
        // A leave names the node the member was on; if the member has since moved to another node
        // (resumed there after its node died), the stale leave must not remove it.
        changed = (typeof d.node_id === 'string'
          ? this.st.memberDelOnNode.run(roomId, str(d.username), d.node_id)
          : this.st.memberDel.run(roomId, str(d.username))).changes > 0;
        break;
      case 'message':
        this.st.infoCount.run(roomId);
        break;
      case 'delete':
        this.st.infoDeleted.run(roomId);
        break;
    }
    // The member count is the node's to know (its Room copy): counting here cost a query per entry.
    return { roomId, entry: e, changed };
  }

  roomInfo(roomId: string): RoomInfoRow | undefined {
    const r = this.st.infoGet.get(roomId);
    if (!r) return undefined;
    return {
      roomId: r.room_id, roomName: r.room_name, description: r.description, creatorId: r.creator_id,
      createdAt: r.created_at, adminNode: r.admin_node, deleted: r.deleted === 1, messageCount: r.message_count,
    };
  }

  /** Rooms whose creation is committed and which are not deleted, in creation order. */
  liveRoomIds(): string[] {
    return this.st.infoAll.all().map((r) => r.room_id);
  }

  members(roomId: string): MemberRow[] {
    return this.st.members.all(roomId).map((m) => ({ username: m.username, nodeId: m.node_id, joinedAt: m.joined_at }));
  }

  /** Committed chat messages, oldest first, paged by sequence number. */
  history(roomId: string, q: HistoryQuery): StoredMessage[] {
    const commit = this.st.raftGet.get(roomId)?.commit_index ?? 0;
    const limit = Math.max(0, Math.min(q.limit, 10_000));
    let rows: EntryRow[];
    if (q.afterSeq !== undefined) {
      rows = this.st.histAfter.all(roomId, q.afterSeq, commit, limit);
      if (q.beforeSeq !== undefined) rows = rows.filter((r) => Number(JSON.parse(r.data).seq) < (q.beforeSeq as number));
    } else {
      rows = this.st.histBefore.all(roomId, q.beforeSeq ?? Number.MAX_SAFE_INTEGER, commit, limit).reverse();
    }
    return rows.map((r) => toMessage(roomId, rowToEntry(r)));
  }
}

export function toMessage(roomId: string, e: LogEntry): StoredMessage {
  const d = e.data;
  return {
    message_id: str(d.message_id),
    room_id: roomId,
    username: str(d.username),
    content: str(d.content),
    sequence_number: Number(d.seq),
    timestamp: str(d.timestamp),
  };
}
