/**
 * The ceiling: one raw `ws` process speaking the subset of our WebSocket protocol the benchmark
 * uses (create_room, join_room, send_message -> new_message + message_sent, list_rooms). It does
 * the least a correct chat must do per message (validate, check membership, sequence, stamp,
 * serialize once, write the same bytes to every member), with no peers: what one process can push
 * through `ws` bounds what any cluster node can.
 *
 * Env: PORT (0 = any), HOST (127.0.0.1). Prints `{"ready":true,"port":N}` when listening.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';

interface Room {
  id: string;
  name: string;
  seq: number;
  members: Set<WebSocket>;
}

const rooms = new Map<string, Room>();
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 0);

function reply(ws: WebSocket, type: string, data: unknown): void {
  ws.send(JSON.stringify({ type, data }));
}

function onFrame(ws: WebSocket, raw: Buffer): void {
  let msg: { type?: unknown; data?: Record<string, unknown> };
  try {
    msg = JSON.parse(raw.toString('utf8')) as typeof msg;
  } catch {
    reply(ws, 'error', { success: false, message: 'Invalid JSON format' });
    return;
  }
  const data = msg.data ?? {};
  switch (msg.type) {
    case 'create_room': {
      const name = data.room_name;
      if (typeof name !== 'string' || !name || typeof data.creator_id !== 'string') {
        reply(ws, 'room_created', { success: false, message: 'Missing room_name or creator_id' });
        return;
      }
      const room: Room = { id: randomUUID(), name, seq: 0, members: new Set() };
      rooms.set(room.id, room);
      reply(ws, 'room_created', {
        room_id: room.id,
        room_name: name,
        admin_node: 'ceiling',
        members: [],
        created_at: new Date().toISOString(),
      });
      return;
    }
    case 'join_room': {
      const room = typeof data.room_id === 'string' ? rooms.get(data.room_id) : undefined;
      if (!room || typeof data.username !== 'string' || !data.username) {
        reply(ws, 'join_room_error', { room_id: data.room_id ?? '', error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
        return;
      }
      room.members.add(ws);
      reply(ws, 'join_room_success', {
        room_id: room.id,
        room_name: room.name,
        description: null,
        members: [],
        member_count: room.members.size,
        admin_node: 'ceiling',
      });
      return;
    }
    case 'send_message': {
      const room = typeof data.room_id === 'string' ? rooms.get(data.room_id) : undefined;
      const content = data.content;
      if (!room || !room.members.has(ws)) {
        reply(ws, 'message_error', { room_id: data.room_id ?? '', error: 'You are not a member of this room', error_code: 'NOT_MEMBER' });
        return;
      }
      if (typeof content !== 'string' || content.length === 0 || content.length > 5000) {
        reply(ws, 'message_error', { room_id: room.id, error: 'Invalid content', error_code: 'INVALID_CONTENT' });
        return;
      }
      const message = {
        message_id: randomUUID(),
        room_id: room.id,
        username: String(data.username),
        content,
        sequence_number: ++room.seq,
        timestamp: new Date().toISOString(),
      };
      // Serialize once; the same bytes go to every member.
      const frame = Buffer.from(JSON.stringify({ type: 'new_message', data: message }));
      for (const member of room.members) {
        if (member.readyState === WebSocket.OPEN) member.send(frame, { binary: false });
      }
      reply(ws, 'message_sent', {
        room_id: room.id,
        message_id: message.message_id,
        sequence_number: message.sequence_number,
        timestamp: message.timestamp,
      });
      return;
    }
    case 'list_rooms':
      reply(ws, 'rooms_list', { rooms: [], total_count: 0 });
      return;
    default:
      reply(ws, 'error', { success: false, message: `Unknown message type: ${String(msg.type)}` });
  }
}

const wss = new WebSocketServer({ host, port, maxPayload: 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (raw: Buffer) => onFrame(ws, raw));
  ws.on('close', () => {
    for (const room of rooms.values()) room.members.delete(ws);
  });
  ws.on('error', () => undefined);
});
wss.on('listening', () => {
  const addr = wss.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  process.stdout.write(JSON.stringify({ ready: true, port: actual }) + '\n');
});
const shutdown = (): void => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
