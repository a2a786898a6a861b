/**
 * Every client flow of the protocol against three real node processes on loopback
 * (built JS in dist/: run `npm run build` first).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { freePorts, startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { httpGet } from '../support/node-http';
import { TestClient, TestClients } from '../support/ws-client';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(60_000);

/** Free ports picked at start (0), so a second run of this suite beside this one does not collide. */
const wsPort = (i: number) => Number(new URL(cluster.nodes[i].wsUrl).port);
const rpcPort = (i: number) => Number(new URL(cluster.nodes[i].rpcUrl).port);
let cluster: LocalCluster;
const clients = new TestClients();
const connect = (i: number): Promise<TestClient> => clients.connect(cluster.nodes[i].wsUrl);

async function createRoom(c: TestClient, name: string, creator: string) {
  const r = await c.request('create_room', { room_name: name, creator_id: creator, description: null }, ['room_created']);
  expect(r.data.room_id).toBeDefined();
  return r.data.room_id as string;
}

async function join(c: TestClient, roomId: string, username: string) {
  const r = await c.request('join_room', { room_id: roomId, username }, ['join_room_success', 'join_room_error']);
  expect(r.type).toBe('join_room_success');
  return r;
}

/** alice on node1 creates `name` and joins it; bob joins from node2. */
async function aliceAndBob(name: string): Promise<{ a: TestClient; b: TestClient; roomId: string }> {
  const a = await connect(0);
  const b = await connect(1);
  const roomId = await createRoom(a, name, 'alice');
  await join(a, roomId, 'alice');
  await join(b, roomId, 'bob');
  return { a, b, roomId };
}

beforeAll(async () => {
  cluster = await startLocalCluster({
    wsBasePort: 0,
    rpcBasePort: 0,
    logDir: path.join(__dirname, '..', '..', 'dist', 'test-logs', 'cluster-flows'),
    env: { HEARTBEAT_INTERVAL_MS: '300', HEARTBEAT_TIMEOUT_MS: '250', HEARTBEAT_FAILURES: '3', LOG_LEVEL: 'debug' },
  });
});

afterAll(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

describe('rooms: create, list, discover', () => {
  it('lists a room only on its admin node and discovers it from every node', async () => {
    const a = await connect(0);
    const b = await connect(1);
    const roomId = await createRoom(a, 'flows-list', 'alice');
    const local = await a.request('list_rooms', undefined, ['rooms_list']);
    expect(local.data.rooms.find((r: any) => r.room_id === roomId)).toEqual({
      room_id: roomId, room_name: 'flows-list', description: null, member_count: 0, admin_node: 'node1', creator_id: 'alice',
    });
    const other = await b.request('list_rooms', undefined, ['rooms_list']);
    expect(other.data.rooms.some((r: any) => r.room_id === roomId)).toBe(false);
    const global = await b.request('discover_rooms', undefined, ['global_rooms_list']);
    expect(global.data.rooms.find((r: any) => r.room_id === roomId)).toMatchObject({ admin_node: 'node1', node_address: `http://127.0.0.1:${rpcPort(0)}` });
    expect(global.data.nodes_queried[0]).toBe('node2');
    expect([...global.data.nodes_available].sort()).toEqual(['node1', 'node2', 'node3']);
    expect(global.data.nodes_unavailable).toEqual([]);
    expect(global.data.total_count).toBe(global.data.rooms.length);
  });

  it('refuses a duplicate name on the same node but not on another node', async () => {
    const a = await connect(0);
    const c = await connect(2);
    await createRoom(a, 'flows-dup', 'alice');
    const again = await a.request('create_room', { room_name: 'flows-dup', creator_id: 'x' }, ['room_created']);
    expect(again.data).toEqual({ success: false, message: "Room with name 'flows-dup' already exists" });
    await createRoom(c, 'flows-dup', 'carol');
  });
});

describe('join, send, history, ordering', () => {
  it('replays history on a remote join and delivers every message to every member in sequence order', async () => {
    const a = await connect(0);
    const b = await connect(1);
    const c = await connect(2);
    const roomId = await createRoom(a, 'flows-chat', 'alice');
    await join(a, roomId, 'alice');
    for (const text of ['one', 'two']) {
      const ack = await a.request('send_message', { room_id: roomId, username: 'alice', content: text }, ['message_sent', 'message_error']);
      expect(ack.type).toBe('message_sent');
    }
    // creator_id is our extension: a client gets it when it asks with "extended": true.
    const jb = await b.request('join_room', { room_id: roomId, username: 'bob', extended: true }, ['join_room_success', 'join_room_error']);
    expect(jb.data).toMatchObject({ room_id: roomId, room_name: 'flows-chat', admin_node: 'node1', member_count: 2, creator_id: 'alice' });
    expect(jb.data.members).toEqual(['alice', 'bob']);
    await b.wait((f) => f.type === 'new_message' && f.data.sequence_number === 2);
    expect(b.ofType('new_message', roomId).map((f) => f.data.content)).toEqual(['one', 'two']);
    await a.wait((f) => f.type === 'member_joined' && f.data.username === 'bob');
    await join(c, roomId, 'carol');

    // A remote sender sees its own new_message before its message_sent.
    const from = b.frames.length;
    const ack = await b.request('send_message', { room_id: roomId, username: 'bob', content: 'three' }, ['message_sent', 'message_error']);
    expect(ack.type).toBe('message_sent');
    expect(ack.data.sequence_number).toBe(3);
    const types = b.frames.slice(from).map((f) => f.type);
    expect(types.indexOf('new_message')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('new_message')).toBeLessThan(types.indexOf('message_sent'));

    await c.request('send_message', { room_id: roomId, username: 'carol', content: 'four' }, ['message_sent']);
    for (const x of [a, b, c]) {
      await x.wait((f) => f.type === 'new_message' && f.data.sequence_number === 4);
    }
    const seqs = (x: TestClient) => x.ofType('new_message', roomId).map((f) => f.data.sequence_number);
    expect(seqs(a)).toEqual([1, 2, 3, 4]);
    expect(seqs(b)).toEqual([1, 2, 3, 4]);
    expect(seqs(c)).toEqual([1, 2, 3, 4]);
    const m = a.ofType('new_message', roomId)[2].data;
    expect(m).toMatchObject({ room_id: roomId, username: 'bob', content: 'three', sequence_number: 3 });
    expect(m.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    // A UUID string like the original's (ours: the time-ordered version 7 layout, PROTOCOL.md).
    expect(m.message_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('lets a connection act only under the username it joined with', async () => {
    const { a, b, roomId } = await aliceAndBob('flows-identity');
    const intruder = await connect(2);
    const spoof = await b.request('send_message', { room_id: roomId, username: 'alice', content: 'I am alice' }, ['message_sent', 'message_error']);
    expect(spoof.data.error_code).toBe('UNAUTHORIZED');
    const notJoined = await intruder.request('send_message', { room_id: roomId, username: 'alice', content: 'x' }, ['message_sent', 'message_error']);
    expect(notJoined.data).toEqual({ room_id: roomId, error: 'You are not a member of this room', error_code: 'NOT_MEMBER' });
    const taken = await intruder.request('join_room', { room_id: roomId, username: 'alice' }, ['join_room_success', 'join_room_error']);
    expect(taken.data.error_code).toBe('USERNAME_TAKEN');
    const kick = await intruder.request('leave_room', { room_id: roomId, username: 'bob' }, ['leave_room_success', 'error']);
    expect(kick.type).toBe('leave_room_success');
    // Leaving a room one never joined removes nobody.
    await sleep(200);
    expect(a.ofType('member_left', roomId)).toHaveLength(0);
    const del = await b.request('delete_room', { room_id: roomId, username: 'alice' }, ['delete_room_failed', 'delete_room_success']);
    expect(del.data.error_code).toBe('UNAUTHORIZED');
    expect(a.ofType('new_message', roomId)).toHaveLength(0);
  });

  it('answers joins of unknown rooms with ROOM_NOT_FOUND', async () => {
    const b = await connect(1);
    const r = await b.request('join_room', { room_id: '00000000-0000-4000-8000-000000000000', username: 'bob' }, ['join_room_error']);
    expect(r.data).toEqual({ room_id: '00000000-0000-4000-8000-000000000000', error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
  });
});

describe('leave and disconnect', () => {
  it('tells the other members when a remote member leaves, without a reason', async () => {
    const { a, b, roomId } = await aliceAndBob('flows-leave');
    const left = await b.request('leave_room', { room_id: roomId, username: 'bob' }, ['leave_room_success']);
    expect(left.data).toEqual({ room_id: roomId, username: 'bob' });
    const ev = await a.wait((f) => f.type === 'member_left' && f.data.room_id === roomId);
    expect(ev.data).toMatchObject({ username: 'bob', member_count: 1 });
    expect(ev.data.reason).toBeUndefined();
    const after = await b.request('send_message', { room_id: roomId, username: 'bob', content: 'x' }, ['message_sent', 'message_error']);
    expect(after.data.error_code).toBe('NOT_MEMBER');
  });

  it('removes a member whose connection closes, with reason "User disconnected"', async () => {
    const a = await connect(0);
    const c = await TestClient.connect(cluster.nodes[2].wsUrl);
    const roomId = await createRoom(a, 'flows-disconnect', 'alice');
    await join(a, roomId, 'alice');
    await join(c, roomId, 'carol');
    await c.close();
    const ev = await a.wait((f) => f.type === 'member_left' && f.data.room_id === roomId);
    expect(ev.data).toMatchObject({ username: 'carol', member_count: 1, reason: 'User disconnected' });
  });
});

describe('a client that leaves while its join is on the way', () => {
  it('does not stay a member', async () => {
    const a = await connect(0);
    const roomId = await createRoom(a, 'flows-join-race', 'alice');
    await join(a, roomId, 'alice');
    for (let i = 0; i < 5; i++) {
      const b = await TestClient.connect(cluster.nodes[1].wsUrl);
      b.send('join_room', { room_id: roomId, username: `ghost${i}` });
      b.ws.terminate();
    }
    // Every ghost that got in is taken out again; the room ends with alice alone.
    await waitFor('every ghost that joined also left', () => {
      const joined = a.ofType('member_joined', roomId).map((f) => f.data.username);
      const left = a.ofType('member_left', roomId).map((f) => f.data.username);
      return joined.every((u) => left.includes(u));
    }, 8000);
    await waitFor('only the real member left in the room', async () => {
      const list = await a.request('list_rooms', undefined, ['rooms_list']);
      return list.data.rooms.find((r: any) => r.room_id === roomId).member_count === 1;
    });
  });
});

describe('deletion (2PC)', () => {
  it('deletes a room with a remote member: both sides are told, discovery forgets it', async () => {
    const { a, b, roomId } = await aliceAndBob('flows-delete');
    const notCreator = await b.request('delete_room', { room_id: roomId, username: 'bob' }, ['delete_room_failed']);
    expect(notCreator.data.error_code).toBe('UNAUTHORIZED');
    const from = a.frames.length;
    a.send('delete_room', { room_id: roomId, username: 'alice' });
    const ok = await a.wait((f) => f.type === 'delete_room_success', 5000, from);
    const initiated = a.frames.slice(from).filter((f) => f.type === 'delete_room_initiated');
    expect(initiated[0].data).toEqual({ room_id: roomId, transaction_id: ok.data.transaction_id, status: 'in_progress' });
    expect(initiated[1].data).toEqual({ room_id: roomId, initiator: 'alice', status: 'in_progress' });
    expect(ok.data).toEqual({ room_id: roomId, transaction_id: ok.data.transaction_id, message: 'Room deleted successfully' });
    const delA = await a.wait((f) => f.type === 'room_deleted' && f.data.room_id === roomId);
    expect(delA.data).toEqual({ room_id: roomId, room_name: 'flows-delete', message: "Room 'flows-delete' has been deleted" });
    const delB = await b.wait((f) => f.type === 'room_deleted' && f.data.room_id === roomId);
    expect(delB.data).toEqual({ room_id: roomId, room_name: 'flows-delete', transaction_id: ok.data.transaction_id });
    const global = await b.request('discover_rooms', undefined, ['global_rooms_list']);
    expect(global.data.rooms.some((r: any) => r.room_id === roomId)).toBe(false);
    const send = await b.request('send_message', { room_id: roomId, username: 'bob', content: 'x' }, ['message_error']);
    expect(send.data.error_code).toBe('NOT_MEMBER');
  });

  it('lets the creator delete from a node that is not the admin (extension)', async () => {
    const a = await connect(0);
    const b = await connect(1);
    const roomId = await createRoom(a, 'flows-delete-remote', 'bob');
    await join(b, roomId, 'bob');
    const r = await b.request('delete_room', { room_id: roomId, username: 'bob' }, ['delete_room_success', 'delete_room_failed'], 10_000);
    expect(r.type).toBe('delete_room_success');
    const local = await a.request('list_rooms', undefined, ['rooms_list']);
    expect(local.data.rooms.some((x: any) => x.room_id === roomId)).toBe(false);
  });

  it('lets a creator who has not joined delete the room from the connection that created it', async () => {
    const a = await connect(0);
    const roomId = await createRoom(a, 'flows-delete-creator', 'alice');
    const r = await a.request('delete_room', { room_id: roomId, username: 'alice' }, ['delete_room_success', 'delete_room_failed']);
    expect(r.type).toBe('delete_room_success');
  });
});

describe('edge hardening', () => {
  it('answers malformed frames with protocol errors and keeps the connection usable', async () => {
    const a = await connect(0);
    let r = await (async () => {
      const from = a.frames.length;
      a.sendRaw('{not json');
      return a.wait((f) => f.type === 'error', 3000, from);
    })();
    expect(r.data).toEqual({ success: false, message: 'Invalid JSON format' });
    r = await a.request('teleport', {}, ['error']);
    expect(r.data.message).toBe('Unknown message type: teleport');
    const from = a.frames.length;
    a.sendRaw(Buffer.from(JSON.stringify({ type: 'list_rooms' })));
    await a.wait((f) => f.type === 'rooms_list', 3000, from);
    expect(a.malformed).toEqual([]);
  });

  it('closes only the connection that sends an oversized frame', async () => {
    const bad = await TestClient.connect(cluster.nodes[0].wsUrl);
    const good = await connect(0);
    const code = new Promise<number>((resolve) => bad.ws.once('close', (c) => resolve(c)));
    bad.sendRaw('x'.repeat(1024 * 1024 + 10));
    expect(await code).toBe(1009);
    const r = await good.request('list_rooms', undefined, ['rooms_list']);
    expect(r.type).toBe('rooms_list');
  });
});

describe('HTTP on the WebSocket port', () => {
  it('answers /healthz with JSON and /metrics with Prometheus text', async () => {
    const h = await httpGet(`ws://127.0.0.1:${wsPort(0)}/`, '/healthz');
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toMatchObject({ status: 'ok', node_id: 'node1' });
    const m = await httpGet(`ws://127.0.0.1:${wsPort(0)}/`, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^swarmchat_ws_connections \d+$/m);
    expect(m.body).toMatch(/swarmchat_messages_sequenced_total \d+/);
    expect(m.body).toMatch(/swarmchat_peer_call_duration_seconds_bucket/);
  });

  it('answers other plain requests with help instead of an error', async () => {
    const r = await httpGet(`ws://127.0.0.1:${wsPort(0)}/`, '/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body).toContain('This is a swarm-chat node');
  });

  it('has a healthcheck program that exits 0 for a live node and 1 otherwise', async () => {
    const bin = path.join(__dirname, '..', '..', 'dist', 'node-app', 'bin', 'chat-healthcheck.js');
    const run = (port: number) =>
      new Promise<number>((resolve) => {
        execFile(process.execPath, [bin], { env: { ...process.env, WEBSOCKET_PORT: String(port) }, timeout: 5000 }, (err) =>
          resolve(err ? Number((err as any).code ?? 1) : 0),
        );
      });
    expect(await run(wsPort(0))).toBe(0);
    const [unused] = await freePorts(1);
    expect(await run(unused)).toBe(1);
  });
});

describe('member node failure', () => {
  it('removes the members of a killed node with reason "Node unreachable"', async () => {
    const a = await connect(0);
    const c = await connect(2);
    const roomId = await createRoom(a, 'flows-node-failure', 'alice');
    await join(a, roomId, 'alice');
    await join(c, roomId, 'carol');
    cluster.nodes[2].process.kill('SIGKILL');
    // Detection takes HEARTBEAT_FAILURES x HEARTBEAT_INTERVAL_MS; the deadline only bounds a broken run.
    const ev = await a.wait((f) => f.type === 'member_left' && f.data.room_id === roomId, 8000);
    expect(ev.data).toMatchObject({ username: 'carol', reason: 'Node unreachable', member_count: 1 });
    // The room keeps working for the survivors.
    const ack = await a.request('send_message', { room_id: roomId, username: 'alice', content: 'still here' }, ['message_sent']);
    expect(ack.data.sequence_number).toBe(1);
    await waitFor('node3 exit', () => cluster.nodes[2].process.exitCode !== null || cluster.nodes[2].process.signalCode !== null, 3000);
  });
});
