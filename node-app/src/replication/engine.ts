/**
 * What the parts of the replication engine share: the options and settings, the rooms' working
 * state, the voters, the clock, the stats and events, and the wiring between the parts (election,
 * commitment, peer channels, follower, submit routing). Room bookkeeping (create, load, reload)
 * lives here because every part needs it; decisions live in the parts.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { AppliedEntry, EntryKind, RoomLogStore } from '../storage/room-log-store';
import type { RetentionPolicy } from '../storage/room-snapshots';
import type { Clock } from './clock';
import type { Commitment } from './commitment';
import type { Election } from './election';
import type { Follower } from './follower';
import { Membership } from './membership';
import type { PeerChannels } from './peer-channel';
import type { SnapshotTransfer } from './snapshot-transfer';
import { freshRoomState, reloadRoomState, type RoomState } from './room-state';
import { RoomWatch } from './room-watch';

/** A voting peer (another swarm-chat node). `call` is PeerLink.call in production. */
export interface ReplicationPeer {
  id: string;
  call(method: string, params: XmlRpcValue[], opts: { timeoutMs: number }): Promise<XmlRpcValue>;
}

export class ReplicationError extends Error {
  constructor(readonly code: string, message: string, readonly retryable = false) {
    super(message);
    this.name = 'ReplicationError';
  }
}

/** Rejects a request before it is logged (e.g. NOT_MEMBER); runs on the admin, against committed state. */
export type SubmitValidator = (roomId: string, kind: EntryKind, data: Record<string, unknown>, store: RoomLogStore) => void;

export interface ReplicatorOptions {
  selfId: string;
  store: RoomLogStore;
  /** The other voting (swarm-chat) nodes; original Python peers are not voters. */
  peers: ReplicationPeer[];
  logger?: Logger;
  /** Time and timers; `systemClock` unless a test drives a `ManualClock`. */
  clock?: Clock;
  heartbeatMs?: number;
  /** Election timeout = base + step × successor rank + jitter. */
  electionBaseMs?: number;
  electionStepMs?: number;
  electionJitterMs?: number;
  callTimeoutMs?: number;
  submitTimeoutMs?: number;
  maxEntriesPerItem?: number;
  /** Seedable source of randomness for the election jitter. */
  random?: () => number;
  timestamp?: () => string;
  validate?: SubmitValidator;
  /** Which committed messages each node keeps (log compaction); default: everything. */
  retention?: RetentionPolicy;
  /** Wall-clock ms the retention ages are measured against (entries carry the admin's timestamps). */
  wallClock?: () => number;
}

export interface EngineSettings {
  heartbeatMs: number;
  electionBaseMs: number;
  electionStepMs: number;
  electionJitterMs: number;
  callTimeoutMs: number;
  submitTimeoutMs: number;
  maxEntriesPerItem: number;
}

export interface ReplicatorStats {
  rooms: number;
  leaderOf: number;
  elections: number;
  replCalls: number;
  replCallErrors: number;
  entriesSent: number;
  flushes: number;
  /** Log entries removed by compaction, snapshots sent to followers, snapshots installed here. */
  compactedEntries: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
}

export const NOT_LEADER = 'NOT_LEADER';
/** What a node answers a replication call from a node outside its PEER_NODES (being added or removed). */
export const NOT_A_PEER = 'not a peer';
/** JSON size of the entries one call carries (≈ XML body ≤ 5 × this in the worst case; the peer server takes ≤ 4 MiB). */
export const MAX_CALL_JSON_BYTES = 512 * 1024;

export function shuttingDown(): ReplicationError {
  return new ReplicationError('SHUTTING_DOWN', 'node is shutting down', true);
}

/** `fn()`, or null if it throws (decoding a peer's answer that may be malformed). */
export function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

export class Engine {
  readonly rooms = new Map<string, RoomState>();
  readonly watch: RoomWatch;
  readonly members: Membership;
  readonly stats: ReplicatorStats = { rooms: 0, leaderOf: 0, elections: 0, replCalls: 0, replCallErrors: 0, entriesSent: 0, flushes: 0, compactedEntries: 0, snapshotsSent: 0, snapshotsInstalled: 0 };
  stopped = false;
  /** When each peer's node-level "alive" last arrived: it stands for every room it leads here. */
  readonly aliveFrom = new Map<string, number>();
  /**
   * This run of the engine, answered to every "alive": a peer that sees it change knows this node
   * restarted (perhaps without its log) even when none of its calls failed in between.
   */
  readonly incarnation = randomUUID();
  /** After resign(): this node is leaving and stands in no election. */
  resigned = false;
  // The parts, wired once by the Replicator (they call each other).
  election!: Election;
  commitment!: Commitment;
  channels!: PeerChannels;
  follower!: Follower;
  snapshots!: SnapshotTransfer;

  constructor(
    readonly selfId: string,
    readonly store: RoomLogStore,
    peerIds: string[],
    readonly clock: Clock,
    readonly cfg: EngineSettings,
    readonly emit: (event: 'applied' | 'admin', payload: AppliedEntry | { roomId: string; adminId: string; term: number }) => void,
    readonly random: () => number,
    readonly timestamp: () => string,
    readonly log?: Logger,
    readonly validate?: SubmitValidator,
  ) {
    this.members = new Membership(selfId, peerIds);
    this.watch = new RoomWatch(clock);
  }

  /** A room this node has not seen yet: a follower with no admin, its election timer armed. */
  newRoom(id: string, now: number): RoomState {
    const rt = freshRoomState(id, now);
    this.election.resetElectionTimer(rt, now);
    this.rooms.set(id, rt);
    this.stats.rooms = this.rooms.size;
    this.watch.notify(id);
    return rt;
  }

  /** A room from the store, as a follower (nobody is admin after a restart until elected). */
  loadRoom(id: string, now: number): RoomState {
    const rt = this.rooms.get(id) ?? this.newRoom(id, now);
    this.reloadRoom(rt);
    rt.deleted = this.store.roomInfo(id)?.deleted ?? false;
    return rt;
  }

  reloadRoom(rt: RoomState): void {
    reloadRoomState(rt, this.store);
  }
}
