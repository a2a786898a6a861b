import { Construct } from 'constructs';
import { numberedNodes, SwarmChatDeploymentProps } from '../src/deployment';
import { SwarmChatStack } from '../src/stack';

export const DEMO_SUBNET = '192.168.56.0/24';

/**
 * The hand-written original's demo, exactly: node1..node3 on .101-.103, WebSocket 8081-8083,
 * XML-RPC 9091-9093, 2048 MiB and 2 CPUs per VM; everything else is a construct default.
 */
export function demoProps(subnet: string = DEMO_SUBNET): SwarmChatDeploymentProps {
  return {
    subnet,
    nodes: numberedNodes(subnet, 3, { firstHost: 101, webSocketBasePort: 8081, xmlRpcBasePort: 9091 }),
    memoryMiB: 2048,
    cpus: 2,
  };
}

export function addDemoStack(scope: Construct): SwarmChatStack {
  return new SwarmChatStack(scope, 'demo', demoProps());
}
