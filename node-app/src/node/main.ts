/**
 * Wires one chat node together: room store, peer links, the XML-RPC server (PEER's), the HTTP +
 * WebSocket server, timers, and graceful shutdown. `bin/chat-node.ts` calls `startChatNode`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeConfig } from '../config';
import type { Logger } from '../log';
import { PeerLink } from '../peers/peer-link';
import { startPeerServer, type PeerHandler, type PeerServer } from '../peers/peer-server';
import { renderPeerMetrics } from '../peers/peer-stats';
import { XmlRpcFault } from '../peers/xmlrpc-codec';
import { MemoryRoomStore } from '../rooms/memory-room-store';
import type { RoomStore } from '../rooms/room-store';
import { membershipSummary } from '../http/membership';
import { createNodeHttpHandler, loadBrowserHandler } from '../http/node-http';
import { registerClientServerMetrics, startClientServer } from '../http/client-server';
import { createNodeReplication, type NodeReplication } from '../replication/node-replication';
import { ChatNode } from './chat-node';
import { createNodeMetrics } from './node-metrics';
import { PeerDirectory, type PeerChannel } from './peer-directory';

export interface RunningChatNode {
  node: ChatNode;
  wsPort: number;
  rpcPort: number;
  /** Stops accepting, tells clients and peers, drains within the grace period. Idempotent. */
  shutdown(reason?: string): Promise<void>;
}

export interface StartOptions {
  /** Replaces the in-memory store (the replication layer plugs in here). */
  store?: RoomStore;
}

export async function startChatNode(cfg: NodeConfig, log: Logger, opts: StartOptions = {}): Promise<RunningChatNode> {
  const startedAt = Date.now();
  const metrics = createNodeMetrics();
  if (!cfg.clusterSecret) log.warn('no CLUSTER_SECRET or CLUSTER_SECRET_FILE: the peer link is open to anyone who can reach the XML-RPC port');
  const auth = cfg.clusterSecret
    ? { secret: cfg.clusterSecret, legacyPeers: cfg.peers.filter((p) => cfg.legacyPeers.includes(p.id)).map((p) => p.address) }
    : undefined;
  const links: PeerLink[] = [];
  const linkOf = new Map<string, PeerLink>();
  const peers = new PeerDirectory({
    peers: cfg.peers,
    legacyPeers: cfg.legacyPeers,
    log,
    calls: metrics.peerCalls,
    latency: metrics.peerCallSeconds,
    factory: (peerId, address): PeerChannel => {
      const link = new PeerLink({
        selfId: cfg.nodeId,
        peerId,
        address,
        callTimeoutMs: cfg.peerCallTimeoutMs,
        auth,
        legacy: cfg.legacyPeers.includes(peerId),
        logger: log,
      });
      link.on('down', (why: unknown) => log.warn('peer down', { peer: peerId, why: String(why) }));
      link.on('up', () => log.info('peer up', { peer: peerId }));
      links.push(link);
      linkOf.set(peerId, link);
      return link;
    },
  });
  // Rooms are replicated among our nodes (issue 6) unless a store is given or REPLICATION=off;
  // original Python peers are not voters.
  let replication: NodeReplication | undefined;
  let store = opts.store;
  if (!store && cfg.replication.enabled) {
    replication = createNodeReplication({
      selfId: cfg.nodeId,
      dataDir: cfg.dataDir,
      peers: cfg.peers
        .filter((p) => !cfg.legacyPeers.includes(p.id))
        .map((p) => ({ id: p.id, call: (method, params, timeoutMs) => peers.call(p.id, method, params, timeoutMs) })),
      historyLimit: cfg.historyLimit,
      logger: log,
      settings: cfg.replication,
    });
    replication.start();
    // Being removed from the cluster: tell the clients to move (they reconnect to another node and resume).
    replication.onRemoved(() => node.closeAllSessions(1012, 'this node is leaving the cluster; use another node'));
    store = replication.store;
  }
  store ??= new MemoryRoomStore({ historyLimit: cfg.historyLimit });
  const node = new ChatNode(cfg, store, peers, log.child({ component: 'chat-node' }), metrics);

  metrics.registry.gauge('swarmchat_ws_connections', 'Open client WebSocket connections.', () => node.sessions.size);
  metrics.registry.gauge('swarmchat_rooms', 'Rooms administered by this node.', () => node.localRooms().length);
  metrics.registry.gauge('swarmchat_room_members', 'Members of rooms administered by this node.', () =>
    node.localRooms().reduce((n, r) => n + r.members.size, 0),
  );
  if (replication) {
    const st = replication.replicator.stats;
    metrics.registry.gauge('swarmchat_repl_rooms', 'Rooms in the replicated log on this node.', () => st.rooms);
    metrics.registry.gauge('swarmchat_repl_admin_rooms', 'Replicated rooms this node currently administers.', () => st.leaderOf);
    metrics.registry.gauge('swarmchat_repl_elections', 'Elections this node started (counter).', () => st.elections);
    metrics.registry.gauge('swarmchat_repl_calls', 'Replication calls sent (counter).', () => st.replCalls);
    metrics.registry.gauge('swarmchat_repl_call_errors', 'Replication calls that failed (counter).', () => st.replCallErrors);
    metrics.registry.gauge('swarmchat_repl_entries_sent', 'Log entries sent to followers (counter).', () => st.entriesSent);
    metrics.registry.gauge('swarmchat_repl_flushes', 'Local log flushes (one SQLite transaction each, counter).', () => st.flushes);
  }
  metrics.registry.gauge('swarmchat_up', 'Always 1 while the node runs; 0 while shutting down.', () => (node.shuttingDown ? 0 : 1));

  // XML-RPC: every handler counted; faults and failures are the server's to encode.
  const handlers: Record<string, PeerHandler> = {};
  for (const [name, h] of Object.entries({ ...node.rpcHandlers(), ...(replication?.handlers ?? {}) })) {
    handlers[name] = async (params, ctx) => {
      // A peer that calls us is alive: if we cannot reach it, its address may be stale (see PeerLink.heardFrom).
      if (ctx.authenticated && ctx.peerId) linkOf.get(ctx.peerId)?.heardFrom(ctx.remoteAddress);
      try {
        const v = await h(params, ctx);
        metrics.rpcRequests.inc({ method: name, outcome: 'ok' });
        return v;
      } catch (err) {
        metrics.rpcRequests.inc({ method: name, outcome: err instanceof XmlRpcFault ? 'fault' : 'error' });
        if (!(err instanceof XmlRpcFault)) log.error('rpc handler failed', { method: name, err });
        throw err;
      }
    };
  }
  const rpc: PeerServer = await startPeerServer({
    host: cfg.rpcHost,
    port: cfg.rpcPort,
    handlers,
    auth,
    logger: log,
    nodeId: cfg.nodeId,
  });

  const browser = loadBrowserHandler(log);
  const httpServer = http.createServer(
    createNodeHttpHandler({
      log,
      browser,
      health: () => ({
        // A restarted node catches up with its rooms' admins before it reports healthy (issue 6).
        ok: !node.shuttingDown && (replication?.ready() ?? true),
        body: {
          status: node.shuttingDown ? 'shutting_down' : replication?.notReadyReason()?.code ?? 'ok',
          node_id: cfg.nodeId,
          uptime_s: Math.round((Date.now() - startedAt) / 1000),
          pid: process.pid,
          connections: node.sessions.size,
          rooms: node.localRooms().length,
          peers: Object.fromEntries(links.map((l) => [l.peerId, l.state])),
          ...(replication ? { replication: { ...replication.replicator.stats } } : {}),
        },
      }),
      metrics: () => metrics.registry.render() + renderPeerMetrics(links),
      membership: replication
        ? () =>
            membershipSummary(cfg.nodeId, {
              roomIds: () => replication.store.list().map((room) => room.roomId),
              votersOf: (id) => replication.replicator.votersOf(id),
              unsettledRoomIds: () => replication.replicator.readiness().waiting.map((w) => w.room_id),
            })
        : undefined,
    }),
  );
  const clients = startClientServer(
    httpServer,
    {
      maxFrameBytes: cfg.maxFrameBytes,
      maxConnections: cfg.wsMaxConnections,
      maxConnectionsPerAddress: cfg.wsMaxConnectionsPerAddress,
      assemblyTimeoutMs: cfg.wsAssemblyTimeoutMs,
      unfinishedBudgetBytes: cfg.wsUnfinishedBudgetBytes,
      pingIntervalMs: cfg.wsPingIntervalMs,
    },
    {
      accepting: () => !node.shuttingDown,
      open: (ws, remoteAddress) => node.openSession(ws, remoteAddress),
      frame: (session, text) => node.onFrame(session, text),
      close: (session) => {
        session.dropQueued();
        node.onClose(session);
      },
    },
    log,
  );
  registerClientServerMetrics(metrics.registry, clients.stats);

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(cfg.wsPort, cfg.wsHost, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // The original kept its XML-RPC server running after failing to bind the WebSocket port (§9.16).
    await rpc.close();
    replication?.stop();
    throw err;
  }

  node.start();
  peers.probe();

  const wsPort = (httpServer.address() as AddressInfo).port;
  log.info('chat node started', { node_id: cfg.nodeId, ws_port: wsPort, rpc_port: rpc.port, peers: cfg.peers.map((p) => p.id) });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<void> => {
    stopping ??= (async () => {
      log.info('shutting down', { reason });
      node.shuttingDown = true;
      clients.close();
      node.stopTimers();
      httpServer.close(); // stop accepting; open connections are closed below
      const deadline = Date.now() + cfg.shutdownGraceMs;
      // Hand the rooms this node administers to a successor now, not after an election timeout.
      await replication?.replicator.resign(Math.min(1000, cfg.shutdownGraceMs / 4)).catch((err) => log.warn('resign failed', { err }));
      node.closeAllSessions(1001, 'node shutting down');
      const left = () => Math.max(0, deadline - Date.now());
      await Promise.race([node.drain(), new Promise((r) => setTimeout(r, Math.min(left(), 3000)).unref())]);
      await peers.closeAll(Math.min(left(), 3000));
      await rpc.close();
      replication?.stop();
      clients.wss.close();
      httpServer.closeAllConnections();
      log.info('shut down', { node_id: cfg.nodeId });
    })();
    return stopping;
  };
  return { node, wsPort, rpcPort: rpc.port, shutdown };
}
