/**
 * A peer whose host name no longer resolves (and whose resolver hangs, as Docker's embedded DNS can
 * for a dnsrr service with no task) must not make a healthy peer unreachable. Regression for issue 5:
 * node2 down 150 s → node1 declared the healthy node3 "Node unreachable", because every new
 * connection did its own getaddrinfo on libuv's 4-thread pool and node2's piled-up lookups starved
 * node3's. Runs a child in a network namespace this test creates, with its own /etc/hosts and a
 * resolver that never answers (needs root and iproute2, like the other namespace tests).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

jest.setTimeout(60_000);

const ns = `scfix${process.pid}`;
const etc = `/etc/netns/${ns}`;
const child = path.join(__dirname, '..', '..', 'dist', 'test', 'e2e', 'fixtures', 'dead-name-child.js');

beforeAll(() => {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  mkdirSync(etc, { recursive: true });
  // `ip netns exec` bind-mounts these over /etc/resolv.conf and /etc/hosts for the child only.
  writeFileSync(path.join(etc, 'resolv.conf'), 'nameserver 127.0.0.53\noptions timeout:2 attempts:2\n');
  writeFileSync(path.join(etc, 'hosts'), '127.0.0.1 localhost live-peer\n');
});

afterAll(() => {
  try {
    execFileSync('ip', ['netns', 'del', ns]);
  } finally {
    rmSync(etc, { recursive: true, force: true });
  }
});

function runChild(): Promise<{ liveOk: number; liveFailed: number; liveMs: number[]; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, child], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 40_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`child exited ${code}: ${out} ${err}`));
      }
    });
  });
}

it('a peer whose name hangs in DNS costs a healthy peer nothing: fresh connections to it still answer at once', async () => {
  const r = await runChild();
  expect(r.errors).toEqual([]);
  expect(r.liveOk).toBe(5);
  // Served from /etc/hosts at once; before the fix the first call waited behind ~150 hung lookups.
  expect(Math.max(...r.liveMs)).toBeLessThan(1000);
});
