/**
 * Per-sender order and exactly-once sends on real nodes (compiled dist/, DATA_DIR, CLUSTER_SECRET):
 * three nodes, three rooms, two senders per room firing a message every 40 ms without waiting
 * for answers, while the admins change: a graceful restart, then a kill -9 and restart of another
 * node. Every message is then checked against the committed history: none acknowledged and lost,
 * none stored twice, none out of its sender's order, none answered with an error and committed.
 * Prints its figures. Needs `npm run build` first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChatConnection } from '../../node-app/src/clients/core/chat-connection';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { ChatLoad, roomHistory } from '../support/chat-load';
import { sleep } from '../support/wait';

jest.setTimeout(90_000);

describe('per-sender order across admin changes (real nodes)', () => {
  let cluster: LocalCluster | undefined;
  let load: ChatLoad | undefined;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sender-order-'));

  afterAll(async () => {
    await load?.close();
    await cluster?.stop();
    if (!process.env.KEEP_LOGS) fs.rmSync(root, { recursive: true, force: true });
    else console.log(`logs kept in ${root}`);
  });

  test('restarts and kill -9 under continuous chat: nothing lost, duplicated, reordered per sender, or answered with an error and committed', async () => {
    cluster = await startLocalCluster({ count: 3, wsBasePort: 0, rpcBasePort: 0, dataDir: path.join(root, 'data'), logDir: path.join(root, 'logs'), env: { LOG_LEVEL: 'info' } });
    const c = cluster;
    const down = new Set<string>();
    const url = (id: string) => c.nodes.find((n) => n.id === id)!.wsUrl;
    const ids = c.nodes.map((n) => n.id);
    const rooms: string[] = [];
    for (let r = 0; r < 3; r++) {
      const creator = await ChatConnection.connect(url(ids[r]));
      rooms.push((await creator.createRoom(`order-${r}`, `creator${r}`)).room_id);
      await creator.close();
    }
    load = new ChatLoad({ url, liveNodes: () => ids.filter((id) => !down.has(id)), periodMs: 40 });
    for (let r = 0; r < 3; r++) {
      await load.addSender(rooms[r], `a${r}`, ids[(r + 1) % 3]);
      await load.addSender(rooms[r], `b${r}`, ids[(r + 2) % 3]);
    }
    load.start();
    await sleep(2000);
    // Graceful restart of node1 (admin of room 0): its senders move, the admin hands over.
    down.add('node1');
    const stopping = c.stopNode('node1');
    await load.moveOff('node1');
    await stopping;
    await sleep(1500);
    await c.startNode('node1');
    down.delete('node1');
    await sleep(2000);
    // kill -9 of node2 (admin of room 1) with messages in flight, then restart.
    down.add('node2');
    process.kill(c.nodes.find((n) => n.id === 'node2')!.pid, 'SIGKILL');
    await sleep(2500);
    await c.startNode('node2');
    down.delete('node2');
    await sleep(2000);
    await load.stop();
    const history = new Map<string, Awaited<ReturnType<typeof roomHistory>>>();
    for (const room of rooms) history.set(room, await roomHistory(url('node3'), room));
    const figures = load.audit(history);
    console.log('sender-order figures', JSON.stringify(figures));
    expect(figures).toMatchObject({ ackedLost: 0, duplicates: 0, senderInversions: 0, errorThenCommit: 0, stranded: 0 });
    expect(figures.errors).toBe(0);
    // The other nodes hold the same history.
    for (const id of ['node1', 'node2']) {
      for (const room of rooms) expect((await roomHistory(url(id), room)).map((m) => m.message_id)).toEqual(history.get(room)!.map((m) => m.message_id));
    }
  });
});
