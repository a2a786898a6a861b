/** The fourteen XML-RPC methods a chat node serves to its peers (node-app/PROTOCOL.md §3 and our extensions), by concern. */
import type { PeerHandler } from '../../peers/peer-server';
import type { NodeContext } from '../node-context';
import { deletionHandlers } from './deletion-handlers';
import { membershipHandlers } from './membership-handlers';
import { messageHandlers } from './message-handlers';

export function nodeRpcHandlers(ctx: NodeContext): Record<string, PeerHandler> {
  return { ...membershipHandlers(ctx), ...messageHandlers(ctx), ...deletionHandlers(ctx) };
}
