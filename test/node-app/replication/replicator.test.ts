/**
 * The replication engine over the real wire: real peer servers and PeerLinks on loopback, SQLite
 * files, crashes and restarts (ReplicaSet). Election, commit and channel logic with exact timing
 * are tested on a logical clock (election/commitment/peer-channel tests); these check that the
 * same engine works end to end over XML-RPC.
 */
import { randomUUID } from 'node:crypto';
import { PeerLink } from '../../../node-app/src/peers/peer-link';
import { waitFor } from '../../support/wait';
import { ReplicaSet, TestReplica } from './replica-set';

jest.setTimeout(20_000);

const IDS = ['node1', 'node2', 'node3'];

async function newRoom(set: ReplicaSet, on = 'node1'): Promise<string> {
  const room = randomUUID();
  await set.node(on).repl.createRoom(room, { room_name: `r-${room.slice(0, 4)}`, description: null, creator_id: 'alice', created_at: 't0' });
  await set.node(on).repl.submit(room, 'join', { username: 'alice', node_id: on });
  return room;
}

function send(n: TestReplica, room: string, content: string, messageId = randomUUID()) {
  return n.repl.submit(room, 'message', { message_id: messageId, username: 'alice', content });
}

function seqs(n: TestReplica, room: string): number[] {
  return n.store.history(room, { afterSeq: 0, limit: 10_000 }).map((m) => m.sequence_number);
}

function contents(n: TestReplica, room: string): string[] {
  return n.store.history(room, { afterSeq: 0, limit: 10_000 }).map((m) => `${m.sequence_number}:${m.content}:${m.message_id}`);
}

describe('replicated room log over real peer links', () => {
  let set: ReplicaSet;
  beforeEach(async () => {
    set = new ReplicaSet(IDS, {}, 7);
    await set.start();
  });
  afterEach(async () => {
    await set.close();
  });

  test('messages sent through any node commit once, at the same sequence number on every replica', async () => {
    const room = await newRoom(set);
    const sent = await Promise.all(Array.from({ length: 30 }, (_, i) => send(set.nodes[i % 3], room, `m${i}`)));
    expect(sent.map((e) => Number(e.data.seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await waitFor('all replicas applied 30 messages', () => set.nodes.every((n) => seqs(n, room).length === 30), 3000);
    const reference = contents(set.node('node1'), room);
    for (const n of set.nodes) expect(contents(n, room)).toEqual(reference);
    // every replica delivered the messages in log order (the apply stream drives local delivery)
    for (const n of set.nodes) {
      const delivered = n.applied.filter((a) => a.roomId === room && a.entry.kind === 'message').map((a) => Number(a.entry.data.seq));
      expect(delivered).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
    expect(set.node('node2').store.members(room).map((m) => m.username)).toEqual(['alice']);
  });

  test('a resubmitted message (same message_id) is logged once', async () => {
    const room = await newRoom(set);
    const id = randomUUID();
    const [a, b] = await Promise.all([send(set.node('node2'), room, 'once', id), send(set.node('node3'), room, 'once', id)]);
    const c = await send(set.node('node1'), room, 'once', id);
    expect(new Set([a.idx, b.idx, c.idx]).size).toBe(1);
    await waitFor('replicas applied', () => set.nodes.every((n) => seqs(n, room).length === 1), 3000);
  });

  test('after the admin crashes, a survivor takes over and sequence numbers continue without gap', async () => {
    const room = await newRoom(set);
    for (let i = 0; i < 5; i++) await send(set.node('node2'), room, `before${i}`);
    expect(set.node('node1').repl.isAdmin(room)).toBe(true);
    await set.crash('node1');
    const e = await send(set.node('node2'), room, 'after');
    expect(Number(e.data.seq)).toBe(6);
    const admin = set.node('node2').repl.adminOf(room);
    expect(['node2', 'node3']).toContain(admin);
    await waitFor('node3 applied 6', () => seqs(set.node('node3'), room).length === 6, 3000);
    expect(contents(set.node('node3'), room)).toEqual(contents(set.node('node2'), room));
    expect(seqs(set.node('node2'), room)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('a resigning admin (graceful stop) hands its rooms over over the real wire; the sequence continues', async () => {
    const room = await newRoom(set);
    for (let i = 0; i < 3; i++) await send(set.node('node3'), room, `r${i}`);
    await set.node('node1').repl.resign(1000);
    await set.crash('node1');
    const e = await send(set.node('node2'), room, 'after-resign');
    expect(Number(e.data.seq)).toBe(4);
    expect(['node2', 'node3']).toContain(set.node('node3').repl.adminOf(room));
  });

  test('a deposed admin is fenced: its stale-term append changes nothing', async () => {
    const room = await newRoom(set);
    await send(set.node('node1'), room, 'x');
    await set.crash('node1');
    await send(set.node('node2'), room, 'y');
    const n2 = set.node('node2');
    const before = n2.store.raftState(room);
    expect(before.currentTerm).toBeGreaterThan(1);
    const stale = new PeerLink({ selfId: 'node1', peerId: 'node2', address: `http://127.0.0.1:${n2.port}`, callTimeoutMs: 1000 });
    try {
      const forged = { i: before.lastIndex + 1, t: 1, k: 'message', d: JSON.stringify({ message_id: 'evil', username: 'alice', content: 'stale', seq: 99, timestamp: 't' }) };
      const res = await stale.call('swarmchat_repl', ['node1', [{ k: 'a', r: room, t: 1, p: before.lastIndex, pt: 1, c: before.lastIndex + 1, e: [forged] }]]);
      expect(res).toEqual([{ ok: false, t: before.currentTerm, m: 0, x: 0 }]);
    } finally {
      stale.close();
    }
    expect(n2.store.raftState(room)).toEqual(before);
    expect(n2.store.findMessage(room, 'evil')).toBeUndefined();
  });

  test('a node that was down catches up on restart before it reports ready', async () => {
    const room = await newRoom(set);
    await set.crash('node3');
    for (let i = 0; i < 40; i++) await send(set.node(i % 2 ? 'node1' : 'node2'), room, `while-down-${i}`);
    const room2 = await newRoom(set, 'node2');
    const back = await set.restart('node3');
    expect(await back.repl.waitCaughtUp(room, 3000)).toBe(true);
    expect(await back.repl.waitForRoom(room2, 3000)).toBe(true);
    expect(await back.repl.waitCaughtUp(room2, 3000)).toBe(true);
    await waitFor('node3 has all 40', () => seqs(back, room).length === 40, 3000);
    expect(contents(back, room)).toEqual(contents(set.node('node1'), room));
    expect(back.store.roomInfo(room2)?.roomName).toBe(set.node('node2').store.roomInfo(room2)?.roomName);
  });

  test('catch-up of large messages is split into calls the peer server accepts (no stalled room)', async () => {
    const room = await newRoom(set);
    await set.crash('node3');
    const big = '<&>'.repeat(1666); // 4998 code points, about 5x larger once XML-escaped
    const n1 = set.node('node1');
    let sent = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (sent < 240) {
        sent++;
        await send(n1, room, big);
      }
    }));
    const back = await set.restart('node3');
    await waitFor('node3 applied all 240', () => seqs(back, room).length === 240, 10_000);
    expect(back.store.history(room, { afterSeq: 239, limit: 1 })[0].content).toBe(big);
  });
});
