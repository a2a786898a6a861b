/**
 * The node's XML-RPC side against the original's wire: the captured bodies of xmlrpc-samples.txt
 * replayed against our server, a real Python ServerProxy calling our methods, and our node calling
 * a real Python SimpleXMLRPCServer standing in for an original (legacy) peer.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { RunningChatNode } from '../../node-app/src/node/main';
import { startLoopbackNodeBesidePython } from '../support/loopback-node';
import { freePorts } from '../../node-app/src/cluster/local-cluster';
import { decodeMethodResponse } from '../../node-app/src/peers/xmlrpc-codec';
import { loadSamples } from '../node-app/peers/samples';
import { startPythonJsonLines } from '../support/python-process';
import { TestClient } from '../support/ws-client';

jest.setTimeout(30_000);

/** Free ports picked in beforeAll, so a second run of this suite beside this one does not collide. */
let WS_PORT = 0;
let RPC_PORT = 0;
let PY_PORT = 0;
/** The captured exchanges, from the fixture the peer tests also replay. */
function samples(): Array<{ title: string; body: string }> {
  return loadSamples().map((s) => ({ title: s.header, body: s.body.trim() }));
}

function post(p: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: RPC_PORT, method: 'POST', path: p, headers: { 'content-type': 'text/xml' }, timeout: 3000 }, (res) => {
      let out = '';
      res.on('data', (d) => (out += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: out }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function python(script: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** Shape of a decoded XML-RPC value: what a Python peer would see as types. */
function shape(v: unknown): unknown {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

const PY_PEER = `
import sys, json
from xmlrpc.server import SimpleXMLRPCServer
srv = SimpleXMLRPCServer(('127.0.0.1', int(sys.argv[1])), allow_none=True, logRequests=False)
def types(v):
    if isinstance(v, dict): return {k: types(x) for k, x in v.items()}
    if isinstance(v, list): return [types(x) for x in v]
    return type(v).__name__
def recorder(name):
    def f(*args):
        print(json.dumps({'method': name, 'params': args, 'types': types(list(args))}), flush=True)
        return True
    return f
for m in ['receive_message_broadcast', 'receive_member_event_broadcast']:
    srv.register_function(recorder(m), m)
srv.register_function(lambda: {'status': 'ok', 'node_id': 'py1', 'timestamp': 'now'}, 'heartbeat')
print(json.dumps({'ready': True}), flush=True)
srv.serve_forever()
`;

let node: RunningChatNode;
let pyPeer: ChildProcess;
const pyCalls: any[] = [];

beforeAll(async () => {
  [WS_PORT, RPC_PORT, PY_PORT] = await freePorts(3);
  pyPeer = await startPythonJsonLines(PY_PEER, [String(PY_PORT)], {
    what: 'python peer',
    isReady: (line) => Boolean(line.ready),
    onLine: (line) => pyCalls.push(line),
  });
  node = await startLoopbackNodeBesidePython({ ws: WS_PORT, rpc: RPC_PORT, py: PY_PORT });
});

afterAll(async () => {
  await node?.shutdown('test end');
  pyPeer?.kill('SIGTERM');
});

async function roomWithMember(name: string): Promise<{ roomId: string; client: TestClient }> {
  const client = await TestClient.connect(`ws://127.0.0.1:${WS_PORT}`);
  const r = await client.request('create_room', { room_name: name, creator_id: 'alice' }, ['room_created']);
  await client.request('join_room', { room_id: r.data.room_id, username: 'alice' }, ['join_room_success']);
  return { roomId: r.data.room_id, client };
}

describe('replaying xmlrpc-samples.txt', () => {
  const all = samples();
  const requestBody = all[0].body;
  const responseTo = (re: RegExp) => all.find((s) => re.test(s.body))!.body;

  it('answers the captured join_room request for an unknown room byte for byte like Python', async () => {
    const r = await post('/', requestBody);
    expect(r.status).toBe(200);
    expect(r.body.trim()).toBe(all.find((s) => s.title.startsWith('POST / '))!.body);
  });

  it('answers a join of an existing room with the captured structure (plus creator_id)', async () => {
    const { roomId, client } = await roomWithMember('samples-join');
    const r = await post('/RPC2', requestBody.replace('05359493-5f64-4692-9991-fec747d5a7c2', roomId));
    const ours = decodeMethodResponse(r.body) as any;
    const theirs = decodeMethodResponse(responseTo(/Successfully joined room/)) as any;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    const { creator_id, ...info } = shape(ours.room_info) as any;
    expect(info).toEqual(shape(theirs.room_info));
    expect(creator_id).toBe('string');
    expect(ours).toMatchObject({ success: true, message: 'Successfully joined room' });
    await client.close();
  });

  it('answers forward_message and get_hosted_rooms with the captured structures', async () => {
    const { roomId, client } = await roomWithMember('samples-forward');
    const call = (method: string, params: string) =>
      post('/RPC2', `<?xml version='1.0'?>\n<methodCall>\n<methodName>${method}</methodName>\n<params>\n${params}</params>\n</methodCall>\n`);
    const p = (s: string) => `<param>\n<value><string>${s}</string></value>\n</param>\n`;
    const fwd = decodeMethodResponse((await call('forward_message', p(roomId) + p('alice') + p('hello') + p('node1'))).body);
    expect(shape(fwd)).toEqual(shape(decodeMethodResponse(responseTo(/<name>sequence_number<\/name>\n<value><int>1<\/int>/))));
    const rooms = decodeMethodResponse((await call('get_hosted_rooms', '')).body) as any[];
    expect(shape(rooms)).toEqual(shape(decodeMethodResponse(responseTo(/<name>node_address<\/name>/))));
    expect(rooms.find((x) => x.room_id === roomId)).toMatchObject({ description: null, admin_node: 'node1', node_address: `http://127.0.0.1:${RPC_PORT}` });
    await client.close();
  });

  it('faults on a wrong argument count and an unknown method with Python\'s texts', async () => {
    const extra = await post('/RPC2', "<?xml version='1.0'?>\n<methodCall>\n<methodName>heartbeat</methodName>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n</params>\n</methodCall>\n");
    expect(extra.body.trim()).toBe(responseTo(/TypeError/));
    const unknown = await post('/RPC2', "<?xml version='1.0'?>\n<methodCall>\n<methodName>no_such_method</methodName>\n<params>\n</params>\n</methodCall>\n");
    expect(unknown.body.trim()).toBe(responseTo(/is not supported/));
    const other = await post('/other', requestBody);
    expect(other.status).toBe(404);
    expect(other.body).toBe('No such page');
  });
});

describe('with real Python xmlrpc', () => {
  it('a Python ServerProxy gets None, ints and the struct member names the original returns', async () => {
    const { roomId, client } = await roomWithMember('python-client');
    const out = await python(
      `
import sys, json, xmlrpc.client
p = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
hb = p.heartbeat()
rooms = p.get_hosted_rooms()
j = p.join_room(sys.argv[2], 'pyuser', 'py1')
f = p.forward_message(sys.argv[2], 'pyuser', 'from python', 'py1')
bad = p.forward_message(sys.argv[2], 'nobody', 'x', 'py1')
fake = p.commit_delete_room(sys.argv[2], 'not-the-transaction', None)
try:
    p.join_room(sys.argv[2])
    fault = None
except xmlrpc.client.Fault as e:
    fault = [e.faultCode, e.faultString]
print(json.dumps({'hb': hb, 'room': [r for r in rooms if r['room_id'] == sys.argv[2]][0], 'join': j,
  'fwd_types': {k: type(v).__name__ for k, v in f.items()}, 'fwd': f, 'bad': bad, 'fake': fake, 'fault': fault,
  'desc_is_none': [r for r in rooms if r['room_id'] == sys.argv[2]][0]['description'] is None}))
`,
      [`http://127.0.0.1:${RPC_PORT}`, roomId],
    );
    const r = JSON.parse(out);
    expect(r.hb).toMatchObject({ status: 'ok', node_id: 'node1' });
    expect(r.desc_is_none).toBe(true);
    expect(r.room).toMatchObject({ room_id: roomId, member_count: 1, admin_node: 'node1', creator_id: 'alice' });
    expect(r.join).toMatchObject({ success: true, message: 'Successfully joined room', room_info: { members: ['alice', 'pyuser'], member_count: 2 } });
    expect(r.fwd_types).toEqual({ success: 'bool', message_id: 'str', sequence_number: 'int', timestamp: 'str' });
    expect(r.fwd.sequence_number).toBe(1);
    expect(r.bad).toEqual({ success: false, error: 'You are not a member of this room', error_code: 'NOT_MEMBER' });
    // Deleting with a made-up transaction id changes nothing (§9.8).
    expect(r.fake).toEqual({ success: false, node_id: 'node1' });
    expect(r.fault[0]).toBe(1);
    expect(r.fault[1]).toBe("<class 'TypeError'>:XMLRPCServer.join_room() missing 2 required positional arguments: 'username' and 'client_node_id'");
    // The Python member's message reached the WebSocket member.
    const m = await client.wait((f) => f.type === 'new_message' && f.data.content === 'from python');
    expect(m.data).toMatchObject({ username: 'pyuser', sequence_number: 1 });
    await client.close();
  });

  it('an original Python peer receives our broadcasts as plain calls with Python types', async () => {
    const { roomId, client } = await roomWithMember('python-peer');
    await python(
      `
import sys, xmlrpc.client
xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True).join_room(sys.argv[2], 'pyuser', 'py1')
`,
      [`http://127.0.0.1:${RPC_PORT}`, roomId],
    );
    await client.request('send_message', { room_id: roomId, username: 'alice', content: 'to python' }, ['message_sent']);
    const deadline = Date.now() + 5000;
    const msgCall = () => pyCalls.find((c) => c.method === 'receive_message_broadcast' && c.params[0] === roomId);
    while (!msgCall() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const call = msgCall();
    expect(call).toBeDefined();
    expect(call.types).toEqual(['str', { message_id: 'str', room_id: 'str', username: 'str', content: 'str', sequence_number: 'int', timestamp: 'str' }]);
    expect(call.params[1]).toMatchObject({ content: 'to python', sequence_number: 1, username: 'alice' });
    // The client leaves: the Python member's node is told, with Python-typed event data.
    await client.request('leave_room', { room_id: roomId, username: 'alice' }, ['leave_room_success']);
    const leftDeadline = Date.now() + 5000;
    const leftCall = () => pyCalls.find((c) => c.method === 'receive_member_event_broadcast' && c.params[0] === roomId && c.params[1] === 'member_left');
    while (!leftCall() && Date.now() < leftDeadline) await new Promise((r) => setTimeout(r, 20));
    expect(leftCall().types).toEqual(['str', 'str', { room_id: 'str', username: 'str', member_count: 'int', timestamp: 'str' }]);
    await client.close();
  });
});

describe('plain HTTP while shutting down', () => {
  it('answers /healthz with 503 once shutdown began', async () => {
    const get = () =>
      new Promise<number>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port: WS_PORT, path: '/healthz' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject),
      );
    // A fresh node reports ready only one election timeout after its start (and once caught up):
    // this suite can get here sooner.
    const deadline = Date.now() + 15_000;
    while ((await get()) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await get()).toBe(200);
    node.node.shuttingDown = true;
    try {
      expect(await get()).toBe(503);
    } finally {
      node.node.shuttingDown = false;
    }
  });
});

