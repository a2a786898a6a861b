/**
 * A client that reconnects to its node the moment the node restarts without its log (no DATA_DIR),
 * before the rooms' admins have reached it, against three real node processes. The node must not
 * take the room it has not received yet for another node's room: that joined the client the
 * original's way (no resume from since_seq) and then replayed the room's whole log to it as it
 * arrived, old member events included, down to the client's own "User disconnected" removal.
 */
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClient, TestClients, type Frame } from '../support/ws-client';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(60_000);

let cluster: LocalCluster;
const clients = new TestClients();

beforeAll(async () => {
  cluster = await startLocalCluster({ wsBasePort: 0, rpcBasePort: 0 });
});

afterAll(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

it('resumes after since_seq on a node back from a restart without its log: nothing twice, no old member events, still a member', async () => {
  const carol = await clients.connect(cluster.nodes[2].wsUrl);
  const created = await carol.request('create_room', { room_name: 'rejoin-at-once', creator_id: 'carol' }, ['room_created']);
  const roomId = created.data.room_id as string;
  await carol.request('join_room', { room_id: roomId, username: 'carol' }, ['join_room_success']);
  const dave = await clients.connect(cluster.nodes[1].wsUrl);
  await dave.request('join_room', { room_id: roomId, username: 'dave' }, ['join_room_success']);
  await carol.request('send_message', { room_id: roomId, username: 'carol', content: 'first' }, ['message_sent']);
  const seen = await dave.request('send_message', { room_id: roomId, username: 'dave', content: 'second' }, ['message_sent']);
  const sinceSeq = seen.data.sequence_number as number;

  await cluster.stopNode('node2');
  const started = cluster.startNode('node2', { waitReady: false });
  // As a reconnecting client does: connect as soon as the port takes connections, and join at once.
  let back: TestClient | undefined;
  for (let i = 0; i < 300 && !back; i++) {
    back = await clients.connect(cluster.nodes[1].wsUrl).catch(() => sleep(20).then(() => undefined));
  }
  if (!back) throw new Error('node2 did not take connections again');
  const joined = await back.request('join_room', { room_id: roomId, username: 'dave', since_seq: sinceSeq }, ['join_room_success', 'join_room_error'], 10_000);
  await started;
  expect(joined.type).toBe('join_room_success');
  expect(joined.data.last_seq).toBe(sinceSeq);

  await carol.request('send_message', { room_id: roomId, username: 'carol', content: 'after the restart' }, ['message_sent']);
  await back.wait((f) => f.type === 'new_message' && f.data.content === 'after the restart', 10_000);
  const mine = await back.request('send_message', { room_id: roomId, username: 'dave', content: 'still here' }, ['message_sent', 'message_error']);
  expect(mine.type).toBe('message_sent');
  await waitFor('carol has dave\'s message', () => carol.frames.some((f) => f.data?.content === 'still here'));

  const after = (f: Frame) => f.type === 'new_message' || f.type === 'member_joined' || f.type === 'member_left';
  expect(back.frames.filter(after).map((f) => `${f.type} ${f.data.username} ${f.data.content ?? f.data.reason ?? ''}`.trim())).toEqual([
    'new_message carol after the restart',
    'new_message dave still here',
  ]);
});
