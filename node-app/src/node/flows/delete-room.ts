/**
 * Client flow delete_room: only the room's creator, acting as itself on this connection. A room
 * administered here is deleted by 2PC (room-deletion.ts); a room administered by another of our
 * nodes is deleted there on the creator's behalf (extension swarmchat_delete_room).
 */
import type { DeleteRoomRequest } from '../../protocol/messages';
import type { XmlRpcValue } from '../../peers/xmlrpc-codec';
import { cannotDelete } from '../../rooms/admission';
import type { ClientSession } from '../client-session';
import type { NodeContext } from '../node-context';
import { isStruct } from '../../peers/rpc-params';
import { errText } from '../wire-converters';

export async function deleteRoom(ctx: NodeContext, session: ClientSession, req: DeleteRoomRequest): Promise<void> {
  const { room_id, username } = req.data;
  const fail = (reason: string, error_code: string, transaction_id?: string): void => {
    session.sendFrame({ type: 'delete_room_failed', data: { room_id, reason, error_code, ...(transaction_id ? { transaction_id } : {}) } });
  };
  const bound = session.rooms.get(room_id);
  const actsAs = bound?.username === username || (session.createdRooms.has(room_id) && !bound);
  const room = ctx.localRoom(room_id);
  if (!room) return deleteAtAdmin(ctx, session, req, fail);
  if (username !== room.creatorId || !actsAs) return fail('Only the room creator can delete the room', 'UNAUTHORIZED');
  const inactive = room.state !== 'ACTIVE' ? cannotDelete(room) : undefined;
  if (inactive) return fail(inactive.message, inactive.code);
  const outcome = await ctx.deletion.coordinate(room, username, (tx) =>
    session.sendFrame({ type: 'delete_room_initiated', data: { room_id, transaction_id: tx, status: 'in_progress' } }),
  );
  if (outcome.ok) {
    session.sendFrame({ type: 'delete_room_success', data: { room_id, transaction_id: outcome.tx, message: 'Room deleted successfully' } });
  } else {
    fail(outcome.reason, 'DELETION_FAILED', outcome.tx);
  }
}

/** Extension: a creator connected here may delete a room whose admin is another of our nodes. */
async function deleteAtAdmin(
  ctx: NodeContext,
  session: ClientSession,
  req: DeleteRoomRequest,
  fail: (reason: string, error_code: string, transaction_id?: string) => void,
): Promise<void> {
  const { room_id, username } = req.data;
  const { store, remote, peers, cfg, selfId } = ctx;
  const bound = session.rooms.get(room_id);
  const replicatedAdmin = store.replicates(room_id) ? store.get(room_id)?.adminNode || undefined : undefined;
  const admin = replicatedAdmin ?? remote.knownAdmin(room_id);
  if (!admin || peers.isLegacy(admin) || !bound) return fail('Room not found', 'ROOM_NOT_FOUND');
  if (bound.username !== username) return fail('Only the room creator can delete the room', 'UNAUTHORIZED');
  let result: XmlRpcValue;
  try {
    result = await peers.call(admin, 'swarmchat_delete_room', [room_id, username, selfId], cfg.deletePhaseTimeoutMs * 2 + cfg.peerCallTimeoutMs);
  } catch (err) {
    return fail(`Failed to contact administrator node: ${errText(err)}`, 'INTERNAL_ERROR');
  }
  if (!isStruct(result)) return fail('Administrator node sent an invalid reply', 'INTERNAL_ERROR');
  const tx = typeof result.transaction_id === 'string' ? result.transaction_id : undefined;
  if (result.success === true && tx) {
    session.sendFrame({ type: 'delete_room_initiated', data: { room_id, transaction_id: tx, status: 'in_progress' } });
    session.sendFrame({ type: 'delete_room_success', data: { room_id, transaction_id: tx, message: 'Room deleted successfully' } });
    return;
  }
  if (tx) session.sendFrame({ type: 'delete_room_initiated', data: { room_id, transaction_id: tx, status: 'in_progress' } });
  return fail(String(result.reason ?? 'Deletion failed'), String(result.error_code ?? 'DELETION_FAILED'), tx);
}
