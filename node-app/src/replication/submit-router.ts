/**
 * Routing of client requests to the room's admin, wherever it is: on the admin they become log
 * entries; on a follower they are forwarded (one `swarmchat_submit_batch` in flight per admin,
 * carrying everything that piled up meanwhile) and resubmitted when the admin changes, dies or
 * names another; a message's `message_id` lets the admin log it once however often it arrives.
 */
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { EntryKind, LogEntry } from '../storage/room-log-store';
import { type Engine, MAX_CALL_JSON_BYTES, NOT_LEADER, type ReplicationPeer, ReplicationError, safe, shuttingDown } from './engine';
import type { RoomState } from './room-state';
import { METHOD_SUBMIT_BATCH, type SubmitReply, WireError, decodeSubmitReply } from './wire';

interface ForwardItem {
  roomId: string;
  kind: EntryKind;
  json: string;
  resolve(r: SubmitReply): void;
  reject(err: Error): void;
}

/** Client requests waiting to be forwarded to one admin, and whether a batch is out. */
interface ForwardQueue {
  peer: ReplicationPeer;
  items: ForwardItem[];
  inFlight: boolean;
}

export class SubmitRouter {
  private readonly queues = new Map<string, ForwardQueue>();

  constructor(private readonly e: Engine) {}

  /**
   * Appends `kind`/`data` to the room's log through its current admin, wherever that is, and
   * resolves with the committed entry. Survives admin changes: on a timeout or a new admin it
   * resubmits; messages carry their `message_id`, which the admin de-duplicates, so a resubmitted
   * message is logged once.
   */
  async submit(roomId: string, kind: EntryKind, data: Record<string, unknown>): Promise<LogEntry> {
    const e = this.e;
    if (kind === 'create') throw new ReplicationError('INVALID_REQUEST', 'use createRoom');
    if (kind === 'message' && typeof data.message_id !== 'string') throw new ReplicationError('INVALID_REQUEST', 'message needs a message_id');
    const deadline = e.clock.now() + e.cfg.submitTimeoutMs;
    let lastError = 'no administrator reachable';
    let hinted: string | undefined;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const remaining = deadline - e.clock.now();
      if (remaining <= 0 || e.stopped) break;
      let rt = e.rooms.get(roomId);
      if (!rt) {
        if (!(await this.waitForRoom(roomId, Math.min(remaining, 1000)))) throw new ReplicationError('ROOM_NOT_FOUND', 'Room not found');
        rt = e.rooms.get(roomId) as RoomState;
      }
      if (rt.role === 'leader') {
        try {
          return await e.commitment.leaderSubmit(rt, kind, data);
        } catch (err) {
          if (err instanceof ReplicationError && err.retryable) {
            lastError = err.message;
            continue;
          }
          throw err;
        }
      }
      // A node that answered NOT_LEADER may name the admin before our own view catches up.
      const followingHint = !!hinted && hinted !== e.selfId;
      const admin = followingHint ? (hinted as string) : rt.adminId;
      hinted = undefined;
      const peer = admin ? e.channels.peer(admin) : undefined;
      if (!peer) {
        await this.waitAdminChange(roomId, admin, Math.min(remaining, 200));
        continue;
      }
      // "Changed" = our own view moved on to some third node (not merely: it differs from a hint we follow).
      const viewAtStart = rt.adminId;
      const changed = e.watch.watch(roomId, remaining, () => {
        const r = e.rooms.get(roomId);
        return !!r && r.adminId !== null && r.adminId !== admin && r.adminId !== viewAtStart;
      });
      let reply: SubmitReply | 'changed' | 'failed';
      try {
        reply = await Promise.race([
          this.forward(peer, roomId, kind, JSON.stringify(data)),
          changed.promise.then((c) => (c ? ('changed' as const) : ('failed' as const))),
        ]);
      } catch (err) {
        lastError = `administrator ${admin} failed: ${(err as Error).message}`;
        reply = 'failed';
      } finally {
        changed.cancel();
      }
      if (reply === 'changed') continue;
      if (reply === 'failed') {
        // The admin is probably dead; an election will name a new one within the election timeout.
        await this.waitAdminChange(roomId, admin, Math.min(deadline - e.clock.now(), 150));
        continue;
      }
      if (reply.ok) {
        e.commitment.learnCommit(rt, reply.idx, reply.term);
        // Deliver locally before the caller acknowledges (the original sends new_message before message_sent).
        await this.waitCommitted(roomId, reply.idx, Math.min(500, Math.max(0, deadline - e.clock.now())));
        return reply.entry;
      }
      if (reply.code === NOT_LEADER || reply.code === 'SHUTTING_DOWN') {
        lastError = reply.message;
        // Follow a hint once; two nodes with stale views must not bounce the request between them.
        if (!reply.admin || reply.admin === admin || followingHint) await this.waitAdminChange(roomId, admin, Math.min(deadline - e.clock.now(), 150));
        else hinted = reply.admin;
        continue;
      }
      throw new ReplicationError(reply.code, reply.message);
    }
    throw new ReplicationError('ADMIN_NODE_UNAVAILABLE', `Administrator node unavailable (${lastError})`, true);
  }

  waitForRoom(roomId: string, timeoutMs: number): Promise<boolean> {
    return this.e.watch.waitFor(roomId, timeoutMs, () => this.e.rooms.has(roomId));
  }

  waitCommitted(roomId: string, idx: number, timeoutMs: number): Promise<boolean> {
    return this.e.watch.waitFor(roomId, timeoutMs, () => (this.e.rooms.get(roomId)?.commitIndex ?? 0) >= idx);
  }

  private waitAdminChange(roomId: string, from: string | null, timeoutMs: number): Promise<boolean> {
    return this.e.watch.waitFor(roomId, timeoutMs, () => {
      const rt = this.e.rooms.get(roomId);
      return !!rt && rt.adminId !== null && rt.adminId !== from;
    });
  }

  /**
   * Queues a client request for the admin `peer`. One batch call per admin is in flight at a
   * time; requests arriving meanwhile go together in the next one, so the admin appends them in
   * one flush (one fsync) and the link carries one HTTP exchange for many requests.
   */
  private forward(peer: ReplicationPeer, roomId: string, kind: EntryKind, json: string): Promise<SubmitReply> {
    let q = this.queues.get(peer.id);
    if (!q) this.queues.set(peer.id, (q = { peer, items: [], inFlight: false }));
    const queue = q;
    return new Promise((resolve, reject) => {
      queue.items.push({ roomId, kind, json, resolve, reject });
      if (!queue.inFlight) {
        queue.inFlight = true;
        setImmediate(() => this.sendForwards(queue));
      }
    });
  }

  private sendForwards(q: ForwardQueue): void {
    let bytes = 0;
    let n = 0;
    while (n < q.items.length && n < 512 && (n === 0 || bytes + q.items[n].json.length < MAX_CALL_JSON_BYTES)) {
      bytes += q.items[n].json.length;
      n++;
    }
    const batch = q.items.splice(0, n);
    if (batch.length === 0 || this.e.stopped) {
      q.inFlight = false;
      for (const f of batch) f.reject(shuttingDown());
      return;
    }
    const items: XmlRpcValue[] = batch.map((f) => ({ r: f.roomId, k: f.kind, d: f.json }));
    q.peer.call(METHOD_SUBMIT_BATCH, [this.e.selfId, items], { timeoutMs: this.e.cfg.callTimeoutMs * 3 })
      .then((res) => {
        if (!Array.isArray(res) || res.length !== batch.length) throw new WireError('swarmchat_submit_batch: result count mismatch');
        batch.forEach((f, i) => {
          const r = safe(() => decodeSubmitReply(res[i]));
          if (r) f.resolve(r);
          else f.reject(new WireError('swarmchat_submit_batch: bad result'));
        });
      })
      .catch((err: Error) => {
        for (const f of batch) f.reject(err);
      })
      .finally(() => {
        if (q.items.length > 0) setImmediate(() => this.sendForwards(q));
        else q.inFlight = false;
      });
  }
}
