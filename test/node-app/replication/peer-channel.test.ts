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

  test('idle rooms are quiescent: a node-level heartbeat each tick and nothing per room', async () => {
    const rooms = [];
    for (let i = 0; i < 20; i++) rooms.push(await newRoom(set));
    await set.run(1000);
    const n1 = set.node('node1');
    const calls = n1.repl.stats.replCalls;
    const items = set.roomItems.get('node1>node2') ?? 0;
    await set.run(4000);
    // 40 heartbeat ticks × 2 peers, one call each, carrying only the node-level "alive".
    expect(n1.repl.stats.replCalls - calls).toBe(80);
    expect((set.roomItems.get('node1>node2') ?? 0) - items).toBe(0);
    // Nobody elected meanwhile: the followers took the node-level heartbeat for every room.
    expect(n1.repl.stats.elections + set.node('node2').repl.stats.elections + set.node('node3').repl.stats.elections).toBe(0);
    for (const room of rooms) expect(set.admins(room)).toEqual(['node1']);
  });

  test('a quiescent room wakes on a message: committed and delivered everywhere without waiting for a heartbeat', async () => {
    const room = await newRoom(set);
    await set.run(3000);
    const sent = track(send(set.node('node2'), room, 'wake up'));
    // One logical ms: no heartbeat tick (every 100 ms) can have carried it.
    await set.run(1, 1);
    expect(sent.done).toBe(true);
    await set.run(1, 1);
    for (const n of set.nodes) expect(contents(n, room)).toEqual(['1:wake up']);
  });

  test('a quiescent room whose admin dies fails over in under 3 s', async () => {
    const room = await newRoom(set);
    await set.run(3000);
    set.isolate('node1');
    const sent = track(send(set.node('node2'), room, 'after failover'));
    const ms = await set.runUntil('acknowledged by a new admin', () => sent.done, 3000);
    expect(sent.error).toBeUndefined();
    expect(ms).toBeLessThan(3000);
    expect(set.admins(room).filter((a) => a !== 'node1')).toHaveLength(1);
  });

  test('appends are pipelined; a lost answer falls back to one call at a time and every entry still arrives once, in order', async () => {
    const room = await newRoom(set);
    const n1 = set.node('node1');
    let repl = 0;
    set.fault = (from, to, method) => (from === 'node1' && to === 'node2' && method === 'swarmchat_repl' && ++repl === 3 ? 'drop-answer' : undefined);
    const sent: ReturnType<typeof track>[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(...Array.from({ length: 5 }, (_, k) => track(send(n1, room, `p-${i * 5 + k}`))));
      await set.run(1, 1);
    }
    await set.runUntil('acknowledged', () => sent.every((s) => s.done), 5000);
    expect(sent.every((s) => s.error === undefined)).toBe(true);
    expect(set.maxInFlight.get('node1>node2')).toBeGreaterThan(1);
    await set.runUntil('node2 has everything', () => contents(set.node('node2'), room).length === 200, 3000);
    for (const id of ['node2', 'node3']) expect(contents(set.node(id), room)).toEqual(contents(n1, room));
  });

  test('a call overtaken by a later one (reordered appends) is repaired, and the peer ends with the same log', async () => {
    const room = await newRoom(set);
    const n1 = set.node('node1');
    let repl = 0;
    set.fault = (from, to, method) => (from === 'node1' && to === 'node3' && method === 'swarmchat_repl' && ++repl === 4 ? 30 : undefined);
    const sent: ReturnType<typeof track>[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(...Array.from({ length: 5 }, (_, k) => track(send(n1, room, `r-${i * 5 + k}`))));
      await set.run(1, 1);
    }
    await set.runUntil('acknowledged', () => sent.every((s) => s.done), 5000);
    expect(set.maxInFlight.get('node1>node3')).toBeGreaterThan(1);
    await set.runUntil('node3 has everything', () => contents(set.node('node3'), room).length === 200, 3000);
    expect(contents(set.node('node3'), room)).toEqual(contents(n1, room));
    const seqs = set.node('node3').applied.filter((a) => a.roomId === room && a.entry.kind === 'message').map((a) => Number(a.entry.data.seq));
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
  test('a message forwarded by a follower: the answer tells that follower the commit, so only the other follower gets a commit-news call', async () => {
    const room = await newRoom(set);
    await set.run(3000);
    const items = (link: string) => set.roomItems.get(link) ?? 0;
    const before = { node2: items('node1>node2'), node3: items('node1>node3') };
    const sent = track(send(set.node('node2'), room, 'via node2'));
    await set.runUntil('delivered everywhere', () => sent.done && set.nodes.every((n) => contents(n, room).length === 1), 50);
    expect(sent.error).toBeUndefined();
    for (const n of set.nodes) expect(contents(n, room)).toEqual(['1:via node2']);
    // node2: the append only; node3: the append, then the commit news.
    expect(items('node1>node2') - before.node2).toBe(1);
    expect(items('node1>node3') - before.node3).toBe(2);
    // The next full heartbeat confirms the commit to node2 once; then the room is quiescent again.
    await set.run(1000);
    expect(items('node1>node2') - before.node2).toBe(2);
    await set.run(2000);
    expect(items('node1>node2') - before.node2).toBe(2);
    expect(items('node1>node3') - before.node3).toBe(2);
  });

  test('a forwarding follower whose answer was lost still commits and delivers its message, by the next full heartbeat', async () => {
    const room = await newRoom(set);
    await set.run(3000);
    let dropped = 0;
    set.fault = (from, to, method) => (from === 'node2' && to === 'node1' && method.startsWith('swarmchat_submit') && dropped++ === 0 ? 'drop-answer' : undefined);
    const sent = track(send(set.node('node2'), room, 'answer lost'));
    // Committed on the admin at once; node2 learns it from the admin's heartbeat (every 400 ms per room), not from the lost answer.
    const ms = await set.runUntil('delivered on node2', () => contents(set.node('node2'), room).length === 1, 1000);
    expect(dropped).toBe(1);
    expect(ms).toBeLessThanOrEqual(500);
    await set.runUntil('acknowledged', () => sent.done, 10_000);
    expect(sent.error).toBeUndefined();
    for (const n of set.nodes) expect(contents(n, room)).toEqual(['1:answer lost']);
  });
  test('while messages flow, the admin\'s calls carry "alive": no heartbeat-only calls on a busy link, and nobody elects', async () => {
    const room = await newRoom(set);
    await set.run(1000);
    const n1 = set.node('node1');
    const aliveOnly = () => set.aliveOnlyCalls.get('node1>node2') ?? 0;
    const before = aliveOnly();
    const sent: ReturnType<typeof track>[] = [];
    // One message every 40 ms for 2 s: 20 heartbeat ticks, of which 5 are full (per-room) ones.
    for (let i = 0; i < 50; i++) {
      sent.push(track(send(n1, room, `m${i}`)));
      await set.run(40);
    }
    await set.runUntil('all acknowledged', () => sent.every((b) => b.done), 2000);
    expect(sent.filter((b) => b.error)).toEqual([]);
    expect(aliveOnly() - before).toBeLessThanOrEqual(6);
    expect(n1.repl.stats.elections + set.node('node2').repl.stats.elections + set.node('node3').repl.stats.elections).toBe(0);
    await set.run(200);
    for (const n of set.nodes) expect(contents(n, room)).toEqual(Array.from({ length: 50 }, (_, i) => `${i + 1}:m${i}`));
    // Idle again: one heartbeat-only call per tick.
    const idleBefore = aliveOnly();
    await set.run(2000);
    expect(aliveOnly() - idleBefore).toBeGreaterThanOrEqual(18);
  });
});
