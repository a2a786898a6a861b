/**
 * The admin's log and commit under a logical clock (SimCluster): an entry is acknowledged only
 * once a majority stored it, a resubmitted message is logged once, one event-loop turn of appends
 * is one flush, and every replica applies the same log in order.
 */
import { randomUUID } from 'node:crypto';
import { SimCluster } from './sim-cluster';
import { contents, newRoom, send, track } from './sim-helpers';

const IDS = ['node1', 'node2', 'node3'];

describe('commitment on a logical clock', () => {
  let set: SimCluster;
  beforeEach(() => {
    set = new SimCluster(IDS);
    set.start();
  });
  afterEach(() => set.stop());

  test('messages sent through every replica commit once each, numbered 1..n, and every replica applies them in that order', async () => {
    const room = await newRoom(set);
    const sent = Array.from({ length: 30 }, (_, i) => track(send(set.nodes[i % 3], room, `m${i}`)));
    await set.runUntil('all acknowledged', () => sent.every((s) => s.done), 2000);
    expect(sent.map((s) => Number(s.value!.data.seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await set.run(500);
    const reference = contents(set.node('node1'), room);
    expect(reference).toHaveLength(30);
    for (const n of set.nodes) {
      expect(contents(n, room)).toEqual(reference);
      const delivered = n.applied.filter((a) => a.roomId === room && a.entry.kind === 'message').map((a) => Number(a.entry.data.seq));
      expect(delivered).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
  });

  test('a resubmitted message (same message_id, through several replicas) is logged once', async () => {
    const room = await newRoom(set);
    const id = randomUUID();
    const a = track(send(set.node('node2'), room, 'once', id));
    const b = track(send(set.node('node3'), room, 'once', id));
    await set.runUntil('both', () => a.done && b.done, 1000);
    const c = track(send(set.node('node1'), room, 'once', id));
    await set.runUntil('again', () => c.done, 1000);
    expect(new Set([a.value!.idx, b.value!.idx, c.value!.idx]).size).toBe(1);
    await set.run(300);
    for (const n of set.nodes) expect(contents(n, room)).toEqual(['1:once']);
  });

  test('appends of one turn share one flush (one transaction) on the admin', async () => {
    const room = await newRoom(set);
    const admin = set.node('node1');
    const before = admin.repl.stats.flushes;
    const sent = Array.from({ length: 50 }, (_, i) => track(send(admin, room, `b${i}`)));
    await set.runUntil('acknowledged', () => sent.every((s) => s.done), 1000);
    expect(admin.repl.stats.flushes - before).toBe(1);
  });

  test('the admin sends entries before writing them; one that dies in between loses nothing acknowledged and its entry is logged once', async () => {
    const room = await newRoom(set);
    const n1 = set.node('node1');
    const before = track(send(set.node('node2'), room, 'before'));
    await set.runUntil('before acknowledged', () => before.done, 1000);
    // The admin's next local write is where it dies: its entry is already on the wire by then.
    const sentBefore = n1.repl.stats.entriesSent;
    let sentAtWrite = 0;
    n1.store.append = () => {
      sentAtWrite = n1.repl.stats.entriesSent - sentBefore;
      set.isolate('node1');
      n1.repl.stop();
      throw new Error('power cut');
    };
    const during = track(send(set.node('node2'), room, 'during'));
    await set.runUntil('acknowledged by the new admin', () => during.done, 5000);
    // Both followers had been sent the entry when the admin went to write it.
    expect(sentAtWrite).toBe(2);
    expect(during.error).toBeUndefined();
    expect(set.admins(room).filter((a) => a !== 'node1')).toHaveLength(1);
    await set.run(500);
    for (const id of ['node2', 'node3']) expect(contents(set.node(id), room)).toEqual(['1:before', '2:during']);
  });

  test('without a majority nothing is acknowledged, and the write commits when a peer returns', async () => {
    const room = await newRoom(set);
    const ok = track(send(set.node('node1'), room, 'ok'));
    await set.runUntil('ok', () => ok.done, 1000);
    set.isolate('node1');
    const lonely = track(send(set.node('node1'), room, 'lonely'));
    await set.run(1500);
    expect(lonely.done).toBe(false);
    expect(contents(set.node('node1'), room)).toEqual(['1:ok']);
    set.heal();
    await set.runUntil('lonely committed', () => lonely.done, 8000);
    expect(lonely.error).toBeUndefined();
    expect(Number(lonely.value!.data.seq)).toBe(2);
    await set.run(300);
    for (const n of set.nodes) expect(contents(n, room)).toEqual(['1:ok', '2:lonely']);
  });

  test('a join that finds no admin within the submit timeout fails as ADMIN_NODE_UNAVAILABLE, retryable (a message waits instead)', async () => {
    const room = await newRoom(set);
    set.isolate('node2');
    const p = track(set.node('node2').repl.submit(room, 'join', { username: 'bob', node_id: 'node2' }));
    const m = track(send(set.node('node2'), room, 'waits'));
    const ms = await set.runUntil('gave up', () => p.done, 20_000);
    expect(p.error).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', retryable: true });
    // REPL_SUBMIT_TIMEOUT_MS default; the last wait may overrun by one call timeout.
    expect(ms).toBeGreaterThanOrEqual(8000);
    expect(ms).toBeLessThanOrEqual(8000 + 1800);
    expect(m.done).toBe(false);
    set.heal();
    await set.runUntil('the message committed', () => m.done, 5000);
    expect(m.error).toBeUndefined();
  });

  test('a follower whose uncommitted entries a new admin replaces applies the new admin\'s entries, not the ones it held', async () => {
    set.stop();
    const five = ['node1', 'node2', 'node3', 'node4', 'node5'];
    set = new SimCluster(five);
    set.start();
    const room = await newRoom(set);
    // node1 reaches node2 only: node2 stores "lost" at the next index, nobody else does, it cannot commit.
    const node2 = set.node('node2');
    await set.runUntil('every replica has what node1 committed', () => set.nodes.every((n) => n.repl.roomStatus(room)!.commitIndex === set.node('node1').repl.roomStatus(room)!.lastIndex), 1000);
    const before = node2.repl.roomStatus(room)!;
    for (const p of ['node3', 'node4', 'node5']) set.cutLink('node1', p);
    const lost = track(send(set.node('node1'), room, 'lost'));
    await set.runUntil('node2 holds the uncommitted entry', () => node2.repl.roomStatus(room)!.lastIndex === before.lastIndex + 1, 1000);
    expect(node2.repl.roomStatus(room)!.commitIndex).toBe(before.commitIndex);
    // node1 and node2 away; node3..5 elect an admin and commit other entries at those indexes.
    set.isolate('node1');
    set.isolate('node2');
    await set.runUntil('a new admin among node3..5', () => set.admins(room).some((a) => a !== 'node1'), 5000);
    const admin = set.node(set.admins(room).find((a) => a !== 'node1')!);
    const kept = [track(send(admin, room, 'kept-1')), track(send(admin, room, 'kept-2'))];
    await set.runUntil('the new admin commits', () => kept.every((k) => k.done), 3000);
    // node2 comes back (node1 stays away): its "lost" is truncated and the new entries committed.
    set.heal();
    set.isolate('node1');
    await set.runUntil('node2 caught up', () => node2.repl.roomStatus(room)!.commitIndex === admin.repl.roomStatus(room)!.commitIndex, 3000);
    const appliedMessages = node2.applied.filter((a) => a.roomId === room && a.entry.kind === 'message').map((a) => a.entry.data.content);
    expect(appliedMessages).toEqual(['kept-1', 'kept-2']);
    expect(contents(node2, room)).toEqual(['1:kept-1', '2:kept-2']);
    expect(lost.done).toBe(false);
  });
});

