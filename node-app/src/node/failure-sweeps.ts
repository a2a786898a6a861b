/**
 * Failure handling of the rooms this node administers: the heartbeat detector over the nodes that
 * hold their members (a failed node's members leave as "Node unreachable"), and the periodic sweep
 * that removes members idle longer than INACTIVITY_TIMEOUT_MS and empty rooms unused for
 * ROOM_IDLE_TTL_MS (the original piled them up, §9.11).
 */
import { pythonIsoNow } from '../util/time';
import { FailureDetector } from './failure-detector';
import type { NodeContext } from './node-context';

export class FailureSweeps {
  readonly detector: FailureDetector;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: NodeContext) {
    const { cfg, peers, store, log } = ctx;
    this.detector = new FailureDetector({
      intervalMs: cfg.heartbeatIntervalMs,
      timeoutMs: cfg.heartbeatTimeoutMs,
      failures: cfg.heartbeatFailures,
      targets: () => this.watchedNodes(),
      ping: (id, timeoutMs) => peers.call(id, 'heartbeat', [], timeoutMs),
      // A node whose replication calls still succeed is alive, whatever happened to the pings.
      stillAlive: (id) => !peers.isLegacy(id) && store.nodeAnswering(id),
      onFailed: (id) => this.onNodeFailed(id),
      onRecovered: (id) => log.info('node reachable again', { peer: id }),
    });
  }

  start(): void {
    this.detector.start();
    this.sweepTimer = setInterval(() => this.sweepInactive(), this.ctx.cfg.cleanupIntervalMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    this.detector.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  private watchedNodes(): Set<string> {
    const nodes = new Set<string>();
    for (const r of this.ctx.localRooms()) for (const n of r.memberNodes(this.ctx.selfId)) nodes.add(n);
    return nodes;
  }

  /** A member node stopped answering heartbeats: its members leave every room we administer. */
  private onNodeFailed(nodeId: string): void {
    const { log, publisher } = this.ctx;
    log.warn('member node unreachable; removing its members', { peer: nodeId });
    for (const room of this.ctx.localRooms()) {
      for (const m of [...room.members.values()]) {
        if (m.nodeId !== nodeId) continue;
        void publisher
          .appendAndPublish(room, { kind: 'member_left', username: m.username, nodeId, timestamp: pythonIsoNow(), reason: 'Node unreachable' }, { exceptNode: nodeId })
          .catch((err) => log.warn('failed to record node failure', { room_id: room.roomId, err }));
      }
    }
  }

  /** Removes members idle longer than the inactivity timeout; every message and join resets the clock. */
  sweepInactive(now = Date.now()): void {
    const { cfg, log, store, publisher, delivery } = this.ctx;
    const cutoff = now - cfg.inactivityTimeoutMs;
    for (const room of this.ctx.localRooms()) {
      // Empty rooms nobody used for ROOM_IDLE_TTL_MS go away.
      if (cfg.roomIdleTtlMs > 0 && room.members.size === 0 && room.state === 'ACTIVE' && now - room.lastActiveAt > cfg.roomIdleTtlMs) {
        log.info('removing idle empty room', { room_id: room.roomId, room_name: room.roomName });
        store.remove(room.roomId);
        delivery.dropRoom(room.roomId);
        continue;
      }
      for (const m of [...room.members.values()]) {
        if (m.lastActivity >= cutoff) continue;
        void publisher
          .appendAndPublish(room, { kind: 'member_left', username: m.username, nodeId: m.nodeId, timestamp: pythonIsoNow(), reason: 'Inactivity' })
          .catch((err) => log.warn('failed to record inactivity', { room_id: room.roomId, err }));
      }
    }
  }
}
