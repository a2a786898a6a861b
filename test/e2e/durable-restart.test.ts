/**
 * Durable history: three real nodes with DATA_DIR, messages acknowledged, then every node killed
 * at once (kill -9) and started again. Nothing acknowledged is lost, the rooms are writable again
 * and continue their sequence, history pages back and forth, and a join with since_seq replays
 * exactly what came after it. Needs `npm run build` first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { ChatConnection } from '../../node-app/src/clients/core/chat-connection';
import type { ChatMessage } from '../../node-app/src/protocol/messages';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);


describe('whole-cluster restart', () => {
  let cluster: LocalCluster | undefined;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'repl-durable-'));
  const conns: ChatConnection[] = [];
  const connect = async (url: string) => {
    const c = await ChatConnection.connect(url, { requestTimeoutMs: 15_000 });
    conns.push(c);
    return c;
  };

  afterAll(async () => {
    await Promise.allSettled(conns.map((c) => c.close()));
    await cluster?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('kill -9 of every node loses nothing acknowledged; rooms continue their sequence', async () => {
    cluster = await startLocalCluster({ count: 3, wsBasePort: 0, rpcBasePort: 0, dataDir: path.join(root, 'data'), logDir: path.join(root, 'logs') });
    const c = cluster;
    const url = (i: number) => c.nodes[i].wsUrl;
    const rooms: string[] = [];
    const acked = new Map<string, { seq: number; id: string; content: string }[]>();
    for (let r = 0; r < 2; r++) {
      const owner = await connect(url(r));
      const room = (await owner.createRoom(`durable-${r}`, `owner${r}`)).room_id;
      rooms.push(room);
      acked.set(room, []);
      const senders = await Promise.all([0, 1, 2].map(async (i) => {
        const conn = await connect(url(i));
        await conn.joinRoom(room, `s${r}-${i}`);
        return { conn, name: `s${r}-${i}` };
      }));
      await Promise.all(senders.map(async (s) => {
        for (let k = 0; k < 40; k++) {
          const content = `${s.name}:${k}`;
          const a = await s.conn.sendMessage(room, s.name, content);
          acked.get(room)!.push({ seq: a.sequence_number, id: a.message_id, content });
        }
      }));
    }
    await Promise.allSettled(conns.splice(0).map((x) => x.close()));

    // Every node at once, no goodbye.
    await Promise.all(c.nodes.map((n) => new Promise<void>((resolve) => {
      n.process.once('exit', () => resolve());
      n.process.kill('SIGKILL');
    })));
    await Promise.all(c.nodes.map((n) => c.startNode(n.id)));

    for (const room of rooms) {
      const expected = acked.get(room)!.sort((a, b) => a.seq - b.seq);
      expect(expected.map((a) => a.seq)).toEqual(expected.map((_, i) => i + 1));
      for (let i = 0; i < 3; i++) {
        const conn = await connect(url(i));
        // Page backwards from the newest, 50 at a time, and compare with what was acknowledged.
        const seen: ChatMessage[] = [];
        let before: number | undefined;
        for (let page = 0; page < 10; page++) {
          const h = await conn.getHistory(room, { beforeSeq: before, limit: 50 });
          seen.unshift(...h.messages);
          expect(h.last_seq).toBe(expected.length);
          if (!h.has_more) break;
          before = h.messages[0].sequence_number;
        }
        expect(seen.map((m) => [m.sequence_number, m.message_id, m.content])).toEqual(expected.map((a) => [a.seq, a.id, a.content]));
      }
      // Writable again, continuing the sequence; a resume from 100 replays exactly 101..N+1.
      const writer = await connect(url(2));
      await writer.joinRoom(room, 'after-restart');
      const next = await writer.sendMessage(room, 'after-restart', 'hello again');
      expect(next.sequence_number).toBe(expected.length + 1);
      const resumer = await connect(url(1));
      const got: number[] = [];
      resumer.on('message', (m) => {
        if (m.room_id === room) got.push(m.sequence_number);
      });
      const joined = await resumer.joinRoom(room, 'resumer', { resumeAfter: 100 });
      expect(joined).toMatchObject({ last_seq: expected.length + 1, replay_from_seq: 101 });
      await waitFor('the replay', () => got.length >= expected.length + 1 - 100, 5000).catch(() => undefined);
      expect(got).toEqual(Array.from({ length: expected.length + 1 - 100 }, (_, i) => 101 + i));
    }
  });
});
