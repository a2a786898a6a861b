/**
 * Room deletion by two-phase commit (node-app/PROTOCOL.md §4; rooms/two-phase-delete.ts runs the phases).
 * As coordinator (this node administers the room): freeze it, announce the deletion, ask the
 * nodes that matter, then remove or thaw it. As participant: prepare (freeze our copy or note the
 * transaction), commit (only the prepared transaction, §9.8) or roll back, telling local members.
 */
import { randomUUID } from 'node:crypto';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { Room } from '../rooms/room';
import { runTwoPhaseDelete, type Vote } from '../rooms/two-phase-delete';
import type { NodeContext } from './node-context';
import { isStruct, type Struct } from '../peers/rpc-params';

export type DeleteOutcome = { ok: true; tx: string } | { ok: false; tx: string; reason: string };

export class RoomDeletion {
  /** Delete transactions prepared here for rooms administered elsewhere: room_id -> transaction id. */
  private readonly preparedRemote = new Map<string, string>();

  constructor(private readonly ctx: NodeContext) {}

  /**
   * 2PC over the nodes that matter: those holding members of the room and not declared failed
   * (§9.9: the original asked every peer, so any down node blocked every deletion). The room is
   * frozen (no joins, no sends) while the transaction runs.
   */
  async coordinate(room: Room, initiator: string, onStarted: (tx: string) => void): Promise<DeleteOutcome> {
    const { peers, selfId, delivery, log, store, cfg } = this.ctx;
    const tx = randomUUID();
    room.state = 'DELETION_PENDING';
    room.pendingTx = tx;
    onStarted(tx);
    const participants = [...room.memberNodes(selfId)].filter((id) => !this.ctx.sweeps.detector.isFailed(id) && peers.addressOf(id));
    const initiated = { room_id: room.roomId, initiator, status: 'in_progress' };
    delivery.frame(room.roomId, JSON.stringify({ type: 'delete_room_initiated', data: initiated }));
    for (const p of participants) {
      if (!peers.isLegacy(p)) peers.post(p, 'receive_member_event_broadcast', [room.roomId, 'delete_room_initiated', initiated]);
    }
    log.info('room deletion started', { room_id: room.roomId, transaction_id: tx, participants });
    const t = cfg.deletePhaseTimeoutMs;
    const outcome = await runTwoPhaseDelete({
      transactionId: tx,
      participants,
      phaseTimeoutMs: t,
      prepare: async (p) => {
        const r = await peers.call(p, 'prepare_delete_room', [room.roomId, tx, selfId], t);
        if (!isStruct(r)) return { vote: 'ABORT', reason: `Node ${p} sent an invalid vote` } satisfies Vote;
        return { vote: r.vote === 'READY' ? 'READY' : 'ABORT', reason: typeof r.reason === 'string' ? r.reason : undefined };
      },
      commit: (p) => peers.call(p, 'commit_delete_room', [room.roomId, tx, room.roomName], t),
      rollback: (p) => peers.call(p, 'rollback_delete_room', [room.roomId, tx], t),
    });
    if (outcome.outcome === 'committed') {
      room.state = 'COMMITTING';
      store.remove(room.roomId);
      const frame = JSON.stringify({ type: 'room_deleted', data: { room_id: room.roomId, room_name: room.roomName, message: `Room '${room.roomName}' has been deleted` } });
      delivery.frame(room.roomId, frame);
      delivery.dropRoom(room.roomId);
      log.info('room deleted', { room_id: room.roomId, transaction_id: tx });
      return { ok: true, tx };
    }
    room.state = 'ACTIVE';
    room.pendingTx = undefined;
    // The original left admin-local members without a cancel event (§9.9).
    delivery.frame(room.roomId, JSON.stringify({ type: 'delete_room_cancelled', data: { room_id: room.roomId, transaction_id: tx } }));
    log.info('room deletion aborted', { room_id: room.roomId, transaction_id: tx, reason: outcome.reason });
    return { ok: false, tx, reason: outcome.reason };
  }

  /** Participant, phase 1: freeze the room (ours or our copy) and vote. */
  prepare(roomId: string, tx: string): Struct {
    const self = this.ctx.selfId;
    const room = this.ctx.localRoom(roomId);
    if (room) {
      if (room.state !== 'ACTIVE') return { vote: 'ABORT', node_id: self, transaction_id: tx, reason: `Room in ${room.state} state` };
      room.state = 'DELETION_PENDING';
      room.pendingTx = tx;
    } else {
      this.preparedRemote.set(roomId, tx);
      // A replica here is frozen like the admin's copy: no joins or sends through us.
      const replica = this.ctx.store.get(roomId);
      if (replica && replica.state === 'ACTIVE') {
        replica.state = 'DELETION_PENDING';
        replica.pendingTx = tx;
      }
    }
    return { vote: 'READY', node_id: self, transaction_id: tx };
  }

  /** Participant, phase 2: only the transaction that was prepared commits (§9.8: any id deleted any room). */
  commit(roomId: string, tx: string, givenName: XmlRpcValue | undefined): Struct {
    const { selfId: self, store, delivery } = this.ctx;
    const room = this.ctx.localRoom(roomId);
    if (room) {
      if (room.pendingTx !== tx) return { success: false, node_id: self };
      store.remove(roomId);
    } else {
      if (this.preparedRemote.get(roomId) !== tx) return { success: false, node_id: self };
      this.preparedRemote.delete(roomId);
      // The replicated deletion follows from the admin; until it lands the copy is gone for clients.
      const replica = store.get(roomId);
      if (replica) replica.state = 'COMMITTING';
    }
    const roomName = room?.roomName ?? (typeof givenName === 'string' ? givenName : '');
    delivery.frame(roomId, JSON.stringify({ type: 'room_deleted', data: { room_id: roomId, room_name: roomName, transaction_id: tx } }));
    delivery.dropRoom(roomId);
    return { success: true, node_id: self };
  }

  /** Participant, abort: thaw what the transaction froze and tell local members. */
  rollback(roomId: string, tx: string): Struct {
    const { selfId: self, store, delivery } = this.ctx;
    const room = this.ctx.localRoom(roomId);
    if (room) {
      if (room.pendingTx === tx) {
        room.state = 'ACTIVE';
        room.pendingTx = undefined;
      }
    } else if (this.preparedRemote.get(roomId) === tx) {
      this.preparedRemote.delete(roomId);
      const replica = store.get(roomId);
      if (replica && replica.pendingTx === tx) {
        replica.state = 'ACTIVE';
        replica.pendingTx = undefined;
      }
      delivery.frame(roomId, JSON.stringify({ type: 'delete_room_cancelled', data: { room_id: roomId, transaction_id: tx } }));
    }
    return { success: true, node_id: self };
  }
}
