/**
 * The arity checker against real Python: each case defines `XMLRPCServer.<method>(self, ...)` in
 * /usr/bin/python3, calls it with the same number of arguments and formats the TypeError as
 * SimpleXMLRPCServer does (`"%s:%s" % (type(exc), exc)`); our fault text must be identical.
 */
import { execFileSync } from 'node:child_process';
import {
  arityFault,
  checkArity,
  isStruct,
  type PeerHandlerArity,
  stringParam,
  structParam,
} from '../../../node-app/src/peers/rpc-params';
import { XmlRpcFault } from '../../../node-app/src/peers/xmlrpc-codec';

interface Case {
  what: string;
  method: string;
  arity: PeerHandlerArity;
  given: number;
}

const three = ['room_id', 'username', 'client_node_id'];
const cases: Case[] = [
  { what: '1 missing', method: 'join_room', arity: { names: three, required: 3 }, given: 2 },
  { what: '2 missing', method: 'join_room', arity: { names: three, required: 3 }, given: 1 },
  { what: '3 missing', method: 'join_room', arity: { names: three, required: 3 }, given: 0 },
  { what: '4 missing', method: 'swarmchat_forward', arity: { names: ['request_id', ...three, 'content'], required: 5 }, given: 1 },
  { what: 'missing with defaults after them', method: 'notify_member_disconnect', arity: { names: [...three, 'reason'], required: 3 }, given: 1 },
  { what: 'too many for no parameters', method: 'heartbeat', arity: { names: [], required: 0 }, given: 1 },
  { what: 'too many for one parameter', method: 'echo', arity: { names: ['x'], required: 1 }, given: 3 },
  { what: 'too many for three parameters', method: 'join_room', arity: { names: three, required: 3 }, given: 4 },
  { what: 'too many with defaults', method: 'commit_delete_room', arity: { names: ['room_id', 'transaction_id', 'room_name'], required: 2 }, given: 5 },
  { what: 'too many, all defaulted', method: 'opt', arity: { names: ['a'], required: 0 }, given: 2 },
  { what: 'exact count', method: 'join_room', arity: { names: three, required: 3 }, given: 3 },
  { what: 'defaults left out', method: 'commit_delete_room', arity: { names: ['room_id', 'transaction_id', 'room_name'], required: 2 }, given: 2 },
];

/** One Python run for all cases: the fault string SimpleXMLRPCServer would send, or null if the call fits. */
function pythonFaults(list: Case[]): Array<string | null> {
  const script = `
import json, sys
out = []
for c in json.load(sys.stdin):
    names = c["names"]
    params = ", ".join(["self"] + [n if i < c["required"] else n + "=None" for i, n in enumerate(names)])
    ns = {}
    exec("class XMLRPCServer:\\n    def %s(%s):\\n        return None\\n" % (c["method"], params), ns)
    try:
        getattr(ns["XMLRPCServer"](), c["method"])(*range(c["given"]))
        out.append(None)
    except TypeError as exc:
        out.append("%s:%s" % (type(exc), exc))
print(json.dumps(out))
`;
  const input = JSON.stringify(list.map((c) => ({ method: c.method, names: c.arity.names, required: c.arity.required, given: c.given })));
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input, encoding: 'utf8' })) as Array<string | null>;
}

describe('the arity fault is the TypeError text real Python writes', () => {
  const expected = pythonFaults(cases);
  test.each(cases.map((c, i) => [c.what, c, i] as const))('%s', (_what, c, i) => {
    const ours = arityFault(c.method, c.arity, c.given);
    expect(ours?.faultString ?? null).toBe(expected[i]);
    if (ours) expect(ours.faultCode).toBe(1);
  });

  test('three or more missing names are listed with the serial comma', () => {
    expect(arityFault('f', { names: ['a', 'b', 'c'], required: 3 }, 0)?.faultString).toBe(
      "<class 'TypeError'>:XMLRPCServer.f() missing 3 required positional arguments: 'a', 'b', and 'c'",
    );
  });

  test('checkArity throws the same fault', () => {
    expect(() => checkArity('join_room', ['r'], three)).toThrow(arityFault('join_room', { names: three, required: 3 }, 1)!.faultString);
    expect(() => checkArity('join_room', ['r', 'u', 'n'], three)).not.toThrow();
  });
});

describe('struct check and parameter getters', () => {
  test('only a decoded <struct> is a struct', () => {
    expect(isStruct({ a: 1 })).toBe(true);
    expect(isStruct({})).toBe(true);
    for (const v of [null, undefined, [], 'x', 1, true, new Date(0), Buffer.from('x')]) expect(isStruct(v as never)).toBe(false);
  });

  test('a wrong type or an over-long string is a TypeError fault naming the parameter', () => {
    const fault = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(XmlRpcFault);
        return (e as XmlRpcFault).faultString;
      }
      throw new Error('no fault');
    };
    expect(fault(() => stringParam([1], 0, 'room_id'))).toBe("<class 'TypeError'>:parameter room_id must be a string");
    expect(fault(() => stringParam(['abcd'], 0, 'username', 3))).toBe("<class 'TypeError'>:parameter username is too long");
    expect(fault(() => structParam([[1]], 0, 'message_data'))).toBe("<class 'TypeError'>:parameter message_data must be a struct");
    expect(stringParam(['abc'], 0, 'username', 3)).toBe('abc');
    expect(structParam([{ a: 1 }], 0, 'message_data')).toEqual({ a: 1 });
  });
});
