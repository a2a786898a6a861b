/**
 * Our node as a member node of a room administered by an original-style Python node (a stand-in
 * written against node-app/PROTOCOL.md §3/§4 with Python's own xmlrpc modules, calling back into our server
 * synchronously like the original): discovery, join, send (the original broadcasts before it
 * returns), leave and disconnect all use the plain methods, and the sender still sees its
 * new_message before message_sent.
 */
import type { ChildProcess } from 'node:child_process';
import type { RunningChatNode } from '../../node-app/src/node/main';
import { startLoopbackNodeBesidePython } from '../support/loopback-node';
import { freePorts } from '../../node-app/src/cluster/local-cluster';
import { TestClient } from '../support/ws-client';
import { waitFor } from '../support/wait';
import { startPythonJsonLines } from '../support/python-process';

jest.setTimeout(30_000);

/** Free ports picked in beforeAll, so a second run of this suite beside this one does not collide. */
let WS_PORT = 0;
let RPC_PORT = 0;
let PY_PORT = 0;

const PY_ADMIN = `
import sys, json, uuid, datetime, xmlrpc.client
from xmlrpc.server import SimpleXMLRPCServer
port, ours = int(sys.argv[1]), sys.argv[2]
srv = SimpleXMLRPCServer(('127.0.0.1', port), allow_none=True, logRequests=False)
room = {'room_id': str(uuid.uuid4()), 'room_name': 'py-room', 'description': None, 'admin_node': 'py1', 'creator_id': 'pyadmin'}
members, msgs = {}, []
def now(): return datetime.datetime.now(datetime.timezone.utc).isoformat()
def log(*a): print(json.dumps(a), flush=True)
def peer(): return xmlrpc.client.ServerProxy(ours, allow_none=True)
def info(): return dict(room, members=list(members), member_count=len(members))
def get_hosted_rooms():
    log('get_hosted_rooms')
    return [dict(room, member_count=len(members), node_address='http://127.0.0.1:%d' % port)]
def join_room(room_id, username, node):
    log('join_room', room_id, username, node)
    if room_id != room['room_id']:
        return {'success': False, 'message': 'Room not found', 'error_code': 'ROOM_NOT_FOUND', 'room_info': None}
    if username in members:
        return {'success': True, 'message': 'Already in room, re-registered', 'room_info': info(), 'messages': msgs[-100:]}
    members[username] = node
    peer().receive_member_event_broadcast(room_id, 'member_joined', {'room_id': room_id, 'username': username, 'member_count': len(members), 'timestamp': now()})
    return {'success': True, 'message': 'Successfully joined room', 'room_info': info(), 'messages': msgs[-100:]}
def forward_message(room_id, username, content, node):
    log('forward_message', room_id, username, content, node)
    if username not in members:
        return {'success': False, 'error': 'You are not a member of this room', 'error_code': 'NOT_MEMBER'}
    m = {'message_id': str(uuid.uuid4()), 'room_id': room_id, 'username': username, 'content': content, 'sequence_number': len(msgs) + 1, 'timestamp': now()}
    msgs.append(m)
    peer().receive_message_broadcast(room_id, m)
    return {'success': True, 'message_id': m['message_id'], 'sequence_number': m['sequence_number'], 'timestamp': m['timestamp']}
def leave_room(room_id, username, node):
    log('leave_room', room_id, username, node)
    members.pop(username, None)
    peer().receive_member_event_broadcast(room_id, 'member_left', {'room_id': room_id, 'username': username, 'member_count': len(members), 'timestamp': now()})
    return {'success': True, 'message': 'Successfully left room'}
def notify_member_disconnect(room_id, username, node, reason='User disconnected'):
    log('notify_member_disconnect', room_id, username, node, reason)
    members.pop(username, None)
    return {'success': True, 'message': 'Member removed successfully'}
def heartbeat(): return {'status': 'ok', 'node_id': 'py1', 'timestamp': now()}
for f in [get_hosted_rooms, join_room, forward_message, leave_room, notify_member_disconnect, heartbeat]:
    srv.register_function(f)
log('ready', room['room_id'])
srv.serve_forever()
`;

let node: RunningChatNode;
let py: ChildProcess;
let pyRoomId = '';
const pyLog: unknown[][] = [];

beforeAll(async () => {
  [WS_PORT, RPC_PORT, PY_PORT] = await freePorts(3);
  py = await startPythonJsonLines<unknown[]>(PY_ADMIN, [String(PY_PORT), `http://127.0.0.1:${RPC_PORT}`], {
    what: 'python admin',
    isReady: (line) => {
      if (line[0] !== 'ready') return false;
      pyRoomId = String(line[1]);
      return true;
    },
    onLine: (line) => pyLog.push(line),
  });
  node = await startLoopbackNodeBesidePython({ ws: WS_PORT, rpc: RPC_PORT, py: PY_PORT });
});

afterAll(async () => {
  await node?.shutdown('test end');
  py?.kill('SIGTERM');
});

it('joins, chats in, leaves and disconnects from a room on a Python admin with the plain methods', async () => {
  const a = await TestClient.connect(`ws://127.0.0.1:${WS_PORT}`);
  const b = await TestClient.connect(`ws://127.0.0.1:${WS_PORT}`);
  const d = await a.request('discover_rooms', undefined, ['global_rooms_list']);
  expect(d.data.rooms).toEqual([
    { room_id: pyRoomId, room_name: 'py-room', description: null, member_count: 0, admin_node: 'py1', creator_id: 'pyadmin', node_address: `http://127.0.0.1:${PY_PORT}` },
  ]);
  const ja = await a.request('join_room', { room_id: pyRoomId, username: 'alice' }, ['join_room_success', 'join_room_error']);
  expect(ja.data).toMatchObject({ room_id: pyRoomId, admin_node: 'py1', members: ['alice'], member_count: 1 });
  await b.request('join_room', { room_id: pyRoomId, username: 'bob' }, ['join_room_success']);
  await a.wait((f) => f.type === 'member_joined' && f.data.username === 'bob');

  const from = a.frames.length;
  const ack = await a.request('send_message', { room_id: pyRoomId, username: 'alice', content: 'hello python' }, ['message_sent', 'message_error']);
  expect(ack.data).toMatchObject({ room_id: pyRoomId, sequence_number: 1 });
  const types = a.frames.slice(from).map((f) => f.type);
  expect(types.indexOf('new_message')).toBeLessThan(types.indexOf('message_sent'));
  const got = await b.wait((f) => f.type === 'new_message');
  expect(got.data).toMatchObject({ username: 'alice', content: 'hello python', sequence_number: 1 });
  // Sends toward a Python admin are plain forward_message calls (it knows no extensions).
  expect(pyLog.some((l) => l[0] === 'forward_message' && l[2] === 'alice' && l[4] === 'node1')).toBe(true);
  // The admin's location is cached: more sends cause no discovery round (§9.10).
  const discoveries = () => pyLog.filter((l) => l[0] === 'get_hosted_rooms').length;
  const before = discoveries();
  for (let i = 0; i < 5; i++) {
    await a.request('send_message', { room_id: pyRoomId, username: 'alice', content: `again ${i}` }, ['message_sent']);
  }
  expect(discoveries()).toBe(before);

  await b.request('leave_room', { room_id: pyRoomId, username: 'bob' }, ['leave_room_success']);
  await waitFor('leave_room at the admin', () => pyLog.some((l) => l[0] === 'leave_room' && l[2] === 'bob'), 3000);
  const left = await a.wait((f) => f.type === 'member_left' && f.data.username === 'bob');
  expect(left.data.reason).toBeUndefined();

  await a.close();
  await waitFor('disconnect notice', () => pyLog.some((l) => l[0] === 'notify_member_disconnect' && l[2] === 'alice' && l[4] === 'User disconnected'), 3000);
  await b.close();
});
