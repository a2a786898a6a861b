/**
 * The peer layer against the real original node (../shared/ds-g1-sms, run by /usr/bin/python3, never
 * copied into the project): without LEGACY_PEERS, a link learns from its hello probe that the peer is
 * an original, so the node calls it with the original's methods; plain calls and the ordered stream
 * work; with the cluster secret set, the refusal names LEGACY_PEERS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { PeerLink, type PeerLinkOptions } from '../../node-app/src/peers/peer-link';
import { isStruct } from '../../node-app/src/peers/rpc-params';
import { describeWithOriginal } from '../support/original';
import { freePorts } from '../support/ports';
import { waitFor } from '../support/wait';


describeWithOriginal('peer capabilities against the original node', (original) => {
  let proc: ChildProcess;
  let rpcUrl: string;
  const links: PeerLink[] = [];
  const link = (opts: Partial<PeerLinkOptions> = {}) => {
    const l = new PeerLink({ selfId: 'node1', peerId: 'node4', address: rpcUrl, ...opts });
    links.push(l);
    return l;
  };

  beforeAll(async () => {
    const [wsPort, rpcPort] = await freePorts(2);
    rpcUrl = `http://127.0.0.1:${rpcPort}`;
    proc = spawn('/usr/bin/python3', ['-m', 'src.node.main'], {
      cwd: original.dir,
      env: {
        ...process.env,
        NODE_ID: 'node4',
        WEBSOCKET_HOST: '127.0.0.1',
        WEBSOCKET_PORT: String(wsPort),
        XMLRPC_HOST: '127.0.0.1',
        XMLRPC_PORT: String(rpcPort),
        XMLRPC_ADDRESS: rpcUrl,
        PEER_NODES: '',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const probe = new PeerLink({ selfId: 'node1', peerId: 'node4', address: rpcUrl, callTimeoutMs: 1000 });
    try {
      await waitFor('the original node to answer heartbeat', () => probe.call('heartbeat', []).then(() => true), 20_000, 100);
    } finally {
      probe.close();
    }
  }, 30_000);
  afterAll(async () => {
    for (const l of links) l.close();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
  });

  test('without LEGACY_PEERS it is recognised as original by its answer to the hello probe', async () => {
    const l = link();
    expect(await l.isOriginal()).toBe(true);
    expect(l.kind).toBe('original');
    expect(await l.supports('swarmchat')).toBe(false);
    expect(await l.supports('batch')).toBe(false);
  });

  test("the original's own methods work over the link, by call and by the ordered stream", async () => {
    const l = link();
    const hb = await l.call('heartbeat', []);
    expect(isStruct(hb) && hb.node_id).toBe('node4');
    l.post('get_hosted_rooms', []);
    l.post('heartbeat', []);
    await l.flush();
    expect(l.stats.delivered).toBe(2);
    expect(l.stats.batches).toBe(0);
  });

  test('with the cluster secret and the node not listed, the refusal names LEGACY_PEERS', async () => {
    const l = link({ auth: { secret: 'correct horse battery staple 0123456789' } });
    await expect(l.call('heartbeat', [])).rejects.toThrow(/LEGACY_PEERS/);
    // listed (legacy: true), it is original at once and answers
    const listed = link({ auth: { secret: 'correct horse battery staple 0123456789' }, legacy: true });
    expect(listed.kind).toBe('original');
    await expect(listed.call('heartbeat', [])).resolves.toMatchObject({ node_id: 'node4' });
  });
});
