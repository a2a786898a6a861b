/**
 * The engine's XML-RPC methods as the peer server serves them: `swarmchat_repl` (appends, votes
 * and "alive" from a peer, answered in one transaction that is on disk before the answer),
 * `swarmchat_submit` and `swarmchat_submit_batch` (client requests forwarded to this node as
 * admin). Checks who is calling and the shape of what arrives; decisions are the engine's.
 */
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { AppliedEntry, EntryKind } from '../storage/room-log-store';
import { type Engine, NOT_LEADER, ReplicationError } from './engine';
import type { RoomState } from './room-state';
import {
  METHOD_REPL, METHOD_SUBMIT, METHOD_SUBMIT_BATCH, WireError, decodeItem, encodeAppendResult, encodeSubmitReply,
  encodeVoteResult, ENTRY_KINDS,
} from './wire';

export interface CallContext { peerId?: string; authenticated?: boolean }
export type ReplicationHandler = (params: XmlRpcValue[], ctx?: CallContext) => XmlRpcValue | Promise<XmlRpcValue>;

/** Handlers to register on the peer server (PeerServer handlers map). */
export function replicationHandlers(e: Engine): Record<string, ReplicationHandler> {
  // When the link is signed, the signature names the caller: it must be the node the call claims to be from.
  const check = (params: XmlRpcValue[], ctx?: CallContext) => {
    if (ctx?.authenticated && ctx.peerId && params[0] !== ctx.peerId) {
      throw new WireError(`caller ${ctx.peerId} claims to be ${String(params[0])}`);
    }
  };
  return {
    [METHOD_REPL]: (params, ctx) => {
      check(params, ctx);
      return onRepl(e, params);
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

function onRepl(e: Engine, params: XmlRpcValue[]): XmlRpcValue {
  if (params.length !== 2 || typeof params[0] !== 'string' || !Array.isArray(params[1])) {
    throw new WireError('swarmchat_repl(from_node, items[]) expects 2 parameters');
  }
  const from = params[0];
  if (!e.members.isPeer(from)) throw new WireError(`swarmchat_repl: ${from} is not a voting peer of ${e.selfId}`);
  const items = params[1].map(decodeItem);
  const now = e.clock.now();
  const results: XmlRpcValue[] = [];
  const applied: [RoomState, AppliedEntry[]][] = [];
  // Entries, votes and term changes must be on disk before we answer; a batch of plain
  // heartbeats only moves commit indexes, which are recomputable, and skips the fsync.
  const durable = items.some((it) => it.k === 'h' ? false : it.k === 'v'
    ? !it.pre
    : it.entries.length > 0 || it.term !== e.rooms.get(it.room)?.term || it.resign === true);
  e.store.transaction(() => {
    for (const it of items) {
      if (it.k === 'h') {
        e.follower.onAlive(from, now);
        results.push(true);
      } else if (it.k === 'a') {
        const rt = e.rooms.get(it.room) ?? e.newRoom(it.room, now);
        try {
          results.push(encodeAppendResult(e.store.transaction(() => e.follower.onAppend(rt, from, it, now, applied))));
        } catch (err) {
          e.log?.error('replication: append failed', { room_id: it.room, err });
          e.reloadRoom(rt);
          results.push(encodeAppendResult({ ok: false, term: rt.term, match: 0, conflict: rt.commitIndex + 1 }));
        }
      } else {
        const rt = e.rooms.get(it.room) ?? e.newRoom(it.room, now);
        results.push(encodeVoteResult(e.election.onVote(rt, from, it, now)));
      }
    }
  }, { durable });
  for (const [rt, a] of applied) e.commitment.afterApply(rt, a);
  return results;
}

async function onSubmit(e: Engine, params: XmlRpcValue[]): Promise<XmlRpcValue> {
  if (params.length !== 4 || params.some((p) => typeof p !== 'string')) {
    throw new WireError('swarmchat_submit(from_node, room_id, kind, data_json) expects 4 strings');
  }
  const [, roomId, kind, json] = params as string[];
  if (!(ENTRY_KINDS as readonly string[]).includes(kind) || kind === 'create') throw new WireError(`swarmchat_submit: bad kind ${kind}`);
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
    const entry = await e.commitment.leaderSubmit(rt, kind as EntryKind, data);
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
