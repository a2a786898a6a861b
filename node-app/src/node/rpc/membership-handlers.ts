/**
 * XML-RPC methods (node-app/PROTOCOL.md §3) about a room's membership and the node itself: get_hosted_rooms,
 * heartbeat, join_room, leave_room and notify_member_disconnect, as the room's admin serves them.
 * A signed caller speaks only for its own members (§9.8).
 */
import type { PeerHandler } from '../../peers/peer-server';
import type { XmlRpcValue } from '../../peers/xmlrpc-codec';
import { checkActive, checkNameFree, checkNoLookalike } from '../../rooms/admission';
import { pythonIsoNow } from '../../util/time';
import type { NodeContext } from '../node-context';
import { checkArity, stringParam, type Struct } from '../../peers/rpc-params';

export function membershipHandlers(ctx: NodeContext): Record<string, PeerHandler> {
  const { cfg, peers, log, publisher } = ctx;
  const self = ctx.selfId;
  const notFound = { success: false, message: 'Room not found', error_code: 'ROOM_NOT_FOUND' };
  const maxName = cfg.maxUsernameChars * 4;
  return {
    get_hosted_rooms: (params): XmlRpcValue => {
      checkArity('get_hosted_rooms', params, []);
      return ctx.localRooms().map((r) => ({ ...r.summary(), node_address: cfg.rpcAddress }));
    },

    heartbeat: (params): XmlRpcValue => {
      checkArity('heartbeat', params, []);
      return { status: 'ok', node_id: self, timestamp: pythonIsoNow() };
    },

    join_room: async (params, rpcCtx): Promise<XmlRpcValue> => {
      checkArity('join_room', params, ['room_id', 'username', 'client_node_id']);
      const roomId = stringParam(params, 0, 'room_id');
      const username = stringParam(params, 1, 'username', maxName);
      const nodeId = stringParam(params, 2, 'client_node_id', 128);
      if (rpcCtx.peerId !== undefined && rpcCtx.peerId !== nodeId) return { success: false, message: 'client_node_id is not the calling node', error_code: 'UNAUTHORIZED', room_info: null };
      const room = ctx.localRoom(roomId);
      if (!room) return { ...notFound, room_info: null };
      if (!username) return { success: false, message: 'Missing username', error_code: 'INVALID_REQUEST', room_info: null };
      const refusal = checkActive(room) ?? checkNoLookalike(room, username) ?? checkNameFree(room, username, nodeId);
      if (refusal) return { success: false, message: refusal.message, error_code: refusal.code, room_info: null };
      const m = room.members.get(username);
      let message = 'Already in room, re-registered';
      if (m) {
        m.lastActivity = Date.now();
      } else {
        if (!peers.addressOf(nodeId)) log.warn('member joined from a node not in PEER_NODES; it will get no events', { peer: nodeId, room_id: roomId });
        await publisher.appendAndPublish(room, { kind: 'member_joined', username, nodeId, timestamp: pythonIsoNow() });
        message = 'Successfully joined room';
      }
      return { success: true, message, room_info: room.info(), messages: room.history as unknown as Struct[] };
    },

    leave_room: async (params, rpcCtx): Promise<XmlRpcValue> => {
      checkArity('leave_room', params, ['room_id', 'username', 'client_node_id']);
      const roomId = stringParam(params, 0, 'room_id');
      const username = stringParam(params, 1, 'username', maxName);
      const nodeId = stringParam(params, 2, 'client_node_id', 128);
      if (rpcCtx.peerId !== undefined && rpcCtx.peerId !== nodeId) return { success: false, message: 'client_node_id is not the calling node', error_code: 'UNAUTHORIZED' };
      const room = ctx.localRoom(roomId);
      if (!room) return { success: false, message: 'Room not found', error_code: 'ROOM_NOT_FOUND' };
      const m = room.members.get(username);
      // Only the node a member is on may take the member out (§9.8).
      if (!m || m.nodeId !== nodeId) return { success: false, message: 'Not in room', error_code: 'NOT_IN_ROOM' };
      await publisher.appendAndPublish(room, { kind: 'member_left', username, nodeId, timestamp: pythonIsoNow() });
      return { success: true, message: 'Successfully left room' };
    },

    notify_member_disconnect: async (params, rpcCtx): Promise<XmlRpcValue> => {
      checkArity('notify_member_disconnect', params, ['room_id', 'username', 'member_node_id', 'reason'], 3);
      const roomId = stringParam(params, 0, 'room_id');
      const username = stringParam(params, 1, 'username', maxName);
      const nodeId = stringParam(params, 2, 'member_node_id', 128);
      if (rpcCtx.peerId !== undefined && rpcCtx.peerId !== nodeId) return { success: false, message: 'member_node_id is not the calling node' };
      const reason = params.length > 3 ? stringParam(params, 3, 'reason', 200) : 'User disconnected';
      const room = ctx.localRoom(roomId);
      if (!room) return { success: false, message: 'Room not found' };
      const m = room.members.get(username);
      if (!m || m.nodeId !== nodeId) return { success: true, message: 'User not in room' };
      await publisher.appendAndPublish(room, { kind: 'member_left', username, nodeId, timestamp: pythonIsoNow(), reason });
      return { success: true, message: 'Member removed successfully' };
    },
  };
}
