import { Construct } from 'constructs';
import { SwarmChatStack } from '../src/stack';
import { demoProps } from './demo';

/**
 * The Swarm CI lab's subnet, the one place the lab reads it from: the bridge, the namespaces'
 * addresses and everything the synthesized files say about addresses follow from it.
 */
export const LAB_SUBNET = '192.168.61.0/24';

/** The stack id: the lab's files are in `cdktf.out/stacks/lab/`. */
export const LAB_STACK_ID = 'lab';

/** The demo stack with only the subnet changed; the lab runs its scripts and stack file unchanged. */
export function addLabStack(scope: Construct): SwarmChatStack {
  return new SwarmChatStack(scope, LAB_STACK_ID, demoProps(LAB_SUBNET));
}
