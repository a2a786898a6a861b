/**
 * What one client (or one address) can make a node hold, bounded (issue 14, abuse 2, 3 and 6):
 * connections in total and per address, messages started and never finished (by a deadline and a
 * node-wide byte budget), rooms created per connection and per node, and data queued for a client
 * that never reads, also within one event-loop turn. One real node process each, limits lowered
 * through their settings so the tests stay small.
 */
import WebSocket from 'ws';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClient } from '../support/ws-client';
import { rssMb } from '../support/abuser';
import { closedWithin, openRaw, sendUnfinishedFragments, sendUnfinishedFrame } from '../support/raw-ws';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(120_000);

const started: LocalCluster[] = [];
async function node(env: Record<string, string>): Promise<{ url: string; pid: number }> {
  const c = await startLocalCluster({ count: 1, wsBasePort: 0, rpcBasePort: 0, env: { REPLICATION: 'off', ...env } });
  started.push(c);
  return { url: c.nodes[0].wsUrl, pid: c.nodes[0].pid };
}
afterAll(async () => {
  await Promise.all(started.map((c) => c.stop()));
});

describe('connections', () => {
  it('refuses connections over the per-address and the total cap with HTTP 503, and admits again once one closes', async () => {
    const { url } = await node({ WS_MAX_CONNECTIONS_PER_ADDRESS: '3', WS_MAX_CONNECTIONS: '5' });
    const mine = await Promise.all([1, 2, 3].map(() => openRaw(url)));
    await expect(openRaw(url)).rejects.toThrow(/HTTP 503/);
    // Another address still gets in, up to the node's total.
    const other = await Promise.all([1, 2].map(() => openRaw(url, '127.0.0.2')));
    await expect(openRaw(url, '127.0.0.3')).rejects.toThrow(/HTTP 503/);
    const metrics = await fetch(`${url.replace('ws:', 'http:')}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^swarmchat_ws_refused_per_address_total 1$/m);
    expect(metrics).toMatch(/^swarmchat_ws_refused_total 1$/m);
    mine[0].close();
    await closedWithin(mine[0], 2000);
    const again = await waitFor('a free slot', () => openRaw(url).catch(() => undefined), 5000);
    for (const ws of [...mine, ...other, again]) ws.terminate();
  });

  it('closes a connection whose message is not completed within WS_ASSEMBLY_TIMEOUT_MS, fragmented or not', async () => {
    const { url } = await node({ WS_ASSEMBLY_TIMEOUT_MS: '1000' });
    const oneFrame = await openRaw(url);
    sendUnfinishedFrame(oneFrame, 512 * 1024, 1000);
    const fragments = await openRaw(url);
    sendUnfinishedFragments(fragments, 256 * 1024);
    // A client that is only idle is left alone.
    const idle = await TestClient.connect(url);
    const closes = await Promise.all([closedWithin(oneFrame, 10_000), closedWithin(fragments, 10_000)]);
    expect(closes).toEqual([1, 2].map(() => ({ code: 1008, reason: 'message not completed in time' })));
    await sleep(1500);
    const r = await idle.request('list_rooms', undefined, ['rooms_list']);
    expect(r.type).toBe('rooms_list');
    await idle.close();
  });

  it('keeps all unfinished messages together within WS_UNFINISHED_BYTES_BUDGET: 150 sockets x 1 MiB cost the node far less than 150 MB', async () => {
    const budget = 16 * 1024 * 1024;
    const { url, pid } = await node({ WS_UNFINISHED_BYTES_BUDGET: String(budget), WS_ASSEMBLY_TIMEOUT_MS: '600000' });
    const innocent = await TestClient.connect(url);
    const before = rssMb(pid);
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 150; i++) {
      const ws = await openRaw(url);
      sendUnfinishedFrame(ws, 1024 * 1024 - 64, 1024 * 1024 - 1024);
      sockets.push(ws);
    }
    await sleep(2000);
    const after = rssMb(pid);
    const closed = sockets.filter((ws) => ws.readyState !== WebSocket.OPEN).length;
    console.log(`unfinished budget: node RSS ${before} -> ${after} MB; ${closed} of 150 holders closed`);
    expect(after - before).toBeLessThan(60);
    expect(closed).toBeGreaterThan(100);
    // The node still serves everyone else.
    expect((await innocent.request('list_rooms', undefined, ['rooms_list'])).type).toBe('rooms_list');
    for (const ws of sockets) ws.terminate();
    await innocent.close();
  });
});

describe('rooms', () => {
  it('refuses rooms over MAX_ROOMS_PER_CONNECTION and MAX_ROOMS_PER_NODE with the protocol\'s create_room error', async () => {
    const { url } = await node({ MAX_ROOMS_PER_CONNECTION: '3', MAX_ROOMS_PER_NODE: '5' });
    const a = await TestClient.connect(url);
    const create = (c: TestClient, name: string) => c.request('create_room', { room_name: name, creator_id: 'u' }, ['room_created']);
    for (const n of ['a1', 'a2', 'a3']) expect((await create(a, n)).data.room_id).toEqual(expect.any(String));
    expect((await create(a, 'a4')).data).toEqual({ success: false, message: 'Room limit reached: one connection may create at most 3 rooms' });
    const b = await TestClient.connect(url);
    for (const n of ['b1', 'b2']) expect((await create(b, n)).data.room_id).toEqual(expect.any(String));
    expect((await create(b, 'b3')).data).toEqual({
      success: false,
      message: 'Room limit reached: this node administers its maximum of 5 rooms; try another node or later',
    });
    await a.close();
    await b.close();
  });
});

describe('a client that never reads', () => {
  it('is closed once its unread data passes WS_MAX_BUFFERED_BYTES, also when all of it is written in one burst', async () => {
    const limit = 4 * 1024 * 1024;
    const { url, pid } = await node({ WS_MAX_BUFFERED_BYTES: String(limit) });
    const writer = await TestClient.connect(url);
    const roomId = (await writer.request('create_room', { room_name: 'big', creator_id: 'w' }, ['room_created'])).data.room_id;
    await writer.request('join_room', { room_id: roomId, username: 'w' }, ['join_room_success']);
    for (let i = 1; i <= 500; i++) writer.send('send_message', { room_id: roomId, username: 'w', content: 'x'.repeat(4000) });
    await writer.wait((f) => f.type === 'message_sent' && f.data.sequence_number === 500, 60_000);
    const base = rssMb(pid);
    // 200 pages of 500 x 4000 characters: ~400 MB asked for by a socket that reads nothing.
    const reader = await openRaw(url);
    const socket = (reader as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const page = JSON.stringify({ type: 'get_history', data: { room_id: roomId, limit: 500 } });
    for (let i = 0; i < 200; i++) reader.send(page);
    let peak = base;
    await waitFor('the node to stop writing to the reader', async () => {
      peak = Math.max(peak, rssMb(pid));
      const r = await fetch(`${url.replace('ws:', 'http:')}/metrics`).then((x) => x.text());
      return /^swarmchat_slow_consumers_total 1$/m.test(r);
    }, 60_000, 100);
    // What reached the client (kernel buffers included) before the close is about the limit, not 400 MB.
    let bytes = 0;
    reader.on('message', (d: Buffer) => (bytes += d.length));
    const closing = closedWithin(reader, 10_000);
    socket.resume();
    expect(await closing).toEqual({ code: 1008, reason: 'slow consumer: too much unread data' });
    console.log(`slow consumer: ${(bytes / 1e6).toFixed(1)} MB written before the close (limit ${limit / 1e6} MB); node RSS ${base} -> peak ${peak} MB`);
    expect(bytes).toBeLessThan(limit + 3 * 2_100_000 + 4 * 1024 * 1024);
    expect(peak - base).toBeLessThan(80);
    await writer.close();
  });
});
