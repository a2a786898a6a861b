/**
 * The client-facing WebSocket server: accepts connections on the node's HTTP server, turns frames
 * into text for the node, pings for dead connections, and bounds what connections can cost before
 * any request is read: how many there are (in total and per remote address), how long a message
 * may take to arrive once started, and how many bytes all unfinished messages may hold together.
 * (Each socket holding ~1 MiB of a message it never finished used to cost ~1 MB, without limit.)
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log';
import { throttleFor } from '../limits/log-throttle';

export interface ClientConnectionLimits {
  /** Largest message (the original's websockets default: 1 MiB); larger ones close with 1009. */
  maxFrameBytes: number;
  /** Open connections (and handshakes) in total; more are refused with HTTP 503. */
  maxConnections: number;
  /** Open connections (and handshakes) per remote address; more are refused with HTTP 503. */
  maxConnectionsPerAddress: number;
  /** A message whose first byte arrived this long ago and is still incomplete closes its connection. */
  assemblyTimeoutMs: number;
  /** Bytes all connections together may hold in messages not yet complete; over it, the one growing is closed. */
  unfinishedBudgetBytes: number;
  /** Protocol-level ping interval; a connection that did not answer the last ping is dropped. */
  pingIntervalMs: number;
}

/** What the server needs from the node for each connection. */
export interface ClientConnectionHandler<S> {
  /** False while the node shuts down: new connections are closed with 1001. */
  accepting(): boolean;
  open(ws: WebSocket, remoteAddress: string): S;
  frame(session: S, text: string): void;
  close(session: S): void;
}

export interface ClientServerStats {
  connections: number;
  refusedTotal: number;
  refusedPerAddress: number;
  assemblyTimeouts: number;
  budgetCloses: number;
  unfinishedBytes: number;
}

export interface ClientServer {
  readonly wss: WebSocketServer;
  readonly stats: ClientServerStats;
  /** Stops pinging and sweeping; the caller closes the HTTP server and the sessions. */
  close(): void;
}

/** TCP connections beyond WS_MAX_CONNECTIONS kept for plain HTTP (health checks, metrics). */
const HTTP_HEADROOM = 64;
/** A request's headers (a WebSocket handshake included) must arrive within this. */
const HEADERS_TIMEOUT_MS = 10_000;

/** ws keeps a message's received part here (its Receiver); read only, for accounting. */
interface ReceiverState {
  _bufferedBytes?: number;
  _totalPayloadLength?: number;
}

interface Conn {
  ws: WebSocket;
  receiver: ReceiverState | undefined;
  /** Bytes of an unfinished message at the last look. */
  unfinished: number;
  /** When the current unfinished message was first seen (0: none). */
  since: number;
  alive: boolean;
}

function unfinishedBytes(r: ReceiverState | undefined): number {
  return r ? (r._bufferedBytes ?? 0) + (r._totalPayloadLength ?? 0) : 0;
}

/** The limits' counters on /metrics (one gauge each, read at scrape time). */
export function registerClientServerMetrics(registry: { gauge(name: string, help: string, read: () => number): void }, stats: ClientServerStats): void {
  registry.gauge('swarmchat_ws_refused_total', 'Client connections refused at WS_MAX_CONNECTIONS (counter).', () => stats.refusedTotal);
  registry.gauge('swarmchat_ws_refused_per_address_total', 'Client connections refused at WS_MAX_CONNECTIONS_PER_ADDRESS (counter).', () => stats.refusedPerAddress);
  registry.gauge('swarmchat_ws_assembly_timeouts_total', 'Connections closed for a message not completed within WS_ASSEMBLY_TIMEOUT_MS (counter).', () => stats.assemblyTimeouts);
  registry.gauge('swarmchat_ws_unfinished_budget_closes_total', 'Connections closed over WS_UNFINISHED_BYTES_BUDGET (counter).', () => stats.budgetCloses);
  registry.gauge('swarmchat_ws_unfinished_bytes', 'Bytes held in client messages not yet complete.', () => stats.unfinishedBytes);
}

export function startClientServer<S>(server: http.Server, limits: ClientConnectionLimits, handler: ClientConnectionHandler<S>, log: Logger): ClientServer {
  const stats: ClientServerStats = { connections: 0, refusedTotal: 0, refusedPerAddress: 0, assemblyTimeouts: 0, budgetCloses: 0, unfinishedBytes: 0 };
  /** Sockets counted against the caps, from the handshake on (so a burst of handshakes is counted too). */
  const byAddress = new Map<string, number>();
  let counted = 0;
  const conns = new Set<Conn>();
  const refusals = throttleFor(log, 'client connections refused');

  const release = (address: string): void => {
    counted--;
    const n = (byAddress.get(address) ?? 1) - 1;
    if (n > 0) byAddress.set(address, n);
    else byAddress.delete(address);
  };

  // Below the WebSocket caps, at the TCP level: sockets that never send a handshake (or send its
  // headers slowly) are bounded too, with room left for /healthz and /metrics at the cap.
  server.maxConnections = limits.maxConnections + HTTP_HEADROOM;
  server.headersTimeout = Math.min(server.headersTimeout, HEADERS_TIMEOUT_MS);

  const wss = new WebSocketServer({
    server,
    maxPayload: limits.maxFrameBytes,
    perMessageDeflate: false,
    verifyClient: (info, done) => {
      const socket = info.req.socket as Socket;
      const address = socket.remoteAddress ?? '';
      if (counted >= limits.maxConnections) {
        stats.refusedTotal++;
        refusals.note('total', (l) => l.warn('client connection refused: node at WS_MAX_CONNECTIONS', { remote: address, limit: limits.maxConnections }));
        return done(false, 503, 'Too many connections to this node');
      }
      const mine = byAddress.get(address) ?? 0;
      if (mine >= limits.maxConnectionsPerAddress) {
        stats.refusedPerAddress++;
        refusals.note('per address', (l) => l.warn('client connection refused: address at WS_MAX_CONNECTIONS_PER_ADDRESS', { remote: address, limit: limits.maxConnectionsPerAddress }));
        return done(false, 503, 'Too many connections from this address');
      }
      counted++;
      byAddress.set(address, mine + 1);
      socket.once('close', () => release(address));
      done(true);
    },
  });

  const closeWith = (c: Conn, code: number, reason: string): void => {
    c.ws.close(code, reason);
    // Nothing more is read from it (the rest of its message would be buffered while the close
    // handshake runs), and a client that does not answer the close is dropped soon after.
    c.ws.pause();
    setTimeout(() => c.ws.terminate(), 1000).unref();
  };

  /** Re-reads one connection's unfinished bytes; closes it when the node-wide budget is exceeded. */
  const account = (c: Conn): void => {
    const now = unfinishedBytes(c.receiver);
    stats.unfinishedBytes += now - c.unfinished;
    c.unfinished = now;
    if (now === 0) c.since = 0;
    else if (c.since === 0) c.since = Date.now();
    if (now > 0 && stats.unfinishedBytes > limits.unfinishedBudgetBytes) {
      stats.budgetCloses++;
      refusals.note('unfinished budget', (l) => l.warn('closing client: unfinished messages over WS_UNFINISHED_BYTES_BUDGET', { unfinished: now, total: stats.unfinishedBytes }));
      stats.unfinishedBytes -= c.unfinished;
      c.unfinished = 0;
      c.receiver = undefined;
      closeWith(c, 1013, 'server busy: too much unfinished data; try again later');
    }
  };

  wss.on('connection', (ws: WebSocket, req) => {
    if (!handler.accepting()) {
      ws.close(1001, 'node shutting down');
      return;
    }
    stats.connections++;
    const socket = req.socket;
    const c: Conn = { ws, receiver: (ws as unknown as { _receiver?: ReceiverState })._receiver, unfinished: 0, since: 0, alive: true };
    conns.add(c);
    const session = handler.open(ws, socket.remoteAddress ?? '');
    // ws reads the socket first (its listener came first), so this sees what is left unfinished.
    socket.on('data', () => account(c));
    ws.on('message', (data) => {
      c.since = 0;
      // Python's json.loads takes bytes too, so binary frames with UTF-8 JSON are requests as well.
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      handler.frame(session, text);
    });
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('close', () => {
      stats.connections--;
      stats.unfinishedBytes -= c.unfinished;
      c.unfinished = 0;
      conns.delete(c);
      handler.close(session);
    });
    ws.on('error', (err) => log.debug('websocket error', { err: err.message }));
  });
  wss.on('error', (err) => log.error('websocket server error', { err }));

  // Message assembly deadline, checked a few times per timeout; a connection the node paused (its
  // request queue is full) is not blamed for the message it cannot finish sending meanwhile.
  const sweepMs = Math.max(50, Math.min(1000, Math.floor(limits.assemblyTimeoutMs / 4)));
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const c of conns) {
      account(c);
      if (c.since === 0) continue;
      if (c.ws.isPaused) {
        c.since = now;
        continue;
      }
      if (now - c.since > limits.assemblyTimeoutMs) {
        stats.assemblyTimeouts++;
        refusals.note('assembly timeout', (l) => l.info('closing client: message not completed within WS_ASSEMBLY_TIMEOUT_MS', { unfinished: c.unfinished }));
        c.since = 0;
        closeWith(c, 1008, 'message not completed in time');
      }
    }
  }, sweepMs);
  sweeper.unref();

  // Protocol-level pings find dead TCP connections (what the websockets library did for the original).
  const pinger = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        /* closing */
      }
    }
  }, limits.pingIntervalMs);
  pinger.unref();

  return {
    wss,
    stats,
    close() {
      clearInterval(sweeper);
      clearInterval(pinger);
    },
  };
}
