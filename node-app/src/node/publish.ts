/**
 * Publishing a room's entries once committed: to the connections here and to the other nodes
 * that hold members. A room that replicates is published from the committed log on every node
 * (`onCommitted`); its admin also relays to original Python member nodes, which know no
 * replication. Any other room is published by the appender, to member nodes' ordered streams.
 */
import type { Room } from '../rooms/room';
import type { AppendInput, CommittedEvent } from '../rooms/room-store';
import type { NodeContext } from './node-context';
import type { Struct } from '../peers/rpc-params';

export class Publisher {
  constructor(private readonly ctx: NodeContext) {}

  /**
   * Appends to the room and, once committed, delivers to local connections and posts to the member
   * nodes' ordered streams. Targets are computed at append time (before the entry applies, so a
   * leaving member's node still hears of its leave).
   */
  appendAndPublish(room: Room, input: AppendInput, opts: { exceptNode?: string } = {}) {
    const { store, peers, selfId, delivery, metrics } = this.ctx;
    // Replicated rooms: delivery happens in onCommitted, on every node, when the entry commits;
    // the caller learns its outcome here.
    if (store.replicates(room.roomId)) return store.append(room, input);
    const targets = room.memberNodes(selfId);
    const committed = store.append(room, input);
    for (const n of room.memberNodes(selfId)) targets.add(n);
    if (opts.exceptNode) targets.delete(opts.exceptNode);
    const memberCount = room.members.size;
    return committed.then((c) => {
      const e = c.entry;
      if (e.kind === 'message') {
        metrics.messagesSequenced.inc();
        delivery.message(room.roomId, e.message);
        for (const t of targets) peers.post(t, 'receive_message_broadcast', [room.roomId, e.message as unknown as Struct]);
      } else {
        const data: Record<string, string | number> = { room_id: room.roomId, username: e.username, member_count: memberCount, timestamp: e.timestamp };
        if (e.kind === 'member_left' && e.reason) data.reason = e.reason;
        delivery.frame(room.roomId, JSON.stringify({ type: e.kind, data }));
        if (e.kind === 'member_left') delivery.evict(room.roomId, e.username);
        for (const t of targets) peers.post(t, 'receive_member_event_broadcast', [room.roomId, e.kind, data]);
      }
      return c;
    });
  }

  /** A replicated entry committed (on this node, in log order): deliver it here, relay it to Python member nodes. */
  onCommitted(ev: CommittedEvent): void {
    const { peers, selfId, delivery, metrics, rejoins } = this.ctx;
    const { room, committed, memberCount } = ev;
    const e = committed.entry;
    const isAdmin = room.adminNode === selfId;
    const legacyTargets = isAdmin ? [...room.memberNodes(selfId)].filter((n) => peers.isLegacy(n)) : [];
    if (e.kind === 'message') {
      if (isAdmin) metrics.messagesSequenced.inc();
      delivery.message(room.roomId, e.message);
      for (const t of legacyTargets) peers.post(t, 'receive_message_broadcast', [room.roomId, e.message as unknown as Struct]);
      return;
    }
    const data: Record<string, string | number> = { room_id: room.roomId, username: e.username, member_count: memberCount, timestamp: e.timestamp };
    if (e.kind === 'member_left' && e.reason) data.reason = e.reason;
    const rejoining =
      (e.kind === 'member_left' && rejoins.rejoinIfLive(room, e.username, e.nodeId, e.reason)) ||
      (e.kind === 'member_joined' && rejoins.running(room.roomId, e.username));
    // The member itself is not told it left and came back; everyone else sees both events.
    delivery.frame(room.roomId, JSON.stringify({ type: e.kind, data }), rejoining ? e.username : undefined);
    if (e.kind === 'member_left' && !rejoining) delivery.evict(room.roomId, e.username);
    if (isAdmin) {
      const targets = new Set(legacyTargets);
      // The leaver's node still hears of the leave, unless it is the node that failed.
      if (e.kind === 'member_left' && peers.isLegacy(e.nodeId) && e.reason !== 'Node unreachable') targets.add(e.nodeId);
      for (const t of targets) peers.post(t, 'receive_member_event_broadcast', [room.roomId, e.kind, data]);
    }
  }
}
