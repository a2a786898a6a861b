/**
 * The trusted peer link: a call without a valid signature, with a stale timestamp or replayed is refused
 * before any handler runs (the handler's counter proves nothing changed); listed Python peers, identified
 * by their source address, may call unsigned.
 */
import { PeerLink } from '../../../node-app/src/peers/peer-link';
import { RequestSigner } from '../../../node-app/src/peers/peer-auth';
import { type PeerHandlerContext, type PeerServer, startPeerServer } from '../../../node-app/src/peers/peer-server';
import { decodeMethodResponse, encodeMethodCall } from '../../../node-app/src/peers/xmlrpc-codec';
import { rawRequest, runPyClient } from './helpers';

const SECRET = 'correct horse battery staple 0123456789';

describe('signed peer calls', () => {
  let server: PeerServer;
  let mutations = 0;
  const contexts: PeerHandlerContext[] = [];
  const links: PeerLink[] = [];

  async function start(legacyPeers: string[]): Promise<void> {
    server = await startPeerServer({
      host: '127.0.0.1',
      port: 0,
      nodeId: 'node2',
      auth: { secret: SECRET, legacyPeers, maxSkewMs: 5000 },
      handlers: {
        mutate: (_p, ctx) => {
          mutations++;
          contexts.push(ctx);
          return mutations;
        },
      },
    });
  }
  const newLink = (opts: Partial<ConstructorParameters<typeof PeerLink>[0]> = {}) => {
    const l = new PeerLink({ selfId: 'node1', peerId: 'node2', address: `http://127.0.0.1:${server.port}`, auth: { secret: SECRET }, ...opts });
    links.push(l);
    return l;
  };
  const body = Buffer.from(encodeMethodCall('mutate', []));
  const signed = (secret = SECRET, now = Date.now(), path = '/RPC2') => new RequestSigner(secret, 'node1', 'node2').sign(path, body, now).headers;

  beforeEach(() => {
    mutations = 0;
    contexts.length = 0;
  });
  afterEach(async () => {
    for (const l of links.splice(0)) l.close();
    await server?.close();
  });

  test('a link with the cluster secret gets through; the handler sees who called', async () => {
    await start([]);
    expect(await newLink().call('mutate', [])).toBe(1);
    expect(contexts[0]).toMatchObject({ authenticated: true, peerId: 'node1', remoteAddress: '127.0.0.1' });
  });

  test('the batched stream is signed too', async () => {
    await start([]);
    const l = newLink();
    for (let i = 0; i < 10; i++) l.post('mutate', []);
    await l.flush();
    expect(mutations).toBe(10);
    expect(l.stats.batches).toBe(1);
  });

  test('an unsigned call is refused with 401 and changes nothing', async () => {
    await start([]);
    const r = await rawRequest(server.port, { body });
    expect(r.status).toBe(401);
    expect(r.body.toString()).toMatch(/missing signature/);
    expect(mutations).toBe(0);
  });

  test('a call signed with another secret is refused and changes nothing', async () => {
    await start([]);
    const err = await newLink({ auth: { secret: 'not the cluster secret at all!!' } }).call('mutate', []).catch((e: Error) => e);
    expect(String(err)).toMatch(/HTTP 401.*bad signature/);
    expect(mutations).toBe(0);
  });

  test('a signed call whose body was altered is refused', async () => {
    await start([]);
    const tampered = Buffer.from(encodeMethodCall('mutate', ['x']));
    const r = await rawRequest(server.port, { body: tampered, headers: signed() });
    expect(r.status).toBe(401);
    expect(mutations).toBe(0);
  });

  test('a signature made for another path is refused', async () => {
    await start([]);
    const r = await rawRequest(server.port, { path: '/', body, headers: signed(SECRET, Date.now(), '/RPC2') });
    expect(r.status).toBe(401);
    expect(mutations).toBe(0);
  });

  test('a stale timestamp is refused, and so is one from the future', async () => {
    await start([]);
    expect((await rawRequest(server.port, { body, headers: signed(SECRET, Date.now() - 60_000) })).status).toBe(401);
    const future = await rawRequest(server.port, { body, headers: signed(SECRET, Date.now() + 60_000) });
    expect(future.status).toBe(401);
    expect(future.body.toString()).toMatch(/stale timestamp/);
    expect(mutations).toBe(0);
  });

  test('a replayed call is refused: the handler runs once', async () => {
    await start([]);
    const headers = signed();
    const first = await rawRequest(server.port, { body, headers });
    expect(first.status).toBe(200);
    expect(decodeMethodResponse(first.body.toString())).toBe(1);
    const replay = await rawRequest(server.port, { body, headers });
    expect(replay.status).toBe(401);
    expect(replay.body.toString()).toMatch(/replayed/);
    expect(mutations).toBe(1);
  });

  test('replies are signed: a link with the secret refuses an unsigned answer (a node impersonating a peer)', async () => {
    const impostor = await startPeerServer({ host: '127.0.0.1', port: 0, handlers: { mutate: () => 'forged' } });
    try {
      const l = new PeerLink({ selfId: 'node1', peerId: 'node2', address: `http://127.0.0.1:${impostor.port}`, auth: { secret: SECRET } });
      links.push(l);
      await expect(l.call('mutate', [])).rejects.toThrow(/reply not signed/);
    } finally {
      await impostor.close();
    }
    server = undefined as unknown as PeerServer;
  });

  test('a listed legacy peer address may call unsigned; the handler sees it unauthenticated', async () => {
    await start(['127.0.0.2']);
    const fromLegacy = await rawRequest(server.port, { body, localAddress: '127.0.0.2' });
    expect(fromLegacy.status).toBe(200);
    expect(contexts[0]).toMatchObject({ authenticated: false, remoteAddress: '127.0.0.2' });
    expect(contexts[0].peerId).toBeUndefined();
    // ...and nobody else may
    const fromOther = await rawRequest(server.port, { body, localAddress: '127.0.0.3' });
    expect(fromOther.status).toBe(401);
    expect(mutations).toBe(1);
  });

  test('legacy peers may be given as URLs with host names, resolved to their addresses', async () => {
    await start(['http://localhost:9091']);
    expect((await rawRequest(server.port, { body })).status).toBe(200);
    expect((await rawRequest(server.port, { body, localAddress: '127.0.0.5' })).status).toBe(401);
  });

  test("a real Python ServerProxy gets through only from a listed legacy address", async () => {
    await start(['127.0.0.1']);
    expect(await runPyClient(`http://127.0.0.1:${server.port}`, [['mutate', []]])).toEqual([{ ok: { int: 1 } }]);
    await server.close();
    await start(['127.0.0.9']);
    const [r] = await runPyClient(`http://127.0.0.1:${server.port}`, [['mutate', []]]);
    expect(r).toMatchObject({ http: [401, expect.any(String)] });
    expect(mutations).toBe(1);
  });

  test('a secret shorter than 16 bytes is a configuration error', async () => {
    await expect(startPeerServer({ host: '127.0.0.1', port: 0, handlers: {}, auth: { secret: 'short' } })).rejects.toThrow(
      /at least 16/,
    );
    server = undefined as unknown as PeerServer;
  });

  test('a server with the secret must know its node id: every signed call names its receiver', async () => {
    await expect(startPeerServer({ host: '127.0.0.1', port: 0, handlers: {}, auth: { secret: SECRET } })).rejects.toThrow(/nodeId is required/);
    server = undefined as unknown as PeerServer;
  });

  test('an unsigned call from an unlisted address is refused with a reason naming CLUSTER_SECRET and LEGACY_PEERS', async () => {
    await start([]);
    const r = await rawRequest(server.port, { body });
    expect(r.status).toBe(401);
    expect(r.body.toString()).toMatch(/CLUSTER_SECRET is set.*LEGACY_PEERS/);
  });
});

describe('a signed call names its receiver', () => {
  const handled: Record<string, number> = { node2: 0, node3: 0 };
  let a: PeerServer;
  let b: PeerServer;
  const links: PeerLink[] = [];
  const serverFor = (nodeId: string) =>
    startPeerServer({
      host: '127.0.0.1',
      port: 0,
      nodeId,
      auth: { secret: SECRET },
      handlers: { swarmchat_submit: () => ++handled[nodeId] },
    });
  const submit = Buffer.from(encodeMethodCall('swarmchat_submit', ['room', 'hello']));
  beforeAll(async () => {
    a = await serverFor('node2');
    b = await serverFor('node3');
  });
  afterAll(async () => {
    for (const l of links) l.close();
    await Promise.all([a.close(), b.close()]);
  });

  test('a call captured on its way to node2 and replayed to node3 is refused there; it ran only on node2', async () => {
    const headers = new RequestSigner(SECRET, 'node1', 'node2').sign('/RPC2', submit).headers;
    expect((await rawRequest(a.port, { body: submit, headers })).status).toBe(200);
    const replay = await rawRequest(b.port, { body: submit, headers });
    expect(replay.status).toBe(401);
    expect(replay.body.toString()).toMatch(/signed for node node2, this is node node3/);
    expect(handled).toEqual({ node2: 1, node3: 0 });
  });

  test('changing the receiver header breaks the signature', async () => {
    const headers = new RequestSigner(SECRET, 'node1', 'node2').sign('/RPC2', submit).headers;
    const moved = await rawRequest(b.port, { body: submit, headers: { ...headers, 'x-swarmchat-to': 'node3' } });
    expect(moved.status).toBe(401);
    expect(moved.body.toString()).toMatch(/bad signature/);
    expect(handled.node3).toBe(0);
  });

  test('links addressing each node by its id get through to both', async () => {
    const before = { ...handled };
    for (const [peerId, port] of [['node2', a.port], ['node3', b.port]] as const) {
      const l = new PeerLink({ selfId: 'node1', peerId, address: `http://127.0.0.1:${port}`, auth: { secret: SECRET } });
      links.push(l);
      await l.call('swarmchat_submit', ['room', 'hi']);
    }
    expect(handled).toEqual({ node2: before.node2 + 1, node3: before.node3 + 1 });
  });

  test('a link that names the wrong receiver (PEER_NODES id differs from NODE_ID) is refused, saying so', async () => {
    const l = new PeerLink({ selfId: 'node1', peerId: 'node9', address: `http://127.0.0.1:${a.port}`, auth: { secret: SECRET } });
    links.push(l);
    await expect(l.call('swarmchat_submit', [])).rejects.toThrow(/signed for node node9, this is node node2/);
  });

  test('a v1 signature (no receiver) is refused', async () => {
    const headers = new RequestSigner(SECRET, 'node1', 'node2').sign('/RPC2', submit).headers;
    const v1 = { ...headers, 'x-swarmchat-signature': headers['x-swarmchat-signature'].replace('v2=', 'v1=') };
    delete (v1 as Record<string, string>)['x-swarmchat-to'];
    const r = await rawRequest(a.port, { body: submit, headers: v1 });
    expect(r.status).toBe(401);
    expect(r.body.toString()).toMatch(/v1 does not name the receiver/);
  });
});
