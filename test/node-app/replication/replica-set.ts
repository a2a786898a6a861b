/**
 * Real replicas on loopback for the replication tests that need the real wire (peer servers,
 * PeerLinks, SQLite files, restarts); the engine's logic is tested on a logical clock in
 * `sim-cluster.ts`. Each replica here has its own SQLite file in a temp
 * dir, a real peer server (PEER's startPeerServer) on 127.0.0.1 and real PeerLinks to the others.
 * A node can be stopped (server closed, engine stopped, store closed: like a kill) and restarted on
 * the same port from the same files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PeerLink } from '../../../node-app/src/peers/peer-link';
import { PeerServer, startPeerServer } from '../../../node-app/src/peers/peer-server';
import { REPLICATION_METHODS } from '../../../node-app/src/replication/wire';
import { ReplicatedRoomStore } from '../../../node-app/src/replication/replicated-room-store';
import { Replicator, ReplicatorOptions } from '../../../node-app/src/replication/replicator';
import { AppliedEntry, type Durability, RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import type { SyncCall } from '../../../node-app/src/storage/wal-sync';
import { seededRandom } from '../../support/random';

export interface TestReplica {
  id: string;
  dir: string;
  port: number;
  store: RoomLogStore;
  repl: Replicator;
  server: PeerServer;
  links: PeerLink[];
  applied: AppliedEntry[];
  /** NODE's RoomStore seam over this replica (rebuilt from disk on restart). */
  rooms: ReplicatedRoomStore;
  up: boolean;
}

export type EngineTuning = Partial<Omit<ReplicatorOptions, 'selfId' | 'store' | 'peers'>>;

export class ReplicaSet {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'repl-set-'));
  readonly nodes: TestReplica[] = [];
  private ports = new Map<string, number>();

  /** `syncCalls`: per node, the fdatasync its store runs with `full` durability (a test may hold its completion). */
  constructor(readonly ids: string[], readonly tuning: EngineTuning = {}, readonly seed = 1, readonly synchronous: Durability = 'normal',
    readonly syncCalls: Record<string, SyncCall> = {}) {}

  async start(): Promise<void> {
    // Bind every server first (port 0), then wire the links to the ports the kernel chose.
    for (const id of this.ids) {
      const node = await this.bind(id, 0);
      this.nodes.push(node);
    }
    for (const n of this.nodes) this.connect(n);
  }

  node(id: string): TestReplica {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no replica ${id}`);
    return n;
  }

  private async bind(id: string, port: number): Promise<TestReplica> {
    const dir = path.join(this.root, id);
    const store = RoomLogStore.open({ dir, synchronous: this.synchronous, syncCall: this.syncCalls[id] });
    const node: TestReplica = { id, dir, port: 0, store, repl: undefined as unknown as Replicator, server: undefined as unknown as PeerServer, links: [], applied: [], rooms: undefined as unknown as ReplicatedRoomStore, up: true };
    const handlers: Record<string, (p: never, c: never) => never> = {};
    // Handlers are looked up at call time so the server can exist before the engine.
    for (const m of REPLICATION_METHODS) {
      handlers[m] = ((params: unknown, ctx: unknown) => (node.repl.handlers() as Record<string, (p: unknown, c: unknown) => unknown>)[m](params, ctx)) as never;
    }
    node.server = await startPeerServer({ host: '127.0.0.1', port, handlers: handlers as never, nodeId: id });
    node.port = node.server.port;
    this.ports.set(id, node.port);
    return node;
  }

  private connect(node: TestReplica): void {
    node.links = this.ids.filter((p) => p !== node.id).map((p) => new PeerLink({
      selfId: node.id, peerId: p, address: `http://127.0.0.1:${this.ports.get(p)}`, callTimeoutMs: 1000,
    }));
    node.repl = new Replicator({
      selfId: node.id,
      store: node.store,
      peers: node.links.map((l) => ({ id: l.peerId, call: (m, p, o) => l.call(m, p, o) })),
      random: seededRandom(this.seed * 31 + this.ids.indexOf(node.id)).next,
      heartbeatMs: 50,
      electionBaseMs: 400,
      electionStepMs: 200,
      electionJitterMs: 50,
      callTimeoutMs: 300,
      validate: (r, k, d) => node.rooms.validate(r, k, d),
      ...this.tuning,
    });
    node.repl.on('applied', (a: AppliedEntry) => node.applied.push(a));
    node.rooms = new ReplicatedRoomStore({ selfId: node.id, replicator: node.repl, historyLimit: 100 });
    node.repl.start();
  }

  /** Like kill -9 for the purpose of the others: its port stops answering, its memory is gone. */
  async crash(id: string): Promise<void> {
    const n = this.node(id);
    if (!n.up) return;
    n.up = false;
    n.repl.stop();
    for (const l of n.links) l.close();
    await n.server.close();
    n.store.close();
  }

  async restart(id: string): Promise<TestReplica> {
    const old = this.node(id);
    if (old.up) throw new Error(`${id} is running`);
    const n = await this.bind(id, old.port);
    this.nodes[this.nodes.indexOf(old)] = n;
    this.connect(n);
    return n;
  }

  async close(): Promise<void> {
    for (const n of this.nodes) await this.crash(n.id);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
