/**
 * Log compaction with real nodes (loopback, DATA_DIR and CLUSTER_SECRET each, compiled dist/): a
 * small retention (ROOM_RETAIN_MESSAGES=20, no minimum age) compacts a room's log on every node;
 * `get_history` says where history begins (`first_seq`); a node whose data directory was wiped
 * gets the room back from a snapshot (its log says so) with the retained history, takes part
 * again, and a restarted admin loads from its snapshot and remaining log. Every acknowledged
 * message among the retained ones is there, once, in order. Needs `npm run build` first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { ChatConnection } from '../../node-app/src/clients/core/chat-connection';
import type { HistoryReply } from '../../node-app/src/protocol/messages';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

const KEEP = 20;

/** What the test opened, for the teardown: the cluster, its folder, the client connections. */
const opened = { root: fs.mkdtempSync(path.join(os.tmpdir(), 'repl-compact-')), cluster: undefined as LocalCluster | undefined, conns: [] as ChatConnection[] };

async function client(wsUrl: string): Promise<ChatConnection> {
  const conn = await ChatConnection.connect(wsUrl, { requestTimeoutMs: 15_000 });
  opened.conns.push(conn);
  return conn;
}

describe('log compaction with real nodes', () => {
  afterAll(async () => {
    await Promise.allSettled(opened.conns.map((x) => x.close()));
    await opened.cluster?.stop();
    if (process.env.KEEP_LOGS) console.log(`logs kept in ${opened.root}`);
    else fs.rmSync(opened.root, { recursive: true, force: true });
  });

  test('history begins after the retained window; a wiped node catches up from a snapshot; a restarted admin loads from its snapshot', async () => {
    const root = opened.root;
    const c = await startLocalCluster({
      count: 3, wsBasePort: 0, rpcBasePort: 0, dataDir: path.join(root, 'data'), logDir: path.join(root, 'logs'),
      env: { CLUSTER_SECRET: 'compaction-test-secret', ROOM_RETAIN_MESSAGES: String(KEEP), ROOM_RETAIN_MIN_SECONDS: '0', LOG_LEVEL: 'info' },
    });
    opened.cluster = c;
    const url = (id: string) => c.nodes.find((n) => n.id === id)!.wsUrl;
    const owner = await client(url('node1'));
    const room = (await owner.createRoom('compacted', 'owner')).room_id;
    const alice = await client(url('node1'));
    const bob = await client(url('node2'));
    await alice.joinRoom(room, 'alice');
    await bob.joinRoom(room, 'bob');
    const acked: { seq: number; id: string; content: string }[] = [];
    for (let k = 0; k < 60; k++) {
      const [who, conn] = k % 2 === 0 ? ['alice', alice] : ['bob', bob];
      const content = `${who}:${k}`;
      const a = await conn.sendMessage(room, who, content);
      acked.push({ seq: a.sequence_number, id: a.message_id, content });
    }
    expect(acked.map((a) => a.seq)).toEqual(acked.map((_, i) => i + 1));
    const retained = (from: number) => acked.filter((a) => a.seq >= from).map((a) => [a.seq, a.id, a.content]);
    const asRows = (h: HistoryReply['data']) => h.messages.map((m) => [m.sequence_number, m.message_id, m.content]);

    // Compaction runs every second on every node: history begins after the newest KEEP.
    for (const id of ['node1', 'node2', 'node3']) {
      const reader = await client(url(id));
      const h = await waitFor(`${id} compacted`, async () => {
        const r = await reader.getHistory(room, { limit: 100 });
        return r.first_seq === 60 - KEEP + 1 ? r : undefined;
      }, 15_000);
      expect(h.last_seq).toBe(60);
      expect(h.has_more).toBe(false);
      expect(asRows(h)).toEqual(retained(41));
    }

    // node3 loses its data directory: it gets the room back as a snapshot plus the retained entries.
    await c.stopNode('node3');
    fs.rmSync(path.join(root, 'data', 'node3'), { recursive: true, force: true });
    fs.mkdirSync(path.join(root, 'data', 'node3'));
    await c.startNode('node3');
    const carol = await client(url('node3'));
    const h3 = await waitFor('node3 has the room back', async () => {
      const r = await carol.getHistory(room, { limit: 100 }).catch(() => undefined);
      return r && r.messages.length === KEEP ? r : undefined;
    }, 15_000);
    expect(h3).toMatchObject({ first_seq: 41, last_seq: 60, has_more: false });
    expect(asRows(h3)).toEqual(retained(41));
    const log3 = fs.readFileSync(path.join(root, 'logs', 'node3.log'), 'utf8');
    expect(log3).toContain('installed snapshot');
    // It knows the members (from the snapshot's state) and takes part: a join and a message there reach node1.
    const joined = await carol.joinRoom(room, 'carol');
    expect(joined.members).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    const seen = new Promise<number>((resolve) => alice.on('message', (m) => {
      if (m.room_id === room && m.username === 'carol') resolve(m.sequence_number);
    }));
    const sent = await carol.sendMessage(room, 'carol', 'back again');
    expect(sent.sequence_number).toBe(61);
    expect(await seen).toBe(61);
    acked.push({ seq: 61, id: sent.message_id, content: 'back again' });

    // The admin restarts (kill -9): it loads from its snapshot and remaining log.
    await Promise.allSettled(opened.conns.splice(0).map((x) => x.close()));
    const n1 = c.nodes.find((n) => n.id === 'node1')!;
    await new Promise<void>((resolve) => {
      n1.process.once('exit', () => resolve());
      n1.process.kill('SIGKILL');
    });
    await c.startNode('node1');
    const again = await client(url('node1'));
    const h1 = await waitFor('node1 back with its history', async () => {
      const r = await again.getHistory(room, { limit: 100 }).catch(() => undefined);
      return r && r.last_seq === 61 ? r : undefined;
    }, 15_000);
    expect(h1.first_seq).toBeGreaterThanOrEqual(41);
    expect(asRows(h1)).toEqual(retained(h1.first_seq as number));
    await again.joinRoom(room, 'dave');
    expect((await again.sendMessage(room, 'dave', 'after restart')).sequence_number).toBe(62);
  });
});
