/**
 * What a peer speaks, as the node asks it (`link.kind`, `isOriginal()`, `supports()`): our server,
 * a real Python SimpleXMLRPCServer standing in for an original node (no LEGACY_PEERS given), a
 * configured legacy peer, and a peer that never answers (handled as an original after the wait).
 */
import { PeerLink, type PeerLinkOptions } from '../../../node-app/src/peers/peer-link';
import { type PeerServer } from '../../../node-app/src/peers/peer-server';
import { type PyServer, startPyServer, startSilentServer } from './helpers';
import { waitFor } from '../../support/wait';
import { loopbackPeerServer } from '../../support/peer-server';

describe('peer capabilities', () => {
  let ours: PeerServer;
  let py: PyServer;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  const links: PeerLink[] = [];
  const link = (address: string, opts: Partial<PeerLinkOptions> = {}) => {
    const l = new PeerLink({ selfId: 'node1', peerId: 'node2', address, ...opts });
    links.push(l);
    return l;
  };
  beforeAll(async () => {
    ours = await loopbackPeerServer({ nodeId: 'node2', handlers: { echo: (p) => p } });
    py = await startPyServer();
    silent = await startSilentServer();
  });
  afterAll(async () => {
    for (const l of links) l.close();
    await Promise.all([ours.close(), py.stop(), silent.close()]);
  });

  test('our node: not original, speaks swarmchat_* and batching', async () => {
    const l = link(`http://127.0.0.1:${ours.port}`);
    expect(l.kind).toBe('unknown');
    expect(await l.isOriginal()).toBe(false);
    expect(l.kind).toBe('ours');
    expect(await l.supports('swarmchat')).toBe(true);
    expect(await l.supports('batch')).toBe(true);
  });

  test('a link that must not batch still knows the peer is ours', async () => {
    const l = link(`http://127.0.0.1:${ours.port}`, { batching: false });
    expect(await l.supports('swarmchat')).toBe(true);
  });

  test('a Python node nobody listed in LEGACY_PEERS is recognised as original by its fault on the probe', async () => {
    const l = link(py.url);
    expect(await l.isOriginal()).toBe(true);
    expect(l.kind).toBe('original');
    expect(await l.supports('swarmchat')).toBe(false);
    expect(await l.supports('batch')).toBe(false);
    // and the stream then sends it plain calls, in order
    for (let i = 0; i < 5; i++) l.post('record', [`cap-${i}`]);
    await l.flush();
    expect(l.stats.batches).toBe(0);
    expect(l.stats.delivered).toBe(5);
  });

  test('a configured legacy peer is original without a probe', async () => {
    const l = link(py.url, { legacy: true });
    expect(l.kind).toBe('original');
    expect(await l.isOriginal()).toBe(true);
    expect(l.stats.calls).toBe(0);
  });

  test('concurrent questions share one probe', async () => {
    const l = link(`http://127.0.0.1:${ours.port}`);
    const answers = await Promise.all([l.isOriginal(), l.supports('batch'), l.supports('swarmchat'), l.isOriginal()]);
    expect(answers).toEqual([false, true, true, false]);
    expect(l.stats.calls).toBe(1);
  });

  test('a peer that does not answer the probe within the wait is handled as original, and stays unknown', async () => {
    const l = link(`http://127.0.0.1:${silent.port}`, { callTimeoutMs: 60_000 });
    expect(await l.isOriginal(100)).toBe(true);
    expect(await l.supports('swarmchat', 100)).toBe(false);
    expect(l.kind).toBe('unknown');
  });

  test('a peer that went down is asked again when it is back: here it returns as an original node', async () => {
    const mine = await loopbackPeerServer({ nodeId: 'node2', handlers: { echo: (p) => p } });
    const port = mine.port;
    const l = link(`http://127.0.0.1:${port}`, { maxAttempts: 1, callTimeoutMs: 1000, probeIntervalMs: 60_000 });
    expect(await l.isOriginal()).toBe(false);
    await mine.close();
    await expect(l.call('echo', [])).rejects.toThrow(/ECONNREFUSED|socket hang up|ECONNRESET/);
    expect(l.state).toBe('down');
    expect(l.kind).toBe('unknown');
    const back = await startPyServer(port);
    try {
      expect(await l.isOriginal()).toBe(true);
      expect(l.kind).toBe('original');
    } finally {
      await back.stop();
    }
  });

  test('with the cluster secret, an unlisted Python node is refused with a message naming LEGACY_PEERS', async () => {
    const l = link(py.url, { auth: { secret: 'correct horse battery staple 0123456789' } });
    await expect(l.call('echo', [1])).rejects.toThrow(/reply not signed.*LEGACY_PEERS/);
    await waitFor('the link to keep its kind unknown', () => l.kind === 'unknown');
  });
});
