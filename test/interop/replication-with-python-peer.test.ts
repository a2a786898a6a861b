/**
 * Replication with an original (legacy) Python node in the cluster: three of our nodes (the
 * voters) and a real Python SimpleXMLRPCServer as `py1` (LEGACY_PEERS), which joins and sends the
 * original way (XML-RPC join_room / forward_message to the admin it discovers) and records the
 * broadcasts it gets. When the admin leaves, a survivor administers the room; the Python node
 * finds it with get_hosted_rooms, keeps sending, and keeps getting every message, in order, from
 * whoever is admin — and it is never called with a replication method.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { loadConfig } from '../../node-app/src/config';
import { nullLogger } from '../../node-app/src/log';
import { startChatNode, type RunningChatNode } from '../../node-app/src/node/main';
import { ChatConnection } from '../../node-app/src/clients/core/chat-connection';
import { REPLICATION_METHODS } from '../../node-app/src/replication/wire';
import { startPythonJsonLines } from '../support/python-process';
import { freePorts } from '../support/ports';

jest.setTimeout(60_000);

const ids = ['node1', 'node2', 'node3'];
// Ephemeral ports, picked in beforeAll: ws for node i, rpc for node i, and the Python peer's.
let wsPorts: number[] = [];
let rpcPorts: number[] = [];
let PY_PORT = 0;
const rpc = (i: number) => `http://127.0.0.1:${rpcPorts[i]}`;

const PY_PEER = `
import sys, json
from xmlrpc.server import SimpleXMLRPCServer
srv = SimpleXMLRPCServer(('127.0.0.1', int(sys.argv[1])), allow_none=True, logRequests=False)
class Original:
    # Records every call, known or not, so the test can tell that no extension method was tried.
    def _dispatch(self, method, params):
        print(json.dumps({'method': method, 'params': params}), flush=True)
        if method in ('receive_message_broadcast', 'receive_member_event_broadcast'): return True
        if method == 'heartbeat': return {'status': 'ok', 'node_id': 'py1', 'timestamp': 'now'}
        if method == 'get_hosted_rooms': return []
        raise Exception('method "%s" is not supported' % method)
srv.register_instance(Original())
print(json.dumps({'ready': True}), flush=True)
srv.serve_forever()
`;

/** The original's client side: discover the admin over every node, then call it. */
const PY_CLIENT = `
import sys, json, xmlrpc.client
nodes, room, action = sys.argv[1].split(','), sys.argv[2], sys.argv[3]
admin = None
for n in nodes:
    try:
        for r in xmlrpc.client.ServerProxy(n, allow_none=True).get_hosted_rooms():
            if r['room_id'] == room: admin = r['node_address']
    except Exception:
        pass
p = xmlrpc.client.ServerProxy(admin, allow_none=True)
out = p.join_room(room, 'pyuser', 'py1') if action == 'join' else p.forward_message(room, 'pyuser', sys.argv[4], 'py1')
print(json.dumps({'admin': admin, 'out': out}))
`;

function python(script: string, args: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))));
  });
}

describe('an original Python node in a replicated cluster', () => {
  const nodes: (RunningChatNode | undefined)[] = [];
  let py: ChildProcess;
  const pyCalls: { method: string; params: any[] }[] = [];
  const conns: ChatConnection[] = [];

  beforeAll(async () => {
    const ports = await freePorts(7);
    wsPorts = ports.slice(0, 3);
    rpcPorts = ports.slice(3, 6);
    PY_PORT = ports[6];
    py = await startPythonJsonLines(PY_PEER, [String(PY_PORT)], {
      what: 'python peer',
      isReady: (line) => Boolean(line.ready),
      onLine: (line) => pyCalls.push(line),
    });
    for (let i = 0; i < 3; i++) {
      const peers = ids.map((id, j) => (j === i ? '' : `${id}:${rpc(j)}`)).filter(Boolean).concat(`py1:http://127.0.0.1:${PY_PORT}`).join(',');
      const cfg = loadConfig({
        NODE_ID: ids[i], WEBSOCKET_HOST: '127.0.0.1', WEBSOCKET_PORT: String(wsPorts[i]), XMLRPC_HOST: '127.0.0.1',
        XMLRPC_PORT: String(rpcPorts[i]), XMLRPC_ADDRESS: rpc(i), PEER_NODES: peers, LEGACY_PEERS: 'py1', CLUSTER_SECRET: 'interop-secret-of-sufficient-length',
      });
      nodes.push(await startChatNode(cfg, nullLogger));
    }
  });

  afterAll(async () => {
    await Promise.allSettled(conns.map((c) => c.close()));
    for (const n of nodes) await n?.shutdown('test end');
    py?.kill('SIGTERM');
  });

  test('joins and sends the original way survive an admin change, and the Python node gets every message in order', async () => {
    const alice = await ChatConnection.connect(`ws://127.0.0.1:${wsPorts[0]}`);
    const bob = await ChatConnection.connect(`ws://127.0.0.1:${wsPorts[1]}`);
    conns.push(alice, bob);
    const room = (await alice.createRoom('interop', 'alice')).room_id;
    await alice.joinRoom(room, 'alice');
    await bob.joinRoom(room, 'bob');
    const bobSaw: number[] = [];
    bob.on('message', (m) => bobSaw.push(m.sequence_number));

    const all = [0, 1, 2].map(rpc).join(',');
    const joined = await python(PY_CLIENT, [all, room, 'join']);
    expect(joined).toMatchObject({ admin: rpc(0), out: { success: true, message: 'Successfully joined room' } });
    expect((await python(PY_CLIENT, [all, room, 'send', 'one'])).out).toMatchObject({ success: true, sequence_number: 1 });
    await alice.sendMessage(room, 'alice', 'two');

    // The admin leaves (graceful, as in a rolling update); a survivor takes the room over.
    await nodes[0]!.shutdown('rolling update');
    nodes[0] = undefined;
    const after = await python(PY_CLIENT, [[1, 2].map(rpc).join(','), room, 'send', 'three']);
    expect([rpc(1), rpc(2)]).toContain(after.admin);
    expect(after.out).toMatchObject({ success: true, sequence_number: 3 });
    await bob.sendMessage(room, 'bob', 'four');

    const end = Date.now() + 5000;
    const pySeqs = () => pyCalls.filter((c) => c.method === 'receive_message_broadcast' && c.params[0] === room).map((c) => c.params[1].sequence_number);
    while ((pySeqs().length < 4 || bobSaw.length < 4) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(pySeqs()).toEqual([1, 2, 3, 4]);
    expect(bobSaw).toEqual([1, 2, 3, 4]);
    // (PEER's stream probes it once with swarmchat_hello, by design; replication never calls it.)
    expect(pyCalls.map((c) => c.method).filter((m) => (REPLICATION_METHODS as readonly string[]).includes(m))).toEqual([]);
    expect(pyCalls.some((c) => c.method === 'receive_message_broadcast')).toBe(true);
  });
});
