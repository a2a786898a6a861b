/** System (a): three of our nodes on loopback, started through NODE's `startLocalCluster` contract. */
import { randomBytes } from 'node:crypto';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { pinProcess } from '../measure/proc';
import { freePortRun, stopChild, trackChild } from './child';
import { distBenchDir } from './ws-ceiling';
import { BenchSystem, RunningSystem, StartOptions } from './types';

/** The shape promised in team contracts.md; declared here so the bench compiles before it exists. */
interface LocalCluster {
  nodes: { id: string; wsUrl: string; rpcUrl: string; pid: number; process: ChildProcess }[];
  stop(): Promise<void>;
}
type StartLocalCluster = (opts: {
  count?: number;
  wsBasePort: number;
  rpcBasePort: number;
  env?: Record<string, string>;
  dataDir?: string;
  logDir?: string;
}) => Promise<LocalCluster>;

/**
 * Always the compiled module, also under ts-jest: it spawns dist/node-app/bin/chat-node.js relative
 * to its own folder, which only works from dist/.
 */
const MODULE = path.join(distBenchDir(), '..', 'src', 'cluster', 'local-cluster.js');

/** True when NODE's local-cluster module has been built. */
export function oursAvailable(): boolean {
  return existsSync(MODULE);
}

/**
 * NODE's startLocalCluster when it exists; until then the same thing by the node's documented
 * environment (contracts.md), so the bench never depends on when that module lands.
 */
function loadStartLocalCluster(nodeArgs: string[]): StartLocalCluster {
  if (!oursAvailable() || nodeArgs.length > 0) return (opts) => spawnPerContract(opts, nodeArgs);
  return requireStartLocalCluster();
}

/** `nodeArgs` go to node itself (e.g. --cpu-prof, which NODE_OPTIONS does not accept). */
async function spawnPerContract(opts: Parameters<StartLocalCluster>[0], nodeArgs: string[]): Promise<LocalCluster> {
  const count = opts.count ?? 3;
  const ids = Array.from({ length: count }, (_, i) => `node${i + 1}`);
  const rpcUrl = (i: number): string => `http://127.0.0.1:${opts.rpcBasePort + i}`;
  const script = path.join(distBenchDir(), '..', 'bin', 'chat-node.js');
  if (!existsSync(script)) throw new Error(`neither ${MODULE} nor ${script} exists: build the node first`);
  const started: { id: string; wsUrl: string; rpcUrl: string; pid: number; process: ChildProcess }[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((n) => stopChild(n.process)));
  };
  try {
    for (let i = 0; i < count; i++) {
      const env: Record<string, string> = {
        ...(opts.env ?? {}),
        NODE_ID: ids[i],
        WEBSOCKET_HOST: '127.0.0.1',
        WEBSOCKET_PORT: String(opts.wsBasePort + i),
        XMLRPC_HOST: '127.0.0.1',
        XMLRPC_PORT: String(opts.rpcBasePort + i),
        XMLRPC_ADDRESS: rpcUrl(i),
        PEER_NODES: ids.map((id, k) => (k === i ? '' : `${id}:${rpcUrl(k)}`)).filter(Boolean).join(','),
      };
      if (opts.dataDir) {
        env.DATA_DIR = path.join(opts.dataDir, ids[i]);
        mkdirSync(env.DATA_DIR, { recursive: true });
      }
      const child = spawn(process.execPath, [...nodeArgs, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
      trackChild(child);
      started.push({ id: ids[i], wsUrl: `ws://127.0.0.1:${opts.wsBasePort + i}`, rpcUrl: rpcUrl(i), pid: child.pid!, process: child });
    }
    await Promise.all(started.map((n, i) => waitHealthy(opts.wsBasePort + i, n.process, 20000)));
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { nodes: started, stop: stopAll };
}

async function waitHealthy(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`chat-node on ${port} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`chat-node on ${port} not healthy within ${timeoutMs} ms`);
}

function requireStartLocalCluster(): StartLocalCluster {
  // A runtime require keeps this file compiling while the node is still being written.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(MODULE) as { startLocalCluster?: StartLocalCluster };
  if (typeof mod.startLocalCluster !== 'function') {
    throw new Error(`${MODULE} does not export startLocalCluster`);
  }
  return mod.startLocalCluster;
}

/** Extra environment for our nodes (e.g. from --ours-env), merged over the bench defaults. */
export function oursSystem(extraEnv: Record<string, string> = {}, durable = true, nodeArgs: string[] = [], name: 'ours' | 'ours-mem' = 'ours'): BenchSystem {
  return {
    name,
    label: durable ? 'swarm-chat (3 nodes)' : 'swarm-chat (3 nodes, no DATA_DIR)',
    async start(opts: StartOptions): Promise<RunningSystem> {
      const startLocalCluster = loadStartLocalCluster(nodeArgs);
      // Ports from the bench's range (22000-22999; Redis has 22800 up), ws and XML-RPC runs of three each.
      const wsBase = await freePortRun(3, 22000, 22399);
      const rpcBase = await freePortRun(3, 22400, 22799);
      const env: Record<string, string> = {
        LOG_LEVEL: 'warn',
        // As deployed: the peer link is authenticated (HMAC), so its cost is part of the figure.
        CLUSTER_SECRET: randomBytes(24).toString('hex'),
        ...extraEnv,
      };
      const cluster = await startLocalCluster({
        count: 3,
        wsBasePort: wsBase,
        rpcBasePort: rpcBase,
        env,
        dataDir: durable ? path.join(opts.workDir, 'ours-data') : undefined,
        logDir: path.join(opts.workDir, 'ours-logs'),
      });
      let pinned: string | null = opts.serverCores;
      for (const n of cluster.nodes) if (!pinProcess(n.pid, opts.serverCores).ok) pinned = null;
      const notes = [
        'LOG_LEVEL=warn, CLUSTER_SECRET set (HMAC-authenticated peer link, as deployed)',
        durable ? 'DATA_DIR set (durable room logs, as deployed)' : 'DATA_DIR unset (no durable room log)',
      ];
      for (const [k, v] of Object.entries(extraEnv)) notes.push(`${k}=${v}`);
      if (nodeArgs.length) notes.push(`node ${nodeArgs.join(' ')}`);
      return {
        name,
        label: this.label,
        protocol: 'swarmchat',
        nodeUrls: cluster.nodes.map((n) => n.wsUrl),
        nodePids: cluster.nodes.map((n) => n.pid),
        serverPids: cluster.nodes.map((n) => n.pid),
        serverRoles: cluster.nodes.map((n) => n.id),
        roomTotalOrder: true,
        pinnedTo: pinned,
        notes,
        logTail(role: string): string {
          try {
            return readFileSync(path.join(opts.workDir, 'ours-logs', `${role}.log`), 'utf8').slice(-1500);
          } catch {
            return '';
          }
        },
        stop: () => cluster.stop(),
      };
    },
  };
}
