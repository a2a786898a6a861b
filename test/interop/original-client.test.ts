/**
 * The original DS-G1-SMS client (its service layer, src.client.ChatClient, unmodified) against our
 * cluster: it creates a room (its RoomCreatedResponse(**data) takes no field it does not know),
 * joins on two nodes, and shows the messages of both users, in order, through its own buffer.
 * Needs the original (see test/support/original.ts); skipped loudly without it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClient } from '../support/ws-client';
import { describeWithOriginal, ORIGINAL_PYTHON, type Original } from '../support/original';

jest.setTimeout(90_000);

function runOriginalClient(original: Original, args: string[]): Promise<any> {
  const script = path.join(__dirname, 'fixtures', 'original_client_chat.py');
  return new Promise((resolve, reject) => {
    execFile(ORIGINAL_PYTHON, [script, original.dir, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr.slice(-3000)}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describeWithOriginal('the original client against our nodes', (original) => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startLocalCluster({ count: 3, wsBasePort: 0, rpcBasePort: 0 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('creates a room, joins on two nodes and displays both users\' messages in order through its own buffer', async () => {
    const per = 10;
    const r = await runOriginalClient(original, ['interop', String(per), `alice=${cluster.nodes[0].wsUrl}`, `bob=${cluster.nodes[1].wsUrl}`]);
    expect(r.crash).toBeUndefined();
    expect(r.created).toEqual({ type: 'RoomCreatedResponse', fields: ['admin_node', 'created_at', 'members', 'room_id', 'room_name'] });
    expect(r.joined).toEqual({ alice: { room_name: 'interop', admin_node: 'node1' }, bob: { room_name: 'interop', admin_node: 'node1' } });
    const expected = Array.from({ length: per * 2 }, (_, k) => {
      const who = k % 2 === 0 ? 'alice' : 'bob';
      return [k + 1, who, `${who} says ${Math.floor(k / 2)}`];
    });
    // Each user sends after the other's send was written, so the admin sequences them in turn.
    for (const who of ['alice', 'bob']) {
      expect(r.shown[who].map((m: unknown[]) => m[0])).toEqual(expected.map((m) => m[0]));
      expect([...r.shown[who]].sort((a: any, b: any) => a[0] - b[0])).toEqual(r.shown[who]);
      expect(new Set(r.shown[who].map((m: unknown[]) => m[2]))).toEqual(new Set(expected.map((m) => m[2])));
    }
    expect(r.shown.alice).toEqual(r.shown.bob);
  });

  it('gets exactly the original\'s fields, and our clients get ours when they ask with "extended": true', async () => {
    const plain = await TestClient.connect(cluster.nodes[2].wsUrl);
    const ours = await TestClient.connect(cluster.nodes[2].wsUrl);
    try {
      const a = await plain.request('create_room', { room_name: 'shape-a', creator_id: 'carol', description: 'd' }, ['room_created']);
      expect(Object.keys(a.data).sort()).toEqual(['admin_node', 'created_at', 'members', 'room_id', 'room_name']);
      const j = await plain.request('join_room', { room_id: a.data.room_id, username: 'carol' }, ['join_room_success']);
      expect(Object.keys(j.data).sort()).toEqual(['admin_node', 'description', 'member_count', 'members', 'room_id', 'room_name']);
      ours.ws.send(JSON.stringify({ type: 'create_room', extended: true, data: { room_name: 'shape-b', creator_id: 'dave', description: 'd' } }));
      const b = await ours.wait((f) => f.type === 'room_created');
      expect(b.data).toMatchObject({ creator_id: 'dave', description: 'd' });
      const jb = await ours.request('join_room', { room_id: b.data.room_id, username: 'dave' }, ['join_room_success']);
      expect(jb.data.creator_id).toBe('dave');
    } finally {
      await plain.close();
      await ours.close();
    }
  });
});
