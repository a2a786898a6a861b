/** Real processes and raw HTTP for the peer tests: Python's own xmlrpc, loopback only, always cleaned up. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';

const FIXTURES = path.join(__dirname, 'fixtures');

export interface PyServer {
  port: number;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts fixtures/py_server.py (a SimpleXMLRPCServer like a DS-G1-SMS node) on 127.0.0.1, port 0. */
export function startPyServer(port = 0): Promise<PyServer> {
  return startPortPrinter('python3', [path.join(FIXTURES, 'py_server.py'), '127.0.0.1', String(port)]);
}

/** Spawns a server process that prints its port on its first stdout line. */
function startPortPrinter(cmd: string, args: string[]): Promise<PyServer> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${cmd} server did not start within 10 s`));
    }, 10_000);
    proc.once('error', reject);
    createInterface({ input: proc.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const port = Number(line.trim());
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        proc,
        stop: () =>
          new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill('SIGCONT');
            proc.kill('SIGKILL');
          }),
      });
    });
  });
}

/** Starts our own peer server in a child process (compiled: needs `npm run build`). */
export function startChildPeerServer(): Promise<PyServer> {
  const script = path.resolve(__dirname, '../../../dist/test/node-app/peers/fixtures/peer-server-child.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  return startPortPrinter('node', [script]);
}

export type PyResult = { ok: unknown } | { fault: [number, string] } | { http: [number, string] };

/** Runs fixtures/py_client.py: Python's ServerProxy(allow_none=True) makes the calls, one result per line. */
export function runPyClient(url: string, calls: Array<[string, unknown[]]>, gzip = false): Promise<PyResult[]> {
  return new Promise((resolve, reject) => {
    const args = [path.join(FIXTURES, 'py_client.py'), url, JSON.stringify(calls)];
    if (gzip) args.push('gzip');
    execFile('python3', args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python client failed: ${err.message}\n${stderr}`));
      resolve(stdout.trim().split('\n').map((l) => JSON.parse(l) as PyResult));
    });
  });
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One raw HTTP request on a fresh connection, bounded in time. */
export function rawRequest(
  port: number,
  opts: {
    method?: string;
    path?: string;
    body?: Buffer | string;
    headers?: Record<string, string>;
    agent?: http.Agent;
    /** source address, e.g. 127.0.0.2 to call from another loopback address */
    localAddress?: string;
  },
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'POST',
        path: opts.path ?? '/RPC2',
        agent: opts.agent ?? false,
        localAddress: opts.localAddress,
        headers: { 'Content-Type': 'text/xml', ...(body ? { 'Content-Length': String(body.length) } : {}), ...opts.headers },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('raw request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A TCP server that accepts connections and never answers: a hung peer. */
export async function startSilentServer(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let total = 0;
  const srv = net.createServer((s) => {
    total++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    connections: () => total,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
