import { Construct } from 'constructs';
import { numberedNodes } from '../src/deployment';
import { SwarmChatStack } from '../src/stack';
import { demoProps } from './demo';

/** Inside VirtualBox's default host-only range (192.168.56.0/21), beside the demo's subnet. */
export const FIVE_NODES_SUBNET = '192.168.60.0/24';

/**
 * The demo with five nodes on another subnet: more nodes is one number, everything else follows.
 * Its README walks through reaching it from three running nodes (3 -> 5 on a live stack).
 */
export function addFiveNodesStack(scope: Construct): SwarmChatStack {
  return new SwarmChatStack(scope, 'five-nodes', {
    ...demoProps(FIVE_NODES_SUBNET),
    nodes: numberedNodes(FIVE_NODES_SUBNET, 5),
    stackFileName: 'docker-compose.five-nodes.yml',
    chat: { stackName: 'chat-five' },
    grownFromNodes: 3,
  });
}
