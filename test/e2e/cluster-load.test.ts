/**
 * Concurrent load over three real nodes: clients spread over all nodes in several rooms (each room
 * administered by a different node) send pipelined messages at once; every member must receive
 * every message of its room exactly once and in sequence order, with no malformed frame.
 */
import path from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClient } from '../support/ws-client';

jest.setTimeout(90_000);

const ROOMS = 3;
const CLIENTS = 12;
const MESSAGES_PER_CLIENT = 40;
let cluster: LocalCluster;
const clients: TestClient[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster({
    wsBasePort: 0, // free ports: side-by-side runs do not collide
    rpcBasePort: 0,
    logDir: path.join(__dirname, '..', '..', 'dist', 'test-logs', 'cluster-load'),
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stop();
});

it('delivers every message to every member exactly once and in order under cross-node load', async () => {
  const roomIds: string[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const admin = await TestClient.connect(cluster.nodes[r % 3].wsUrl);
    clients.push(admin);
    const created = await admin.request('create_room', { room_name: `load-${r}`, creator_id: `owner${r}` }, ['room_created']);
    roomIds.push(created.data.room_id);
  }
  const members: Array<{ c: TestClient; room: string; user: string }> = [];
  for (let i = 0; i < CLIENTS; i++) {
    const room = roomIds[i % ROOMS];
    // Spread each room's members over all three nodes.
    const node = (i + Math.floor(i / ROOMS)) % 3;
    const c = await TestClient.connect(cluster.nodes[node].wsUrl);
    clients.push(c);
    const user = `user${i}`;
    const j = await c.request('join_room', { room_id: room, username: user }, ['join_room_success', 'join_room_error']);
    expect(j.type).toBe('join_room_success');
    members.push({ c, room, user });
  }
  const started = Date.now();
  // Everyone sends everything at once, without waiting for acks.
  for (let k = 0; k < MESSAGES_PER_CLIENT; k++) {
    for (const m of members) m.c.send('send_message', { room_id: m.room, username: m.user, content: `${m.user}:${k}` });
  }
  const perRoom = (CLIENTS / ROOMS) * MESSAGES_PER_CLIENT;
  await Promise.all(
    members.map(async (m) => {
      await m.c.wait((f) => f.type === 'new_message' && f.data.room_id === m.room && f.data.sequence_number === perRoom, 30_000);
      const acks = () => m.c.ofType('message_sent', m.room).length;
      const deadline = Date.now() + 30_000;
      while (acks() < MESSAGES_PER_CLIENT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }),
  );
  const elapsed = Date.now() - started;
  for (const m of members) {
    expect(m.c.malformed).toEqual([]);
    expect(m.c.ofType('message_error')).toEqual([]);
    expect(m.c.ofType('error')).toEqual([]);
    const seqs = m.c.ofType('new_message', m.room).map((f) => f.data.sequence_number);
    expect(seqs).toEqual(Array.from({ length: perRoom }, (_, i) => i + 1));
    // Its own messages arrive in the order it sent them, each acked once.
    const own = m.c.ofType('new_message', m.room).filter((f) => f.data.username === m.user).map((f) => f.data.content);
    expect(own).toEqual(Array.from({ length: MESSAGES_PER_CLIENT }, (_, k) => `${m.user}:${k}`));
    const acked = m.c.ofType('message_sent', m.room).map((f) => f.data.sequence_number);
    expect(acked).toHaveLength(MESSAGES_PER_CLIENT);
    expect([...acked].sort((x, y) => x - y)).toEqual(acked);
  }
  // Visible in the test output; the benchmark script gives the careful figures.
  console.log(`load: ${CLIENTS * MESSAGES_PER_CLIENT} messages, ${CLIENTS} clients, ${ROOMS} rooms, 3 nodes: ${elapsed} ms`);
});
