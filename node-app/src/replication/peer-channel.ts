/**
 * The admin's traffic to each peer: one `swarmchat_repl` call in flight per peer, carrying every
 * led room's pending appends (bounded in entries and bytes), commit news, heartbeats and vote
 * requests; what piles up while it is in flight goes in the next call. Heartbeats: a node-level
 * "alive" every tick, per-room heartbeats every FULL_HEARTBEAT_EVERY ticks. A peer that failed
 * several calls in a row is probed with "alive" only. Also: when each peer last answered.
 */
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import { type Engine, MAX_CALL_JSON_BYTES, type ReplicationPeer, safe } from './engine';
import type { RoomState } from './room-state';
import {
  AppendItem, METHOD_REPL, ReplItem, VoteItem, VoteResult, WireError, decodeAppendResult, decodeVoteResult, encodeItem,
} from './wire';

const FULL_HEARTBEAT_EVERY = 4;

interface Channel {
  peer: ReplicationPeer;
  inFlight: boolean;
  /** This heartbeat carries every led room (not just the node-level "alive"). */
  fullHeartbeat: boolean;
  heartbeatDue: boolean;
  votes: { item: VoteItem; done(r: VoteResult | null): void }[];
  lastOkMs: number;
  failures: number;
}

export class PeerChannels {
  private readonly channels = new Map<string, Channel>();
  private heartbeats = 0;

  constructor(private readonly e: Engine, peers: ReplicationPeer[]) {
    for (const p of peers) {
      this.channels.set(p.id, { peer: p, inFlight: false, fullHeartbeat: true, heartbeatDue: true, votes: [], lastOkMs: 0, failures: 0 });
    }
  }

  peers(): ReplicationPeer[] {
    return [...this.channels.values()].map((c) => c.peer);
  }

  peer(id: string): ReplicationPeer | undefined {
    return this.channels.get(id)?.peer;
  }

  /** When `peerId` last answered a replication call (0 = never); undefined for a non-peer. */
  lastOkMs(peerId: string): number | undefined {
    return this.channels.get(peerId)?.lastOkMs;
  }

  /** How many peers answered a replication call within the last `ms`. */
  answeredWithin(now: number, ms: number): number {
    let n = 0;
    for (const c of this.channels.values()) if (now - c.lastOkMs < ms) n++;
    return n;
  }

  /** Each peer's last successful call (ms ago) and failures in a row, for the readiness diagnostic. */
  report(now: number): Record<string, unknown>[] {
    return [...this.channels.entries()].map(([id, ch]) => ({ peer: id, ok_ms_ago: ch.lastOkMs ? now - ch.lastOkMs : null, failures: ch.failures }));
  }

  /** Asks every peer for its (pre-)vote; `done` gets each answer, or null when the call failed. */
  requestVote(item: VoteItem, done: (peerId: string, r: VoteResult | null) => void): void {
    for (const ch of this.channels.values()) {
      ch.votes.push({ item, done: (r) => done(ch.peer.id, r) });
      this.sendTo(ch);
    }
  }

  kickAll(): void {
    for (const ch of this.channels.values()) this.sendTo(ch);
  }

  heartbeatTick(): void {
    if (this.e.stopped) return;
    // Idle rooms cost O(rooms) per heartbeat; a node-level "alive" every tick keeps their
    // followers from electing, and a per-room heartbeat every FULL_HEARTBEAT_EVERY ticks (well
    // inside the election timeout) re-syncs terms and admins that a follower may not know yet.
    const full = this.heartbeats++ % FULL_HEARTBEAT_EVERY === 0;
    for (const ch of this.channels.values()) {
      ch.heartbeatDue = true;
      ch.fullHeartbeat ||= full;
      this.sendTo(ch);
    }
  }

  private sendTo(ch: Channel): void {
    const e = this.e;
    if (ch.inFlight || e.stopped) return;
    const items: ReplItem[] = [];
    const handlers: ((r: XmlRpcValue | undefined) => void)[] = [];
    const votes = ch.votes;
    ch.votes = [];
    for (const v of votes) {
      items.push(v.item);
      handlers.push((r) => v.done(r === undefined ? null : safe(() => decodeVoteResult(r))));
    }
    // A peer that failed several calls in a row is probed with the node-level heartbeat only, once
    // per tick: reading and encoding up to 2048 entries from SQLite for every call to a dead peer
    // is work that grows with what it missed and only ever times out. Its first answer ends this.
    const probing = ch.failures >= 3;
    if (probing && !ch.heartbeatDue && ch.votes.length === 0) return;
    let entryBudget = e.cfg.maxEntriesPerItem * 8;
    // Bytes too: the peer server refuses bodies over 4 MiB, and XML escaping can multiply the JSON
    // size of hostile content by up to ~5; a call that can never be accepted would stall the room.
    let byteBudget = MAX_CALL_JSON_BYTES;
    for (const rt of probing ? [] : e.rooms.values()) {
      if (rt.role !== 'leader') continue;
      const next = rt.next.get(ch.peer.id) ?? rt.durableIndex + 1;
      const hasEntries = next <= rt.durableIndex;
      const commitNews = (rt.sentCommit.get(ch.peer.id) ?? -1) < rt.commitIndex;
      if (!hasEntries && !commitNews && (!ch.heartbeatDue || !ch.fullHeartbeat || rt.deleted)) continue;
      const count = hasEntries ? Math.min(e.cfg.maxEntriesPerItem, entryBudget, rt.durableIndex - next + 1) : 0;
      if (hasEntries && (count <= 0 || byteBudget <= 0)) continue;
      const entries = count > 0 ? e.store.entries(rt.id, next, next + count - 1, count) : [];
      for (let k = 0; k < entries.length; k++) {
        byteBudget -= JSON.stringify(entries[k].data).length + 64;
        // Always at least one entry per item, so a single large entry still makes progress.
        if (byteBudget < 0 && k > 0) {
          entries.length = k;
          break;
        }
      }
      entryBudget -= entries.length;
      const prevIndex = next - 1;
      const item: AppendItem = {
        k: 'a', room: rt.id, term: rt.term, prevIndex, prevTerm: e.store.termAt(rt.id, prevIndex) ?? 0,
        commit: rt.commitIndex, entries,
      };
      items.push(item);
      const sentTerm = rt.term;
      const sentCommit = rt.commitIndex;
      handlers.push((r) => this.onAppendResult(rt, ch.peer.id, sentTerm, sentCommit, item, r));
    }
    if (ch.heartbeatDue && e.stats.leaderOf > 0) {
      items.push({ k: 'h' });
      handlers.push(() => undefined);
    }
    if (items.length === 0) return;
    if (ch.heartbeatDue) ch.fullHeartbeat = false;
    ch.heartbeatDue = false;
    ch.inFlight = true;
    e.stats.replCalls++;
    const sentEntries = items.reduce((n, it) => n + (it.k === 'a' ? it.entries.length : 0), 0);
    e.stats.entriesSent += sentEntries;
    ch.peer.call(METHOD_REPL, [e.selfId, items.map(encodeItem)], { timeoutMs: e.cfg.callTimeoutMs })
      .then((res) => {
        if (!Array.isArray(res) || res.length !== items.length) throw new WireError('swarmchat_repl: result count mismatch');
        ch.lastOkMs = e.clock.now();
        ch.failures = 0;
        handlers.forEach((h, i) => h(res[i]));
        ch.inFlight = false;
        setImmediate(() => this.sendTo(ch));
      })
      .catch((err: Error) => {
        e.stats.replCallErrors++;
        ch.failures++;
        if (ch.failures === 1 || ch.failures % 50 === 0) {
          e.log?.warn('replication: peer call failed', { peer: ch.peer.id, failures: ch.failures, err: err.message });
        }
        for (const h of handlers) h(undefined);
        ch.inFlight = false;
        // Retry at the next heartbeat tick, not at once: a dead peer must not cost a busy loop.
      });
  }

  /** The peer's answer to one room's append: progress (match/next), a conflict to back up to, or a newer term. */
  private onAppendResult(rt: RoomState, peerId: string, sentTerm: number, sentCommit: number, item: AppendItem, raw: XmlRpcValue | undefined): void {
    if (raw === undefined || rt.role !== 'leader' || rt.term !== sentTerm) return;
    const r = safe(() => decodeAppendResult(raw));
    if (!r) return;
    if (r.term > rt.term) {
      this.e.election.stepDown(rt, r.term, null);
      return;
    }
    if (r.ok) {
      const m = item.prevIndex + item.entries.length;
      if (m > (rt.match.get(peerId) ?? 0)) rt.match.set(peerId, m);
      rt.next.set(peerId, Math.max(rt.next.get(peerId) ?? 0, m + 1));
      if (sentCommit > (rt.sentCommit.get(peerId) ?? -1)) rt.sentCommit.set(peerId, sentCommit);
      this.e.commitment.advanceCommit(rt);
    } else if (r.conflict > 0) {
      rt.next.set(peerId, Math.max(1, Math.min(r.conflict, rt.durableIndex + 1)));
    }
  }
}
