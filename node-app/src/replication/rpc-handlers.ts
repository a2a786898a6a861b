/**
 * The engine's XML-RPC methods as the peer server serves them: `swarmchat_repl` (appends, votes
 * and "alive" from a peer; the calls that arrive in one event-loop turn, from one admin's pipeline
 * or from several admins, are handled in one transaction, on disk before any of them is answered:
 * group commit, no waiting when calls come one at a time; the sync runs off the event loop and
 * covers every transaction made while the previous one ran),
 * `swarmchat_submit` and `swarmchat_submit_batch` (client requests forwarded to this node as
 * admin). Checks who is calling and the shape of what arrives; decisions are the engine's.
 */
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { AppliedEntry, EntryKind } from '../storage/room-log-store';
import { type Engine, NOT_A_PEER, NOT_LEADER, ReplicationError } from './engine';
import type { RoomState } from './room-state';
import {
  METHOD_REPL, METHOD_SUBMIT, METHOD_SUBMIT_BATCH, type ReplItem, WireError, decodeItem, encodeAppendResult, encodeSubmitReply,
  encodeVoteResult, ENTRY_KINDS,
} from './wire';

export interface CallContext { peerId?: string; authenticated?: boolean }
export type ReplicationHandler = (params: XmlRpcValue[], ctx?: CallContext) => XmlRpcValue | Promise<XmlRpcValue>;

/** Handlers to register on the peer server (PeerServer handlers map). */
export function replicationHandlers(e: Engine): Record<string, ReplicationHandler> {
  const group = new ReplGroup(e);
  // When the link is signed, the signature names the caller: it must be the node the call claims to be from.
  const check = (params: XmlRpcValue[], ctx?: CallContext) => {
    if (ctx?.authenticated && ctx.peerId && params[0] !== ctx.peerId) {
      throw new WireError(`caller ${ctx.peerId} claims to be ${String(params[0])}`);
    }
  };
  return {
    [METHOD_REPL]: (params, ctx) => {
      check(params, ctx);
      return group.add(params);
    },
    [METHOD_SUBMIT]: (params, ctx) => {
      check(params, ctx);
      return onSubmit(e, params);
    },
    [METHOD_SUBMIT_BATCH]: (params, ctx) => {
      check(params, ctx);
      return onSubmitBatch(e, params);
    },
  };
}

interface QueuedRepl { from: string; items: ReplItem[]; resolve(r: XmlRpcValue[]): void; reject(err: Error): void }

/** `swarmchat_repl` calls of one turn, handled together in one transaction (one fsync). */
class ReplGroup {
  private queue: QueuedRepl[] = [];

  constructor(private readonly e: Engine) {}

  add(params: XmlRpcValue[]): Promise<XmlRpcValue[]> {
    const e = this.e;
    if (params.length !== 2 || typeof params[0] !== 'string' || !Array.isArray(params[1])) {
      throw new WireError('swarmchat_repl(from_node, items[]) expects 2 parameters');
    }
    const from = params[0];
    // A node being added (not in our PEER_NODES yet) or removed: planned, so the caller logs it at info.
    if (!e.members.isPeer(from)) throw new WireError(`swarmchat_repl: ${from} is ${NOT_A_PEER} of ${e.selfId}`);
    const items = params[1].map(decodeItem);
    return new Promise((resolve, reject) => {
      this.queue.push({ from, items, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => this.run());
    });
  }

  private run(): void {
    const e = this.e;
    const calls = this.queue;
    this.queue = [];
    const now = e.clock.now();
    const applied: [RoomState, AppliedEntry[]][] = [];
    // Entries, votes and term changes must be on disk before we answer; plain heartbeats only
    // move commit indexes, which are recomputable, and skip the fsync (alive-only: no transaction).
    const durable = calls.some((c) => c.items.some((it) => it.k === 'h' ? false : it.k === 's' ? true : it.k === 'v'
      ? !it.pre
      : it.entries.length > 0 || it.term !== e.rooms.get(it.room)?.term || it.resign === true));
    const handle = (c: QueuedRepl) => c.items.map((it) => this.item(c.from, it, now, applied));
    let results: XmlRpcValue[][];
    try {
      if (calls.every((c) => c.items.every((it) => it.k === 'h'))) results = calls.map(handle);
      else results = e.store.transaction(() => calls.map(handle), { durable });
    } catch (err) {
      for (const c of calls) c.reject(err as Error);
      return;
    }
    // Entries the admin says are committed are on a majority's disks already: applied (delivered)
    // at once. Our answer, which counts our copy, waits until it is on our disk too.
    for (const [rt, a] of applied) e.commitment.afterApply(rt, a);
    if (!durable) {
      calls.forEach((c, i) => c.resolve(results[i]));
      return;
    }
    e.store.whenDurable((err) => {
      if (err) for (const c of calls) c.reject(err);
      else calls.forEach((c, i) => c.resolve(results[i]));
    });
  }

  private item(from: string, it: ReplItem, now: number, applied: [RoomState, AppliedEntry[]][]): XmlRpcValue {
    const e = this.e;
    if (it.k === 'h') {
      e.follower.onAlive(from, now);
      return e.incarnation;
    }
    const rt = e.rooms.get(it.room) ?? e.newRoom(it.room, now);
    if (it.k === 'v') return encodeVoteResult(e.election.onVote(rt, from, it, now));
    try {
      if (it.k === 's') return encodeAppendResult(e.store.transaction(() => e.snapshots.install(rt, from, it, now, applied)));
      return encodeAppendResult(e.store.transaction(() => e.snapshots.afterAppend(rt, e.follower.onAppend(rt, from, it, now, applied), applied)));
    } catch (err) {
      e.log?.error('replication: append failed', { room_id: it.room, err });
      e.reloadRoom(rt);
      return encodeAppendResult({ ok: false, term: rt.term, match: 0, conflict: rt.commitIndex + 1 });
    }
  }
}

async function onSubmit(e: Engine, params: XmlRpcValue[]): Promise<XmlRpcValue> {
  if (params.length !== 4 || params.some((p) => typeof p !== 'string')) {
    throw new WireError('swarmchat_submit(from_node, room_id, kind, data_json) expects 4 strings');
  }
  const [from, roomId, kind, json] = params as string[];
  if (!(ENTRY_KINDS as readonly string[]).includes(kind) || kind === 'create' || kind === 'config') throw new WireError(`swarmchat_submit: bad kind ${kind}`);
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new WireError('swarmchat_submit: data is not JSON');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new WireError('swarmchat_submit: data must be an object');
  const rt = e.rooms.get(roomId);
  if (!rt) return encodeSubmitReply({ ok: false, code: 'ROOM_NOT_FOUND', message: 'Room not found' });
  if (rt.role !== 'leader') return encodeSubmitReply({ ok: false, code: NOT_LEADER, message: 'not the administrator', admin: rt.adminId ?? undefined });
  try {
    const entry = await e.commitment.leaderSubmit(rt, kind as EntryKind, data, from);
    return encodeSubmitReply({ ok: true, idx: entry.idx, term: entry.term, entry });
  } catch (err) {
    if (err instanceof ReplicationError) {
      return encodeSubmitReply({ ok: false, code: err.code, message: err.message, admin: rt.adminId ?? undefined });
    }
    throw err;
  }
}

async function onSubmitBatch(e: Engine, params: XmlRpcValue[]): Promise<XmlRpcValue> {
  if (params.length !== 2 || typeof params[0] !== 'string' || !Array.isArray(params[1])) {
    throw new WireError('swarmchat_submit_batch(from_node, items[]) expects 2 parameters');
  }
  if (params[1].length > 1024) throw new WireError('swarmchat_submit_batch: at most 1024 items');
  // Each item is handled as its own submit (own validation, own outcome), all in this turn, so
  // their appends share one flush.
  const results = params[1].map((it) => {
    if (it === null || typeof it !== 'object' || Array.isArray(it) || it instanceof Date || Buffer.isBuffer(it)) {
      return Promise.resolve(encodeSubmitReply({ ok: false, code: 'INVALID_REQUEST', message: 'item must be a struct' }));
    }
    const o = it as Record<string, XmlRpcValue>;
    return onSubmit(e, [params[0], o.r, o.k, o.d]).catch((err: Error) =>
      encodeSubmitReply({ ok: false, code: 'INVALID_REQUEST', message: err.message }));
  });
  return Promise.all(results);
}
