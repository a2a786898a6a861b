/** System (a): three of our nodes on loopback, started through NODE's `startLocalCluster` contract. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { pinProcess } from '../measure/proc';
import { freePortRun } from './child';
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

const MODULE = path.join(__dirname, '..', '..', 'src', 'cluster', 'local-cluster');

/** True when NODE's local-cluster module is present (compiled next to us, or as TS source under jest). */
export function oursAvailable(): boolean {
  return existsSync(`${MODULE}.js`) || existsSync(`${MODULE}.ts`);
}

function loadStartLocalCluster(): StartLocalCluster {
  // A runtime require keeps this file compiling while the node is still being written.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(MODULE) as { startLocalCluster?: StartLocalCluster };
  if (typeof mod.startLocalCluster !== 'function') {
    throw new Error(`${MODULE} does not export startLocalCluster`);
  }
  return mod.startLocalCluster;
}

/** Extra environment for our nodes (e.g. from --ours-env), merged over the bench defaults. */
export function oursSystem(extraEnv: Record<string, string> = {}, durable = true): BenchSystem {
  return {
    name: 'ours',
    label: 'swarm-chat (3 nodes)',
    async start(opts: StartOptions): Promise<RunningSystem> {
      const startLocalCluster = loadStartLocalCluster();
      // Ports from the bench's range (common.md): 22000-22999, ws and XML-RPC runs of three each.
      const wsBase = await freePortRun(3, 22000, 22499);
      const rpcBase = await freePortRun(3, 22500, 22999);
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
      return {
        name: 'ours',
        label: this.label,
        protocol: 'swarmchat',
        nodeUrls: cluster.nodes.map((n) => n.wsUrl),
        nodePids: cluster.nodes.map((n) => n.pid),
        serverPids: cluster.nodes.map((n) => n.pid),
        roomTotalOrder: true,
        pinnedTo: pinned,
        notes,
        stop: () => cluster.stop(),
      };
    },
  };
}
