/**
 * The local cluster module: a port already taken makes the start fail with a clear error and
 * leaves no process behind (it must not mistake another process's /healthz for its own node).
 */
import http from 'node:http';
import { startLocalCluster } from '../../node-app/src/cluster/local-cluster';

jest.setTimeout(30_000);

it('fails clearly and stops the nodes it started when a port is taken by something else', async () => {
  // A stand-in that answers /healthz like a node, on node2's WebSocket port.
  const squatter = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', node_id: 'node2', pid: 1 }));
  });
  await new Promise<void>((r) => squatter.listen(20251, '127.0.0.1', r));
  try {
    let error: Error | undefined;
    try {
      const c = await startLocalCluster({ wsBasePort: 20250, rpcBasePort: 20260, readyTimeoutMs: 8000 });
      await c.stop();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(/node2 exited during start .*port 20251 is answered by another process, pid 1/);
    // node1 and node3 came up and were stopped again: their ports are free.
    for (const port of [20250, 20252]) {
      const free = await new Promise<boolean>((resolve) => {
        const probe = http.createServer();
        probe.once('error', () => resolve(false));
        probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
      });
      expect(free).toBe(true);
    }
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});
