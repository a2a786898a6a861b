/**
 * The batching extension's payload: many posted calls in ONE XML-RPC call of `swarmchat_batch`, whose
 * single `<string>` parameter is JSON. JSON because decoding one string param plus JSON.parse costs a
 * fraction of decoding the same items as a native XML-RPC array (figures in README.md).
 *
 * XML-RPC values that JSON cannot carry (Date, Buffer, NaN/±Infinity) travel as one-key objects whose
 * key starts with U+0000: a character XML 1.0 forbids, so no real struct member can ever collide.
 */
import type { XmlRpcValue } from './xmlrpc-codec';

export const BATCH_METHOD = 'swarmchat_batch';
export const HELLO_METHOD = 'swarmchat_hello';
export const BATCH_CAPABILITY = 'batch-json-v1';

export interface BatchRequest {
  /** sending node id */
  from: string;
  /** random id of the sending stream (a new one per process/link), so sequence numbers restart safely */
  stream: string;
  /** sequence number of items[0]; the rest follow consecutively */
  seq: number;
  items: Array<[method: string, params: XmlRpcValue[]]>;
}

/** Per item: [0, result] | [1, faultCode, faultString] | [2] (already delivered by an earlier try). */
export type BatchItemResult = [0, XmlRpcValue] | [1, number, string] | [2];

export interface BatchResponse {
  results: BatchItemResult[];
}

const TAG_DATE = '\u0000d';
const TAG_BUF = '\u0000b';
const TAG_NUM = '\u0000n';

function needsTags(v: unknown, depth: number): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return false;
  if (typeof v === 'number') return !Number.isFinite(v);
  if (depth > 64) return true; // let the slow path produce the error, if any
  if (typeof v !== 'object') return false;
  if (v instanceof Date || Buffer.isBuffer(v)) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (needsTags(x, depth + 1)) return true;
    return false;
  }
  for (const k in v) if (needsTags((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

function tagReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date) return { [TAG_DATE]: raw.toISOString() };
  if (Buffer.isBuffer(raw)) return { [TAG_BUF]: raw.toString('base64') };
  if (typeof raw === 'number' && !Number.isFinite(raw)) return { [TAG_NUM]: String(raw) };
  return value;
}

function tagReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o[TAG_DATE] === 'string') return new Date(o[TAG_DATE] as string);
    if (typeof o[TAG_BUF] === 'string') return Buffer.from(o[TAG_BUF] as string, 'base64');
    if (typeof o[TAG_NUM] === 'string') return Number(o[TAG_NUM]);
  }
  return value;
}

export function toBatchJson(v: unknown): string {
  return needsTags(v, 0) ? JSON.stringify(v, tagReplacer) : JSON.stringify(v);
}

export function fromBatchJson(s: string): unknown {
  // JSON.stringify writes U+0000 as \u0000, so a body without it has no tags and needs no reviver.
  return s.includes('\\u0000') ? JSON.parse(s, tagReviver) : JSON.parse(s);
}

/** Validates a decoded batch request; throws a message fit for a fault. */
export function parseBatchRequest(json: string, maxItems: number): BatchRequest {
  let v: unknown;
  try {
    v = fromBatchJson(json);
  } catch (e) {
    throw new Error(`batch is not valid JSON: ${(e as Error).message}`);
  }
  const b = v as Partial<BatchRequest> | null;
  if (
    !b || typeof b !== 'object' || typeof b.from !== 'string' || typeof b.stream !== 'string' ||
    !Number.isSafeInteger(b.seq) || (b.seq as number) < 0 || !Array.isArray(b.items)
  ) {
    throw new Error('batch needs {from, stream, seq, items}');
  }
  if (b.items.length > maxItems) throw new Error(`batch of ${b.items.length} items exceeds the limit of ${maxItems}`);
  for (const it of b.items) {
    if (!Array.isArray(it) || it.length !== 2 || typeof it[0] !== 'string' || !Array.isArray(it[1])) {
      throw new Error('batch items must be [method, params[]]');
    }
  }
  return b as BatchRequest;
}
