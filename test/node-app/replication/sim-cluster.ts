/**
 * A replica set driven by a logical clock, for deterministic tests of the engine: each replica is
 * the real Replicator on a real (in-memory SQLite) RoomLogStore; between them an in-process
 * network hands each call to the target's real XML-RPC handlers (values cloned, as a wire would)
 * and can be cut. Time moves only when the test says (`run`): elections, heartbeats, call
 * timeouts and submit deadlines all happen at exact logical times, the same on every run.
 */
import type { XmlRpcValue } from '../../../node-app/src/peers/xmlrpc-codec';
import { ManualClock } from '../../../node-app/src/replication/clock';
import { Replicator, type ReplicatorOptions } from '../../../node-app/src/replication/replicator';
import { AppliedEntry, RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import { seededRandom } from '../../support/random';

export interface SimReplica {
  id: string;
  store: RoomLogStore;
  repl: Replicator;
  applied: AppliedEntry[];
}

export type SimTuning = Partial<Omit<ReplicatorOptions, 'selfId' | 'store' | 'peers' | 'clock'>>;

/** Lets every ready callback, promise and setImmediate of the current logical instant run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export class SimCluster {
  readonly clock = new ManualClock();
  readonly nodes: SimReplica[];
  /** Unordered pairs "a|b" that cannot reach each other. */
  private readonly cut = new Set<string>();
  /**
   * Faults for single calls, decided per call: 'drop-answer' (handled by the target, the answer
   * lost: the caller times out), or a number: the call reaches the target that many ms late (so
   * later calls overtake it).
   */
  fault?: (from: string, to: string, method: string) => 'drop-answer' | number | undefined;
  /** Per-room items (appends, votes; not the node-level "alive") sent in `swarmchat_repl` calls, per "from>to". */
  readonly roomItems = new Map<string, number>();
  /** `swarmchat_repl` calls carrying nothing but the node-level "alive", per "from>to". */
  readonly aliveOnlyCalls = new Map<string, number>();
  /** Most calls from one replica to another in flight at once, per "from>to". */
  readonly maxInFlight = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();

  /** `peers`: a replica's PEER_NODES (default: every other replica). */
  constructor(readonly ids: string[], private readonly tuning: SimTuning = {}, private readonly seed = 1, peers: Record<string, string[]> = {}) {
    this.nodes = ids.map((id, i) => {
      const store = RoomLogStore.open({ file: ':memory:' });
      const node: SimReplica = { id, store, repl: this.replicator(id, i, store, peers[id] ?? ids.filter((p) => p !== id)), applied: [] };
      node.repl.on('applied', (a: AppliedEntry) => node.applied.push(a));
      return node;
    });
  }

  private replicator(id: string, i: number, store: RoomLogStore, peers: string[]): Replicator {
    const random = seededRandom(this.seed * 31 + i);
    return new Replicator({
      selfId: id,
      store,
      clock: this.clock,
      peers: peers.map((p) => ({ id: p, call: (m, params, o) => this.deliver(id, p, m, params, o.timeoutMs) })),
      random: random.next,
      timestamp: () => `t${this.clock.now()}`,
      ...this.tuning,
    });
  }

  /**
   * Restarts replica `id` with a new PEER_NODES (a rolling update of the topology), on its own store
   * or, with `emptyLog`, on a new empty one (a node without DATA_DIR).
   */
  restart(id: string, peers: string[], opts: { emptyLog?: boolean } = {}): void {
    const node = this.node(id);
    node.repl.stop();
    if (opts.emptyLog) {
      node.store.close();
      node.store = RoomLogStore.open({ file: ':memory:' });
    }
    node.repl = this.replicator(id, this.ids.indexOf(id), node.store, peers);
    node.repl.on('applied', (a: AppliedEntry) => node.applied.push(a));
    node.repl.start();
  }

  node(id: string): SimReplica {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no replica ${id}`);
    return n;
  }

  start(): void {
    for (const n of this.nodes) n.repl.start();
  }

  stop(): void {
    for (const n of this.nodes) {
      n.repl.stop();
      n.store.close();
    }
  }

  /** Cuts `id` off from every other replica (a crash or a partition, as the others see it). */
  isolate(id: string): void {
    for (const other of this.ids) if (other !== id) this.cut.add(pair(id, other));
  }

  /** Cuts the link between `a` and `b` only. */
  cutLink(a: string, b: string): void {
    this.cut.add(pair(a, b));
  }

  heal(): void {
    this.cut.clear();
  }

  /** Moves logical time forward by `ms` in steps, letting all work of each instant finish. */
  async run(ms: number, stepMs = 5): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - t));
      await settle();
    }
  }

  /** Runs until `cond` holds; returns the logical ms it took, or throws after `maxMs`. */
  async runUntil(what: string, cond: () => boolean, maxMs: number, stepMs = 5): Promise<number> {
    const t0 = this.clock.now();
    await settle();
    while (!cond()) {
      if (this.clock.now() - t0 >= maxMs) throw new Error(`not within ${maxMs} logical ms: ${what}`);
      await this.run(stepMs, stepMs);
    }
    return this.clock.now() - t0;
  }

  /** The replicas that consider themselves admin of `roomId`. */
  admins(roomId: string): string[] {
    return this.nodes.filter((n) => n.repl.isAdmin(roomId)).map((n) => n.id);
  }

  /** A call from `from` to `to`: handled by the target's handlers, or lost (times out) when the link is cut. */
  private deliver(from: string, to: string, method: string, params: XmlRpcValue[], timeoutMs: number): Promise<XmlRpcValue> {
    const link = `${from}>${to}`;
    const n = (this.inFlight.get(link) ?? 0) + 1;
    this.inFlight.set(link, n);
    this.maxInFlight.set(link, Math.max(n, this.maxInFlight.get(link) ?? 0));
    if (method === 'swarmchat_repl' && Array.isArray(params[1])) {
      const rooms = params[1].filter((it) => (it as { k?: string }).k !== 'h').length;
      this.roomItems.set(link, (this.roomItems.get(link) ?? 0) + rooms);
      if (rooms === 0 && params[1].length > 0) this.aliveOnlyCalls.set(link, (this.aliveOnlyCalls.get(link) ?? 0) + 1);
    }
    const fault = this.fault?.(from, to, method);
    const call = new Promise<XmlRpcValue>((resolve, reject) => {
      const timedOut = () => this.clock.after(timeoutMs, () => reject(new Error(`${method} to ${to}: timed out`)));
      if (this.cut.has(pair(from, to))) {
        timedOut();
        return;
      }
      const target = this.node(to).repl;
      const handle = () => {
        Promise.resolve()
          .then(() => target.handlers()[method](structuredClone(params), { peerId: from, authenticated: true }))
          .then((r) => {
            // The answer is lost too if the link was cut while the call was out.
            if (this.cut.has(pair(from, to)) || fault === 'drop-answer') timedOut();
            else resolve(structuredClone(r));
          }, reject);
      };
      if (typeof fault === 'number') this.clock.after(fault, handle);
      else setImmediate(handle);
    });
    return call.finally(() => this.inFlight.set(link, (this.inFlight.get(link) ?? 1) - 1));
  }
}

function pair(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
