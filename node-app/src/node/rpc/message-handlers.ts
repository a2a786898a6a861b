/**
 * XML-RPC methods (node-app/PROTOCOL.md §3) that carry messages and room events between nodes:
 * forward_message and our stream extension swarmchat_forward / swarmchat_forward_result (a send
 * forwarded to the admin, forwarding.ts), and receive_message_broadcast /
 * receive_member_event_broadcast (an admin's broadcast to the nodes holding members).
 */
import type { PeerHandler } from '../../peers/peer-server';
import { XmlRpcFault, type XmlRpcValue } from '../../peers/xmlrpc-codec';
import type { NodeContext } from '../node-context';
import { checkArity, stringParam, structParam } from '../../peers/rpc-params';
import { toChatMessage } from '../wire-converters';

/** Event types a peer may relay to our clients via receive_member_event_broadcast (§9.8: not any string). */
const RELAYABLE_EVENTS = new Set(['member_joined', 'member_left', 'delete_room_initiated']);

export function messageHandlers(ctx: NodeContext): Record<string, PeerHandler> {
  const { cfg, peers, forwarding, remote, delivery, store } = ctx;
  const maxName = cfg.maxUsernameChars * 4;
  return {
    forward_message: async (params, rpcCtx): Promise<XmlRpcValue> => {
      checkArity('forward_message', params, ['room_id', 'username', 'content', 'sender_node_id']);
      const roomId = stringParam(params, 0, 'room_id');
      const username = stringParam(params, 1, 'username', maxName);
      const nodeId = stringParam(params, 3, 'sender_node_id', 128);
      return forwarding.admit(roomId, username, params[2], nodeId, rpcCtx.peerId);
    },

    /**
     * Extension: forward_message over the ordered, batched stream. Returns at once; the result goes
     * back on our stream to the sender's node *after* the message's broadcast, so that node delivers
     * new_message to its sender before message_sent without waiting, and many sends share one HTTP call.
     */
    swarmchat_forward: (params, rpcCtx): XmlRpcValue => {
      checkArity('swarmchat_forward', params, ['request_id', 'room_id', 'username', 'content', 'sender_node_id']);
      const requestId = stringParam(params, 0, 'request_id', 64);
      const roomId = stringParam(params, 1, 'room_id');
      const username = stringParam(params, 2, 'username', maxName);
      const nodeId = stringParam(params, 4, 'sender_node_id', 128);
      void forwarding.admit(roomId, username, params[3], nodeId, rpcCtx.peerId).then((result) =>
        peers.post(nodeId, 'swarmchat_forward_result', [requestId, result]),
      );
      return true;
    },

    swarmchat_forward_result: (params): XmlRpcValue => {
      checkArity('swarmchat_forward_result', params, ['request_id', 'result']);
      const requestId = stringParam(params, 0, 'request_id', 64);
      const result = structParam(params, 1, 'result');
      forwarding.settle(requestId, result);
      return true;
    },

    receive_message_broadcast: (params): XmlRpcValue => {
      checkArity('receive_message_broadcast', params, ['room_id', 'message_data']);
      const roomId = stringParam(params, 0, 'room_id');
      const msg = toChatMessage(structParam(params, 1, 'message_data'), roomId);
      if (!msg) throw new XmlRpcFault(1, "<class 'ValueError'>:message_data is not a valid message");
      // Our own rooms are sequenced here; a copy from elsewhere is stale or forged. Replicated
      // rooms are delivered from the committed log, never from a broadcast.
      if (ctx.localRoom(roomId) || store.replicates(roomId)) return true;
      remote.noteMessage(roomId, msg);
      delivery.message(roomId, msg);
      return true;
    },

    receive_member_event_broadcast: (params): XmlRpcValue => {
      checkArity('receive_member_event_broadcast', params, ['room_id', 'event_type', 'event_data']);
      const roomId = stringParam(params, 0, 'room_id');
      const type = stringParam(params, 1, 'event_type', 64);
      const data = structParam(params, 2, 'event_data');
      if (!RELAYABLE_EVENTS.has(type)) throw new XmlRpcFault(1, `<class 'ValueError'>:event type "${type}" is not relayed`);
      if (ctx.localRoom(roomId)) return true;
      // Membership of replicated rooms is delivered from the committed log (delete_room_initiated is not logged).
      if (type !== 'delete_room_initiated' && store.replicates(roomId)) return true;
      // A remote joiner may already be registered when its own member_joined arrives; it is not news to it.
      const except = type === 'member_joined' && typeof data.username === 'string' ? data.username : undefined;
      delivery.frame(roomId, JSON.stringify({ type, data: { ...data, room_id: roomId } }), except);
      if (type === 'member_left' && typeof data.username === 'string') delivery.evict(roomId, data.username);
      return true;
    },
  };
}
