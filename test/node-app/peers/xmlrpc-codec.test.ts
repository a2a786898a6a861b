import {
  decodeMethodCall,
  decodeMethodResponse,
  encodeFault,
  encodeMethodCall,
  encodeMethodResponse,
  XmlRpcDecodeError,
  XmlRpcFault,
  type XmlRpcValue,
} from '../../../node-app/src/peers/xmlrpc-codec';
import { loadSamples } from './samples';

const samples = loadSamples();

function call(inner: string): string {
  return `<?xml version='1.0'?>\n<methodCall><methodName>m</methodName><params><param>${inner}</param></params></methodCall>`;
}
const one = (inner: string): XmlRpcValue => decodeMethodCall(call(inner)).params[0];

describe('encoding matches Python xmlrpc.client byte for byte', () => {
  test('the captured join_room request body is what we produce for the same call', () => {
    const req = samples.find((s) => s.path === undefined)!;
    const decoded = decodeMethodCall(req.body);
    expect(decoded.method).toBe('join_room');
    expect(encodeMethodCall(decoded.method, decoded.params)).toBe(req.body);
  });

  test('every captured 200 response re-encodes to the identical bytes', () => {
    const responses = samples.filter((s) => s.status === 200);
    expect(responses.length).toBeGreaterThanOrEqual(7);
    for (const s of responses) {
      let reencoded: string;
      try {
        reencoded = encodeMethodResponse(decodeMethodResponse(s.body));
      } catch (e) {
        if (!(e instanceof XmlRpcFault)) throw e;
        reencoded = encodeFault(e.faultCode, e.faultString);
      }
      expect(reencoded).toBe(s.body);
    }
  });
});

describe('decoding the captured responses', () => {
  test('nil, int, boolean, nested struct and array come out as JS values', () => {
    const join = samples.find((s) => s.body.includes('Successfully joined room'))!;
    expect(decodeMethodResponse(join.body)).toEqual({
      success: true,
      message: 'Successfully joined room',
      room_info: {
        room_id: '05359493-5f64-4692-9991-fec747d5a7c2',
        room_name: 'xml-1795694520.258787',
        description: null,
        members: ['u'],
        member_count: 1,
        admin_node: 'node1',
      },
      messages: [],
    });
  });

  test('a fault is thrown with its code and Python faultString', () => {
    const f = samples.find((s) => s.body.includes('no_such_method'))!;
    expect(() => decodeMethodResponse(f.body)).toThrow(XmlRpcFault);
    try {
      decodeMethodResponse(f.body);
    } catch (e) {
      expect((e as XmlRpcFault).faultCode).toBe(1);
      expect((e as XmlRpcFault).faultString).toBe(`<class 'Exception'>:method "no_such_method" is not supported`);
    }
  });
});

describe('value types', () => {
  test('int, i4, i8 and signed forms decode to numbers', () => {
    expect(one('<value><int>-2147483648</int></value>')).toBe(-2147483648);
    expect(one('<value><i4>+7</i4></value>')).toBe(7);
    expect(one('<value><i8>9007199254740991</i8></value>')).toBe(9007199254740991);
    expect(one('<value><ex:i8 xmlns:ex="x">12</ex:i8></value>')).toBe(12);
  });

  test('integers beyond 2^53 are refused rather than rounded', () => {
    expect(() => one('<value><i8>9007199254740993</i8></value>')).toThrow(/cannot be represented exactly/);
  });

  test('integers outside the int32 range encode as <i8>, non-integers as <double>', () => {
    expect(encodeMethodResponse(2147483647)).toContain('<int>2147483647</int>');
    expect(encodeMethodResponse(2147483648)).toContain('<i8>2147483648</i8>');
    expect(encodeMethodResponse(-2147483649)).toContain('<i8>-2147483649</i8>');
    expect(encodeMethodResponse(1.5)).toContain('<double>1.5</double>');
    expect(encodeMethodResponse(-0)).toContain('<double>0.0</double>');
    expect(decodeMethodResponse(encodeMethodResponse(1e300))).toBe(1e300);
  });

  test('doubles including Python spellings of infinities and NaN', () => {
    expect(one('<value><double>2.5e-3</double></value>')).toBe(0.0025);
    expect(one('<value><double>inf</double></value>')).toBe(Infinity);
    expect(one('<value><double>-inf</double></value>')).toBe(-Infinity);
    expect(one('<value><double>nan</double></value>')).toBeNaN();
    expect(() => one('<value><double>1.2.3</double></value>')).toThrow(XmlRpcDecodeError);
  });

  test('booleans accept only 0 and 1, as Python does', () => {
    expect(one('<value><boolean>1</boolean></value>')).toBe(true);
    expect(one('<value><boolean>0</boolean></value>')).toBe(false);
    expect(() => one('<value><boolean>true</boolean></value>')).toThrow(/bad boolean/);
  });

  test('a bare <value>text</value> is a string, whitespace included; empty forms are empty strings', () => {
    expect(one('<value>  hi there </value>')).toBe('  hi there ');
    expect(one('<value></value>')).toBe('');
    expect(one('<value/>')).toBe('');
    expect(one('<value><string/></value>')).toBe('');
  });

  test('empty arrays in every spelling Python accepts', () => {
    expect(one('<value><array><data></data></array></value>')).toEqual([]);
    expect(one('<value><array><data/></array></value>')).toEqual([]);
    expect(one('<value><array></array></value>')).toEqual([]);
    expect(one('<value><array/></value>')).toEqual([]);
  });

  test('nil in both spellings', () => {
    expect(one('<value><nil/></value>')).toBeNull();
    expect(one('<value><nil></nil></value>')).toBeNull();
    expect(one('<value><ex:nil/></value>')).toBeNull();
  });

  test('entities, character references and CDATA decode; encoding escapes & < > and keeps \\r', () => {
    expect(one('<value><string>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;&#x1F600;</string></value>')).toBe(
      `a <b> & "c" 'd' é😀`,
    );
    expect(one('<value><string>x<![CDATA[<raw & text>]]>y</string></value>')).toBe('x<raw & text>y');
    const s = 'line1\r\nline2 <tag> & "quotes" ünïcödé 😀';
    const body = encodeMethodResponse(s);
    expect(body).toContain('&lt;tag&gt; &amp; "quotes"');
    expect(decodeMethodResponse(body)).toBe(s);
  });

  test('dateTime.iso8601 and base64 round-trip', () => {
    const d = new Date(Date.UTC(2026, 10, 26, 12, 2, 0));
    const body = encodeMethodResponse([d, Buffer.from('hello')]);
    expect(body).toContain('<dateTime.iso8601>20261126T12:02:00</dateTime.iso8601>');
    expect(decodeMethodResponse(body)).toEqual([d, Buffer.from('hello')]);
  });

  test('struct member names are kept exactly, including one named __proto__', () => {
    const v = one(
      '<value><struct><member><name>__proto__</name><value><int>1</int></value></member>' +
        '<member><name>a b&amp;c</name><value>x</value></member></struct></value>',
    ) as Record<string, XmlRpcValue>;
    expect(Object.keys(v)).toEqual(['__proto__', 'a b&c']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v['a b&c']).toBe('x');
  });

  test('undefined struct fields are left out; null is <nil/>', () => {
    const body = encodeMethodResponse({ a: null, b: undefined as unknown as XmlRpcValue });
    expect(body).toContain('<name>a</name>\n<value><nil/></value></member>');
    expect(body).not.toContain('<name>b</name>');
  });

  test('a string with a control character XML forbids is refused at encoding with a clear error', () => {
    expect(() => encodeMethodCall('m', ['bad\u0001'])).toThrow(/control character/);
  });

  test('recursive structures are refused', () => {
    const a: XmlRpcValue[] = [];
    a.push(a);
    expect(() => encodeMethodResponse(a)).toThrow(/recursive/);
  });
});

describe('malformed and hostile input', () => {
  const bad: Array<[string, string]> = [
    ['not XML at all', 'hello'],
    ['empty body', ''],
    ['truncated', "<?xml version='1.0'?><methodCall><methodName>m</methodName><params><param><value><int>1"],
    ['mismatched end tag', call('<value><int>1</string></value>')],
    ['unknown type', call('<value><float32>1</float32></value>')],
    ['text around a typed value', call('<value>x<int>1</int></value>')],
    ['DOCTYPE with entities', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>m</methodName></methodCall>'],
    ['undefined entity', call('<value><string>&bogus;</string></value>')],
    ['forbidden char reference', call('<value><string>&#0;</string></value>')],
    ['trailing garbage', call('<value>1</value>') + '<extra/>'],
    ['struct without names', call('<value><struct><member><value>1</value></member></struct></value>')],
    ['bad method name', "<methodCall><methodName>a b</methodName></methodCall>"],
  ];
  test.each(bad)('%s is a decode error, never a partial value', (_name, body) => {
    expect(() => decodeMethodCall(body)).toThrow(XmlRpcDecodeError);
  });

  test('nesting deeper than the limit is refused', () => {
    const deep = (n: number) => '<value><array><data>'.repeat(n) + '<value>x</value>' + '</data></array></value>'.repeat(n);
    expect(() => decodeMethodCall(call(deep(5)), { maxDepth: 5 })).not.toThrow();
    expect(() => decodeMethodCall(call(deep(6)), { maxDepth: 5 })).toThrow(/nesting deeper than 5/);
    // the default limit holds against a body built to exhaust the stack
    expect(() => decodeMethodCall(call(deep(50_000)))).toThrow(/nesting deeper/);
  });

  test('more values than the limit are refused', () => {
    const many = '<value><array><data>' + '<value><int>1</int></value>'.repeat(11) + '</data></array></value>';
    expect(() => decodeMethodCall(call(many), { maxValues: 10 })).toThrow(/more than 10 values/);
  });

  test('a response must carry exactly one value', () => {
    expect(() => decodeMethodResponse('<methodResponse><params></params></methodResponse>')).toThrow(/exactly one/);
  });
});

describe('method calls', () => {
  test('a call without <params> has no parameters; comments and a BOM are tolerated', () => {
    expect(decodeMethodCall('\ufeff<?xml version="1.0"?><!-- hi --><methodCall><methodName>heartbeat</methodName></methodCall>\n')).toEqual({
      method: 'heartbeat',
      params: [],
    });
  });

  test('round trip of a realistic broadcast', () => {
    const msg = {
      message_id: 'a84489cb-3296-48c3-983e-6f249a04a772',
      room_id: '05359493-5f64-4692-9991-fec747d5a7c2',
      username: 'alice',
      content: 'hello <world> & all',
      sequence_number: 42,
      timestamp: '2026-11-26T12:02:00.284011+00:00',
    };
    const body = encodeMethodCall('receive_message_broadcast', [msg.room_id, msg]);
    expect(decodeMethodCall(body)).toEqual({ method: 'receive_message_broadcast', params: [msg.room_id, msg] });
  });
});
