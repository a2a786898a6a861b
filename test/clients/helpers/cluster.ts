/**
 * The real local cluster (NODE's startLocalCluster), loaded from the compiled tree because it
 * spawns dist/node-app/bin/chat-node.js; the tests assume `npm run build` ran (as npm test does).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalCluster, LocalClusterOptions } from '../../../node-app/src/cluster/local-cluster';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLIENT_BIN = path.join(ROOT, 'dist', 'node-app', 'bin', 'chat-client.js');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Base ports for a cluster of `count` nodes inside [from, to): the first block where all WS ports
 * and the XML-RPC ports `rpcOffset` above them are free, so two runs of the same test file (two
 * engineers, or CI beside a dev run) do not collide.
 */
export async function freePortBlock(from: number, to: number, count = 3, rpcOffset = 50): Promise<{ wsBasePort: number; rpcBasePort: number }> {
  for (let base = from; base + count - 1 + rpcOffset < to; base += count) {
    const ports = Array.from({ length: count }, (_, i) => [base + i, base + i + rpcOffset]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return { wsBasePort: base, rpcBasePort: base + rpcOffset };
  }
  throw new Error(`no free block of ${count} ports in ${from}-${to}`);
}

export async function startCluster(opts: LocalClusterOptions): Promise<{ cluster: LocalCluster; logDir: string }> {
  const compiled = path.join(ROOT, 'dist', 'node-app', 'src', 'cluster', 'local-cluster.js');
  if (!fs.existsSync(compiled) || !fs.existsSync(CLIENT_BIN)) {
    throw new Error('dist/ is missing: run `npm run build` before these tests');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startLocalCluster } = require(compiled) as typeof import('../../../node-app/src/cluster/local-cluster');
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clients-cluster-'));
  const cluster = await startLocalCluster({ logDir, ...opts });
  return { cluster, logDir };
}

/** Where tests put screenshots; UPDATE_SCREENSHOTS=1 also refreshes the README's copies. */
export function saveScreenshot(name: string, png: Buffer): string[] {
  const out = [path.join(ROOT, 'test-output', 'clients', name)];
  if (process.env.UPDATE_SCREENSHOTS === '1') out.push(path.join(ROOT, 'node-app', 'src', 'clients', 'screenshots', name));
  for (const file of out) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, png);
  }
  return out;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
