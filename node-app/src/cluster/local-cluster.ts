/**
 * Three (or N) real chat-node processes on 127.0.0.1, for trying the chat and for integration
 * tests: node i listens on wsBasePort+i-1 / rpcBasePort+i-1, knows all others as peers, and is
 * ready when its /healthz answers 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface LocalClusterOptions {
  count?: number;
  /** Node i listens on wsBasePort+i-1; 0 picks free ports (tests that may run side by side). */
  wsBasePort: number;
  /** Node i serves XML-RPC on rpcBasePort+i-1; 0 picks free ports. */
  rpcBasePort: number;
  /** Host name under which the other nodes reach node `id` (PEER_NODES); default 127.0.0.1. */
  peerHost?: (id: string) => string;
  /** Extra environment for every node (e.g. faster heartbeats in tests). */
  env?: Record<string, string>;
  /** Per-node DATA_DIR is `<dataDir>/<node id>` when set. */
  dataDir?: string;
  /** Per-node logs go to `<logDir>/<node id>.log` when set; otherwise they are discarded. */
  logDir?: string;
  /** Mirror node output to this process's stdout/stderr (the `npm run cluster` CLI). */
  inheritOutput?: boolean;
  /** Extra arguments for each node's `node` process (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** The node's compiled entry point (default this build's `CHAT_NODE_BIN`; the bench's baseline runs another build's). */
  nodeBin?: string;
  /** How long a node may take to answer /healthz. Default 15 s. */
  readyTimeoutMs?: number;
  /** Nodes started by startLocalCluster (default all `count`); the others wait for startNode (a node added later). */
  initial?: string[];
  /** A node's PEER_NODES as node ids (default every node of the cluster); startNode may change it (a topology edit). */
  peers?: Record<string, string[]>;
  /** Wait for /healthz 200 on start (default true); false: wait until it answers at all (a node that is not ready yet). */
  waitReady?: boolean;
}

export interface LocalClusterNode {
  id: string;
  wsUrl: string;
  rpcUrl: string;
  pid: number;
  process: ChildProcess;
}

export interface LocalCluster {
  nodes: LocalClusterNode[];
  stop(): Promise<void>;
  stopNode(id: string): Promise<void>;
  /** (Re)starts a node; `peers` replaces its PEER_NODES (node ids), as a re-synthesized stack would. */
  startNode(id: string, opts?: { peers?: string[]; waitReady?: boolean }): Promise<void>;
}

/**
 * The compiled node program. From dist/node-app/src/cluster it is dist/node-app/bin; when this module
 * runs from source (ts-jest), it is still the compiled one under dist/ (tests assume a build).
 */
const up3 = path.resolve(__dirname, '..', '..', '..');
export const CHAT_NODE_BIN =
  path.basename(up3) === 'dist'
    ? path.join(up3, 'node-app', 'bin', 'chat-node.js')
    : path.join(up3, 'dist', 'node-app', 'bin', 'chat-node.js');

/** The pid that answers /healthz on the port, or undefined while nothing (healthy) answers. */
function healthyPid(port: number, anyStatus = false): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200 && !anyStatus) return resolve(undefined);
        try {
          const pid = (JSON.parse(body) as { pid?: unknown }).pid;
          resolve(typeof pid === 'number' ? pid : -1);
        } catch {
          resolve(-1);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/**
 * `n` TCP ports that are free on 127.0.0.1 right now (the OS picks them; all are held open together
 * so they differ). Another process could take one before it is used; the start then fails clearly.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<net.Server>((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve(srv));
      }),
    ),
  );
  const ports = servers.map((srv) => (srv.address() as net.AddressInfo).port);
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}

export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const count = opts.count ?? 3;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  const picked = opts.wsBasePort === 0 || opts.rpcBasePort === 0 ? await freePorts(count * 2) : [];
  // One secret per cluster run, so its peer link is authenticated like a deployed one.
  const secret = opts.env?.CLUSTER_SECRET ?? randomBytes(24).toString('hex');
  const specs = Array.from({ length: count }, (_, i) => ({
    id: `node${i + 1}`,
    wsPort: opts.wsBasePort === 0 ? picked[i] : opts.wsBasePort + i,
    rpcPort: opts.rpcBasePort === 0 ? picked[count + i] : opts.rpcBasePort + i,
  }));
  // Peers are named by IP unless the caller names their hosts (e.g. to test name resolution).
  const peerHost = opts.peerHost ?? (() => '127.0.0.1');
  const peerIds: Record<string, string[]> = Object.fromEntries(specs.map((s) => [s.id, opts.peers?.[s.id] ?? specs.map((x) => x.id)]));
  const peerList = (id: string) => specs.filter((s) => s.id === id || peerIds[id].includes(s.id)).map((s) => `${s.id}:http://${peerHost(s.id)}:${s.rpcPort}`).join(',');
  const nodes: LocalClusterNode[] = [];
  /** Every child ever spawned, so a failed start stops the ones that did come up. */
  const spawned: ChildProcess[] = [];
  if (opts.logDir) mkdirSync(opts.logDir, { recursive: true });

  const spawnNode = async (id: string, waitReady = opts.waitReady ?? true): Promise<LocalClusterNode> => {
    const spec = specs.find((s) => s.id === id);
    if (!spec) throw new Error(`unknown node "${id}": this cluster has ${specs.map((s) => s.id).join(', ')}`);
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NODE_ID: spec.id,
      WEBSOCKET_HOST: '127.0.0.1',
      WEBSOCKET_PORT: String(spec.wsPort),
      XMLRPC_HOST: '127.0.0.1',
      XMLRPC_PORT: String(spec.rpcPort),
      XMLRPC_ADDRESS: `http://127.0.0.1:${spec.rpcPort}`,
      PEER_NODES: peerList(id),
      CLUSTER_SECRET: secret,
      ...(opts.env ?? {}),
    };
    if (opts.dataDir) {
      env.DATA_DIR = path.join(opts.dataDir, spec.id);
      mkdirSync(env.DATA_DIR, { recursive: true });
    }
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.nodeBin ?? CHAT_NODE_BIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // The last few KB of output, to say why a node that dies during start died.
    let tail = '';
    const keepTail = (d: Buffer) => {
      tail = (tail + d.toString('utf8')).slice(-4096);
    };
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    spawned.push(child);
    if (opts.logDir) {
      const out = createWriteStream(path.join(opts.logDir, `${spec.id}.log`), { flags: 'a' });
      // Two sources share one file: neither may end it (that crashed with "write after end").
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
      child.once('close', () => out.end());
    }
    if (opts.inheritOutput) {
      child.stdout?.pipe(process.stdout, { end: false });
      child.stderr?.pipe(process.stderr, { end: false });
    }
    const started = Date.now();
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    // Bounded wait: poll /healthz until *this* child answers (not whatever else holds the port),
    // or the node dies, or the time is up.
    for (;;) {
      const pid = await healthyPid(spec.wsPort, !waitReady);
      if (pid === child.pid) break;
      if (exited) {
        const holder = pid !== undefined ? ` (port ${spec.wsPort} is answered by another process, pid ${pid})` : '';
        const last = tail.trim().split('\n').slice(-3).join('\n');
        throw new Error(`${spec.id} exited during start (code ${child.exitCode})${holder}; last output:\n${last}`);
      }
      if (Date.now() - started > readyTimeoutMs) {
        child.kill('SIGKILL');
        throw new Error(`${spec.id} did not answer /healthz on port ${spec.wsPort} within ${readyTimeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      id: spec.id,
      wsUrl: `ws://127.0.0.1:${spec.wsPort}`,
      rpcUrl: `http://127.0.0.1:${spec.rpcPort}`,
      pid: child.pid ?? -1,
      process: child,
    };
  };

  const stopProcess = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      // A stopped (SIGSTOPped) node cannot act on SIGTERM until continued.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
    });

  const started = await Promise.allSettled(specs.filter((s) => !opts.initial || opts.initial.includes(s.id)).map((s) => spawnNode(s.id)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(spawned.map(stopProcess));
    throw failed.reason;
  }
  for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value);

  return {
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => stopProcess(n.process)));
    },
    async stopNode(id: string) {
      const n = nodes.find((x) => x.id === id);
      if (!n) throw new Error(`unknown node "${id}"`);
      await stopProcess(n.process);
    },
    async startNode(id: string, o: { peers?: string[]; waitReady?: boolean } = {}) {
      if (o.peers) peerIds[id] = o.peers;
      const i = nodes.findIndex((x) => x.id === id);
      if (i < 0) {
        nodes.push(await spawnNode(id, o.waitReady));
        return;
      }
      if (nodes[i].process.exitCode === null && nodes[i].process.signalCode === null) {
        throw new Error(`${id} is still running (pid ${nodes[i].pid})`);
      }
      nodes[i] = await spawnNode(id, o.waitReady);
    },
  };
}
