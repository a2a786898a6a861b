/**
 * Membership changes through each room's log, on a logical clock (SimCluster with per-replica
 * PEER_NODES and restarts that change them, as a rolling update does): a new node is a learner
 * until caught up, then added by the room's admin; nodes are added and removed one at a time
 * (3 -> 5 is two changes); writes go on throughout, each committed once and in order.
 */
import { SimCluster } from './sim-cluster';
import { newRoom as newSharedRoom, send, track, type Tracked } from './sim-helpers';
import type { LogEntry } from '../../../node-app/src/storage/room-log-store';

const others = (all: string[], id: string) => all.filter((x) => x !== id);

/** Sizes of the room's successive configurations as node `id`'s log records them. */
function configSizes(set: SimCluster, id: string, room: string): number[] {
  const n = set.node(id);
  const last = n.repl.roomStatus(room)?.lastIndex ?? 0;
  return n.store.entries(room, 1, last, last).filter((e) => e.kind === 'config' || e.kind === 'create').map((e) => (e.data.voters as string[]).length);
}

describe('membership through the log on a logical clock', () => {
  let set: SimCluster;
  afterEach(() => set.stop());

  async function newRoom(on: string[]): Promise<string> {
    const room = 'room-1';
    const created = track(set.node(on[0]).repl.createRoom(room, { room_name: 'r', description: null, creator_id: 'alice', created_at: 't0' }));
    await set.runUntil('room created', () => created.done && on.every((id) => set.node(id).repl.roomStatus(room)?.commitIndex === 1), 1000);
    return room;
  }

  /** Rolls every old node onto `view` one at a time, sending all along; returns the sends. */
  async function roll(room: string, olds: string[], view: string[], sent: Tracked<LogEntry>[]): Promise<void> {
    for (const id of olds) {
      set.restart(id, others(view, id));
      for (let i = 0; i < 40; i++) {
        sent.push(track(send(set.node(olds[(i + 1) % olds.length]), room, `m${sent.length}`)));
        await set.run(25);
      }
    }
  }

  test('3 -> 4 -> 3: the new node is a learner until caught up, then a voter; removed again one change at a time; writes commit once, in order', async () => {
    const all = ['node1', 'node2', 'node3', 'node4'];
    const three = ['node1', 'node2', 'node3'];
    set = new SimCluster(all, {}, 1, { node1: others(three, 'node1'), node2: others(three, 'node2'), node3: others(three, 'node3'), node4: others(all, 'node4') });
    set.start();
    const room = await newRoom(three);
    expect(set.node('node1').repl.votersOf(room)).toEqual(three);
    const sent: Tracked<LogEntry>[] = [];
    for (let i = 0; i < 20; i++) sent.push(track(send(set.node('node2'), room, `m${i}`)));
    await set.run(300);
    // Nobody counts node4 yet: it holds no room and is not ready.
    expect(set.node('node4').repl.knowsRoom(room)).toBe(false);
    await roll(room, ['node1', 'node2'], all, sent);
    // node3 still refuses node4 (rooms it leads would never reach node4): not ready yet.
    await set.run(1000);
    expect(set.node('node4').repl.readiness()).toMatchObject({ ready: false, notCountedBy: ['node3'] });
    await roll(room, ['node3'], all, sent);
    await set.runUntil('node4 a voter everywhere', () => all.every((id) => set.node(id).repl.votersOf(room)?.length === 4), 10_000);
    await set.runUntil('node4 ready', () => set.node('node4').repl.readiness().ready, 5000);
    expect(configSizes(set, 'node1', room)).toEqual([3, 4]);
    // Back to three: node4 is removed by the admin once the others no longer list it.
    await roll(room, three, three, sent);
    await set.runUntil('node4 removed', () => three.every((id) => set.node(id).repl.votersOf(room)?.join() === three.join()), 10_000);
    await set.runUntil('every send answered', () => sent.every((s) => s.done), 20_000);
    expect(sent.filter((s) => s.error)).toEqual([]);
    await set.run(500);
    expect(configSizes(set, 'node1', room)).toEqual([3, 4, 3]);
    const history = set.node('node1').store.history(room, { afterSeq: 0, limit: 10_000 });
    expect(history.map((m) => m.sequence_number)).toEqual(history.map((_, i) => i + 1));
    expect(new Set(history.map((m) => m.content)).size).toBe(sent.length);
    expect(set.node('node4').repl.readiness().ready).toBe(false);
  });

  test('3 -> 5 in one edit is applied as two single changes (3, 4, 5), never two at once', async () => {
    const all = ['node1', 'node2', 'node3', 'node4', 'node5'];
    const three = ['node1', 'node2', 'node3'];
    set = new SimCluster(all, {}, 2, {
      node1: others(three, 'node1'), node2: others(three, 'node2'), node3: others(three, 'node3'), node4: others(all, 'node4'), node5: others(all, 'node5'),
    });
    set.start();
    const room = await newRoom(three);
    const sent: Tracked<LogEntry>[] = [];
    await roll(room, three, all, sent);
    await set.runUntil('five voters everywhere', () => all.every((id) => set.node(id).repl.votersOf(room)?.length === 5), 10_000);
    await set.runUntil('every send answered', () => sent.every((s) => s.done), 20_000);
    expect(sent.filter((s) => s.error)).toEqual([]);
    for (const id of all) expect(configSizes(set, id, room)).toEqual([3, 4, 5]);
    await set.runUntil('new nodes ready', () => set.node('node4').repl.readiness().ready && set.node('node5').repl.readiness().ready, 5000);
  });
});

describe('readiness after a restart', () => {
  let set: SimCluster;
  afterEach(() => set.stop());

  test('a node restarted without its log is ready only once it holds the rooms, caught up (not at once, with no rooms)', async () => {
    const three = ['node1', 'node2', 'node3'];
    set = new SimCluster(three, {}, 3);
    set.start();
    const room = await newSharedRoom(set, 'node1');
    const sent = Array.from({ length: 10 }, (_, i) => track(send(set.node('node1'), room, `m${i}`)));
    await set.runUntil('every send answered', () => sent.every((s) => s.done), 5000);
    // Long past the first election timeout, so only the restart itself can hold readiness back.
    await set.run(1000);
    set.restart('node3', others(three, 'node3'), { emptyLog: true });
    const node3 = () => set.node('node3').repl;
    expect(node3().readiness().ready).toBe(false);
    await set.runUntil('node3 ready', () => node3().readiness().ready, 5000);
    // The first instant it says ready, it holds the room and everything committed in it.
    expect(node3().knowsRoom(room)).toBe(true);
    expect(node3().roomStatus(room)?.commitIndex).toBe(set.node('node1').repl.roomStatus(room)?.commitIndex);
  });
});
