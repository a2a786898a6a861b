/**
 * One chat node in the test's own process, on loopback: ports from the OS unless `env` names them,
 * logs silenced. For suites that need a node's internals or one node only; clusters of real
 * processes come from cluster.ts.
 */
import { loadConfig } from '../../node-app/src/config';
import { nullLogger } from '../../node-app/src/log';
import { startChatNode, type RunningChatNode } from '../../node-app/src/node/main';

export type LoopbackNode = RunningChatNode & { wsUrl: string };

export async function startLoopbackNode(env: Record<string, string> = {}): Promise<LoopbackNode> {
  const running = await startChatNode(
    loadConfig({ NODE_ID: 'node1', WEBSOCKET_HOST: '127.0.0.1', WEBSOCKET_PORT: '0', XMLRPC_HOST: '127.0.0.1', XMLRPC_PORT: '0', ...env }),
    nullLogger,
  );
  return Object.assign(running, { wsUrl: `ws://127.0.0.1:${running.wsPort}` });
}

/**
 * A node whose one peer, `py1` on `pyPort`, is an original Python node named in LEGACY_PEERS; the
 * node's ports are fixed here because the Python side must be told them before it starts.
 */
export function startLoopbackNodeBesidePython(ports: { ws: number; rpc: number; py: number }): Promise<LoopbackNode> {
  return startLoopbackNode({
    WEBSOCKET_PORT: String(ports.ws),
    XMLRPC_PORT: String(ports.rpc),
    XMLRPC_ADDRESS: `http://127.0.0.1:${ports.rpc}`,
    PEER_NODES: `py1:http://127.0.0.1:${ports.py}`,
    LEGACY_PEERS: 'py1',
  });
}
