/**
 * One node of the comparison cluster: Socket.IO with @socket.io/redis-adapter, the way people
 * usually spread a chat over several Node processes. It does the same per-message work as our node
 * (membership check, id + timestamp, one emit to the room, an ack to the sender); the adapter
 * publishes each room emit through Redis to the other nodes.
 *
 * Events: `join` {room, username} -> ack {ok}; `send` {room, username, content} -> room emit
 * `new_message` {message_id, room_id, username, content, timestamp}, ack {message_id, timestamp}.
 * A room is just a name here: Socket.IO has no room registry, so nothing needs creating.
 *
 * Env: PORT (0 = any), HOST (127.0.0.1), REDIS_URL. Prints `{"ready":true,"port":N}` when listening.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

async function main(): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 0);
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL is required');

  const pubClient = createClient({ url: redisUrl });
  const subClient = pubClient.duplicate();
  pubClient.on('error', (err: Error) => process.stderr.write(`redis pub error: ${err.message}\n`));
  subClient.on('error', (err: Error) => process.stderr.write(`redis sub error: ${err.message}\n`));
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const httpServer = createServer();
  const io = new Server(httpServer, {
    adapter: createAdapter(pubClient, subClient),
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
  });

  io.on('connection', (socket) => {
    socket.on('join', (req: { room?: unknown; username?: unknown }, ack?: (res: unknown) => void) => {
      if (typeof req?.room !== 'string' || typeof req.username !== 'string' || !req.username) {
        ack?.({ ok: false, error: 'Missing room or username' });
        return;
      }
      void socket.join(req.room);
      ack?.({ ok: true });
    });
    socket.on('send', (req: { room?: unknown; username?: unknown; content?: unknown }, ack?: (res: unknown) => void) => {
      const room = req?.room;
      if (typeof room !== 'string' || !socket.rooms.has(room)) {
        ack?.({ ok: false, error: 'You are not a member of this room' });
        return;
      }
      const content = req.content;
      if (typeof content !== 'string' || content.length === 0 || content.length > 5000) {
        ack?.({ ok: false, error: 'Invalid content' });
        return;
      }
      const message = {
        message_id: randomUUID(),
        room_id: room,
        username: String(req.username),
        content,
        timestamp: new Date().toISOString(),
      };
      io.to(room).emit('new_message', message);
      ack?.({ ok: true, message_id: message.message_id, timestamp: message.timestamp });
    });
  });

  httpServer.listen(port, host, () => {
    const addr = httpServer.address();
    const actual = typeof addr === 'object' && addr ? addr.port : port;
    process.stdout.write(JSON.stringify({ ready: true, port: actual }) + '\n');
  });

  const shutdown = (): void => {
    io.close();
    void Promise.allSettled([pubClient.quit(), subClient.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

// node-redis 6 gives every command a 5 s timeout, and the adapter does not catch a publish that
// times out when the node is overloaded: without this the rejection kills the process. A
// deployed node would log and carry on (the message is lost, which the bench reports).
let lostPublishes = 0;
process.on('unhandledRejection', (err) => {
  if (++lostPublishes <= 5 || lostPublishes % 1000 === 0) {
    process.stderr.write(`socketio-node: unhandled rejection #${lostPublishes}: ${(err as Error)?.message ?? String(err)}\n`);
  }
});

main().catch((err: Error) => {
  process.stderr.write(`socketio-node: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
