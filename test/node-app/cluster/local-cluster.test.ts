/**
 * The local cluster module: a port already taken makes the start fail with a clear error and
 * leaves no process behind (it must not mistake another process's /healthz for its own node).
 */
import http from 'node:http';
import { startLocalCluster } from '../../../node-app/src/cluster/local-cluster';
import { freePortRange, portIsFree } from '../../support/ports';

jest.setTimeout(30_000);

it('fails clearly and stops the nodes it started when a port is taken by something else', async () => {
  // A stand-in that answers /healthz like a node, on node2's WebSocket port.
  const squatter = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', node_id: 'node2', pid: 1 }));
  });
  const wsBase = await freePortRange(3);
  const rpcBase = await freePortRange(3);
  await new Promise<void>((r) => squatter.listen(wsBase + 1, '127.0.0.1', r));
  try {
    let error: Error | undefined;
    try {
      const c = await startLocalCluster({ wsBasePort: wsBase, rpcBasePort: rpcBase, readyTimeoutMs: 8000 });
      await c.stop();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(new RegExp(`node2 exited during start .*port ${wsBase + 1} is answered by another process, pid 1`));
    // node1 and node3 came up and were stopped again: their ports are free.
    for (const port of [wsBase, wsBase + 2]) expect(await portIsFree(port)).toBe(true);
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});
