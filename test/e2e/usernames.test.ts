/**
 * Usernames as members see them (issue 14, abuse 8): normalised (NFC, trimmed), never invisible or
 * text-direction characters, and never a lookalike of a member already in the room, on the node
 * the room lives on and through another of our nodes.
 */
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { TestClients, type TestClient } from '../support/ws-client';

jest.setTimeout(60_000);

let cluster: LocalCluster;
let roomId: string;
const clients = new TestClients();

beforeAll(async () => {
  cluster = await startLocalCluster({ count: 2, wsBasePort: 0, rpcBasePort: 0 });
  const alice = await connect(0);
  roomId = (await alice.request('create_room', { room_name: 'names', creator_id: 'alice' }, ['room_created'], 10_000)).data.room_id;
  expect((await alice.request('join_room', { room_id: roomId, username: 'alice' }, ['join_room_success'], 10_000)).type).toBe('join_room_success');
});
afterAll(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

function connect(node: number): Promise<TestClient> {
  return clients.connect(cluster.nodes[node].wsUrl);
}

const join = async (node: number, username: string) => (await connect(node)).request('join_room', { room_id: roomId, username }, ['join_room_success', 'join_room_error'], 10_000);

it.each([
  ['a right-to-left override', 'mallory\u202Eecila'],
  ['a zero-width space', 'al\u200Bice'],
])('refuses a name with %s with join_room_error INVALID_REQUEST', async (_what, name) => {
  const r = await join(1, name);
  expect(r).toEqual({ type: 'join_room_error', data: { room_id: roomId, error: 'Username must not contain invisible or text-direction characters', error_code: 'INVALID_REQUEST' } });
});

it.each([
  ['with a trailing space', 'alice ', 0],
  ['in Cyrillic lookalikes', '\u0430lice', 0],
  ['in capitals, through the other node', 'ALICE', 1],
  ['decomposed and with a lookalike accent', 'a\u0301lice', 1],
])('refuses a member\'s name written %s as USERNAME_TAKEN', async (_what, name, node) => {
  const r = await join(node, name);
  expect(r.type).toBe('join_room_error');
  expect(r.data.error_code).toBe('USERNAME_TAKEN');
});

it('stores and shows the normalised name', async () => {
  const bob = await connect(1);
  expect((await bob.request('join_room', { room_id: roomId, username: '  bo\u0308b ' }, ['join_room_success'], 10_000)).type).toBe('join_room_success');
  const sent = await bob.request('send_message', { room_id: roomId, username: 'bo\u0308b', content: 'hi' }, ['message_sent', 'message_error'], 10_000);
  expect(sent.type).toBe('message_sent');
  const shown = await bob.wait((f) => f.type === 'new_message' && f.data.content === 'hi', 10_000);
  expect(shown.data.username).toBe('b\u00f6b');
});
