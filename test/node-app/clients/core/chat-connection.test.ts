/**
 * ChatConnection against a scripted WebSocket server on loopback. The server replays exact
 * frame sequences the real node may produce but a real cluster cannot be made to produce on
 * demand (a broadcast landing between a request and its reply, history in the same TCP write as
 * the join reply, a reply that never comes). End-to-end behaviour against real nodes is covered by
 * the terminal and browser client tests.
 */
import { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { ChatConnection } from '../../../../node-app/src/clients/core/chat-connection';
import { ChatConnectionClosedError, ChatRequestError, ChatTimeoutError } from '../../../../node-app/src/clients/core/errors';
import type { ChatMessage } from '../../../../node-app/src/protocol/messages';
import { waitFor } from '../../../support/wait';

type Script = (req: { type: string; data?: Record<string, unknown> }, send: (type: string, data: unknown) => void, ws: WebSocket) => void;

let server: WebSocketServer;
let url: string;
let script: Script;
const received: { type: string; data?: Record<string, unknown> }[] = [];
const conns: ChatConnection[] = [];

beforeEach(async () => {
  received.length = 0;
  script = () => undefined;
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  server.on('connection', (ws) => {
    ws.on('message', (raw) => {
      const req = JSON.parse(raw.toString());
      received.push(req);
      script(req, (type, data) => ws.send(JSON.stringify({ type, data })), ws);
    });
  });
});

afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close()));
  for (const c of server.clients) c.terminate();
  await new Promise<void>((r) => server.close(() => r()));
});

async function open(opts = {}): Promise<ChatConnection> {
  const c = await ChatConnection.connect(url, { pingIntervalMs: 0, ...opts });
  conns.push(c);
  return c;
}

const message = (seq: number, room = 'r1'): ChatMessage => ({
  message_id: `m${seq}`,
  room_id: room,
  username: seq % 2 ? 'alice' : 'bob',
  content: `hello ${seq}`,
  sequence_number: seq,
  timestamp: '2026-11-26T11:53:19.604421+00:00',
});

it('sends requests in the protocol shape, each asking for the extended replies', async () => {
  script = (req, send) => {
    if (req.type === 'list_rooms') send('rooms_list', { rooms: [], total_count: 0 });
    if (req.type === 'create_room') send('room_created', { room_id: 'r1', room_name: 'lobby', admin_node: 'node1', members: [], created_at: 'x' });
  };
  const c = await open();
  await c.listRooms();
  await c.createRoom('lobby', 'alice');
  expect(received).toEqual([
    { type: 'list_rooms', extended: true },
    { type: 'create_room', data: { room_name: 'lobby', creator_id: 'alice', description: null }, extended: true },
  ]);
});

it('does not swallow a broadcast that arrives between a request and its reply', async () => {
  script = (req, send) => {
    if (req.type === 'join_room') {
      send('join_room_success', { room_id: 'r1', room_name: 'lobby', description: null, members: ['alice'], member_count: 1, admin_node: 'node1' });
    }
    if (req.type === 'list_rooms') {
      send('member_joined', { room_id: 'r1', username: 'bob', member_count: 2, timestamp: 't' });
      send('new_message', message(1));
      send('rooms_list', { rooms: [], total_count: 0 });
    }
  };
  const c = await open();
  const seen: string[] = [];
  c.on('frame', (f) => seen.push(f.type));
  const messages: number[] = [];
  c.on('message', (m) => messages.push(m.sequence_number));
  await c.joinRoom('r1', 'alice');
  const rooms = await c.listRooms();
  expect(rooms.total_count).toBe(0);
  expect(seen).toEqual(['join_room_success', 'member_joined', 'new_message', 'rooms_list']);
  expect(messages).toEqual([1]);
  expect([...c.rooms.get('r1')!.members].sort()).toEqual(['alice', 'bob']);
});

it('orders history sent in the same write as the join reply, including history above 1', async () => {
  script = (req, send) => {
    if (req.type === 'join_room') {
      send('join_room_success', { room_id: 'r1', room_name: 'lobby', description: 'd', members: ['alice', 'bob'], member_count: 2, admin_node: 'node1' });
      for (let s = 101; s <= 200; s++) send('new_message', message(s));
    }
  };
  const c = await open();
  const messages: number[] = [];
  c.on('message', (m) => messages.push(m.sequence_number));
  const joined = await c.joinRoom('r1', 'alice');
  expect(joined.room_name).toBe('lobby');
  await waitFor('100 messages', () => messages.length === 100);
  expect(messages[0]).toBe(101);
  expect(messages[99]).toBe(200);
});

it('uses the node-announced replay start, resumes with since_seq and fills a gap with get_history', async () => {
  const room = 'r1';
  script = (req, send) => {
    if (req.type === 'join_room') {
      const since = req.data!.since_seq as number | undefined;
      const from = since === undefined ? 1 : since + 1;
      send('join_room_success', { room_id: room, room_name: 'lobby', description: null, members: ['alice'], member_count: 1, admin_node: 'node1', last_seq: 6, replay_from_seq: from });
      // message 3 is "lost" on the way; it is only available through get_history
      for (let s = from; s <= 6; s++) if (s !== 3) send('new_message', message(s));
    }
    if (req.type === 'get_history') {
      const after = req.data!.after_seq as number;
      const limit = req.data!.limit as number;
      const msgs = [];
      for (let s = after + 1; s <= Math.min(6, after + limit); s++) msgs.push(message(s));
      send('history', { room_id: room, messages: msgs, has_more: false, last_seq: 6 });
    }
  };
  const c = await open({ gapWaitMs: 1000 });
  const shown: number[] = [];
  const gaps: unknown[] = [];
  c.on('message', (m) => shown.push(m.sequence_number));
  c.on('gap', (g) => gaps.push(g));
  await c.joinRoom(room, 'alice');
  await waitFor('6 messages', () => shown.length === 6);
  expect(shown).toEqual([1, 2, 3, 4, 5, 6]);
  expect(received.filter((r) => r.type === 'get_history').map((r) => r.data)).toEqual([{ room_id: room, after_seq: 2, limit: 1 }]);
  await c.joinRoom(room, 'alice');
  expect(received.filter((r) => r.type === 'join_room').map((r) => r.data!.since_seq)).toEqual([undefined, 6]);
  expect(gaps).toEqual([]);
});

it('reports a gap once when the node does not know get_history (an original Python node)', async () => {
  script = (req, send) => {
    if (req.type === 'join_room') {
      send('join_room_success', { room_id: 'r1', room_name: 'lobby', description: null, members: [], member_count: 0, admin_node: 'node1' });
      for (const s of [7, 9, 10]) send('new_message', message(s));
    }
    if (req.type === 'get_history') send('error', { success: false, message: 'Unknown message type: get_history' });
    if (req.type === 'list_rooms') send('rooms_list', { rooms: [], total_count: 0 });
  };
  const c = await open({ gapWaitMs: 100 });
  const shown: number[] = [];
  const gaps: { from: number; to: number }[] = [];
  c.on('message', (m) => shown.push(m.sequence_number));
  c.on('gap', (g) => gaps.push(g));
  const pendingList = c.listRooms(); // must not be rejected by the get_history error
  await c.joinRoom('r1', 'alice');
  await expect(pendingList).resolves.toMatchObject({ total_count: 0 });
  await waitFor('one gap report', () => gaps.length === 1);
  expect(gaps[0]).toMatchObject({ from: 8, to: 8 });
  expect(shown).toEqual([7, 9, 10]);
});

it('matches replies by room when several sends are in flight', async () => {
  let seq = 0;
  script = (req, send) => {
    if (req.type === 'join_room') {
      send('join_room_success', { room_id: req.data!.room_id, room_name: 'n', description: null, members: [], member_count: 0, admin_node: 'node1' });
    }
    if (req.type === 'send_message' && req.data!.room_id === 'r2') {
      seq++;
      send('message_sent', { room_id: 'r2', message_id: `x${seq}`, sequence_number: seq, timestamp: 't' });
    }
    if (req.type === 'send_message' && req.data!.room_id === 'r1') {
      setTimeout(() => send('message_error', { room_id: 'r1', error: 'You are not a member of this room', error_code: 'NOT_MEMBER' }), 20);
    }
  };
  const c = await open();
  await c.joinRoom('r2', 'alice');
  const slow = c.sendMessage('r1', 'alice', 'a');
  const fast = await c.sendMessage('r2', 'alice', 'b');
  expect(fast.sequence_number).toBe(1);
  await expect(slow).rejects.toMatchObject({ name: 'ChatRequestError', code: 'NOT_MEMBER', message: 'You are not a member of this room' });
});

it('rejects a failed create with the node message and a failed join with its code', async () => {
  script = (req, send) => {
    if (req.type === 'create_room') send('room_created', { success: false, message: "Room with name 'x' already exists" });
    if (req.type === 'join_room') send('join_room_error', { room_id: req.data!.room_id, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
  };
  const c = await open();
  await expect(c.createRoom('x', 'alice')).rejects.toThrow("Room with name 'x' already exists");
  const err = await c.joinRoom('nope', 'alice').catch((e) => e);
  expect(err).toBeInstanceOf(ChatRequestError);
  expect(err.code).toBe('ROOM_NOT_FOUND');
  expect(c.rooms.has('nope')).toBe(false);
});

it('rejects the oldest pending request on a generic error frame', async () => {
  script = (req, send) => {
    if (req.type === 'list_rooms') send('error', { success: false, message: 'Invalid JSON format' });
  };
  const c = await open();
  await expect(c.listRooms()).rejects.toMatchObject({ code: 'GENERIC', message: 'Invalid JSON format' });
});

it('reports failures nobody waited for as server_error', async () => {
  script = (req, send) => {
    if (req.type === 'list_rooms') {
      send('message_error', { room_id: 'r9', error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
      send('rooms_list', { rooms: [], total_count: 0 });
    }
  };
  const c = await open();
  const errors: unknown[] = [];
  c.on('server_error', (e) => errors.push(e));
  await c.listRooms();
  expect(errors).toEqual([{ type: 'message_error', code: 'ROOM_NOT_FOUND', message: 'Room not found', room_id: 'r9' }]);
});

it('runs a delete through initiated and success, and reports room_closed to members', async () => {
  script = (req, send) => {
    if (req.type === 'join_room') {
      send('join_room_success', { room_id: 'r1', room_name: 'lobby', description: null, members: ['alice'], member_count: 1, admin_node: 'node1' });
    }
    if (req.type === 'delete_room') {
      send('delete_room_initiated', { room_id: 'r1', transaction_id: 't1', status: 'in_progress' });
      send('delete_room_initiated', { room_id: 'r1', initiator: 'alice', status: 'in_progress' });
      setTimeout(() => {
        send('delete_room_success', { room_id: 'r1', transaction_id: 't1', message: 'Room deleted successfully' });
        send('room_deleted', { room_id: 'r1', room_name: 'lobby', message: "Room 'lobby' has been deleted" });
      }, 20);
    }
  };
  const c = await open();
  const closed: unknown[] = [];
  c.on('room_closed', (x) => closed.push(x));
  await c.joinRoom('r1', 'alice');
  const done = await c.deleteRoom('r1', 'alice');
  expect(done.transaction_id).toBe('t1');
  await waitFor('the room closed', () => closed.length === 1);
  expect(closed[0]).toEqual({ room_id: 'r1', room_name: 'lobby', reason: 'deleted', message: "Room 'lobby' has been deleted" });
  expect(c.rooms.has('r1')).toBe(false);
});

it('treats member_left naming ourselves as a removal', async () => {
  script = (req, send) => {
    if (req.type === 'join_room') {
      send('join_room_success', { room_id: 'r1', room_name: 'lobby', description: null, members: ['alice', 'bob'], member_count: 2, admin_node: 'node1' });
      send('member_left', { room_id: 'r1', username: 'bob', member_count: 1, timestamp: 't', reason: 'User disconnected' });
      send('member_left', { room_id: 'r1', username: 'alice', member_count: 0, timestamp: 't', reason: 'Inactivity' });
    }
  };
  const c = await open();
  const changes: string[] = [];
  c.on('members', (m) => changes.push(`${m.change.kind}:${m.members.join('+')}`));
  const closed: { message: string }[] = [];
  c.on('room_closed', (x) => closed.push(x));
  await c.joinRoom('r1', 'alice');
  await waitFor('the room closed', () => closed.length === 1);
  expect(changes).toEqual(['snapshot:alice+bob', 'left:alice', 'left:']);
  expect(closed[0].message).toBe("You were removed from 'lobby': Inactivity");
});

it('times out a request that gets no reply, and fails pending requests when the node goes away', async () => {
  script = (req, _send, ws) => {
    if (req.type === 'discover_rooms') setTimeout(() => ws.terminate(), 30);
  };
  const c = await open({ requestTimeoutMs: 50 });
  await expect(c.listRooms()).rejects.toBeInstanceOf(ChatTimeoutError);
  const closeInfo = new Promise((r) => c.once('close', r));
  const c2 = await open({ requestTimeoutMs: 5000 });
  const p = c2.discoverRooms();
  await expect(p).rejects.toBeInstanceOf(ChatConnectionClosedError);
  expect(c.isOpen).toBe(true);
  await c.close();
  expect(await closeInfo).toMatchObject({ expected: true });
  await expect(c.listRooms()).rejects.toBeInstanceOf(ChatConnectionClosedError);
});

it('fails to connect with an error naming the address', async () => {
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  server = new WebSocketServer({ noServer: true });
  await expect(ChatConnection.connect(`ws://127.0.0.1:${port}/`)).rejects.toThrow(`cannot connect to ws://127.0.0.1:${port}/`);
});
