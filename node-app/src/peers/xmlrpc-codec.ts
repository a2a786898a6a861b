/**
 * XML-RPC codec, byte-compatible with Python 3.11's `xmlrpc.client` (Marshaller/Unmarshaller with
 * allow_none=True), which is what the original DS-G1-SMS nodes speak (node-app/PROTOCOL.md §1.2).
 *
 * Why our own instead of the npm `xmlrpc` package's: measured in test/node-app/peers/codec.bench.ts (figures in
 * node-app/src/peers/README.md), the library decodes through a streaming sax parser and costs tens of
 * microseconds per small body; this one is a single forward scan over the string with indexOf.
 * It also gives us what the library lacks: nesting-depth and item limits, a strict structure check
 * (malformed input is a clear error, never a half-decoded value), `<nil/>` both ways, and Python's exact
 * output layout so our bodies are indistinguishable from a Python peer's.
 */

export type XmlRpcValue =
  | null
  | boolean
  | number
  | string
  | Date
  | Buffer
  | XmlRpcValue[]
  | { [k: string]: XmlRpcValue };

/** A `<fault>` reply, or a fault a handler throws on purpose. */
export class XmlRpcFault extends Error {
  readonly faultCode: number;
  readonly faultString: string;
  constructor(faultCode: number, faultString: string) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.name = 'XmlRpcFault';
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

/** The body is not well-formed XML-RPC (or breaks a limit); the message says where and why. */
export class XmlRpcDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRpcDecodeError';
  }
}

export interface DecodeLimits {
  /** Deepest array/struct nesting accepted (the top-level value's container is depth 1). Default 32. */
  maxDepth?: number;
  /** Most values accepted in one body, all levels counted. Default 100 000. */
  maxValues?: number;
}

const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_VALUES = 100_000;

/** Python's xmlrpc.client MAXINT/MININT: what `<int>` may carry. */
export const XMLRPC_MAXINT = 2 ** 31 - 1;
export const XMLRPC_MININT = -(2 ** 31);

const XML_HEADER = "<?xml version='1.0'?>\n";

// ------------------------------------------------------------------------------------------ encode

/** Characters XML 1.0 forbids even as references; expat (and so Python) rejects a body containing them. */
const FORBIDDEN_XML_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

function escapeText(s: string): string {
  if (FORBIDDEN_XML_CHARS.test(s)) {
    throw new TypeError('cannot encode a string containing a control character that XML 1.0 forbids');
  }
  // Python's escape() does & < > only; we also protect \r, which an XML parser would otherwise
  // normalize to \n (a silent change of content on the way to a Python peer).
  if (!/[&<>\r]/.test(s)) return s;
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Python's `%Y%m%dT%H:%M:%S` (UTC; XML-RPC carries no zone). */
function formatDate(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new TypeError('cannot encode an invalid Date');
  const y = d.getUTCFullYear();
  return `${String(y).padStart(4, '0')}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}T${pad2(
    d.getUTCHours(),
  )}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

function formatDouble(n: number): string {
  // Python's float() reads what String() writes (including 'NaN', 'Infinity', '1e+21').
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`; // Python's repr(2.0) == '2.0'
  return String(n);
}

function encodeValue(v: XmlRpcValue | undefined, out: string[], seen: Set<object>): void {
  if (v === null || v === undefined) {
    out.push('<value><nil/></value>');
    return;
  }
  switch (typeof v) {
    case 'string':
      out.push('<value><string>', escapeText(v), '</string></value>\n');
      return;
    case 'boolean':
      out.push(v ? '<value><boolean>1</boolean></value>\n' : '<value><boolean>0</boolean></value>\n');
      return;
    case 'number':
      if (Number.isInteger(v) && !Object.is(v, -0)) {
        if (v <= XMLRPC_MAXINT && v >= XMLRPC_MININT) {
          out.push('<value><int>', String(v), '</int></value>\n');
        } else if (Number.isSafeInteger(v)) {
          // Python cannot send these, but its parser reads <i8> as int: no precision is lost either way.
          out.push('<value><i8>', String(v), '</i8></value>\n');
        } else {
          out.push('<value><double>', formatDouble(v), '</double></value>\n');
        }
      } else {
        out.push('<value><double>', formatDouble(v), '</double></value>\n');
      }
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`cannot encode a value of type ${typeof v}`);
  }
  if (v instanceof Date) {
    out.push('<value><dateTime.iso8601>', formatDate(v), '</dateTime.iso8601></value>\n');
    return;
  }
  if (Buffer.isBuffer(v)) {
    out.push('<value><base64>\n', v.toString('base64'), '\n</base64></value>\n');
    return;
  }
  if (seen.has(v)) throw new TypeError('cannot encode a recursive structure');
  seen.add(v);
  if (Array.isArray(v)) {
    out.push('<value><array><data>\n');
    for (const item of v) encodeValue(item, out, seen);
    out.push('</data></array></value>\n');
  } else {
    out.push('<value><struct>\n');
    for (const k of Object.keys(v)) {
      const item = (v as Record<string, XmlRpcValue | undefined>)[k];
      if (item === undefined) continue; // like JSON: an absent field, not a nil one
      out.push('<member>\n<name>', escapeText(k), '</name>\n');
      encodeValue(item, out, seen);
      out.push('</member>\n');
    }
    out.push('</struct></value>\n');
  }
  seen.delete(v);
}

function encodeParams(params: readonly XmlRpcValue[], out: string[]): void {
  out.push('<params>\n');
  const seen = new Set<object>();
  for (const p of params) {
    out.push('<param>\n');
    encodeValue(p, out, seen);
    out.push('</param>\n');
  }
  out.push('</params>\n');
}

const METHOD_NAME = /^[A-Za-z0-9_.:/]+$/;

export function encodeMethodCall(method: string, params: readonly XmlRpcValue[]): string {
  if (!METHOD_NAME.test(method)) throw new TypeError(`invalid XML-RPC method name ${JSON.stringify(method)}`);
  const out = [XML_HEADER, '<methodCall>\n<methodName>', method, '</methodName>\n'];
  encodeParams(params, out);
  out.push('</methodCall>\n');
  return out.join('');
}

export function encodeMethodResponse(value: XmlRpcValue): string {
  const out = [XML_HEADER, '<methodResponse>\n'];
  encodeParams([value], out);
  out.push('</methodResponse>\n');
  return out.join('');
}

export function encodeFault(code: number, str: string): string {
  const out = [XML_HEADER, '<methodResponse>\n<fault>\n'];
  encodeValue({ faultCode: code, faultString: str }, out, new Set());
  out.push('</fault>\n</methodResponse>\n');
  return out.join('');
}

// ------------------------------------------------------------------------------------------ decode

const ENTITY = /&(?:(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);)?/g;

function decodeEntities(s: string, at: number): string {
  return s.replace(ENTITY, (_m, body: string | undefined) => {
    if (body === undefined) throw new XmlRpcDecodeError(`undefined or malformed entity near offset ${at}`);
    switch (body) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const cp = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
        const allowed =
          cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
          (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
        if (!allowed) throw new XmlRpcDecodeError(`character reference to a forbidden code point near offset ${at}`);
        return String.fromCodePoint(cp);
      }
    }
  });
}

interface Tag {
  /** local name (namespace prefix stripped, as Python does: `ex:nil` is `nil`) */
  name: string;
  closing: boolean;
  selfClosing: boolean;
}

/**
 * One forward pass over the body. Only the XML that XML-RPC uses is accepted: elements, text, entity
 * and character references, CDATA, comments and the XML declaration. A DOCTYPE is refused (no entity
 * expansion attacks) and every end tag must match its start tag.
 */
class Scanner {
  pos = 0;
  private values = 0;
  private readonly maxDepth: number;
  private readonly maxValues: number;

  constructor(private readonly s: string, limits: DecodeLimits | undefined) {
    this.maxDepth = limits?.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxValues = limits?.maxValues ?? DEFAULT_MAX_VALUES;
    if (s.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  fail(what: string): never {
    throw new XmlRpcDecodeError(`malformed XML-RPC at offset ${this.pos}: ${what}`);
  }

  /** Reads character data up to the next tag; comments and CDATA sections are part of it. */
  text(): string {
    const s = this.s;
    let out = '';
    for (;;) {
      const lt = s.indexOf('<', this.pos);
      if (lt < 0) this.fail('unexpected end of document');
      if (lt > this.pos) {
        const raw = s.slice(this.pos, lt);
        out += raw.indexOf('&') >= 0 ? decodeEntities(raw, this.pos) : raw;
      }
      this.pos = lt;
      if (s.startsWith('<![CDATA[', lt)) {
        const end = s.indexOf(']]>', lt + 9);
        if (end < 0) this.fail('unterminated CDATA section');
        out += s.slice(lt + 9, end);
        this.pos = end + 3;
      } else if (s.startsWith('<!--', lt)) {
        const end = s.indexOf('-->', lt + 4);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 3;
      } else {
        return out;
      }
    }
  }

  /** Like text(), but only whitespace may be there (between elements). */
  space(): void {
    // fast path: plain whitespace up to an element tag (the common case between elements)
    const s = this.s;
    let i = this.pos;
    let c = s.charCodeAt(i);
    while (c === 32 || c === 10 || c === 9 || c === 13) c = s.charCodeAt(++i);
    if (c === 60 /* < */ && s.charCodeAt(i + 1) !== 33 /* ! */) {
      this.pos = i;
      return;
    }
    const t = this.text();
    if (t.length > 0 && !/^[ \t\r\n]*$/.test(t)) this.fail('unexpected text between elements');
  }

  tag(): Tag {
    const s = this.s;
    let i = this.pos + 1;
    const closing = s.charCodeAt(i) === 47; /* / */
    if (closing) i++;
    const start = i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 62 || c === 47 || c === 32 || c === 9 || c === 10 || c === 13 || Number.isNaN(c)) break;
      i++;
    }
    let name = s.slice(start, i);
    if (name.length === 0 || name[0] === '!' || name[0] === '?') this.fail(`unexpected markup ${JSON.stringify(s.slice(this.pos, this.pos + 12))}`);
    const end = s.indexOf('>', i);
    if (end < 0) this.fail('unterminated tag');
    const selfClosing = s.charCodeAt(end - 1) === 47;
    if (closing && end !== i && (selfClosing || s.slice(i, end).trim() !== '')) this.fail('malformed end tag');
    const colon = name.indexOf(':');
    if (colon >= 0) name = name.slice(colon + 1);
    this.pos = end + 1;
    return { name, closing, selfClosing };
  }

  expectOpen(name: string): boolean {
    this.space();
    const t = this.tag();
    if (t.closing || t.name !== name) this.fail(`expected <${name}>, found <${t.closing ? '/' : ''}${t.name}>`);
    return t.selfClosing;
  }

  expectClose(name: string): void {
    this.space();
    const t = this.tag();
    if (!t.closing || t.name !== name) this.fail(`expected </${name}>, found <${t.closing ? '/' : ''}${t.name}>`);
  }

  /** Text content of a simple element whose start tag was just read, through its end tag. */
  simpleContent(name: string, selfClosing: boolean): string {
    if (selfClosing) return '';
    const t = this.text();
    const end = this.tag();
    if (!end.closing || end.name !== name) this.fail(`<${name}> may hold only text`);
    return t;
  }

  prolog(): void {
    const s = this.s;
    for (;;) {
      this.space();
      if (s.startsWith('<?', this.pos)) {
        const end = s.indexOf('?>', this.pos);
        if (end < 0) this.fail('unterminated processing instruction');
        this.pos = end + 2;
      } else if (s.startsWith('<!', this.pos)) {
        this.fail('DOCTYPE and other declarations are not accepted');
      } else {
        return;
      }
    }
  }

  epilog(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const lt = s.indexOf('<', this.pos);
      const tail = lt < 0 ? s.slice(this.pos) : s.slice(this.pos, lt);
      if (!/^[ \t\r\n]*$/.test(tail)) this.fail('text after the document element');
      if (lt < 0) return;
      this.pos = lt;
      if (!s.startsWith('<!--', lt)) this.fail('content after the document element');
      const end = s.indexOf('-->', lt + 4);
      if (end < 0) this.fail('unterminated comment');
      this.pos = end + 3;
    }
  }

  /** Reads `<value>...</value>` (the start tag already consumed). */
  valueBody(selfClosing: boolean, depth: number): XmlRpcValue {
    if (++this.values > this.maxValues) this.fail(`more than ${this.maxValues} values`);
    if (selfClosing) return '';
    const lead = this.text();
    const t = this.tag();
    if (t.closing) {
      if (t.name !== 'value') this.fail(`expected </value>, found </${t.name}>`);
      return lead; // Python: a bare <value>text</value> is a string
    }
    if (lead.length > 0 && !/^[ \t\r\n]*$/.test(lead)) this.fail('text before a typed value');
    const v = this.typed(t, depth);
    this.expectClose('value');
    return v;
  }

  typed(t: Tag, depth: number): XmlRpcValue {
    switch (t.name) {
      case 'string':
        return this.simpleContent('string', t.selfClosing);
      case 'int':
      case 'i4':
      case 'i8':
      case 'i1':
      case 'i2':
      case 'biginteger': {
        const raw = this.simpleContent(t.name, t.selfClosing).trim();
        if (!/^[+-]?[0-9]+$/.test(raw)) this.fail(`bad integer ${JSON.stringify(raw.slice(0, 40))}`);
        const n = Number(raw);
        if (!Number.isSafeInteger(n)) this.fail(`integer ${raw.slice(0, 40)} cannot be represented exactly`);
        return n;
      }
      case 'double':
      case 'float':
      case 'bigdecimal': {
        const raw = this.simpleContent(t.name, t.selfClosing).trim();
        const lower = raw.toLowerCase();
        if (lower === 'nan') return NaN;
        if (lower === 'inf' || lower === 'infinity' || lower === '+inf' || lower === '+infinity') return Infinity;
        if (lower === '-inf' || lower === '-infinity') return -Infinity;
        if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(raw)) {
          this.fail(`bad double ${JSON.stringify(raw.slice(0, 40))}`);
        }
        return Number(raw);
      }
      case 'boolean': {
        const raw = this.simpleContent('boolean', t.selfClosing);
        if (raw === '1') return true;
        if (raw === '0') return false;
        return this.fail(`bad boolean value ${JSON.stringify(raw.slice(0, 40))}`);
      }
      case 'nil':
        if (!t.selfClosing) this.simpleContent('nil', false);
        return null;
      case 'dateTime.iso8601': {
        const raw = this.simpleContent(t.name, t.selfClosing).trim();
        const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})/.exec(raw);
        if (!m) this.fail(`bad dateTime.iso8601 ${JSON.stringify(raw.slice(0, 40))}`);
        return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
      }
      case 'base64': {
        const raw = this.simpleContent('base64', t.selfClosing).replace(/[ \t\r\n]+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) this.fail('bad base64');
        return Buffer.from(raw, 'base64');
      }
      case 'array':
        return this.array(t.selfClosing, depth + 1);
      case 'struct':
        return this.struct(t.selfClosing, depth + 1);
      default:
        return this.fail(`unknown value type <${t.name}>`);
    }
  }

  array(selfClosing: boolean, depth: number): XmlRpcValue[] {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    const items: XmlRpcValue[] = [];
    if (selfClosing) return items;
    this.space();
    const open = this.tag();
    if (open.closing && open.name === 'array') return items; // <array></array>: Python reads []
    if (open.closing || open.name !== 'data') this.fail(`expected <data>, found <${open.closing ? '/' : ''}${open.name}>`);
    if (!open.selfClosing) {
      for (;;) {
        this.space();
        const t = this.tag();
        if (t.closing) {
          if (t.name !== 'data') this.fail(`expected </data>, found </${t.name}>`);
          break;
        }
        if (t.name !== 'value') this.fail(`expected <value> in <data>, found <${t.name}>`);
        items.push(this.valueBody(t.selfClosing, depth));
      }
    }
    this.expectClose('array');
    return items;
  }

  struct(selfClosing: boolean, depth: number): { [k: string]: XmlRpcValue } {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    const out: { [k: string]: XmlRpcValue } = {};
    if (selfClosing) return out;
    this.eachChild('struct', 'member', 'expected <member> in <struct>', () => {
      const nameSelfClosing = this.expectOpen('name');
      const key = this.simpleContent('name', nameSelfClosing);
      const v = this.valueBody(this.expectOpen('value'), depth);
      if (key === '__proto__') {
        // data, not a prototype switch
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = v;
      }
      this.expectClose('member');
    });
    return out;
  }

  /**
   * Reads `<child>` elements until `</container>`: `read` runs after each child's start tag. Any
   * other element, or a self-closing child, fails with `wrongChild`, found <name>.
   */
  private eachChild(container: string, child: string, wrongChild: string, read: () => void): void {
    for (;;) {
      this.space();
      const t = this.tag();
      if (t.closing) {
        if (t.name !== container) this.fail(`expected </${container}>, found </${t.name}>`);
        return;
      }
      if (t.name !== child || t.selfClosing) this.fail(`${wrongChild}, found <${t.name}>`);
      read();
    }
  }

  /** `<params>` (start tag consumed) → the list of values. */
  params(selfClosing: boolean): XmlRpcValue[] {
    const params: XmlRpcValue[] = [];
    if (selfClosing) return params;
    this.eachChild('params', 'param', 'expected <param>', () => {
      params.push(this.valueBody(this.expectOpen('value'), 0));
      this.expectClose('param');
    });
    return params;
  }
}

export function decodeMethodCall(xml: string, limits?: DecodeLimits): { method: string; params: XmlRpcValue[] } {
  const sc: Scanner = new Scanner(xml, limits);
  sc.prolog();
  if (sc.expectOpen('methodCall')) sc.fail('empty <methodCall>');
  const method = sc.simpleContent('methodName', sc.expectOpen('methodName'));
  if (!METHOD_NAME.test(method)) sc.fail(`invalid method name ${JSON.stringify(method.slice(0, 60))}`);
  sc.space();
  let t = sc.tag();
  let params: XmlRpcValue[] = [];
  if (!t.closing && t.name === 'params') {
    params = sc.params(t.selfClosing);
    sc.space();
    t = sc.tag();
  }
  if (!t.closing || t.name !== 'methodCall') sc.fail(`expected </methodCall>, found <${t.closing ? '/' : ''}${t.name}>`);
  sc.epilog();
  return { method, params };
}

/** The single value of a `<methodResponse>`; a `<fault>` is thrown as XmlRpcFault. */
export function decodeMethodResponse(xml: string, limits?: DecodeLimits): XmlRpcValue {
  const sc: Scanner = new Scanner(xml, limits);
  sc.prolog();
  if (sc.expectOpen('methodResponse')) sc.fail('empty <methodResponse>');
  sc.space();
  const t = sc.tag();
  if (t.closing) sc.fail(`unexpected </${t.name}>`);
  if (t.name === 'fault') {
    const f = sc.valueBody(sc.expectOpen('value'), 0);
    sc.expectClose('fault');
    sc.expectClose('methodResponse');
    sc.epilog();
    if (f === null || typeof f !== 'object' || Array.isArray(f) || f instanceof Date || Buffer.isBuffer(f)) {
      return sc.fail('a fault must carry a struct');
    }
    const code = (f as Record<string, XmlRpcValue>).faultCode;
    const str = (f as Record<string, XmlRpcValue>).faultString;
    if (typeof code !== 'number' || typeof str !== 'string') sc.fail('a fault needs faultCode (int) and faultString');
    throw new XmlRpcFault(code, str);
  }
  if (t.name !== 'params') sc.fail(`expected <params> or <fault>, found <${t.name}>`);
  const params = sc.params(t.selfClosing);
  sc.expectClose('methodResponse');
  sc.epilog();
  if (params.length !== 1) sc.fail(`a response carries exactly one value, found ${params.length}`);
  return params[0];
}
