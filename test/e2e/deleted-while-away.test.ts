/**
 * A room deleted while a node was down, whose admin then restarted, has no admin any more: the
 * returning node must learn of the deletion from a peer instead of waiting for an admin that never
 * comes (issue 5: joins right after a restart took 7-13 s, /healthz said catching_up for its whole
 * 10 s cap on every restart; the deleted room also stayed listed on that node). Real processes
 * with DATA_DIR; needs `npm run build` first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClient } from '../support/ws-client';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

let cluster: LocalCluster | undefined;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'repl-deleted-away-'));
const clients: TestClient[] = [];

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await cluster?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

it('a node that missed a room deletion is ready at once after a restart and no longer lists the room', async () => {
  cluster = await startLocalCluster({ wsBasePort: 0, rpcBasePort: 0, dataDir: path.join(root, 'data'), logDir: path.join(root, 'logs') });
  const c = cluster;
  const url = (id: string) => c.nodes.find((n) => n.id === id)!.wsUrl;
  const alice = await TestClient.connect(url('node1'));
  clients.push(alice);
  const roomId = (await alice.request('create_room', { room_name: 'doomed', creator_id: 'alice' }, ['room_created'])).data.room_id as string;
  expect((await alice.request('join_room', { room_id: roomId, username: 'alice' }, ['join_room_success'])).type).toBe('join_room_success');
  await c.stopNode('node2');
  const del = await alice.request('delete_room', { room_id: roomId, username: 'alice' }, ['room_deleted', 'delete_room_error', 'error'], 10_000);
  expect(del.type).toBe('room_deleted');
  await alice.close();
  // The admin restarts: nobody leads the deleted room any more.
  await c.stopNode('node1');
  await c.startNode('node1');

  // startNode resolves when /healthz answers 200; before the fix that was the 10 s catching_up cap.
  // Ready because it caught up (it learned of the deletion), not because the cap ran out.
  const before = readiness('node2');
  await c.startNode('node2');
  expect(await readinessAfter('node2', before)).toEqual({ caughtUp: before.caughtUp + 1, cap: 0 });

  const bob = await TestClient.connect(url('node2'));
  clients.push(bob);
  const list = await bob.request('discover_rooms', undefined, ['global_rooms_list']);
  expect(JSON.stringify(list.data)).not.toContain(roomId);
  const j = await bob.request('join_room', { room_id: roomId, username: 'bob' }, ['join_room_success', 'join_room_error'], 10_000);
  expect(j.type).toBe('join_room_error');

  // The deletion is on node2's disk now: the next restart does not ask again.
  await c.stopNode('node2');
  const again = readiness('node2');
  await c.startNode('node2');
  expect(await readinessAfter('node2', again)).toEqual({ caughtUp: again.caughtUp + 1, cap: 0 });
});

/** The readiness counts once the node's log shows the start that followed `before` (the log reaches the file a moment later). */
function readinessAfter(id: string, before: { caughtUp: number; cap: number }): Promise<{ caughtUp: number; cap: number }> {
  return waitFor('the readiness line in the log', () => {
    const now = readiness(id);
    return now.caughtUp + now.cap > before.caughtUp + before.cap && now;
  }, 10_000);
}

/** How often the node's log (appended across its restarts) says it became ready by catching up, and by running out the catch-up cap. */
function readiness(id: string): { caughtUp: number; cap: number } {
  const log = fs.readFileSync(path.join(root, 'logs', `${id}.log`), 'utf8');
  const count = (s: string) => log.split(s).length - 1;
  return { caughtUp: count('replication: caught up, serving'), cap: count('not caught up within the cap') };
}
