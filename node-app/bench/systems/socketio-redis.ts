/** System (b): three Socket.IO nodes joined by @socket.io/redis-adapter over a private redis-server. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pinProcess } from '../measure/proc';
import { freePortInRange, spawnReady, StartedChild } from './child';
import { BenchSystem, RunningSystem, StartOptions } from './types';
import { distBenchDir } from './ws-ceiling';

/**
 * Redis's share of the bench's port range (22000-22999): apart from our nodes' (22000-22799), as
 * the systems start side by side and a probed port is only free until someone binds it.
 */
const BENCH_PORTS: [number, number] = [22800, 22999];

export function startRedis(port: number): Promise<StartedChild> {
  return spawnReady({
    label: 'redis-server',
    command: 'redis-server',
    // No persistence and loopback only: it is a message bus here, nothing else.
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    isReady: (line) => (line.includes('Ready to accept connections') ? { ready: true, port } : null),
  });
}

/** `libraryClient`: drive it with socket.io-client instead of the byte-decoding wire client. */
export const socketioRedis = (libraryClient = false): BenchSystem => ({
  name: 'socketio',
  label: 'Socket.IO + Redis adapter (3 nodes)',
  async start(opts: StartOptions): Promise<RunningSystem> {
    const redisPort = await freePortInRange(BENCH_PORTS[0], BENCH_PORTS[1]);
    const redis = await startRedis(redisPort);
    // The three nodes start side by side (each waits only for its own Redis connection).
    const starting = await Promise.allSettled(
      [1, 2, 3].map((i) =>
        spawnReady({
          label: `socket.io node ${i}`,
          command: process.execPath,
          args: [path.join(distBenchDir(), 'servers', 'socketio-node.js')],
          env: { PORT: '0', HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${redisPort}` },
          logFile: path.join(opts.workDir, `node${i}.log`),
        }),
      ),
    );
    const nodes = starting.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = starting.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all([...nodes.map((n) => n.stop()), redis.stop()]);
      throw failed.reason;
    }
    let pinned: string | null = opts.serverCores;
    for (const p of [redis, ...nodes]) if (!pinProcess(p.pid, opts.serverCores).ok) pinned = null;
    return {
      name: 'socketio',
      label: this.label,
      protocol: libraryClient ? 'socketio-lib' : 'socketio',
      nodeUrls: nodes.map((n) => `http://127.0.0.1:${String(n.ready.port)}`),
      nodePids: nodes.map((n) => n.pid),
      serverPids: [...nodes.map((n) => n.pid), redis.pid],
      serverRoles: [...nodes.map((_, i) => `node${i + 1}`), 'redis'],
      roomTotalOrder: false,
      pinnedTo: pinned,
      notes: [
        'websocket transport only, perMessageDeflate off, redis-server with no persistence',
        'Socket.IO has no room-wide sequence: order is checked per sender (FIFO), completeness per receiver',
        'server CPU includes redis-server',
        libraryClient ? 'clients: socket.io-client' : 'clients: Socket.IO wire protocol decoded from bytes (same packets as socket.io-client)',
      ],
      logTail(role: string): string {
        try {
          return readFileSync(path.join(opts.workDir, `${role}.log`), 'utf8').slice(-1500);
        } catch {
          return '';
        }
      },
      async stop() {
        await Promise.all(nodes.map((n) => n.stop()));
        await redis.stop();
      },
    };
  },
});
