/**
 * Routing of client requests to the room's admin, wherever it is: on the admin they become log
 * entries; on a follower they are forwarded (one `swarmchat_submit_batch` in flight per admin,
 * carrying everything that piled up meanwhile) and resubmitted when the admin changes, dies or
 * names another; a message's `message_id` lets the admin log it once however often it arrives.
 *
 * Messages go through one ordered stream per (room, sender): the stream resubmits its whole
 * unacknowledged queue, in order, to whichever node is admin, before anything newer, and each
 * message names the one before it (`after_id`), which the admin must already have in its log;
 * so a sender's messages are committed in the order it sent them across admin changes. A message
 * whose fate is unknown stays queued until it is committed or definitively refused (never
 * answered with an error while it may still commit); only the node stopping or the sender going
 * away (`alive`) ends the wait.
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

/** A message waiting in its sender's stream until it is committed or refused. */
interface StreamItem {
  data: Record<string, unknown>;
  alive?: () => boolean;
  resolve(e: LogEntry): void;
  reject(err: Error): void;
}

/** One sender's unacknowledged messages in one room, oldest first, and whether a round is out. */
interface SenderStream {
  key: string;
  roomId: string;
  items: StreamItem[];
  pumping: boolean;
}

export interface SubmitOptions {
  /** False once the sender can no longer be answered (its connection closed): its queued messages are dropped. */
  alive?: () => boolean;
}

/** Answers meaning "not logged here, but try again" (another admin, the admin settling, a predecessor missing). */
const RETRY_CODES = new Set([NOT_LEADER, 'SHUTTING_DOWN', 'NOT_READY', 'OUT_OF_ORDER', 'ADMIN_NODE_UNAVAILABLE']);

type ItemOutcome = { ok: LogEntry } | { refused: Error } | 'retry';

/** Client requests waiting to be forwarded to one admin, and whether a batch is out. */
interface ForwardQueue {
  peer: ReplicationPeer;
  items: ForwardItem[];
  inFlight: boolean;
}

export class SubmitRouter {
  private readonly queues = new Map<string, ForwardQueue>();
  private readonly streams = new Map<string, SenderStream>();

  constructor(private readonly e: Engine) {}

  /**
   * Appends `kind`/`data` to the room's log through its current admin, wherever that is, and
   * resolves with the committed entry. Survives admin changes: on a timeout or a new admin it
   * resubmits; messages carry their `message_id`, which the admin de-duplicates, so a resubmitted
   * message is logged once.
   */
  async submit(roomId: string, kind: EntryKind, data: Record<string, unknown>, opts: SubmitOptions = {}): Promise<LogEntry> {
    const e = this.e;
    if (kind === 'create' || kind === 'config') throw new ReplicationError('INVALID_REQUEST', `${kind} entries are the engine's own`);
    if (kind === 'message') {
      if (typeof data.message_id !== 'string') throw new ReplicationError('INVALID_REQUEST', 'message needs a message_id');
      return this.enqueue(roomId, data, opts);
    }
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
            // e.g. NOT_READY: this term's first entry is not committed yet; wait for commit progress.
            await this.waitCommitted(roomId, rt.commitIndex + 1, Math.min(100, Math.max(1, deadline - e.clock.now())));
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
      if (RETRY_CODES.has(reply.code)) {
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

  /** Queues a message in its sender's stream; resolves when committed, rejects only when refused or abandoned. */
  private enqueue(roomId: string, data: Record<string, unknown>, opts: SubmitOptions): Promise<LogEntry> {
    const key = `${roomId}\u0000${typeof data.username === 'string' ? data.username : ''}`;
    let s = this.streams.get(key);
    if (!s) this.streams.set(key, (s = { key, roomId, items: [], pumping: false }));
    const stream = s;
    return new Promise((resolve, reject) => {
      stream.items.push({ data, alive: opts.alive, resolve, reject });
      if (!stream.pumping) {
        stream.pumping = true;
        // Next turn: everything the sender sent in this one goes in the first round.
        setImmediate(() => void this.pump(stream));
      }
    });
  }

  /**
   * Sends the stream's queue in rounds: each round offers every unacknowledged message, oldest
   * first, to the current admin; committed ones are answered, refused ones rejected, the rest
   * (admin gone, changed, settling, predecessor missing) are offered again in the next round.
   */
  private async pump(s: SenderStream): Promise<void> {
    const e = this.e;
    let hinted: string | undefined;
    try {
      while (s.items.length > 0) {
        if (e.stopped) {
          this.rejectAll(s, shuttingDown());
          break;
        }
        s.items = s.items.filter((it) => {
          if (!it.alive || it.alive()) return true;
          it.reject(new ReplicationError('SENDER_GONE', 'the sender disconnected before its message was committed'));
          return false;
        });
        if (s.items.length === 0) break;
        let rt = e.rooms.get(s.roomId);
        if (!rt) {
          if (!(await this.waitForRoom(s.roomId, 1000))) {
            this.rejectAll(s, new ReplicationError('ROOM_NOT_FOUND', 'Room not found'));
            break;
          }
          rt = e.rooms.get(s.roomId) as RoomState;
        }
        if (rt.deleted) {
          this.rejectAll(s, new ReplicationError('ROOM_NOT_FOUND', 'Room not found'));
          break;
        }
        const round = s.items.slice();
        const r = await this.offer(rt, round, hinted);
        hinted = r.hint;
        const settled = new Set<StreamItem>();
        round.forEach((it, i) => {
          const o = r.outcomes[i];
          if (o === 'retry') return;
          settled.add(it);
          if ('ok' in o) it.resolve(o.ok);
          else it.reject(o.refused);
        });
        s.items = s.items.filter((it) => !settled.has(it));
        if (r.wait && r.outcomes.includes('retry')) await r.wait();
      }
    } finally {
      s.pumping = false;
      if (s.items.length > 0) {
        s.pumping = true;
        void this.pump(s);
      } else if (this.streams.get(s.key) === s) {
        this.streams.delete(s.key);
      }
    }
  }

  private rejectAll(s: SenderStream, err: Error): void {
    const items = s.items;
    s.items = [];
    for (const it of items) it.reject(err);
  }

  /**
   * One round: the messages, in order, to the admin (this node or a peer). Each carries the
   * `message_id` of the one before it in the round (`after_id`): the admin appends a message
   * only after its predecessor, so a round that reaches a new admin half-logged cannot invert.
   */
  private async offer(rt: RoomState, round: StreamItem[], hinted: string | undefined):
    Promise<{ outcomes: ItemOutcome[]; hint?: string; wait?: () => Promise<unknown> }> {
    const e = this.e;
    const payloads = round.map((it, i) => (i === 0 ? it.data : { ...it.data, after_id: round[i - 1].data.message_id }));
    const allRetry = (): ItemOutcome[] => round.map(() => 'retry');
    if (rt.role === 'leader') {
      const results = await Promise.allSettled(payloads.map((d) => {
        try {
          return e.commitment.leaderSubmit(rt, 'message', d);
        } catch (err) {
          return Promise.reject(err);
        }
      }));
      const outcomes = results.map((x): ItemOutcome => x.status === 'fulfilled' ? { ok: x.value } : this.failure(x.reason));
      return { outcomes, wait: () => this.waitCommitted(rt.id, rt.commitIndex + 1, 100) };
    }
    const admin = hinted && hinted !== e.selfId ? hinted : rt.adminId;
    const peer = admin ? e.channels.peer(admin) : undefined;
    if (!peer) return { outcomes: allRetry(), wait: () => this.waitAdminChange(rt.id, admin, 200) };
    const viewAtStart = rt.adminId;
    const changed = e.watch.watch(rt.id, 86_400_000, () => {
      const r = e.rooms.get(rt.id);
      return !!r && r.adminId !== null && r.adminId !== admin && r.adminId !== viewAtStart;
    });
    let replies: PromiseSettledResult<SubmitReply>[] | 'changed';
    try {
      const all = Promise.allSettled(payloads.map((d) => this.forward(peer, rt.id, 'message', JSON.stringify(d))));
      replies = await Promise.race([all, changed.promise.then(() => 'changed' as const)]);
    } finally {
      changed.cancel();
    }
    // The admin changed under us: offer everything unanswered to the new one (it de-duplicates).
    if (replies === 'changed') return { outcomes: allRetry() };
    let hint: string | undefined;
    let failed = false;
    let settling = false;
    let maxIdx = 0;
    let maxTerm = 0;
    const outcomes = replies.map((x): ItemOutcome => {
      if (x.status === 'rejected') {
        failed = true;
        return 'retry';
      }
      const reply = x.value;
      if (reply.ok) {
        if (reply.idx > maxIdx) [maxIdx, maxTerm] = [reply.idx, reply.term];
        return { ok: reply.entry };
      }
      if (RETRY_CODES.has(reply.code)) {
        if (reply.code === NOT_LEADER && reply.admin && reply.admin !== admin && !hinted) hint = reply.admin;
        else if (reply.code === 'NOT_READY') settling = true;
        else if (reply.code !== 'OUT_OF_ORDER') failed = true;
        return 'retry';
      }
      return { refused: new ReplicationError(reply.code, reply.message) };
    });
    if (maxIdx > 0) {
      e.commitment.learnCommit(rt, maxIdx, maxTerm);
      // Deliver locally before the caller acknowledges (the original sends new_message before message_sent).
      await this.waitCommitted(rt.id, maxIdx, 500);
    }
    // No admin answered usefully: it is probably dead; an election names a new one within the election timeout.
    if (failed && !hint) return { outcomes, hint, wait: () => this.waitAdminChange(rt.id, admin, 150) };
    // The admin was just elected and has not committed its first entry: that takes one round trip.
    if (settling) return { outcomes, hint, wait: () => this.waitAdminChange(rt.id, admin, 20) };
    return { outcomes, hint };
  }

  private failure(err: unknown): ItemOutcome {
    if (err instanceof ReplicationError && (err.retryable || RETRY_CODES.has(err.code))) return 'retry';
    return { refused: err instanceof Error ? err : new Error(String(err)) };
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
