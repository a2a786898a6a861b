/**
 * Node configuration from the environment: every variable the node reads is declared once in
 * ENV_VARS (name, type, default, meaning) and parsed from that table; nothing else in the node
 * reads the environment. The variables of the original (node-app/PROTOCOL.md §5) keep their names and
 * defaults; everything the original hard-coded is a tunable here. node-app/README.md lists the same
 * variables (a test keeps the two in step). Bad values fail at start with a message naming the variable.
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
  replication: ReplicationConfig;
}

/** Rooms replicated among our nodes (replication/node-replication.ts takes these). */
export interface ReplicationConfig {
  /** REPLICATION=off: the original's in-memory, unreplicated rooms (for comparisons). */
  enabled: boolean;
  heartbeatMs: number;
  electionBaseMs: number;
  /** Extra election wait per successor rank, derived from the base. */
  electionStepMs: number;
  callTimeoutMs: number;
  submitTimeoutMs: number;
  synchronous: 'full' | 'inline' | 'normal';
  /** Log retention (node-app/README.md "Log retention"): newest messages kept, days kept (0 = no such limit). */
  retainMessages: number;
  retainDays: number;
  /** No message younger than this is compacted (the de-duplication window). */
  retainMinSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function present(raw: string | undefined): raw is string {
  return raw !== undefined && raw.trim() !== '';
}

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (!present(raw)) return def;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}="${raw}" is not an integer in [${min}, ${max}]`);
  }
  return n;
}

function oneOf<T extends string>(name: string, raw: string | undefined, def: T, allowed: readonly T[]): T {
  if (!present(raw)) return def;
  const v = raw.trim().toLowerCase() as T;
  if (!allowed.includes(v)) throw new ConfigError(`${name}="${raw}" is not one of ${allowed.join(', ')}`);
  return v;
}

/** The configuration while the table is applied, in table order (later entries may read earlier ones). */
type Draft = Omit<Partial<NodeConfig>, 'replication'> & { replication: Partial<ReplicationConfig> };

export interface EnvVar {
  name: string;
  /** What the value is: "integer a..b", "string", a list of choices... */
  type: string;
  /** The default, as documented ("unset" / "empty" for none). */
  default: string;
  meaning: string;
  /** Parses the raw value (undefined when unset) into the draft configuration; throws ConfigError. */
  apply(raw: string | undefined, c: Draft): void;
}

type IntKey = { [K in keyof NodeConfig]: NodeConfig[K] extends number ? K : never }[keyof NodeConfig];
type ReplIntKey = { [K in keyof ReplicationConfig]: ReplicationConfig[K] extends number ? K : never }[keyof ReplicationConfig];

function intVar(name: string, key: IntKey, def: number, min: number, max: number, meaning: string): EnvVar {
  return { name, type: `integer ${min}..${max}`, default: String(def), meaning, apply: (raw, c) => { c[key] = int(name, raw, def, min, max); } };
}

function replIntVar(name: string, key: ReplIntKey, def: number, min: number, max: number, meaning: string): EnvVar {
  return { name, type: `integer ${min}..${max}`, default: String(def), meaning, apply: (raw, c) => { c.replication[key] = int(name, raw, def, min, max); } };
}

function strVar(name: string, key: 'wsHost' | 'rpcHost', def: string, meaning: string): EnvVar {
  return { name, type: 'string', default: def, meaning, apply: (raw, c) => { c[key] = present(raw) ? raw.trim() : def; } };
}

const DAY_MS = 24 * 3600_000;

/** Every environment variable of the chat node, in the order it is parsed. */
export const ENV_VARS: readonly EnvVar[] = [
  {
    name: 'NODE_ID', type: 'string [A-Za-z0-9_.-]{1,64}', default: 'node1', meaning: 'node identity (admin_node, members\' node_id)',
    apply: (raw, c) => {
      const nodeId = present(raw) ? raw.trim() : 'node1';
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId)) {
        throw new ConfigError(`NODE_ID="${nodeId}" may only use letters, digits, "_", "-", "." (1-64 chars)`);
      }
      c.nodeId = nodeId;
    },
  },
  strVar('WEBSOCKET_HOST', 'wsHost', '0.0.0.0', 'client WebSocket + HTTP listen address'),
  intVar('WEBSOCKET_PORT', 'wsPort', 8080, 0, 65535, 'client WebSocket + HTTP port'),
  strVar('XMLRPC_HOST', 'rpcHost', '0.0.0.0', 'peer XML-RPC listen address'),
  intVar('XMLRPC_PORT', 'rpcPort', 9090, 0, 65535, 'peer XML-RPC port'),
  {
    name: 'XMLRPC_ADDRESS', type: 'URL', default: 'http://<NODE_ID>:<XMLRPC_PORT>', meaning: 'advertised as node_address',
    apply: (raw, c) => { c.rpcAddress = (present(raw) ? raw.trim() : `http://${c.nodeId}:${c.rpcPort}`).replace(/\/+$/, ''); },
  },
  {
    name: 'PEER_NODES', type: 'id:url list', default: 'empty', meaning: 'the other nodes, `id:http://host:port` or `id:host:port`, comma separated',
    apply: (raw, c) => { c.peers = parsePeerNodes(raw, c.nodeId); },
  },
  {
    name: 'LEGACY_PEERS', type: 'id list', default: 'empty', meaning: 'ids from PEER_NODES that are original Python nodes',
    apply: (raw, c) => {
      const legacyPeers = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const id of legacyPeers) {
        if (!c.peers?.some((p) => p.id === id)) throw new ConfigError(`LEGACY_PEERS names "${id}", which is not a peer id in PEER_NODES`);
      }
      c.legacyPeers = legacyPeers;
    },
  },
  {
    name: 'CLUSTER_SECRET', type: 'string', default: 'unset', meaning: 'HMAC key of the peer link; unset = open link',
    apply: (raw, c) => { c.clusterSecret = raw !== undefined && raw !== '' ? raw : undefined; },
  },
  {
    name: 'CLUSTER_SECRET_FILE', type: 'path', default: 'unset', meaning: 'file holding the HMAC key (a Swarm secret), when CLUSTER_SECRET is unset',
    apply: (raw, c) => { if (c.clusterSecret === undefined) c.clusterSecret = readSecretFile(raw); },
  },
  {
    name: 'DATA_DIR', type: 'path', default: 'unset', meaning: 'durable room logs; unset = in memory',
    apply: (raw, c) => { c.dataDir = raw?.trim() || undefined; },
  },
  {
    name: 'LOG_LEVEL', type: 'debug|info|warn|error|silent', default: 'info', meaning: 'log threshold',
    apply: (raw, c) => {
      try {
        c.logLevel = parseLogLevel(raw);
      } catch (err) {
        throw new ConfigError(`LOG_LEVEL: ${(err as Error).message}`);
      }
    },
  },
  intVar('HEARTBEAT_INTERVAL_MS', 'heartbeatIntervalMs', 1000, 50, 600_000, 'admin pings each node holding members of its rooms'),
  intVar('HEARTBEAT_TIMEOUT_MS', 'heartbeatTimeoutMs', 800, 20, 60_000, 'per ping'),
  intVar('HEARTBEAT_FAILURES', 'heartbeatFailures', 3, 1, 100, 'consecutive misses before the node\'s members are removed'),
  intVar('INACTIVITY_TIMEOUT_MS', 'inactivityTimeoutMs', 900_000, 1000, 7 * DAY_MS, 'members idle this long are removed'),
  intVar('CLEANUP_INTERVAL_MS', 'cleanupIntervalMs', 10_000, 100, 3600_000, 'inactivity sweep period'),
  intVar('ROOM_IDLE_TTL_MS', 'roomIdleTtlMs', DAY_MS, 0, 365 * DAY_MS, 'an empty room unused this long is deleted (0 = never)'),
  intVar('DISCOVERY_TIMEOUT_MS', 'discoveryTimeoutMs', 2000, 50, 60_000, 'per peer in discover_rooms'),
  intVar('PEER_CALL_TIMEOUT_MS', 'peerCallTimeoutMs', 3000, 50, 120_000, 'every request/response peer call'),
  intVar('DELETE_PHASE_TIMEOUT_MS', 'deletePhaseTimeoutMs', 3000, 50, 120_000, 'each 2PC phase'),
  intVar('HISTORY_LIMIT', 'historyLimit', 100, 0, 100_000, 'messages replayed on join'),
  intVar('SHUTDOWN_GRACE_MS', 'shutdownGraceMs', 8000, 0, 300_000, 'SIGTERM drain budget'),
  intVar('WS_PING_INTERVAL_MS', 'wsPingIntervalMs', 20_000, 100, 600_000, 'WebSocket protocol pings (20 s, the original websockets server\'s ping_interval and ping_timeout)'),
  intVar('WS_MAX_BUFFERED_BYTES', 'wsMaxBufferedBytes', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024, 'a client with more unread data is disconnected'),
  intVar('MAX_FRAME_BYTES', 'maxFrameBytes', 1024 * 1024, 1024, 64 * 1024 * 1024, 'larger frames close the connection'),
  intVar('WS_MAX_CONNECTIONS', 'wsMaxConnections', 10_000, 1, 1_000_000, 'open client connections (and handshakes) per node; more get HTTP 503'),
  intVar('WS_MAX_CONNECTIONS_PER_ADDRESS', 'wsMaxConnectionsPerAddress', 256, 1, 1_000_000, 'open client connections per remote address'),
  intVar('WS_ASSEMBLY_TIMEOUT_MS', 'wsAssemblyTimeoutMs', 10_000, 100, 600_000, 'a message started and not complete after this closes its connection'),
  intVar('WS_UNFINISHED_BYTES_BUDGET', 'wsUnfinishedBudgetBytes', 64 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024, 'bytes of all unfinished client messages together'),
  intVar('WS_MAX_QUEUED_REQUESTS', 'wsMaxQueuedRequests', 1024, 16, 1_000_000, 'requests one connection may have read and not handled'),
  intVar('MAX_ROOMS_PER_CONNECTION', 'maxRoomsPerConnection', 20, 0, 1_000_000, 'rooms one connection may create (0 = no limit)'),
  intVar('MAX_ROOMS_PER_NODE', 'maxRoomsPerNode', 1000, 0, 1_000_000, 'rooms a node administers (0 = no limit)'),
  intVar('MAX_CONTENT_CHARS', 'maxContentChars', 5000, 1, 1_000_000, 'message length in code points'),
  intVar('MAX_ROOM_NAME_CHARS', 'maxRoomNameChars', 100, 1, 10_000, 'room name length'),
  intVar('MAX_DESCRIPTION_CHARS', 'maxDescriptionChars', 500, 0, 100_000, 'room description length'),
  intVar('MAX_USERNAME_CHARS', 'maxUsernameChars', 64, 1, 10_000, 'username length'),
  intVar('ECHO_WAIT_MS', 'echoWaitMs', 2000, 0, 60_000, 'wait for our own copy of a message forwarded to a Python admin'),
  {
    name: 'REPLICATION', type: 'on|off', default: 'on', meaning: 'off = the original\'s in-memory, unreplicated rooms',
    apply: (raw, c) => { c.replication.enabled = oneOf<'on' | 'off'>('REPLICATION', raw, 'on', ['on', 'off']) === 'on'; },
  },
  replIntVar('REPL_HEARTBEAT_MS', 'heartbeatMs', 100, 10, 5000, 'admin heartbeat / append interval'),
  replIntVar('REPL_ELECTION_MS', 'electionBaseMs', 700, 50, 60_000, 'election timeout base (at least 3 x REPL_HEARTBEAT_MS)'),
  replIntVar('REPL_CALL_TIMEOUT_MS', 'callTimeoutMs', 600, 50, 60_000, 'deadline of one replication call'),
  replIntVar('REPL_SUBMIT_TIMEOUT_MS', 'submitTimeoutMs', 8000, 500, 120_000, 'how long a client request may wait for an admin to commit it'),
  {
    name: 'REPL_SYNC', type: 'inline|full|normal', default: 'inline',
    meaning: 'durability: fdatasync of the WAL after each durable commit on the event loop, fdatasync off the event loop before acking, or survive process crashes only',
    apply: (raw, c) => { c.replication.synchronous = oneOf<'full' | 'inline' | 'normal'>('REPL_SYNC', raw, 'inline', ['inline', 'full', 'normal']); },
  },
  replIntVar('ROOM_RETAIN_MESSAGES', 'retainMessages', 10_000, 0, 100_000_000, 'log retention: the newest this many messages of a room are kept, older ones compacted (0 = no count limit)'),
  replIntVar('ROOM_RETAIN_DAYS', 'retainDays', 0, 0, 36_500, 'log retention: messages older than this many days are compacted (0 = no age limit)'),
  replIntVar('ROOM_RETAIN_MIN_SECONDS', 'retainMinSeconds', 3600, 0, 365 * 24 * 3600, 'no message younger than this is compacted, whatever the limits (the window in which a resubmitted message is recognized)'),
];

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

function readSecretFile(file: string | undefined): string | undefined {
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
  const draft: Draft = { replication: {} };
  for (const v of ENV_VARS) v.apply(env[v.name], draft);
  const cfg = draft as NodeConfig;
  if (cfg.heartbeatTimeoutMs > cfg.heartbeatIntervalMs * 10) {
    throw new ConfigError('HEARTBEAT_TIMEOUT_MS must not exceed 10 x HEARTBEAT_INTERVAL_MS');
  }
  const r = cfg.replication;
  if (r.electionBaseMs < r.heartbeatMs * 3) {
    throw new ConfigError(`REPL_ELECTION_MS (${r.electionBaseMs}) must be at least 3 × REPL_HEARTBEAT_MS (${r.heartbeatMs}), or healthy admins get deposed`);
  }
  r.electionStepMs = Math.max(50, Math.round(r.electionBaseMs * 0.43));
  return cfg;
}
