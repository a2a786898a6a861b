/**
 * Log compaction and snapshots in the store, on real SQLite files: the retention policy's
 * compaction point, bounded compaction steps, where history begins, restarting from snapshot +
 * remaining log, and installing a snapshot on another store (keeping a matching tail or not).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogEntry, RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import type { RetentionPolicy } from '../../../node-app/src/storage/room-snapshots';

const ROOM = '6f1c7a52-0000-4000-8000-0000000000aa';
const T0 = Date.parse('2026-11-01T00:00:00Z');
const DAY = 24 * 3600_000;

/** A message stamped `ageDays` before `now` (T0 + 30 days in these tests). */
function msg(idx: number, seq: number, stampMs: number, term = 1): LogEntry {
  return {
    idx, term, kind: 'message',
    data: { message_id: `m-${seq}`, username: 'alice', content: `hello ${seq}`, seq, timestamp: new Date(stampMs).toISOString().replace('Z', '000+00:00') },
  };
}

/** create, join alice, join bob, then `n` messages one hour apart from T0; all committed. */
function seed(store: RoomLogStore, n: number): void {
  store.setTermAndVote(ROOM, 1, 'node1');
  const entries: LogEntry[] = [
    { idx: 1, term: 1, kind: 'create', data: { room_name: 'general', description: null, creator_id: 'alice', created_at: 't0', admin_node: 'node1', voters: ['node1', 'node2', 'node3'] } },
    { idx: 2, term: 1, kind: 'join', data: { username: 'alice', node_id: 'node1', timestamp: 't1' } },
    { idx: 3, term: 1, kind: 'join', data: { username: 'bob', node_id: 'node2', timestamp: 't1' } },
  ];
  for (let s = 1; s <= n; s++) entries.push(msg(3 + s, s, T0 + s * 3600_000));
  store.append(ROOM, entries);
  store.commit(ROOM, entries.length);
}

const NOW = T0 + 30 * DAY;
const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ messages: 0, days: 0, minAgeMs: 0, ...p });

/** Compacts in steps of `step` until the policy's point is reached; returns the number of steps. */
function compactFully(store: RoomLogStore, p: RetentionPolicy, step: number): number {
  let steps = 0;
  for (;;) {
    const point = store.snapshots.retentionPoint(ROOM, p, NOW);
    const before = store.snapshots.meta(ROOM)?.lastIndex ?? 0;
    if (point <= before) return steps;
    store.snapshots.compact(ROOM, point, step);
    steps++;
    if (steps > 1000) throw new Error('compaction does not converge');
  }
}

describe('room log compaction and snapshots', () => {
  // Each test gets its own folder (`dir`), all removed at the end.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'repl-snap-'));
  let dir = root;
  let n = 0;
  beforeEach(() => fs.mkdirSync((dir = path.join(root, String(++n)))));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('keeping the newest N messages compacts the prefix before them, in bounded steps, and history begins after it', () => {
    const store = RoomLogStore.open({ dir });
    seed(store, 100);
    expect(store.snapshots.firstSeq(ROOM)).toBe(1);
    // Entries 1..73 hold seq 1..70: with 30 kept, seq 70 (idx 73) is the newest to go.
    expect(store.snapshots.retentionPoint(ROOM, policy({ messages: 30 }), NOW)).toBe(73);
    const steps = compactFully(store, policy({ messages: 30 }), 16);
    expect(steps).toBe(Math.ceil(73 / 16));
    expect(store.snapshots.meta(ROOM)).toMatchObject({ lastIndex: 73, lastTerm: 1, lastSeq: 70, voters: ['node1', 'node2', 'node3'], configIdx: 1 });
    expect(store.entries(ROOM, 1, 200, 200).map((e) => e.idx)).toEqual(Array.from({ length: 30 }, (_, i) => 74 + i));
    const all = store.history(ROOM, { afterSeq: 0, limit: 1000 });
    expect(all.map((m) => m.sequence_number)).toEqual(Array.from({ length: 30 }, (_, i) => 71 + i));
    expect(store.snapshots.firstSeq(ROOM)).toBe(71);
    // The state machine is untouched: members, message count.
    expect(store.members(ROOM).map((m) => m.username)).toEqual(['alice', 'bob']);
    expect(store.roomInfo(ROOM)).toMatchObject({ messageCount: 100, deleted: false });
    store.close();
  });

  test('the age limit compacts messages older than it; the minimum age holds back younger ones; unreadable stamps are never old', () => {
    const store = RoomLogStore.open({ dir });
    seed(store, 48); // stamped T0 + 1h .. T0 + 48h; NOW = T0 + 30 days
    // Older than 29.5 days before NOW = stamped before T0 + 12h: seq 1..11 (idx 4..14).
    expect(store.snapshots.retentionPoint(ROOM, policy({ days: 29.5 }), NOW)).toBe(14);
    // A minimum age of 30 days - 5 h keeps everything stamped after T0 + 5h.
    expect(store.snapshots.retentionPoint(ROOM, policy({ days: 29.5, minAgeMs: 30 * DAY - 5 * 3600_000 }), NOW)).toBe(7);
    // The count limit and the age limit: whichever lets more go.
    expect(store.snapshots.retentionPoint(ROOM, policy({ days: 29.5, messages: 10 }), NOW)).toBe(41);
    store.append(ROOM, [{ ...msg(52, 49, 0), data: { ...msg(52, 49, 0).data, timestamp: 'yesterday' } }]);
    store.commit(ROOM, 52);
    expect(store.snapshots.retentionPoint(ROOM, policy({ days: 1 }), NOW)).toBe(51);
    store.close();
  });

  test('nothing is compacted past the commit index, and no limit means nothing is compacted', () => {
    const store = RoomLogStore.open({ dir });
    seed(store, 10);
    store.append(ROOM, [msg(14, 11, T0), msg(15, 12, T0)]); // stored, not committed
    expect(store.snapshots.retentionPoint(ROOM, policy({}), NOW)).toBe(0);
    expect(store.snapshots.retentionPoint(ROOM, policy({ messages: 1 }), NOW)).toBe(12);
    expect(store.snapshots.compact(ROOM, 15, 100)).toBe(13);
    expect(store.raftState(ROOM)).toMatchObject({ commitIndex: 13, lastIndex: 15, lastSeq: 12 });
    store.close();
  });

  test('a restart loads from snapshot and remaining log: bounds, term at the snapshot, voters, last seq, new appends', () => {
    const store = RoomLogStore.open({ dir });
    seed(store, 20);
    compactFully(store, policy({ messages: 1 }), 1000);
    expect(store.snapshots.meta(ROOM)?.lastIndex).toBe(22);
    store.close();

    const again = RoomLogStore.open({ dir });
    expect(again.raftState(ROOM)).toMatchObject({ commitIndex: 23, lastIndex: 23, lastTerm: 1, lastSeq: 20 });
    expect(again.termAt(ROOM, 22)).toBe(1);
    expect(again.termAt(ROOM, 21)).toBeUndefined();
    expect(again.latestConfig(ROOM)).toEqual({ idx: 1, voters: ['node1', 'node2', 'node3'] });
    expect(again.snapshots.firstSeq(ROOM)).toBe(20);
    // Compact everything: the log is empty, its bounds are the snapshot's.
    again.snapshots.compact(ROOM, 23, 10);
    expect(again.entries(ROOM, 1, 100, 100)).toEqual([]);
    expect(again.raftState(ROOM)).toMatchObject({ commitIndex: 23, lastIndex: 23, lastTerm: 1, lastSeq: 20 });
    expect(again.snapshots.firstSeq(ROOM)).toBe(21);
    expect(again.history(ROOM, { limit: 10 })).toEqual([]);
    // The log continues after the snapshot; writing into it or leaving a gap is refused.
    again.append(ROOM, [msg(24, 21, T0, 2)]);
    expect(() => again.append(ROOM, [msg(23, 21, T0, 2)])).toThrow(/refusing to rewrite committed entry/);
    expect(() => again.append(ROOM, [msg(30, 22, T0, 2)])).toThrow(/gap/);
    again.commit(ROOM, 24);
    expect(again.history(ROOM, { limit: 10 }).map((m) => m.sequence_number)).toEqual([21]);
    again.close();
  });

  test('a snapshot installs on another store: state and commit index, then the retained entries refill without being applied again', () => {
    const admin = RoomLogStore.open({ file: path.join(dir, 'admin.sqlite') });
    seed(admin, 30);
    compactFully(admin, policy({ messages: 5 }), 1000);
    const snap = admin.snapshots.build(ROOM);
    // The admin's compacted prefix (up to seq 25) and its state at its commit index.
    expect(snap).toMatchObject({ lastIndex: 28, lastSeq: 25, appliedIndex: 33, appliedTerm: 1, voters: ['node1', 'node2', 'node3'] });
    expect(snap.members.map((m) => m.username)).toEqual(['alice', 'bob']);

    // A new node: nothing of the room.
    const fresh = RoomLogStore.open({ file: path.join(dir, 'fresh.sqlite') });
    expect(fresh.snapshots.install(ROOM, snap)).toBe(true);
    expect(fresh.raftState(ROOM)).toMatchObject({ commitIndex: 33, lastIndex: 28, lastTerm: 1 });
    expect(fresh.roomInfo(ROOM)).toMatchObject({ roomName: 'general', messageCount: 30 });
    expect(fresh.members(ROOM).map((m) => m.username)).toEqual(['alice', 'bob']);
    expect(fresh.liveRoomIds()).toEqual([ROOM]);
    expect(fresh.snapshots.firstSeq(ROOM)).toBe(26);
    expect(fresh.latestConfig(ROOM)?.voters).toEqual(['node1', 'node2', 'node3']);
    // Not newer than what it has committed: ignored.
    expect(fresh.snapshots.install(ROOM, snap)).toBe(false);
    // The retained entries arrive as appends: stored, in history, not counted twice.
    fresh.append(ROOM, admin.entries(ROOM, 29, 33, 10));
    expect(fresh.commit(ROOM, 33)).toEqual([]);
    expect(fresh.history(ROOM, { afterSeq: 0, limit: 100 }).map((m) => m.sequence_number)).toEqual([26, 27, 28, 29, 30]);
    fresh.append(ROOM, [msg(34, 31, T0)]);
    fresh.commit(ROOM, 34);
    expect(fresh.roomInfo(ROOM)?.messageCount).toBe(31);

    // A far-behind node whose log holds the entry at the applied index: the entries after the snapshot stay.
    const behind = RoomLogStore.open({ file: path.join(dir, 'behind.sqlite') });
    seed(behind, 10);
    behind.append(ROOM, Array.from({ length: 25 }, (_, i) => msg(14 + i, 11 + i, T0 + (11 + i) * 3600_000)));
    expect(behind.snapshots.install(ROOM, snap)).toBe(true);
    expect(behind.raftState(ROOM)).toMatchObject({ commitIndex: 33, lastIndex: 38 });
    expect(behind.entries(ROOM, 1, 100, 100)[0].idx).toBe(29);

    // A log that diverged (another term at the applied index): all of it goes, the log restarts after the snapshot.
    const diverged = RoomLogStore.open({ file: path.join(dir, 'diverged.sqlite') });
    seed(diverged, 10);
    diverged.append(ROOM, Array.from({ length: 25 }, (_, i) => msg(14 + i, 11 + i, T0, 2)));
    expect(diverged.snapshots.install(ROOM, snap)).toBe(true);
    expect(diverged.raftState(ROOM)).toMatchObject({ commitIndex: 33, lastIndex: 28, lastTerm: 1 });
    expect(diverged.entries(ROOM, 1, 100, 100)).toEqual([]);
    for (const s of [admin, fresh, behind, diverged]) s.close();
  });
});
