/**
 * Both directions against REAL Python 3 xmlrpc (what DS-G1-SMS nodes run): Python's ServerProxy calling
 * our server, and our PeerLink calling Python's single-threaded HTTP/1.0 SimpleXMLRPCServer.
 */
import { PeerLink } from '../../node-app/src/peers/peer-link';
import { type PeerServer, withArity } from '../../node-app/src/peers/peer-server';
import { XmlRpcFault, type XmlRpcValue } from '../../node-app/src/peers/xmlrpc-codec';
import { type PyServer, runPyClient, startPyServer } from '../node-app/peers/helpers';
import { loopbackPeerServer, recorder } from '../support/peer-server';

describe('Python ServerProxy(allow_none=True) calling our server', () => {
  let server: PeerServer;
  const received: XmlRpcValue[][] = [];

  beforeAll(async () => {
    server = await loopbackPeerServer({
      handlers: {
        record: (params) => {
          received.push(params);
          return true;
        },
        rich: () => ({
          none: null,
          max_int: 2147483647,
          min_int: -2147483648,
          neg: -5,
          flag_t: true,
          flag_f: false,
          ratio: 0.25,
          text: 'ünï <&> "q" \'a\' 😀\r\n',
          'member name with spaces & <markup>': 'kept',
          nested: { list: [1, 'two', null, [3]], empty_list: [], empty_struct: {} },
        }),
        big: () => 'y'.repeat(5000),
        heartbeat: withArity([], 0, () => ({ status: 'ok', node_id: 'ts' })),
        join_room: withArity(['room_id', 'username', 'client_node_id'], 3, () => true),
        fails: () => {
          throw new Error('handler failed on purpose');
        },
      },
    });
  });
  afterAll(() => server.close());

  test('values we send arrive in Python with Python types and exact member names', async () => {
    const [r] = await runPyClient(`http://127.0.0.1:${server.port}`, [['rich', []]]);
    expect(r).toEqual({
      ok: {
        dict: {
          none: null,
          max_int: { int: 2147483647 },
          min_int: { int: -2147483648 },
          neg: { int: -5 },
          flag_t: true,
          flag_f: false,
          ratio: { float: 0.25 },
          text: { str: 'ünï <&> "q" \'a\' 😀\r\n' },
          'member name with spaces & <markup>': { str: 'kept' },
          nested: { dict: { list: [{ int: 1 }, { str: 'two' }, null, [{ int: 3 }]], empty_list: [], empty_struct: { dict: {} } } },
        },
      },
    });
  });

  test('values Python sends arrive here as the same JS values', async () => {
    received.length = 0;
    const params = [null, 2147483647, -2147483648, 'ü<&>', { a: { 'b c': [1, 2.5, true] } }, false, []];
    const [r] = await runPyClient(`http://127.0.0.1:${server.port}/`, [['record', params]]);
    expect(r).toEqual({ ok: true });
    expect(received).toEqual([params]);
  });

  test('faults are Python Faults with code 1 and Python-style strings, for unknown methods, wrong arity and errors', async () => {
    const res = await runPyClient(`http://127.0.0.1:${server.port}`, [
      ['no_such_method', []],
      ['heartbeat', ['extra']],
      ['join_room', ['r1']],
      ['fails', []],
    ]);
    expect(res).toEqual([
      { fault: [1, `<class 'Exception'>:method "no_such_method" is not supported`] },
      { fault: [1, `<class 'TypeError'>:XMLRPCServer.heartbeat() takes 1 positional argument but 2 were given`] },
      { fault: [1, `<class 'TypeError'>:XMLRPCServer.join_room() missing 2 required positional arguments: 'username' and 'client_node_id'`] },
      { fault: [1, `<class 'Exception'>:handler failed on purpose`] },
    ]);
  });

  test('gzip both ways: Python gzips its request bodies and reads our gzipped large reply', async () => {
    received.length = 0;
    const res = await runPyClient(
      `http://127.0.0.1:${server.port}`,
      [
        ['record', ['z'.repeat(3000)]],
        ['big', []],
      ],
      true,
    );
    expect(res[0]).toEqual({ ok: true });
    expect(received).toEqual([['z'.repeat(3000)]]);
    expect(res[1]).toEqual({ ok: { str: 'y'.repeat(5000) } });
  });
});

describe('our PeerLink calling a Python SimpleXMLRPCServer (HTTP/1.0, single-threaded)', () => {
  let py: PyServer;
  let link: PeerLink;

  beforeAll(async () => {
    py = await startPyServer();
    link = new PeerLink({ selfId: 'ts1', peerId: 'py', address: py.url, callTimeoutMs: 3000, legacy: true });
  });
  afterAll(async () => {
    link.close();
    await py.stop();
  });

  test('nil, int range, strings, structs and arrays echo back unchanged', async () => {
    const params: XmlRpcValue[] = [
      null,
      2147483647,
      -2147483648,
      0,
      1.5,
      true,
      'ü <&> 😀 \r\n tab\t',
      { 'a b': { c: [1, null, 'x'] }, empty: {} },
      [],
    ];
    expect(await link.call('echo', params)).toEqual(params);
    expect(link.state).toBe('up');
  });

  test('Python decodes our values as the Python types a DS-G1-SMS node expects', async () => {
    expect(await link.call('types', [null, 7, 1.5, 'x', true, { k: 1 }, [1]])).toEqual([
      'NoneType',
      'int',
      'float',
      'str',
      'bool',
      { k: 'int' },
      ['int'],
    ]);
  });

  test('integers beyond int32 reach Python as int (<i8>); Python itself cannot send them back', async () => {
    expect(await link.call('types', [2 ** 40])).toEqual(['int']);
    await expect(link.call('echo', [2 ** 40])).rejects.toThrow(/int exceeds XML-RPC limits/);
  });

  test('a Python exception is an XmlRpcFault with code 1 and its faultString; unknown methods too', async () => {
    const err = await link.call('boom', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XmlRpcFault);
    expect((err as XmlRpcFault).faultCode).toBe(1);
    expect((err as XmlRpcFault).faultString).toBe(`<class 'ValueError'>:kaboom`);
    await expect(link.call('nope', [])).rejects.toThrow(`<class 'Exception'>:method "nope" is not supported`);
  });

  test('the ordered stream falls back to one plain call per item, in order, after the probe faults', async () => {
    const n = 60;
    for (let i = 0; i < n; i++) link.post('record', [i]);
    await link.flush();
    expect(await link.call('get_recorded', [])).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(link.stats.batches).toBe(0);
    expect(link.stats.delivered).toBe(n);
    expect(link.stats.dropped).toBe(0);
  });

  test('a reply larger than 1400 bytes is read whether or not Python compresses it', async () => {
    expect(await link.call('big', [20000])).toBe('x'.repeat(20000));
  });
});

describe('a peer replaced by an original Python node mid-stream (rolling migration)', () => {
  test('the refused batch is resent as plain calls, in order, nothing lost', async () => {
    const got: XmlRpcValue[] = [];
    const ours = await loopbackPeerServer({
      handlers: {
        record: recorder(got),
      },
    });
    const port = ours.port;
    const link = new PeerLink({ selfId: 'ts1', peerId: 'node2', address: `http://127.0.0.1:${port}`, callTimeoutMs: 2000 });
    let py: PyServer | undefined;
    try {
      for (let i = 0; i < 5; i++) link.post('record', [i]);
      await link.flush();
      expect(link.stats.batches).toBe(1);
      await ours.close();
      py = await startPyServer(port);
      for (let i = 5; i < 10; i++) link.post('record', [i]);
      await link.flush();
      expect(got).toEqual([0, 1, 2, 3, 4]);
      expect(await link.call('get_recorded', [])).toEqual([5, 6, 7, 8, 9]);
      expect(link.stats.dropped).toBe(0);
    } finally {
      link.close();
      await py?.stop();
    }
  });
});
