/**
 * Node configuration from the environment. The variables of the original (protocol.md §5) keep
 * their names and defaults; everything the original hard-coded is a documented tunable here
 * (node-app/README.md has the table). Bad values fail at start with a message naming the variable.
 */
import { readFileSync } from 'node:fs';
import { parseLogLevel, type LogLevel } from './log';

export interface PeerAddress {
  id: string;
  /** Base URL of the peer's XML-RPC server, e.g. http://node2:9090 */
  address: string;
}

export interface NodeConfig {
  nodeId: string;
  wsHost: string;
  wsPort: number;
  rpcHost: string;
  rpcPort: number;
  /** What peers are told to call us on (get_hosted_rooms.node_address). */
  rpcAddress: string;
  peers: PeerAddress[];
  logLevel: LogLevel;
  clusterSecret: string | undefined;
  /** Peer ids (from `peers`) that are original Python nodes: no extensions, may call unauthenticated. */
  legacyPeers: string[];
  dataDir: string | undefined;

  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  heartbeatFailures: number;
  inactivityTimeoutMs: number;
  /** Rooms with no member and no entry for this long are deleted (0 = never); the original kept them forever. */
  roomIdleTtlMs: number;
  cleanupIntervalMs: number;
  discoveryTimeoutMs: number;
  peerCallTimeoutMs: number;
  deletePhaseTimeoutMs: number;
  historyLimit: number;
  shutdownGraceMs: number;
  wsPingIntervalMs: number;
  wsMaxBufferedBytes: number;
  /** Client connection limits (node-app/README.md "Limits"). */
  wsMaxConnections: number;
  wsMaxConnectionsPerAddress: number;
  wsAssemblyTimeoutMs: number;
  wsUnfinishedBudgetBytes: number;
  wsMaxQueuedRequests: number;
  /** Rooms one connection may create, and rooms one node may administer (README "Limits"). */
  maxRoomsPerConnection: number;
  maxRoomsPerNode: number;
  maxFrameBytes: number;
  maxContentChars: number;
  maxRoomNameChars: number;
  maxDescriptionChars: number;
  maxUsernameChars: number;
  /** How long a node waits for its own copy of a forwarded message before acking anyway. */
  echoWaitMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, def: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? def : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}="${raw}" is not an integer in [${min}, ${max}]`);
  }
  return n;
}

const port = (env: Env, name: string, def: number) => int(env, name, def, 0, 65535);

/**
 * PEER_NODES: `id:url` or `id:host:port`, comma separated. Unlike the original, `https://` URLs
 * survive, whitespace is trimmed everywhere, and a malformed entry is an error rather than
 * silently ignored. An entry naming this node itself is skipped, so every node can get the same list.
 */
export function parsePeerNodes(value: string | undefined, selfId?: string): PeerAddress[] {
  const peers: PeerAddress[] = [];
  if (value === undefined || value.trim() === '') return peers;
  for (const rawEntry of value.split(',')) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0) {
      throw new ConfigError(`PEER_NODES entry "${entry}" is not "id:http://host:port" or "id:host:port"`);
    }
    const id = entry.slice(0, colon).trim();
    const rest = entry.slice(colon + 1).trim();
    let address: string;
    if (/^https?:\/\//i.test(rest)) {
      address = rest;
    } else {
      const m = /^([^:/\s]+):(\d{1,5})$/.exec(rest);
      if (!m) throw new ConfigError(`PEER_NODES entry "${entry}" is not "id:http://host:port" or "id:host:port"`);
      address = `http://${m[1]}:${m[2]}`;
    }
    try {
      const url = new URL(address);
      if (!url.hostname) throw new Error('no host');
    } catch {
      throw new ConfigError(`PEER_NODES entry "${entry}" has an invalid URL "${address}"`);
    }
    address = address.replace(/\/+$/, '');
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) {
      throw new ConfigError(`PEER_NODES entry "${entry}": peer id "${id}" may only use letters, digits, "_", "-", "."`);
    }
    if (id === selfId) continue;
    if (peers.some((p) => p.id === id)) throw new ConfigError(`PEER_NODES names peer "${id}" twice`);
    peers.push({ id, address });
  }
  return peers;
}

function readSecret(env: Env): string | undefined {
  const direct = env.CLUSTER_SECRET;
  if (direct !== undefined && direct !== '') return direct;
  const file = env.CLUSTER_SECRET_FILE;
  if (file === undefined || file.trim() === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file.trim(), 'utf8');
  } catch (err) {
    throw new ConfigError(`CLUSTER_SECRET_FILE="${file}" cannot be read: ${(err as Error).message}`);
  }
  const secret = text.trim();
  if (secret === '') throw new ConfigError(`CLUSTER_SECRET_FILE="${file}" is empty`);
  return secret;
}

export function loadConfig(env: Env = process.env): NodeConfig {
  const nodeId = str(env, 'NODE_ID', 'node1');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId)) {
    throw new ConfigError(`NODE_ID="${nodeId}" may only use letters, digits, "_", "-", "." (1-64 chars)`);
  }
  const rpcPort = port(env, 'XMLRPC_PORT', 9090);
  const peers = parsePeerNodes(env.PEER_NODES, nodeId);
  const legacyPeers = (env.LEGACY_PEERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of legacyPeers) {
    if (!peers.some((p) => p.id === id)) {
      throw new ConfigError(`LEGACY_PEERS names "${id}", which is not a peer id in PEER_NODES`);
    }
  }
  let logLevel: LogLevel;
  try {
    logLevel = parseLogLevel(env.LOG_LEVEL);
  } catch (err) {
    throw new ConfigError(`LOG_LEVEL: ${(err as Error).message}`);
  }
  const cfg: NodeConfig = {
    nodeId,
    wsHost: str(env, 'WEBSOCKET_HOST', '0.0.0.0'),
    wsPort: port(env, 'WEBSOCKET_PORT', 8080),
    rpcHost: str(env, 'XMLRPC_HOST', '0.0.0.0'),
    rpcPort,
    rpcAddress: str(env, 'XMLRPC_ADDRESS', `http://${nodeId}:${rpcPort}`).replace(/\/+$/, ''),
    peers,
    logLevel,
    clusterSecret: readSecret(env),
    legacyPeers,
    dataDir: env.DATA_DIR?.trim() || undefined,
    heartbeatIntervalMs: int(env, 'HEARTBEAT_INTERVAL_MS', 1000, 50, 600_000),
    heartbeatTimeoutMs: int(env, 'HEARTBEAT_TIMEOUT_MS', 800, 20, 60_000),
    heartbeatFailures: int(env, 'HEARTBEAT_FAILURES', 3, 1, 100),
    inactivityTimeoutMs: int(env, 'INACTIVITY_TIMEOUT_MS', 900_000, 1000, 7 * 24 * 3600_000),
    cleanupIntervalMs: int(env, 'CLEANUP_INTERVAL_MS', 10_000, 100, 3600_000),
    roomIdleTtlMs: int(env, 'ROOM_IDLE_TTL_MS', 24 * 3600_000, 0, 365 * 24 * 3600_000),
    discoveryTimeoutMs: int(env, 'DISCOVERY_TIMEOUT_MS', 2000, 50, 60_000),
    peerCallTimeoutMs: int(env, 'PEER_CALL_TIMEOUT_MS', 3000, 50, 120_000),
    deletePhaseTimeoutMs: int(env, 'DELETE_PHASE_TIMEOUT_MS', 3000, 50, 120_000),
    historyLimit: int(env, 'HISTORY_LIMIT', 100, 0, 100_000),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 8000, 0, 300_000),
    wsPingIntervalMs: int(env, 'WS_PING_INTERVAL_MS', 10_000, 100, 600_000),
    wsMaxBufferedBytes: int(env, 'WS_MAX_BUFFERED_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxFrameBytes: int(env, 'MAX_FRAME_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    wsMaxConnections: int(env, 'WS_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    wsMaxConnectionsPerAddress: int(env, 'WS_MAX_CONNECTIONS_PER_ADDRESS', 256, 1, 1_000_000),
    wsAssemblyTimeoutMs: int(env, 'WS_ASSEMBLY_TIMEOUT_MS', 10_000, 100, 600_000),
    wsUnfinishedBudgetBytes: int(env, 'WS_UNFINISHED_BYTES_BUDGET', 64 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
    wsMaxQueuedRequests: int(env, 'WS_MAX_QUEUED_REQUESTS', 1024, 16, 1_000_000),
    maxRoomsPerConnection: int(env, 'MAX_ROOMS_PER_CONNECTION', 20, 0, 1_000_000),
    maxRoomsPerNode: int(env, 'MAX_ROOMS_PER_NODE', 1000, 0, 1_000_000),
    maxContentChars: int(env, 'MAX_CONTENT_CHARS', 5000, 1, 1_000_000),
    maxRoomNameChars: int(env, 'MAX_ROOM_NAME_CHARS', 100, 1, 10_000),
    maxDescriptionChars: int(env, 'MAX_DESCRIPTION_CHARS', 500, 0, 100_000),
    maxUsernameChars: int(env, 'MAX_USERNAME_CHARS', 64, 1, 10_000),
    echoWaitMs: int(env, 'ECHO_WAIT_MS', 2000, 0, 60_000),
  };
  if (cfg.heartbeatTimeoutMs > cfg.heartbeatIntervalMs * 10) {
    throw new ConfigError('HEARTBEAT_TIMEOUT_MS must not exceed 10 x HEARTBEAT_INTERVAL_MS');
  }
  return cfg;
}
