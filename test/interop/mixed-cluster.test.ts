/**
 * Mixed clusters with the real original DS-G1-SMS node, and nothing configured for it: our two
 * nodes are given only PEER_NODES (no LEGACY_PEERS, no CLUSTER_SECRET, as an operator who adds
 * our nodes to an original cluster would). Both ways round, an original node administering a room
 * and an original node as a member of ours: joins, sends in both directions, leave and delete work,
 * and every request gets its reply within a bounded time (never silence).
 * Needs the original (see test/support/original.ts); skipped loudly without it.
 */
import { startLocalCluster, freePorts, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClients, type Frame, type TestClient } from '../support/ws-client';
import { describeWithOriginal, startOriginalNode, type OriginalNode } from '../support/original';

jest.setTimeout(120_000);

/** An answer must come within this; the original itself answers in well under a second. */
const REPLY_WITHIN_MS = 10_000;

describeWithOriginal('a mixed cluster with an original node, nothing configured for it', (original) => {
  const ours: LocalCluster[] = [];
  let py: OriginalNode;
  let urls: { node1: string; node2: string; py1: string };
  const clients = new TestClients();

  beforeAll(async () => {
    const [ws1, ws2, wsPy, rpc1, rpc2, rpcPy] = await freePorts(6);
    const peers = `node1:http://127.0.0.1:${rpc1},node2:http://127.0.0.1:${rpc2},py1:http://127.0.0.1:${rpcPy}`;
    py = await startOriginalNode(original, { id: 'py1', wsPort: wsPy, rpcPort: rpcPy, peers: peers.split(',').filter((p) => !p.startsWith('py1:')).join(',') });
    for (const [id, ws, rpc] of [['node1', ws1, rpc1], ['node2', ws2, rpc2]] as const) {
      ours.push(await startLocalCluster({ count: 1, wsBasePort: ws, rpcBasePort: rpc, env: { NODE_ID: id, PEER_NODES: peers, CLUSTER_SECRET: '' } }));
    }
    urls = { node1: `ws://127.0.0.1:${ws1}`, node2: `ws://127.0.0.1:${ws2}`, py1: py.wsUrl };
  });
  afterAll(async () => {
    await clients.closeAll();
    await Promise.all(ours.map((c) => c.stop()));
    await py?.stop();
  });

  function client(url: string): Promise<TestClient> {
    return clients.connect(url);
  }

  /** A request and its reply; no reply within REPLY_WITHIN_MS fails the test naming the request. */
  async function ask(c: TestClient, type: string, data: Record<string, unknown>, replies: string[]): Promise<Frame> {
    try {
      return await c.request(type, data, replies, REPLY_WITHIN_MS);
    } catch (err) {
      throw new Error(`${type} ${JSON.stringify(data)} got no ${replies.join('/')} within ${REPLY_WITHIN_MS} ms: ${(err as Error).message}\noriginal node's log tail:\n${py.output().slice(-1500)}`);
    }
  }

  const contents = (c: TestClient, roomId: string) => c.ofType('new_message', roomId).map((f) => `${f.data.sequence_number} ${f.data.username}: ${f.data.content}`);

  it('an original node administers: our members join, send both ways, leave, and the creator deletes', async () => {
    const alice = await client(urls.py1);
    const bob = await client(urls.node1);
    const created = await ask(alice, 'create_room', { room_name: 'py-admin', creator_id: 'alice', description: null }, ['room_created']);
    const roomId = created.data.room_id;
    expect(created.data.admin_node).toBe('py1');
    expect((await ask(alice, 'join_room', { room_id: roomId, username: 'alice' }, ['join_room_success', 'join_room_error'])).type).toBe('join_room_success');
    const joined = await ask(bob, 'join_room', { room_id: roomId, username: 'bob' }, ['join_room_success', 'join_room_error']);
    expect(joined.data).toMatchObject({ room_id: roomId, admin_node: 'py1' });
    const sent = await ask(bob, 'send_message', { room_id: roomId, username: 'bob', content: 'hi from ours' }, ['message_sent', 'message_error']);
    expect(sent.data).toEqual({ room_id: roomId, message_id: expect.any(String), sequence_number: 1, timestamp: expect.any(String) });
    expect((await ask(alice, 'send_message', { room_id: roomId, username: 'alice', content: 'hi from the original' }, ['message_sent', 'message_error'])).type).toBe('message_sent');
    await bob.wait((f) => f.type === 'new_message' && f.data.content === 'hi from the original', REPLY_WITHIN_MS);
    await alice.wait((f) => f.type === 'new_message' && f.data.content === 'hi from ours', REPLY_WITHIN_MS);
    expect(contents(bob, roomId)).toEqual(['1 bob: hi from ours', '2 alice: hi from the original']);
    // A delete asked of our node for a room it does not administer is answered, not ignored.
    const wrongNode = await ask(bob, 'delete_room', { room_id: roomId, username: 'bob' }, ['delete_room_failed', 'delete_room_success', 'delete_room_initiated']);
    expect(wrongNode.type).toBe('delete_room_failed');
    expect((await ask(bob, 'leave_room', { room_id: roomId, username: 'bob' }, ['leave_room_success', 'error'])).type).toBe('leave_room_success');
    await ask(alice, 'delete_room', { room_id: roomId, username: 'alice' }, ['delete_room_initiated', 'delete_room_failed']);
    const outcome = await alice.wait((f) => f.type === 'delete_room_success' || f.type === 'delete_room_failed', REPLY_WITHIN_MS);
    expect(outcome.type).toBe('delete_room_success');
  });

  it('an original node is a member: its users join our room, send both ways, and our creator deletes with it voting', async () => {
    const carol = await client(urls.node2);
    const dave = await client(urls.py1);
    const created = await ask(carol, 'create_room', { room_name: 'ours-admin', creator_id: 'carol' }, ['room_created']);
    const roomId = created.data.room_id;
    expect((await ask(carol, 'join_room', { room_id: roomId, username: 'carol' }, ['join_room_success', 'join_room_error'])).type).toBe('join_room_success');
    const joined = await ask(dave, 'join_room', { room_id: roomId, username: 'dave' }, ['join_room_success', 'join_room_error']);
    expect(joined.type).toBe('join_room_success');
    expect((await ask(dave, 'send_message', { room_id: roomId, username: 'dave', content: 'from the original' }, ['message_sent', 'message_error'])).type).toBe('message_sent');
    expect((await ask(carol, 'send_message', { room_id: roomId, username: 'carol', content: 'from ours' }, ['message_sent', 'message_error'])).type).toBe('message_sent');
    await dave.wait((f) => f.type === 'new_message' && f.data.content === 'from ours', REPLY_WITHIN_MS);
    await carol.wait((f) => f.type === 'new_message' && f.data.content === 'from the original', REPLY_WITHIN_MS);
    expect(contents(dave, roomId)).toEqual(['1 dave: from the original', '2 carol: from ours']);
    await ask(carol, 'delete_room', { room_id: roomId, username: 'carol' }, ['delete_room_initiated', 'delete_room_failed']);
    const outcome = await carol.wait((f) => f.type === 'delete_room_success' || f.type === 'delete_room_failed', REPLY_WITHIN_MS);
    expect(outcome.data).toMatchObject({ room_id: roomId });
    expect(outcome.type).toBe('delete_room_success');
    await dave.wait((f) => f.type === 'room_deleted', REPLY_WITHIN_MS);
  });
});
