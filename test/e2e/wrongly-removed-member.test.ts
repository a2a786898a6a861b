/**
 * A node that was frozen or cut off long enough to be declared "Node unreachable" comes back with
 * its clients still connected: they must be members again at once, refused nothing and shown every
 * acknowledged message (issue 5: node3's client got 83 NOT_MEMBER refusals and missed 82
 * acknowledged messages; after a partition healed, a client on node2 got NOT_MEMBER). Three real
 * node processes with replication; the frozen node is SIGSTOPped past the failure detection time.
 */
import path from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClients, type TestClient } from '../support/ws-client';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(60_000);

let cluster: LocalCluster;
const clients = new TestClients();

beforeAll(async () => {
  cluster = await startLocalCluster({
    wsBasePort: 0,
    rpcBasePort: 0,
    logDir: path.join(__dirname, '..', '..', 'dist', 'test-logs', 'wrongly-removed-member'),
    // detection ≈ 1.5 s, so a 3 s freeze is a (wrong, the node is alive) removal
    env: { HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TIMEOUT_MS: '400', HEARTBEAT_FAILURES: '3' },
  });
});

afterAll(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

function connect(i: number): Promise<TestClient> {
  return clients.connect(cluster.nodes[i].wsUrl);
}

it('a member removed as unreachable while its node was frozen is a member again: no refusal, no missed message', async () => {
  const alice = await connect(0);
  const carol = await connect(2);
  const roomId = (await alice.request('create_room', { room_name: 'frozen-member', creator_id: 'alice' }, ['room_created'])).data.room_id as string;
  for (const [c, u] of [[alice, 'alice'], [carol, 'carol']] as const) {
    expect((await c.request('join_room', { room_id: roomId, username: u }, ['join_room_success', 'join_room_error'])).type).toBe('join_room_success');
  }
  const acked: number[] = [];
  const send = async (i: number) => {
    const r = await alice.request('send_message', { room_id: roomId, username: 'alice', content: `a${i}` }, ['message_sent', 'message_error']);
    expect(r.type).toBe('message_sent');
    acked.push(r.data.sequence_number as number);
  };
  await send(0);

  const node3 = cluster.nodes[2].process;
  const mark = alice.frames.length;
  node3.kill('SIGSTOP');
  try {
    await alice.wait((f) => f.type === 'member_left' && f.data.username === 'carol', 8000, mark);
    for (let i = 1; i <= 5; i++) await send(i);
  } finally {
    node3.kill('SIGCONT');
  }
  // Once node3 runs again, carol is a member again (alice sees her come back) ...
  await alice.wait((f) => f.type === 'member_joined' && f.data.username === 'carol', 10_000, mark);
  // ... and her sends are accepted (before the fix: NOT_MEMBER, for good).
  const mine = await carol.request('send_message', { room_id: roomId, username: 'carol', content: 'back' }, ['message_sent', 'message_error'], 10_000);
  expect(mine.data.error_code).toBeUndefined();
  expect(mine.type).toBe('message_sent');
  for (let i = 6; i <= 8; i++) await send(i);
  // Every acknowledged message reaches carol, once and in order.
  const seqs = () => carol.ofType('new_message', roomId).map((f) => f.data.sequence_number as number);
  await waitFor('every acknowledged message at carol', () => acked.every((s) => seqs().includes(s)), 10_000);
  const got = seqs();
  expect(got).toEqual([...new Set(got)].sort((a, b) => a - b));
  expect(carol.ofType('message_error')).toEqual([]);
  // carol herself is not told that she left.
  expect(carol.ofType('member_left').filter((f) => f.data.username === 'carol')).toEqual([]);
});

it('after a frozen node resumes, a new client there joins a room of another node and sends at once', async () => {
  const alice = await connect(0);
  const roomId = (await alice.request('create_room', { room_name: 'after-heal', creator_id: 'alice2' }, ['room_created'])).data.room_id as string;
  await alice.request('join_room', { room_id: roomId, username: 'alice2' }, ['join_room_success']);
  const bob = await connect(1);
  expect((await bob.request('join_room', { room_id: roomId, username: 'bob' }, ['join_room_success', 'join_room_error'])).type).toBe('join_room_success');
  const node2 = cluster.nodes[1].process;
  const mark = alice.frames.length;
  node2.kill('SIGSTOP');
  try {
    await alice.wait((f) => f.type === 'member_left' && f.data.username === 'bob', 8000, mark);
    for (let i = 0; i < 3; i++) {
      await alice.request('send_message', { room_id: roomId, username: 'alice2', content: `x${i}` }, ['message_sent']);
    }
  } finally {
    node2.kill('SIGCONT');
  }
  const dave = await connect(1);
  const j = await dave.request('join_room', { room_id: roomId, username: 'dave' }, ['join_room_success', 'join_room_error'], 10_000);
  expect(j.type).toBe('join_room_success');
  const s = await dave.request('send_message', { room_id: roomId, username: 'dave', content: 'hi' }, ['message_sent', 'message_error'], 10_000);
  expect(s.data.error_code).toBeUndefined();
  const sb = await bob.request('send_message', { room_id: roomId, username: 'bob', content: 'still here' }, ['message_sent', 'message_error'], 10_000);
  expect(sb.data.error_code).toBeUndefined();
  const last = await alice.request('send_message', { room_id: roomId, username: 'alice2', content: 'to all' }, ['message_sent']);
  for (const c of [dave, bob]) await c.wait((f) => f.type === 'new_message' && f.data.sequence_number === last.data.sequence_number, 5000);
  await sleep(0);
});
