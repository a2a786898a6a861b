/** System (a): three of our nodes on loopback, started by the project's `startLocalCluster`. */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startLocalCluster } from '../../src/cluster/local-cluster';
import { pinProcess } from '../measure/proc';
import { freePortRun, READY_TIMEOUT_MS, trackChild } from './child';
import { BenchSystem, RunningSystem, StartOptions } from './types';

/** Connection caps raised for the bench's single client address (the other limits stay as deployed). */
const LOADGEN_LIMITS = { WS_MAX_CONNECTIONS_PER_ADDRESS: '100000', WS_MAX_CONNECTIONS: '100000' };

/** The chat node of another checkout's build (`--baseline DIR`). */
export function baselineNodeBin(dir: string | undefined): string {
  if (!dir) throw new Error('system ours-base needs --baseline DIR (a checkout of the project, built)');
  const bin = path.resolve(dir, 'dist', 'node-app', 'bin', 'chat-node.js');
  if (!existsSync(bin)) throw new Error(`--baseline ${dir}: ${bin} is missing (run npm run build in that checkout)`);
  return bin;
}

type OursName = 'ours' | 'ours-mem' | 'ours-offloop' | 'ours-base';

const LABELS: Record<OursName, string> = {
  ours: 'swarm-chat (3 nodes)',
  'ours-mem': 'swarm-chat (3 nodes, no DATA_DIR)',
  'ours-offloop': 'swarm-chat (3 nodes, sync off the event loop)',
  'ours-base': 'swarm-chat (3 nodes, baseline build)',
};

/**
 * Extra environment for our nodes (e.g. from --ours-env), merged over the bench defaults;
 * `nodeBin`: another build's chat node (the baseline), else this build's.
 */
export function oursSystem(extraEnv: Record<string, string> = {}, durable = true, nodeArgs: string[] = [], name: OursName = 'ours', nodeBin?: string): BenchSystem {
  return {
    name,
    label: LABELS[name],
    async start(opts: StartOptions): Promise<RunningSystem> {
      // Ports from the bench's range (22000-22999; Redis has 22800 up), ws and XML-RPC runs of three each.
      const wsBase = await freePortRun(3, 22000, 22399);
      const rpcBase = await freePortRun(3, 22400, 22799);
      const env: Record<string, string> = {
        LOG_LEVEL: 'warn',
        // As deployed: the peer link is authenticated (HMAC), so its cost is part of the figure.
        CLUSTER_SECRET: randomBytes(24).toString('hex'),
        // The load generator is one address standing in for thousands of clients: the per-address
        // and per-node connection caps (256 and 10,000 by default) would refuse it, not measure us.
        ...LOADGEN_LIMITS,
        ...extraEnv,
      };
      const cluster = await startLocalCluster({
        count: 3,
        wsBasePort: wsBase,
        rpcBasePort: rpcBase,
        env,
        dataDir: durable ? path.join(opts.workDir, 'ours-data') : undefined,
        logDir: path.join(opts.workDir, 'ours-logs'),
        // node's own flags (e.g. --cpu-prof, which NODE_OPTIONS does not accept).
        nodeArgs,
        nodeBin,
        readyTimeoutMs: READY_TIMEOUT_MS,
      });
      // Killed too if the harness itself dies.
      for (const n of cluster.nodes) trackChild(n.process);
      let pinned: string | null = opts.serverCores;
      for (const n of cluster.nodes) if (!pinProcess(n.pid, opts.serverCores).ok) pinned = null;
      const notes = [
        'LOG_LEVEL=warn, CLUSTER_SECRET set (HMAC-authenticated peer link, as deployed)',
        durable ? 'DATA_DIR set (durable room logs, as deployed)' : 'DATA_DIR unset (no durable room log)',
        ...Object.entries(LOADGEN_LIMITS).map(([k, v]) => `${k}=${v} (one load-generator address)`),
      ];
      for (const [k, v] of Object.entries(extraEnv)) notes.push(`${k}=${v}`);
      if (nodeArgs.length) notes.push(`node ${nodeArgs.join(' ')}`);
      if (nodeBin) notes.push(`chat node from ${nodeBin}`);
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
        async peerCalls(): Promise<number> {
          let total = 0;
          for (const n of cluster.nodes) total += sumMetric(await getText(`${n.wsUrl.replace(/^ws:/, 'http:')}/metrics`), 'swarmchat_peer_calls_total');
          return total;
        },
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

/** The sum of every sample of `name` (all label sets) in Prometheus exposition text. */
function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
  });
}
