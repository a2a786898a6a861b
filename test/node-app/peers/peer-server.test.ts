import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { type PeerServer, withArity } from '../../../node-app/src/peers/peer-server';
import {
  decodeMethodResponse,
  encodeMethodCall,
  XmlRpcFault,
  type XmlRpcValue,
} from '../../../node-app/src/peers/xmlrpc-codec';
import { rawRequest } from './helpers';
import { loadSamples } from './samples';
import { waitFor } from '../../support/wait';
import { loopbackPeerServer } from '../../support/peer-server';

/** The shape of a value: types and struct member names, not the data (ids and timestamps differ). */
function shape(v: XmlRpcValue): unknown {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  }
  return typeof v;
}

function decodeReply(body: Buffer): { value?: XmlRpcValue; fault?: XmlRpcFault } {
  try {
    return { value: decodeMethodResponse(body.toString('utf8')) };
  } catch (e) {
    if (e instanceof XmlRpcFault) return { fault: e };
    throw e;
  }
}

const ts = () => new Date().toISOString().replace('Z', '000+00:00');
const room = {
  room_id: '05359493-5f64-4692-9991-fec747d5a7c2',
  room_name: 'xml-1795694520.258787',
  description: null,
  member_count: 0,
  admin_node: 'node1',
  creator_id: 'zed',
};

describe('replaying the captured Python exchanges (xmlrpc-samples.txt) against our server', () => {
  let server: PeerServer;
  // Simple handlers with the §3 result shapes; the room logic itself is NODE's.
  beforeAll(async () => {
    server = await loopbackPeerServer({
      handlers: {
        heartbeat: withArity([], 0, () => ({ status: 'ok', node_id: 'node1', timestamp: ts() })),
        get_hosted_rooms: withArity([], 0, () => [{ ...room, node_address: 'http://127.0.0.1:29091' }]),
        join_room: withArity(['room_id', 'username', 'client_node_id'], 3, ([roomId, username]): XmlRpcValue =>
          roomId === room.room_id
            ? {
                success: true,
                message: 'Successfully joined room',
                room_info: { room_id: room.room_id, room_name: room.room_name, description: null, members: [username], member_count: 1, admin_node: 'node1' },
                messages: [],
              }
            : { success: false, message: 'Room not found', error_code: 'ROOM_NOT_FOUND', room_info: null },
        ),
        forward_message: withArity(['room_id', 'username', 'content', 'sender_node_id'], 4, () => ({
          success: true,
          message_id: 'a84489cb-3296-48c3-983e-6f249a04a772',
          sequence_number: 1,
          timestamp: ts(),
        })),
      },
    });
  });
  afterAll(() => server.close());

  const samples = loadSamples();
  const request = samples.find((s) => s.path === undefined)!;
  const byContent = (needle: string) => samples.find((s) => s.status !== undefined && s.body.includes(needle))!;
  // Each captured reply, with the Python-encoded request that produced it (only join_room's request body
  // was captured verbatim; the others are what Python's ServerProxy sends, which our encoder reproduces
  // byte for byte — see xmlrpc-codec.test.ts).
  const cases: Array<[string, string, string, string]> = [
    ['captured join_room request', request.body, '/RPC2', 'Successfully joined room'],
    ['heartbeat()', encodeMethodCall('heartbeat', []), '/RPC2', '<name>status</name>'],
    ['get_hosted_rooms()', encodeMethodCall('get_hosted_rooms', []), '/RPC2', '<name>node_address</name>'],
    ['join_room on an unknown room, on /', encodeMethodCall('join_room', ['nope', 'u', 'node9']), '/', 'Room not found'],
    ['forward_message', encodeMethodCall('forward_message', [room.room_id, 'u', 'hi', 'node9']), '/RPC2', '<name>sequence_number</name>'],
    ['heartbeat with an extra argument', encodeMethodCall('heartbeat', ['x']), '/RPC2', 'takes 1 positional argument'],
    ['an unknown method', encodeMethodCall('no_such_method', []), '/RPC2', 'no_such_method'],
  ];

  test.each(cases)('%s: same status, content type and reply structure as Python', async (_name, body, path, needle) => {
    const sample = byContent(needle);
    expect(sample.path).toBe(path);
    const ours = await rawRequest(server.port, { path, body });
    expect(ours.status).toBe(sample.status);
    expect(ours.headers['content-type']).toBe('text/xml');
    const theirs = decodeReply(Buffer.from(sample.body));
    const mine = decodeReply(ours.body);
    if (theirs.fault) {
      expect(mine.fault?.faultCode).toBe(theirs.fault.faultCode);
      expect(mine.fault?.faultString).toBe(theirs.fault.faultString);
    } else {
      expect(mine.fault).toBeUndefined();
      expect(shape(mine.value!)).toEqual(shape(theirs.value!));
    }
  });

  test('a POST elsewhere is 404 "No such page", like Python', async () => {
    const sample = samples.find((s) => s.status === 404)!;
    const ours = await rawRequest(server.port, { path: sample.path, body: request.body });
    expect(ours.status).toBe(404);
    expect(ours.headers['content-type']).toBe('text/plain');
    expect(ours.body.toString()).toBe(sample.body.trimEnd());
  });
});

describe('peer server behaviour', () => {
  let server: PeerServer;
  let release: (() => void) | undefined;
  beforeAll(async () => {
    server = await loopbackPeerServer({
      nodeId: 'nodeT',
      limits: { maxBodyBytes: 64 * 1024, maxDepth: 8, handlerTimeoutMs: 200 },
      handlers: {
        echo: (p) => p,
        big: () => 'x'.repeat(10_000),
        slow: () => new Promise<XmlRpcValue>((r) => (release = () => r('done'))),
        fault: () => {
          throw new XmlRpcFault(42, 'custom fault');
        },
        nothing: () => undefined,
        never: () => new Promise<XmlRpcValue>(() => undefined),
        unencodable: () => ({ f: (() => 1) as unknown as XmlRpcValue }),
      },
    });
  });
  afterAll(() => server.close());

  const post = (method: string, params: XmlRpcValue[], headers?: Record<string, string>) =>
    rawRequest(server.port, { body: encodeMethodCall(method, params), headers });

  test('GET is refused with 501 like BaseHTTPRequestHandler', async () => {
    const r = await rawRequest(server.port, { method: 'GET', path: '/RPC2' });
    expect(r.status).toBe(501);
  });

  test('a handler fault keeps its code; a handler returning nothing answers nil; an unencodable result is a fault', async () => {
    expect(decodeReply((await post('fault', [])).body).fault).toMatchObject({ faultCode: 42, faultString: 'custom fault' });
    expect(decodeReply((await post('nothing', [])).body).value).toBeNull();
    expect(decodeReply((await post('unencodable', [])).body).fault?.faultString).toMatch(/^<class 'TypeError'>:cannot encode/);
  });

  test('replies over 1400 bytes are gzipped only when the caller accepts gzip', async () => {
    const plain = await post('big', []);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gz = await post('big', [], { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(decodeReply(zlib.gunzipSync(gz.body)).value).toBe('x'.repeat(10_000));
    const small = await post('echo', ['s'], { 'Accept-Encoding': 'gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  test('gzip request bodies are accepted; an unknown content encoding gets 501', async () => {
    const body = zlib.gzipSync(encodeMethodCall('echo', ['zipped']));
    const r = await rawRequest(server.port, { body, headers: { 'Content-Encoding': 'gzip' } });
    expect(decodeReply(r.body).value).toEqual(['zipped']);
    const bad = await rawRequest(server.port, { body: 'x', headers: { 'Content-Encoding': 'br' } });
    expect(bad.status).toBe(501);
  });

  test('bodies over the size limit get 413, also when a small gzip body inflates beyond it', async () => {
    const huge = encodeMethodCall('echo', ['a'.repeat(70 * 1024)]);
    expect((await rawRequest(server.port, { body: huge })).status).toBe(413);
    const bomb = zlib.gzipSync(huge);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect((await rawRequest(server.port, { body: bomb, headers: { 'Content-Encoding': 'gzip' } })).status).toBe(413);
  });

  test('malformed XML and over-deep nesting are faults, and the server keeps serving', async () => {
    const r = await rawRequest(server.port, { body: '<methodCall><methodName>echo</methodName><params><param><value><int>1' });
    expect(r.status).toBe(200);
    expect(decodeReply(r.body).fault?.faultString).toMatch(/^<class 'xml.parsers.expat.ExpatError'>:malformed/);
    const deep = '<value><array><data>'.repeat(9) + '<value>x</value>' + '</data></array></value>'.repeat(9);
    const d = await rawRequest(server.port, {
      body: `<methodCall><methodName>echo</methodName><params><param>${deep}</param></params></methodCall>`,
    });
    expect(decodeReply(d.body).fault?.faultString).toMatch(/nesting deeper than 8/);
    expect(decodeReply((await post('echo', [1])).body).value).toEqual([1]);
  });

  test('requests are served concurrently: a pending handler does not hold back others (unlike Python)', async () => {
    const slow = post('slow', []);
    await new Promise((r) => setTimeout(r, 20));
    expect(decodeReply((await post('echo', ['meanwhile'])).body).value).toEqual(['meanwhile']);
    release!();
    expect(decodeReply((await slow).body).value).toBe('done');
  });

  test('an async handler that never settles is answered with a fault at the handler deadline', async () => {
    const r = decodeReply((await post('never', [])).body);
    expect(r.fault?.faultString).toBe(`<class 'TimeoutError'>:never did not finish within 200 ms`);
  });

  test('a client that aborts mid-body or sends garbage HTTP does not affect other requests', async () => {
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/RPC2', headers: { 'Content-Length': '1000' } });
      req.on('error', () => resolve());
      req.write('<methodCall>');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 20);
    });
    await new Promise<void>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.write('NOT HTTP\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      setTimeout(() => s.destroy(), 1000);
    });
    expect(decodeReply((await post('echo', ['still fine'])).body).value).toEqual(['still fine']);
  });

  test('connections are kept alive between calls', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports = new Set<number>();
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/', agent }, (res) => {
            ports.add(res.socket.localPort!);
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end(encodeMethodCall('echo', [i]));
        });
      }
      expect(ports.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  test('swarmchat_hello announces the node and the batching capability', async () => {
    expect(decodeReply((await post('swarmchat_hello', ['x'])).body).value).toEqual({
      node_id: 'nodeT',
      protocol: 1,
      capabilities: ['batch-json-v1'],
      max_batch_items: 10000,
    });
  });
});

/** Sends only a request's head (and optionally part of its body) and resolves with the status line of the answer. */
function headOnly(port: number, head: string, bodyPart = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) {
        resolve(got.slice(0, got.indexOf('\r\n')));
        s.destroy();
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(got.split('\r\n')[0]));
    s.write(head + bodyPart);
  });
}

describe('checked before the body is read', () => {
  const SECRET = 'correct horse battery staple 0123456789';
  let server: PeerServer;
  let runs = 0;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    server = await loopbackPeerServer({
      nodeId: 'node1',
      auth: { secret: SECRET, maxSkewMs: 5000 },
      // a waiting body would hang the test: every refusal here must come without the body
      limits: { bodyTimeoutMs: 60_000, maxBodyBytes: 1024 * 1024, bodiesInFlightBytes: 2 * 1024 * 1024, bodiesInFlightPerAddressBytes: 2 * 1024 * 1024 },
      handlers: { run: () => ++runs },
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await server.close();
  });
  const head = (headers: Record<string, string | number>) =>
    'POST /RPC2 HTTP/1.1\r\nHost: node1\r\n' + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  const signatureHeaders = (over: Record<string, string | number> = {}) => ({
    'X-SwarmChat-Node': 'node2',
    'X-SwarmChat-To': 'node1',
    'X-SwarmChat-Timestamp': Date.now(),
    'X-SwarmChat-Nonce': 'ab'.repeat(16),
    'X-SwarmChat-Signature': `v2=${'cd'.repeat(32)}`,
    ...over,
  });

  test.each([
    ['no signature', {}, /^HTTP\/1.1 401/],
    ['a stale timestamp', signatureHeaders({ 'X-SwarmChat-Timestamp': Date.now() - 60_000 }), /^HTTP\/1.1 401/],
    ['another receiver', signatureHeaders({ 'X-SwarmChat-To': 'node3' }), /^HTTP\/1.1 401/],
    ['a malformed signature', signatureHeaders({ 'X-SwarmChat-Signature': 'v2=zz' }), /^HTTP\/1.1 401/],
    ['a declared body over the limit', signatureHeaders(), /^HTTP\/1.1 413/, 2 * 1024 * 1024],
  ])('%s is refused from the headers alone', async (_what, headers, status, length = 1000) => {
    expect(await headOnly(server.port, head({ 'Content-Length': length, ...headers }))).toMatch(status);
    expect(runs).toBe(0);
  });

  test('a body without Content-Length (chunked) gets 411', async () => {
    expect(await headOnly(server.port, head({ 'Transfer-Encoding': 'chunked', ...signatureHeaders() }))).toMatch(/^HTTP\/1.1 411/);
  });

  test('over the bodies-in-flight budget a request gets 503 at once; the budget frees when bodies end', async () => {
    // two stalled uploads of 1 MiB take the whole 2 MiB budget
    for (let i = 0; i < 2; i++) {
      const s = net.connect({ host: '127.0.0.1', port: server.port });
      sockets.push(s);
      s.on('error', () => undefined);
      s.write(head({ 'Content-Length': 1024 * 1024, ...signatureHeaders({ 'X-SwarmChat-Nonce': `${i}`.repeat(32) }) }) + 'x');
    }
    await waitFor('both uploads to hold the budget', async () =>
      /^HTTP\/1.1 503/.test(await headOnly(server.port, head({ 'Content-Length': 10, ...signatureHeaders() }))),
    );
    expect(server.stats.busy).toBeGreaterThan(0);
    for (const s of sockets.splice(0)) s.destroy();
    // an honest (unsigned, so refused with 401 rather than 503) request is judged on its merits again
    await waitFor('the budget to free', async () => /^HTTP\/1.1 401/.test(await headOnly(server.port, head({ 'Content-Length': 10 })))) ;
  });
});

describe('a body that stalls', () => {
  test('gets 408 at the body deadline, and the server keeps serving', async () => {
    const server = await loopbackPeerServer({ limits: { bodyTimeoutMs: 200 }, handlers: { echo: (p) => p } });
    try {
      expect(await headOnly(server.port, 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', '<?xml')).toMatch(/^HTTP\/1.1 408/);
      const body = encodeMethodCall('echo', ['still here']);
      expect(decodeMethodResponse((await rawRequest(server.port, { body })).body.toString())).toEqual(['still here']);
    } finally {
      await server.close();
    }
  });
});
