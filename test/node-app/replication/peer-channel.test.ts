/**
 * The admin's per-peer channel under a logical clock (SimCluster): what a call carries, and that a
 * dead peer is probed with heartbeats only, not sent its growing backlog, yet catches up on return.
 */
import { SimCluster } from './sim-cluster';
import { contents, newRoom, send, track } from './sim-helpers';

const IDS = ['node1', 'node2', 'node3'];

describe('per-peer channel on a logical clock', () => {
  let set: SimCluster;
  beforeEach(() => {
    set = new SimCluster(IDS);
    set.start();
  });
  afterEach(() => set.stop());

  test('a dead peer gets heartbeat probes only, not the backlog on every call; on return it catches up', async () => {
    const room = await newRoom(set);
    set.isolate('node3');
    const n1 = set.node('node1');
    for (let i = 0; i < 30; i++) {
      const batch = Array.from({ length: 10 }, (_, k) => track(send(n1, room, `backlog-${i * 10 + k}`)));
      await set.runUntil('batch', () => batch.every((b) => b.done), 2000);
    }
    await set.run(3000);
    const sentBefore = n1.repl.stats.entriesSent;
    const callsBefore = n1.repl.stats.replCalls;
    await set.run(2000);
    // 2 s of heartbeat ticks (every 100 ms) to the dead node3: calls go on, entries do not.
    expect(n1.repl.stats.replCalls - callsBefore).toBeGreaterThan(3);
    expect(n1.repl.stats.entriesSent - sentBefore).toBe(0);
    set.heal();
    await set.runUntil('node3 caught up on the backlog', () => contents(set.node('node3'), room).length === 300, 5000);
    expect(contents(set.node('node3'), room)).toEqual(contents(n1, room));
  });

  test('an idle room costs a node-level heartbeat each tick and a per-room heartbeat every fourth', async () => {
    await newRoom(set);
    await set.run(1000);
    const n1 = set.node('node1');
    const calls = n1.repl.stats.replCalls;
    await set.run(4000);
    // 40 heartbeat ticks × 2 peers, one call each.
    expect(n1.repl.stats.replCalls - calls).toBe(80);
    // Entries sent: only the room's creation, once to each peer.
    expect(n1.repl.stats.entriesSent).toBe(2);
  });
});
