/**
 * Log compaction on a logical clock (SimCluster: real engines, in-memory SQLite): every node
 * compacts its own committed log to the retention policy; a follower that was cut off while the
 * others compacted, one whose store was wiped, and a node added to the cluster catch up from a
 * snapshot and converge; messages sent meanwhile commit once each, in order.
 */
import { RoomLogStore, type LogEntry } from '../../../node-app/src/storage/room-log-store';
import { SimCluster, type SimReplica } from './sim-cluster';
import { newRoom, send, track, type Tracked } from './sim-helpers';

const KEEP = 10;
const RETENTION = { retention: { messages: KEEP, days: 0, minAgeMs: 0 } };

function seqs(n: SimReplica, room: string): number[] {
  return n.store.history(room, { afterSeq: 0, limit: 10_000 }).map((m) => m.sequence_number);
}

/** Sends `count` messages through `via`, a few per logical step. */
async function chat(set: SimCluster, via: string, room: string, count: number, sent: Tracked<LogEntry>[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    sent.push(track(send(set.node(via), room, `m${sent.length}`)));
    if (i % 5 === 4) await set.run(10);
  }
}

/** Every message committed once, numbered 1..n in the order sent. */
function expectAllCommittedInOrder(sent: Tracked<LogEntry>[]): void {
  expect(sent.every((s) => s.done && !s.error)).toBe(true);
  expect(sent.map((s) => Number(s.value?.data.seq))).toEqual(sent.map((_, i) => i + 1));
}

/** Same commit index, room state and retained history tail on every node named. */
function expectConverged(set: SimCluster, ids: string[], room: string): void {
  const ref = set.node(ids[0]);
  const refCommit = ref.repl.roomStatus(room)?.commitIndex;
  for (const id of ids) {
    const n = set.node(id);
    expect(n.repl.roomStatus(room)?.commitIndex).toBe(refCommit);
    expect(n.store.roomInfo(room)).toEqual(ref.store.roomInfo(room));
    expect(n.store.members(room)).toEqual(ref.store.members(room));
    expect(n.store.raftState(room).lastSeq).toBe(ref.store.raftState(room).lastSeq);
    // Each node compacts on its own schedule; the newest KEEP are everywhere.
    expect(seqs(n, room).slice(-KEEP)).toEqual(seqs(ref, room).slice(-KEEP));
  }
}

describe('log compaction and snapshots on a logical clock', () => {
  let set: SimCluster;
  afterEach(() => set.stop());

  test('a follower cut off while the others compacted catches up from a snapshot and converges', async () => {
    set = new SimCluster(['node1', 'node2', 'node3'], RETENTION);
    set.start();
    const room = await newRoom(set);
    set.isolate('node3');
    await set.run(50);
    const sent: Tracked<LogEntry>[] = [];
    await chat(set, 'node1', room, 60, sent);
    await set.runUntil('compacted on node1 and node2', () => ['node1', 'node2'].every((id) => set.node(id).repl.snapshotIndex(room) > 40), 5000);
    expect(set.node('node1').store.entries(room, 1, 40, 40)).toEqual([]);
    expect(set.node('node3').repl.roomStatus(room)?.commitIndex).toBeLessThan(5);

    set.heal();
    await chat(set, 'node2', room, 7, sent);
    await set.runUntil('node3 caught up', () => set.node('node3').repl.roomStatus(room)?.commitIndex === set.node('node1').repl.roomStatus(room)?.commitIndex
      && sent.every((s) => s.done), 5000);
    expect(set.node('node3').repl.stats.snapshotsInstalled).toBe(1);
    const admin = set.nodes.find((n) => n.repl.isAdmin(room)) as SimReplica;
    expect(admin.repl.stats.snapshotsSent).toBeGreaterThanOrEqual(1);
    // node3 has the snapshot's state and the entries after it; history begins after the snapshot.
    expect(set.node('node3').store.snapshots.firstSeq(room)).toBeGreaterThan(40);
    await set.run(2000);
    expectAllCommittedInOrder(sent);
    expectConverged(set, ['node1', 'node2', 'node3'], room);
    // It takes part as before: the admin dies, node3 can be elected, writes go on.
    set.isolate(admin.id);
    const more: Tracked<LogEntry>[] = [];
    const survivor = ['node1', 'node2', 'node3'].find((id) => id !== admin.id && id !== 'node3') as string;
    more.push(track(send(set.node('node3'), room, 'after failover')));
    await set.runUntil('committed after failover', () => more[0].done, 10_000);
    expect(Number(more[0].value?.data.seq)).toBe(sent.length + 1);
    expect(seqs(set.node(survivor), room).slice(-1)).toEqual([sent.length + 1]);
  });

  test('a node whose store was wiped gets the room back from a snapshot', async () => {
    set = new SimCluster(['node1', 'node2', 'node3'], RETENTION);
    set.start();
    const room = await newRoom(set);
    const sent: Tracked<LogEntry>[] = [];
    await chat(set, 'node2', room, 50, sent);
    await set.runUntil('compacted everywhere', () => set.nodes.every((n) => n.repl.snapshotIndex(room) > 30), 5000);
    const wiped = set.nodes.find((n) => !n.repl.isAdmin(room)) as SimReplica;
    wiped.store.close();
    wiped.store = RoomLogStore.open({ file: ':memory:' });
    set.restart(wiped.id, set.ids.filter((p) => p !== wiped.id));
    await chat(set, 'node1', room, 5, sent);
    await set.runUntil('wiped node caught up', () => wiped.repl.roomStatus(room)?.commitIndex === set.node('node1').repl.roomStatus(room)?.commitIndex
      && sent.every((s) => s.done), 5000);
    expect(wiped.repl.stats.snapshotsInstalled).toBe(1);
    expect(wiped.store.members(room).map((m) => m.username)).toEqual([]);
    expect(wiped.store.roomInfo(room)?.messageCount).toBe(55);
    await set.run(2000);
    expectAllCommittedInOrder(sent);
    expectConverged(set, set.ids, room);
  });

  test('a node added to the cluster receives compacted rooms as snapshots, then is added as a voter', async () => {
    const all = ['node1', 'node2', 'node3', 'node4'];
    const three = ['node1', 'node2', 'node3'];
    const others = (ids: string[], id: string) => ids.filter((x) => x !== id);
    set = new SimCluster(all, RETENTION, 1, { node1: others(three, 'node1'), node2: others(three, 'node2'), node3: others(three, 'node3'), node4: others(all, 'node4') });
    set.start();
    const room = 'room-1';
    const created = track(set.node('node1').repl.createRoom(room, { room_name: 'r', description: null, creator_id: 'alice', created_at: 't0' }));
    await set.runUntil('room created', () => created.done && three.every((id) => set.node(id).repl.roomStatus(room)?.commitIndex === 1), 1000);
    const sent: Tracked<LogEntry>[] = [];
    await chat(set, 'node1', room, 40, sent);
    await set.runUntil('compacted', () => three.every((id) => set.node(id).repl.snapshotIndex(room) > 20), 5000);
    for (const id of three) {
      set.restart(id, others(all, id));
      await chat(set, id, room, 5, sent);
      await set.run(300);
    }
    await set.runUntil('node4 a voter everywhere', () => all.every((id) => set.node(id).repl.votersOf(room)?.length === 4), 10_000);
    await set.runUntil('all committed', () => sent.every((s) => s.done), 5000);
    expect(set.node('node4').repl.stats.snapshotsInstalled).toBeGreaterThanOrEqual(1);
    await set.run(2000);
    expectAllCommittedInOrder(sent);
    expectConverged(set, all, room);
  });
});
