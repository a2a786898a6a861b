/**
 * `npm run cluster`: three nodes on 127.0.0.1 on the demo's ports (WebSocket 8081-8083, XML-RPC
 * 9091-9093), logs to the terminal, Ctrl-C stops them all.
 */
import { startLocalCluster } from './local-cluster';

async function main(): Promise<void> {
  const count = Number(process.env.CLUSTER_SIZE || 3);
  const wsBasePort = Number(process.env.CLUSTER_WS_BASE_PORT || 8081);
  const rpcBasePort = Number(process.env.CLUSTER_RPC_BASE_PORT || 9091);
  const logDir = process.env.CLUSTER_LOG_DIR || undefined;
  const cluster = await startLocalCluster({ count, wsBasePort, rpcBasePort, logDir, inheritOutput: !logDir });
  process.stderr.write(
    [
      '',
      `swarm-chat: ${cluster.nodes.length} nodes running on 127.0.0.1`,
      ...cluster.nodes.map((n) => `  ${n.id}: ${n.wsUrl}  (health ${n.wsUrl.replace('ws:', 'http:')}/healthz, XML-RPC ${n.rpcUrl})`),
      '',
      'Chat in a terminal:',
      `  node dist/node-app/bin/chat-client.js --user alice ${cluster.nodes.map((n) => n.wsUrl).join(' ')}`,
      `or in a browser: ${cluster.nodes[0].wsUrl.replace('ws:', 'http:')}/`,
      'Press Ctrl-C to stop all nodes.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping nodes...\n');
    cluster.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const n of cluster.nodes) {
    n.process.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`${n.id} exited (code ${code}, signal ${signal})\n`);
    });
  }
}

main().catch((err) => {
  process.stderr.write(`cluster failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
