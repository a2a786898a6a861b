/**
 * The extension XML-RPC methods between swarm-chat nodes for replication, and the validation of
 * what arrives on them. An original Python node knows none of these; it is never called with them
 * (it is not a voter, see README).
 *
 *   swarmchat_repl(from_node, items[])  -> results[]   one call carries many rooms' appends/votes
 *   swarmchat_submit(from_node, room_id, kind, data_json) -> SubmitReply
 *
 * Entry payloads travel as JSON strings: XML-RPC ints are 32-bit and structs lose `undefined`
 * vs `null`, JSON keeps the entry byte-for-byte what the admin stored.
 */
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { EntryKind, LogEntry } from '../storage/room-log-store';
import type { RoomSnapshot } from '../storage/room-snapshots';

export const METHOD_REPL = 'swarmchat_repl';
export const METHOD_SUBMIT = 'swarmchat_submit';
/** Many client requests forwarded to one admin in one call: (from_node, [{r, k, d}]) -> SubmitReply[]. */
export const METHOD_SUBMIT_BATCH = 'swarmchat_submit_batch';
export const REPLICATION_METHODS = [METHOD_REPL, METHOD_SUBMIT, METHOD_SUBMIT_BATCH] as const;

export const ENTRY_KINDS: readonly EntryKind[] = ['create', 'noop', 'join', 'leave', 'message', 'delete', 'config'];

export interface AppendItem {
  k: 'a';
  room: string;
  term: number;
  prevIndex: number;
  prevTerm: number;
  commit: number;
  entries: LogEntry[];
  /** The admin is shutting down gracefully: elect a successor now instead of after the timeout. */
  resign?: boolean;
}

export interface VoteItem { k: 'v'; room: string; term: number; lastIndex: number; lastTerm: number; pre: boolean }

/** Node-level liveness: "I am alive", refreshing every room whose admin the receiver knows me to be. */
export interface AliveItem { k: 'h' }

/**
 * For a follower whose next entries the admin has compacted away: the admin's snapshot (its
 * compacted prefix) and the room's state at its commit index (storage/room-snapshots.ts);
 * answered like an append: match = the snapshot's last index, the entries after it follow.
 */
export interface SnapshotItem { k: 's'; room: string; term: number; snapshot: RoomSnapshot }

export type ReplItem = AppendItem | VoteItem | AliveItem | SnapshotItem;

export interface AppendResult { ok: boolean; term: number; match: number; conflict: number }
/** `deleted`: the voter has the room's deletion committed (the candidate missed it; no admin will come). */
export interface VoteResult { granted: boolean; term: number; deleted?: boolean }

export class WireError extends Error {}

function obj(v: XmlRpcValue, what: string): Record<string, XmlRpcValue> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || Buffer.isBuffer(v)) {
    throw new WireError(`${what}: expected a struct`);
  }
  return v as Record<string, XmlRpcValue>;
}

function int(v: XmlRpcValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new WireError(`${what}: expected a non-negative integer, got ${String(v)}`);
  return v;
}

function text(v: XmlRpcValue | undefined, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new WireError(`${what}: expected a non-empty string`);
  return v;
}

export function encodeEntry(e: LogEntry): XmlRpcValue {
  return { i: e.idx, t: e.term, k: e.kind, d: JSON.stringify(e.data) };
}

export function decodeEntry(v: XmlRpcValue): LogEntry {
  const o = obj(v, 'entry');
  const kind = o.k;
  if (typeof kind !== 'string' || !(ENTRY_KINDS as readonly string[]).includes(kind)) throw new WireError(`entry: unknown kind ${String(kind)}`);
  if (typeof o.d !== 'string') throw new WireError('entry: data must be a JSON string');
  let data: unknown;
  try {
    data = JSON.parse(o.d);
  } catch {
    throw new WireError('entry: data is not valid JSON');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new WireError('entry: data must be a JSON object');
  return { idx: int(o.i, 'entry.i'), term: int(o.t, 'entry.t'), kind: kind as EntryKind, data: data as Record<string, unknown> };
}

export function encodeItem(item: ReplItem): XmlRpcValue {
  if (item.k === 'h') return { k: 'h' };
  if (item.k === 's') return encodeSnapshotItem(item);
  if (item.k === 'a') {
    const out: Record<string, XmlRpcValue> = { k: 'a', r: item.room, t: item.term, p: item.prevIndex, pt: item.prevTerm, c: item.commit, e: item.entries.map(encodeEntry) };
    if (item.resign) out.rs = true;
    return out;
  }
  return { k: 'v', r: item.room, t: item.term, li: item.lastIndex, lt: item.lastTerm, pre: item.pre };
}

export function decodeItem(v: XmlRpcValue): ReplItem {
  const o = obj(v, 'item');
  if (o.k === 'h') return { k: 'h' };
  const room = text(o.r, 'item.r');
  if (o.k === 'a') {
    if (!Array.isArray(o.e)) throw new WireError('append: e must be an array');
    const entries = o.e.map(decodeEntry);
    const prevIndex = int(o.p, 'append.p');
    entries.forEach((e, i) => {
      if (e.idx !== prevIndex + 1 + i) throw new WireError('append: entries are not contiguous after prevIndex');
    });
    return { k: 'a', room, term: int(o.t, 'append.t'), prevIndex, prevTerm: int(o.pt, 'append.pt'), commit: int(o.c, 'append.c'), entries, resign: o.rs === true };
  }
  if (o.k === 's') return decodeSnapshotItem(o, room);
  if (o.k === 'v') {
    return { k: 'v', room, term: int(o.t, 'vote.t'), lastIndex: int(o.li, 'vote.li'), lastTerm: int(o.lt, 'vote.lt'), pre: o.pre === true };
  }
  throw new WireError(`item: unknown kind ${String(o.k)}`);
}

/**
 * Snapshot item on the wire: {k:"s", r:room_id, t:term, li:last_index, lt:last_term,
 * ai:applied_index, at:applied_term, d:json}; the JSON carries last_seq, voters, config_idx, info
 * and members (JSON for the same reasons as entries).
 */
function encodeSnapshotItem(item: SnapshotItem): XmlRpcValue {
  const { lastIndex, lastTerm, appliedIndex, appliedTerm, lastSeq, voters, configIdx, info, members } = item.snapshot;
  return {
    k: 's', r: item.room, t: item.term, li: lastIndex, lt: lastTerm, ai: appliedIndex, at: appliedTerm,
    d: JSON.stringify({ last_seq: lastSeq, voters, config_idx: configIdx, info, members }),
  };
}

function decodeSnapshotItem(o: Record<string, XmlRpcValue>, room: string): SnapshotItem {
  if (typeof o.d !== 'string') throw new WireError('snapshot: d must be a JSON string');
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(o.d) as Record<string, unknown>;
  } catch {
    throw new WireError('snapshot: d is not valid JSON');
  }
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new WireError('snapshot: d must be a JSON object');
  const lastSeq = d.last_seq;
  const configIdx = d.config_idx;
  if (typeof lastSeq !== 'number' || !Number.isInteger(lastSeq) || lastSeq < 0) throw new WireError('snapshot: bad last_seq');
  if (typeof configIdx !== 'number' || !Number.isInteger(configIdx) || configIdx < 0) throw new WireError('snapshot: bad config_idx');
  const voters = d.voters;
  if (voters !== null && !(Array.isArray(voters) && voters.every((v) => typeof v === 'string'))) throw new WireError('snapshot: bad voters');
  const members = d.members;
  const strs = (m: unknown, keys: string[]) => m !== null && typeof m === 'object' && keys.every((k) => typeof (m as Record<string, unknown>)[k] === 'string');
  if (!Array.isArray(members) || !members.every((m) => strs(m, ['username', 'nodeId', 'joinedAt']))) throw new WireError('snapshot: bad members');
  const info = d.info as Record<string, unknown> | null;
  if (info !== null && !(strs(info, ['roomName', 'creatorId', 'createdAt', 'adminNode'])
    && (info.description === null || typeof info.description === 'string') && typeof info.deleted === 'boolean'
    && typeof info.messageCount === 'number')) {
    throw new WireError('snapshot: bad info');
  }
  const lastIndex = int(o.li, 'snapshot.li');
  const appliedIndex = int(o.ai, 'snapshot.ai');
  if (lastIndex < 1 || appliedIndex < lastIndex) throw new WireError('snapshot: applied index before the snapshot');
  return {
    k: 's', room, term: int(o.t, 'snapshot.t'),
    snapshot: {
      lastIndex, lastTerm: int(o.lt, 'snapshot.lt'), appliedIndex, appliedTerm: int(o.at, 'snapshot.at'), lastSeq, configIdx,
      voters: voters as string[] | null, members: members as RoomSnapshot['members'], info: info as RoomSnapshot['info'],
    },
  };
}

export function encodeAppendResult(r: AppendResult): XmlRpcValue {
  return { ok: r.ok, t: r.term, m: r.match, x: r.conflict };
}

/** The answer to "alive": the receiver's incarnation (older nodes of ours answer `true`: none). */
export function decodeAliveResult(v: XmlRpcValue): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= 64 ? v : undefined;
}

export function decodeAppendResult(v: XmlRpcValue): AppendResult {
  const o = obj(v, 'append result');
  return { ok: o.ok === true, term: int(o.t, 'result.t'), match: int(o.m, 'result.m'), conflict: int(o.x, 'result.x') };
}

export function encodeVoteResult(r: VoteResult): XmlRpcValue {
  return r.deleted ? { g: r.granted, t: r.term, d: true } : { g: r.granted, t: r.term };
}

export function decodeVoteResult(v: XmlRpcValue): VoteResult {
  const o = obj(v, 'vote result');
  return { granted: o.g === true, term: int(o.t, 'result.t'), ...(o.d === true ? { deleted: true } : {}) };
}

/** What `swarmchat_submit` answers. `retry` codes mean "ask the admin named in `admin`, or wait". */
export type SubmitReply =
  | { ok: true; idx: number; term: number; entry: LogEntry }
  | { ok: false; code: string; message: string; admin?: string };

export function encodeSubmitReply(r: SubmitReply): XmlRpcValue {
  if (r.ok) return { ok: true, i: r.idx, t: r.term, e: encodeEntry(r.entry) };
  const out: Record<string, XmlRpcValue> = { ok: false, code: r.code, message: r.message };
  if (r.admin) out.admin = r.admin;
  return out;
}

export function decodeSubmitReply(v: XmlRpcValue): SubmitReply {
  const o = obj(v, 'submit reply');
  if (o.ok === true) return { ok: true, idx: int(o.i, 'submit.i'), term: int(o.t, 'submit.t'), entry: decodeEntry(o.e) };
  return {
    ok: false,
    code: typeof o.code === 'string' ? o.code : 'INTERNAL_ERROR',
    message: typeof o.message === 'string' ? o.message : 'submit failed',
    admin: typeof o.admin === 'string' ? o.admin : undefined,
  };
}
