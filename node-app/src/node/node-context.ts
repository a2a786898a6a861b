/**
 * What the node's parts share: configuration, the room store, the peers, the local registry of
 * connections per room, and the services the flows and XML-RPC handlers call (remote rooms,
 * delivery, publishing, re-joins, forwarding, deletion, failure sweeps). Built once per node by
 * ChatNode; each service gets the context and reaches the others through it.
 */
import type { NodeConfig } from '../config';
import type { Logger } from '../log';
import type { Room } from '../rooms/room';
import type { RoomStore } from '../rooms/room-store';
import { LocalRegistry } from './client-session';
import { Delivery } from './delivery';
import { FailureSweeps } from './failure-sweeps';
import { Forwarding } from './forwarding';
import type { NodeMetrics } from './node-metrics';
import type { PeerDirectory } from './peer-directory';
import { Publisher } from './publish';
import { Rejoins } from './rejoins';
import { RemoteRooms } from './remote-rooms';
import { RoomDeletion } from './room-deletion';

export class NodeContext {
  readonly registry = new LocalRegistry();
  readonly remote: RemoteRooms;
  readonly delivery: Delivery;
  readonly publisher: Publisher;
  readonly rejoins: Rejoins;
  readonly forwarding: Forwarding;
  readonly deletion: RoomDeletion;
  readonly sweeps: FailureSweeps;
  shuttingDown = false;
  /** Background peer work (disconnect notifications, re-joins) that shutdown waits for. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    readonly cfg: NodeConfig,
    readonly store: RoomStore,
    readonly peers: PeerDirectory,
    readonly log: Logger,
    readonly metrics: NodeMetrics,
  ) {
    this.remote = new RemoteRooms(this);
    this.delivery = new Delivery(this);
    this.publisher = new Publisher(this);
    this.rejoins = new Rejoins(this);
    this.forwarding = new Forwarding(this);
    this.deletion = new RoomDeletion(this);
    this.sweeps = new FailureSweeps(this);
    store.onCommitted((ev) => this.publisher.onCommitted(ev));
    store.onDeleted((roomId) => this.delivery.dropRoom(roomId));
  }

  get selfId(): string {
    return this.cfg.nodeId;
  }

  /** Rooms this node administers (a replicating store also holds copies of others' rooms). */
  localRooms(): Room[] {
    return this.store.list().filter((r) => r.adminNode === this.selfId);
  }

  localRoom(roomId: string): Room | undefined {
    const r = this.store.get(roomId);
    return r && r.adminNode === this.selfId ? r : undefined;
  }

  /**
   * The room as the client flows see it: one this node administers or any replicated room
   * (requests go through the replicated log to whoever administers it).
   */
  clientRoom(roomId: string): Room | undefined {
    return this.localRoom(roomId) ?? (this.store.replicates(roomId) ? this.store.get(roomId) : undefined);
  }

  /**
   * A node back from a restart serves a replicated room only once it has caught up, and tells a
   * room it has not received yet from another node's room only once it has heard from every
   * admin (bounded wait, see RoomStore.ready).
   */
  async readyRoom(roomId: string): Promise<Room | undefined> {
    await this.store.ready(roomId, 3000);
    return this.clientRoom(roomId);
  }

  track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Resolves when the background peer work started so far has finished. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }
}
