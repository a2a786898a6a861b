/**
 * A client that stops reading is disconnected once its unread data passes WS_MAX_BUFFERED_BYTES,
 * instead of growing the node's memory; a member that reads is not slowed down or cut off.
 * The node runs as its own process, so the test's clients do not share its event loop.
 */
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { httpGet } from '../support/node-http';
import { TestClient } from '../support/ws-client';

jest.setTimeout(90_000);

let cluster: LocalCluster;
afterAll(async () => {
  await cluster?.stop();
});

beforeAll(async () => {
  // The guard is the node's own: measured without replication's majority commit in the way.
  cluster = await startLocalCluster({ count: 1, wsBasePort: 0, rpcBasePort: 0, env: { WS_MAX_BUFFERED_BYTES: String(1024 * 1024), REPLICATION: 'off' } });
});

it('disconnects a member that does not read, and the others keep getting everything', async () => {
  const url = cluster.nodes[0].wsUrl;
  const fast = await TestClient.connect(url);
  const slow = await TestClient.connect(url);
  try {
    const r = await fast.request('create_room', { room_name: 'slow', creator_id: 'fast' }, ['room_created']);
    const roomId = r.data.room_id;
    await fast.request('join_room', { room_id: roomId, username: 'fast' }, ['join_room_success']);
    await slow.request('join_room', { room_id: roomId, username: 'slow' }, ['join_room_success']);
    // The slow client stops reading its socket: the kernel buffers fill, then the node's.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const content = 'x'.repeat(4000);
    const total = 6000; // 24 MB toward the slow reader: more than loopback socket buffers hold
    // The reader paces itself like a real client (at most 32 unacknowledged sends), so its own
    // backlog stays small while the paused one's grows without bound.
    let sent = 0;
    const acks = () => fast.ofType('message_sent').length;
    const deadline = Date.now() + 60_000;
    while (acks() < total && Date.now() < deadline) {
      while (sent < total && sent - acks() < 32) {
        fast.send('send_message', { room_id: roomId, username: 'fast', content });
        sent++;
      }
      await fast.wait((f) => f.type === 'message_sent', 10_000, fast.frames.length).catch(() => undefined);
    }
    await fast.wait((f) => f.type === 'new_message' && f.data.sequence_number === total, 10_000);
    await fast.wait((f) => f.type === 'member_left' && f.data.username === 'slow', 10_000);
    expect(fast.ofType('new_message', roomId)).toHaveLength(total);
    const text = (await httpGet(url, '/metrics')).body;
    expect(text).toMatch(/^swarmchat_slow_consumers_total 1$/m);
    expect(text).toMatch(/^swarmchat_ws_connections 1$/m);
    expect(fast.closed).toBe(false);
  } finally {
    slow.ws.terminate();
    await fast.close();
  }
});

it('slows a flooding client down through TCP instead of failing its requests', async () => {
  // Default buffer limit here: the flooder does not read while it writes, which is not slowness.
  const own = await startLocalCluster({ count: 1, wsBasePort: 0, rpcBasePort: 0, env: { REPLICATION: 'off' } });
  const flood = await TestClient.connect(own.nodes[0].wsUrl);
  try {
    const r = await flood.request('create_room', { room_name: 'flood', creator_id: 'f' }, ['room_created']);
    const roomId = r.data.room_id;
    await flood.request('join_room', { room_id: roomId, username: 'f' }, ['join_room_success']);
    const total = 5000;
    // All at once, no waiting: far beyond the node's per-connection queue.
    for (let i = 0; i < total; i++) flood.send('send_message', { room_id: roomId, username: 'f', content: `m${i}` });
    await flood.wait((f) => f.type === 'new_message' && f.data.sequence_number === total, 60_000);
    expect(flood.ofType('error')).toEqual([]);
    expect(flood.ofType('message_error')).toEqual([]);
    const contents = flood.ofType('new_message', roomId).map((f) => f.data.content);
    expect(contents).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
  } finally {
    await flood.close();
    await own.stop();
  }
});
