/**
 * Where the real original DS-G1-SMS (GPL, never part of this project) is, for the interop suites:
 * `DS_G1_SMS_DIR` names a checkout of ds-g1-sms/node (its `src/` holds `node` and `client`), else
 * `../shared/ds-g1-sms` beside the repository (or beside its worktree folder) is used. It runs with
 * Debian's python3-websockets under /usr/bin/python3. When it is missing the suites are skipped,
 * loudly, with this text saying what to provide.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ORIGINAL_PYTHON = process.env.DS_G1_SMS_PYTHON ?? '/usr/bin/python3';

export interface Original {
  dir: string;
}

const repo = path.resolve(__dirname, '..', '..');

/** The original's folder, or why it cannot be used. */
export function findOriginal(): Original | { missing: string } {
  const candidates = process.env.DS_G1_SMS_DIR
    ? [process.env.DS_G1_SMS_DIR]
    : [path.join(repo, '..', 'shared', 'ds-g1-sms'), path.join(repo, '..', '..', 'shared', 'ds-g1-sms')];
  const dir = candidates.find((d) => existsSync(path.join(d, 'src', 'client', 'chat_client.py')) && existsSync(path.join(d, 'src', 'node', 'main.py')));
  if (!dir) {
    return { missing: `the original DS-G1-SMS is not at ${candidates.join(' or ')}; set DS_G1_SMS_DIR to a checkout of ds-g1-sms/node (commit aa7d372a) to run these tests` };
  }
  try {
    execFileSync(ORIGINAL_PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' });
  } catch {
    return { missing: `${ORIGINAL_PYTHON} cannot import websockets; apt-get install python3-websockets (or set DS_G1_SMS_PYTHON)` };
  }
  return { dir: path.resolve(dir) };
}

/** `describe` when the original is here, else a skipped `describe` and a warning nobody can miss. */
export function describeWithOriginal(name: string, body: (original: Original) => void): void {
  const found = findOriginal();
  if ('missing' in found) {
    const line = '!'.repeat(100);
    // eslint-disable-next-line no-console
    console.warn(`${line}\nSKIPPED "${name}": ${found.missing}\n${line}`);
    describe.skip(name, () => it('needs the original DS-G1-SMS', () => undefined));
    return;
  }
  describe(name, () => body(found));
}

export interface OriginalNode {
  id: string;
  wsUrl: string;
  rpcUrl: string;
  process: ChildProcess;
  /** Everything it logged (its stderr), for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts the original node (`python -m src.node.main`) on 127.0.0.1 and waits for both its ports. */
export async function startOriginalNode(original: Original, opts: { id: string; wsPort: number; rpcPort: number; peers: string }): Promise<OriginalNode> {
  const rpcUrl = `http://127.0.0.1:${opts.rpcPort}`;
  const child = spawn(ORIGINAL_PYTHON, ['-m', 'src.node.main'], {
    cwd: original.dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ID: opts.id,
      WEBSOCKET_HOST: '127.0.0.1',
      WEBSOCKET_PORT: String(opts.wsPort),
      XMLRPC_HOST: '127.0.0.1',
      XMLRPC_PORT: String(opts.rpcPort),
      XMLRPC_ADDRESS: rpcUrl,
      PEER_NODES: opts.peers,
      PYTHONUNBUFFERED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const end = Date.now() + 15_000;
  while (!((await portOpen(opts.wsPort)) && (await portOpen(opts.rpcPort)))) {
    if (child.exitCode !== null) throw new Error(`original node ${opts.id} exited (${child.exitCode}):\n${out.slice(-2000)}`);
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`original node ${opts.id} did not open its ports:\n${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    id: opts.id,
    wsUrl: `ws://127.0.0.1:${opts.wsPort}`,
    rpcUrl,
    process: child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
