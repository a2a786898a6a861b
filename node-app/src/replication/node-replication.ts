/**
 * Wires replication into a chat node: the durable log store in DATA_DIR, the replicator over the
 * node's peer calls (voters = the swarm-chat peers; original Python peers are not voters), the
 * RoomStore the node uses, and the extension XML-RPC handlers to serve.
 *
 * Its tunables (REPL_*) are read with every other variable in config.ts (NodeConfig.replication).
 */
import * as path from 'node:path';
import type { ReplicationConfig } from '../config';
import type { Logger } from '../log';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import { RoomLogStore } from '../storage/room-log-store';
import { type Clock, systemClock } from './clock';
import { ReplicatedRoomStore } from './replicated-room-store';
import { Replicator } from './replicator';

type RetentionKey = 'retainMessages' | 'retainDays' | 'retainMinSeconds';
/** The REPL_* and ROOM_RETAIN_* settings; retention left out = the log is kept whole. */
export type ReplicationSettings = Omit<ReplicationConfig, 'enabled' | RetentionKey> & Partial<Pick<ReplicationConfig, RetentionKey>>;

export interface NodeReplicationOptions {
  selfId: string;
  /** DATA_DIR; unset = an in-memory log (replicated, but a restarted node refills from its peers). */
  dataDir?: string;
  /** Voting peers and how to call them (PeerDirectory.call in the node). */
  peers: { id: string; call(method: string, params: XmlRpcValue[], timeoutMs: number): Promise<XmlRpcValue> }[];
  historyLimit: number;
  logger: Logger;
  settings: ReplicationSettings;
  /** Time for the engine and the readiness cap; `systemClock` unless a test drives a ManualClock. */
  clock?: Clock;
}

export interface NodeReplication {
  logStore: RoomLogStore;
  replicator: Replicator;
  store: ReplicatedRoomStore;
  handlers: ReturnType<Replicator['handlers']>;
  /**
   * Readiness for /healthz: a (re)started node reports ready once it has caught up with every
   * room's admin, or after `maxCatchUpMs` (rooms without a reachable majority must not keep it
   * out of service forever).
   */
  ready(): boolean;
  /**
   * Why this node may not serve clients now (a join is refused with it), or undefined when it may:
   * `catching_up`, or `not_a_member` (a new node not counted by the others yet, or a node being
   * removed). Unlike catching up, membership has no cap: a node the others do not count never serves.
   */
  notReadyReason(): { code: 'catching_up' | 'not_a_member'; detail: string } | undefined;
  /**
   * `fn(reason)` once when a node that has served stops being counted by the others (it is being
   * removed): the node drains (tells its clients to move). Checked every second.
   */
  onRemoved(fn: (reason: string) => void): void;
  start(): void;
  stop(): void;
}

const maxCatchUpMs = 10_000;
/** While catching up, what it waits for is logged this often (when /healthz asks). */
const catchUpReportMs = 2_000;

export function createNodeReplication(opts: NodeReplicationOptions): NodeReplication {
  const settings = opts.settings;
  const clock = opts.clock ?? systemClock;
  const logStore = opts.dataDir
    ? RoomLogStore.open({ dir: opts.dataDir, synchronous: settings.synchronous })
    : RoomLogStore.open({ file: ':memory:' });
  if (!opts.dataDir) opts.logger.warn('no DATA_DIR: room logs are kept in memory only; a restarted node refills from its peers');
  else opts.logger.info('room logs on disk', { file: path.join(opts.dataDir, 'rooms.sqlite'), synchronous: settings.synchronous });
  let store: ReplicatedRoomStore | undefined;
  const replicator = new Replicator({
    selfId: opts.selfId,
    store: logStore,
    peers: opts.peers.map((p) => ({ id: p.id, call: (m, params, o) => p.call(m, params, o.timeoutMs) })),
    logger: opts.logger,
    clock,
    heartbeatMs: settings.heartbeatMs,
    electionBaseMs: settings.electionBaseMs,
    electionStepMs: settings.electionStepMs,
    callTimeoutMs: settings.callTimeoutMs,
    submitTimeoutMs: settings.submitTimeoutMs,
    retention: { messages: settings.retainMessages ?? 0, days: settings.retainDays ?? 0, minAgeMs: (settings.retainMinSeconds ?? 0) * 1000 },
    validate: (roomId, kind, data) => store?.validate(roomId, kind, data),
  });
  store = new ReplicatedRoomStore({
    selfId: opts.selfId,
    replicator,
    historyLimit: opts.historyLimit,
    logger: opts.logger,
    clock,
    notServing: () => {
      const why = membershipWait();
      return why ? { code: 'NODE_NOT_READY', detail: why } : undefined;
    },
    nodeCaughtUp: () => caughtUp(),
  });
  let startedAt = clock.now();
  let readySince: number | undefined;
  let lastReportAt = clock.now();
  let lastMembershipReport: string | undefined;
  const removedListeners: ((reason: string) => void)[] = [];
  let draining = false;
  let removalTimer: { cancel(): void } | undefined;
  const membershipWait = (): string | undefined => {
    const r = replicator.readiness();
    let why: string | undefined;
    if (r.notCountedBy.length > 0) why = `not counted by ${r.notCountedBy.join(', ')} (being added or removed)`;
    else {
      const learner = r.waiting.filter((w) => w.reason === 'not_a_voter').length;
      if (learner > 0) why = `not yet a voter in ${learner} room(s) (being added, or removed)`;
    }
    // Planned: info, once per change of reason.
    if (why !== lastMembershipReport) {
      if (why) opts.logger.info('replication: not serving, membership', { reason: why });
      else if (lastMembershipReport) opts.logger.info('replication: counted as a member again');
      lastMembershipReport = why;
    }
    return why;
  };
  const caughtUp = (): boolean => {
    if (readySince !== undefined) return true;
    const now = clock.now();
    if (replicator.caughtUpAll() && replicator.readiness().ready) {
      readySince = now;
      opts.logger.info('replication: caught up, serving', { after_ms: readySince - startedAt });
    } else if (now - startedAt > maxCatchUpMs) {
      readySince = now;
      // Name what it waited for: a restart that always takes the whole cap has a cause to find.
      opts.logger.warn('replication: not caught up within the cap, serving anyway', { after_ms: readySince - startedAt, ...replicator.catchUpReport() });
    } else if (now - lastReportAt >= catchUpReportMs) {
      lastReportAt = now;
      opts.logger.info('replication: catching up', { after_ms: now - startedAt, ...replicator.catchUpReport() });
    }
    return readySince !== undefined;
  };
  return {
    ready: () => membershipWait() === undefined && caughtUp(),
    notReadyReason: () => {
      const m = membershipWait();
      if (m) return { code: 'not_a_member', detail: m };
      return caughtUp() ? undefined : { code: 'catching_up', detail: 'catching up with the rooms\' administrators' };
    },
    onRemoved: (fn) => {
      removedListeners.push(fn);
    },
    logStore,
    replicator,
    store,
    handlers: replicator.handlers(),
    start: () => {
      startedAt = lastReportAt = clock.now();
      replicator.start();
      removalTimer = clock.every(1000, () => {
        const why = readySince !== undefined ? membershipWait() : undefined;
        if (why && !draining) {
          draining = true;
          opts.logger.info('replication: this node is being removed from the cluster; draining', { reason: why });
          for (const fn of removedListeners) fn(why);
        } else if (!why) draining = false;
      });
    },
    stop: () => {
      removalTimer?.cancel();
      replicator.stop();
      logStore.close();
    },
  };
}
