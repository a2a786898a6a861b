/**
 * A real local cluster for suites that run real node processes (NODE's startLocalCluster), loaded
 * from the compiled tree because it spawns dist/node-app/bin/chat-node.js: these suites need a build
 * first (`npm test` runs one). Ports are ephemeral unless a suite asks otherwise.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalCluster, LocalClusterOptions } from '../../node-app/src/cluster/local-cluster';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLIENT_BIN = path.join(ROOT, 'dist', 'node-app', 'bin', 'chat-client.js');

export async function startCluster(opts: Partial<LocalClusterOptions> = {}): Promise<{ cluster: LocalCluster; logDir: string }> {
  const compiled = path.join(ROOT, 'dist', 'node-app', 'src', 'cluster', 'local-cluster.js');
  if (!fs.existsSync(compiled) || !fs.existsSync(CLIENT_BIN)) {
    throw new Error('dist/ is missing: run `npm run build` before these tests');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startLocalCluster } = require(compiled) as typeof import('../../node-app/src/cluster/local-cluster');
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-cluster-'));
  const cluster = await startLocalCluster({ wsBasePort: 0, rpcBasePort: 0, logDir, ...opts });
  return { cluster, logDir };
}

/** `host:port` of node i (1-based) of a cluster, as the clients take it. */
export function nodeAddress(cluster: LocalCluster, i: number): string {
  return new URL(cluster.nodes[i - 1].wsUrl).host;
}
