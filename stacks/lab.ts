import { Construct } from 'constructs';
import { numberedNodes } from '../src/deployment';
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

/** The lab grown by one node: the Swarm suite adds node4 to the running lab stack with these files. */
export const LAB_GROWN_STACK_ID = 'lab-grown';

/** The lab with a fourth node (one more engine in the suite): same subnet, stack name and first three nodes. */
export function addLabGrownStack(scope: Construct): SwarmChatStack {
  return new SwarmChatStack(scope, LAB_GROWN_STACK_ID, { ...demoProps(LAB_SUBNET), nodes: numberedNodes(LAB_SUBNET, 4) });
}
