/**
 * XML-RPC methods of room deletion (node-app/PROTOCOL.md §3, §4): the participant's prepare_delete_room,
 * commit_delete_room and rollback_delete_room, and our extension swarmchat_delete_room (a creator
 * connected to another of our nodes asks the admin to coordinate). The logic is room-deletion.ts.
 */
import type { PeerHandler } from '../../peers/peer-server';
import type { XmlRpcValue } from '../../peers/xmlrpc-codec';
import { cannotDelete } from '../../rooms/admission';
import type { NodeContext } from '../node-context';
import { checkArity, stringParam } from '../../peers/rpc-params';

export function deletionHandlers(ctx: NodeContext): Record<string, PeerHandler> {
  const { cfg, deletion } = ctx;
  const maxName = cfg.maxUsernameChars * 4;
  return {
    prepare_delete_room: (params): XmlRpcValue => {
      checkArity('prepare_delete_room', params, ['room_id', 'transaction_id', 'coordinator_node']);
      const roomId = stringParam(params, 0, 'room_id');
      const tx = stringParam(params, 1, 'transaction_id', 128);
      return deletion.prepare(roomId, tx);
    },

    commit_delete_room: (params): XmlRpcValue => {
      checkArity('commit_delete_room', params, ['room_id', 'transaction_id', 'room_name'], 2);
      const roomId = stringParam(params, 0, 'room_id');
      const tx = stringParam(params, 1, 'transaction_id', 128);
      return deletion.commit(roomId, tx, params[2]);
    },

    rollback_delete_room: (params): XmlRpcValue => {
      checkArity('rollback_delete_room', params, ['room_id', 'transaction_id']);
      const roomId = stringParam(params, 0, 'room_id');
      const tx = stringParam(params, 1, 'transaction_id', 128);
      return deletion.rollback(roomId, tx);
    },

    /** Extension: deletion requested by a creator connected to another of our nodes. */
    swarmchat_delete_room: async (params): Promise<XmlRpcValue> => {
      checkArity('swarmchat_delete_room', params, ['room_id', 'username', 'origin_node']);
      const roomId = stringParam(params, 0, 'room_id');
      const username = stringParam(params, 1, 'username', maxName);
      const origin = stringParam(params, 2, 'origin_node', 128);
      const room = ctx.localRoom(roomId);
      if (!room) return { success: false, reason: 'Room not found', error_code: 'ROOM_NOT_FOUND' };
      const m = room.members.get(username);
      if (username !== room.creatorId || !m || m.nodeId !== origin) {
        return { success: false, reason: 'Only the room creator can delete the room', error_code: 'UNAUTHORIZED' };
      }
      if (room.state !== 'ACTIVE') {
        const r = cannotDelete(room);
        return { success: false, reason: r.message, error_code: r.code };
      }
      const r = await deletion.coordinate(room, username, () => undefined);
      return r.ok
        ? { success: true, transaction_id: r.tx }
        : { success: false, transaction_id: r.tx, reason: r.reason, error_code: 'DELETION_FAILED' };
    },
  };
}
