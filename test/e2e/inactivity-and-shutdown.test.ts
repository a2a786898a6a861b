/**
 * Inactivity really resets with activity (§9.7), and SIGTERM shuts a node down gracefully: clients
 * are told (close 1001), the admin of their remote rooms hears they left, the process exits in time.
 */
import path from 'node:path';
import { startLocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClient } from '../support/ws-client';
import { sleep, waitFor } from '../support/wait';
import { startLoopbackNode } from '../support/loopback-node';

jest.setTimeout(30_000);

it('evicts an idle member for inactivity but keeps one that keeps sending', async () => {
  const node = await startLoopbackNode({ INACTIVITY_TIMEOUT_MS: '1200', CLEANUP_INTERVAL_MS: '100' });
  const active = await TestClient.connect(node.wsUrl);
  const idle = await TestClient.connect(node.wsUrl);
  try {
    const r = await active.request('create_room', { room_name: 'idle-test', creator_id: 'a' }, ['room_created']);
    const roomId = r.data.room_id;
    await active.request('join_room', { room_id: roomId, username: 'active' }, ['join_room_success']);
    await idle.request('join_room', { room_id: roomId, username: 'idle' }, ['join_room_success']);
    // Send every 300 ms for 3 s: well past the 1.2 s timeout.
    for (let i = 0; i < 10; i++) {
      const ack = await active.request('send_message', { room_id: roomId, username: 'active', content: `tick ${i}` }, ['message_sent', 'message_error']);
      expect(ack.type).toBe('message_sent');
      await sleep(300);
    }
    // The idle member got its own eviction notice (as the original's UI expects) and is out.
    const self = idle.ofType('member_left', roomId).find((f) => f.data.username === 'idle');
    expect(self?.data).toMatchObject({ reason: 'Inactivity' });
    expect(active.ofType('member_left', roomId).map((f) => f.data.username)).toEqual(['idle']);
    const after = await idle.request('send_message', { room_id: roomId, username: 'idle', content: 'x' }, ['message_error']);
    expect(after.data.error_code).toBe('NOT_MEMBER');
  } finally {
    await active.close();
    await idle.close();
    await node.shutdown();
  }
});

it('on SIGTERM closes clients with 1001, tells the admin of their rooms, and exits promptly', async () => {
  const cluster = await startLocalCluster({
    count: 2,
    wsBasePort: 0,
    rpcBasePort: 0,
    logDir: path.join(__dirname, '..', '..', 'dist', 'test-logs', 'shutdown'),
  });
  try {
    const a = await TestClient.connect(cluster.nodes[0].wsUrl);
    const b = await TestClient.connect(cluster.nodes[1].wsUrl);
    const r = await a.request('create_room', { room_name: 'shutdown', creator_id: 'alice' }, ['room_created']);
    await a.request('join_room', { room_id: r.data.room_id, username: 'alice' }, ['join_room_success']);
    await b.request('join_room', { room_id: r.data.room_id, username: 'bob' }, ['join_room_success']);
    const closeCode = new Promise<number>((resolve) => b.ws.once('close', (code) => resolve(code)));
    const exited = new Promise<number | null>((resolve) => cluster.nodes[1].process.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    cluster.nodes[1].process.kill('SIGTERM');
    expect(await closeCode).toBe(1001);
    const ev = await a.wait((f) => f.type === 'member_left' && f.data.username === 'bob', 5000);
    expect(ev.data.reason).toBe('User disconnected');
    // 128 + SIGTERM: graceful, yet a failure for Swarm's on-failure restart policy (see bin/chat-node.ts).
    expect(await exited).toBe(143);
    expect(Date.now() - t0).toBeLessThan(5000);
    await a.close();
  } finally {
    await cluster.stop();
  }
});

it('collects rooms that stayed empty and unused for ROOM_IDLE_TTL_MS, and keeps the others', async () => {
  const node = await startLoopbackNode({ ROOM_IDLE_TTL_MS: '800', CLEANUP_INTERVAL_MS: '100' });
  const c = await TestClient.connect(node.wsUrl);
  try {
    const empty = (await c.request('create_room', { room_name: 'nobody-came', creator_id: 'a' }, ['room_created'])).data.room_id;
    const used = (await c.request('create_room', { room_name: 'in-use', creator_id: 'a' }, ['room_created'])).data.room_id;
    await c.request('join_room', { room_id: used, username: 'a' }, ['join_room_success']);
    const ids = await waitFor('the idle empty room collected', async () => {
      const list = await c.request('list_rooms', undefined, ['rooms_list']);
      const now: string[] = list.data.rooms.map((r: any) => r.room_id);
      return now.includes(empty) ? undefined : now;
    });
    expect(ids).toContain(used);
    expect(ids).not.toContain(empty);
  } finally {
    await c.close();
    await node.shutdown();
  }
});
