/**
 * The admin's traffic to each peer: `swarmchat_repl` calls carrying every led room's new appends
 * (bounded in entries and bytes), commit news, heartbeats and vote requests. Pipelined: up to
 * MAX_IN_FLIGHT calls per peer, the extra ones only for entries, each sending from where the
 * previous one ended (Raft thesis §10.2.1); a failed call or a log mismatch sends the peer back to
 * one call at a time from what it answered, until a call succeeds whole. Quiescence (CockroachDB,
 * TiKV's hibernate regions): a room every peer has whole, commit index included, sends nothing of
 * its own; the node-level "alive" every tick keeps its followers' timers. Only `active` rooms (new
 * entries, commit news, a peer behind, back from failures or asking for a vote) are looked at per
 * call; per-room heartbeats every FULL_HEARTBEAT_EVERY ticks go to active rooms only. A peer that
 * failed several calls in a row is probed with "alive" only. Also: when each peer last answered.
 */
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import { type Engine, MAX_CALL_JSON_BYTES, NOT_A_PEER, type ReplicationPeer, safe } from './engine';
import type { RoomState } from './room-state';
import {
  AppendItem, METHOD_REPL, ReplItem, SnapshotItem, VoteItem, VoteResult, WireError, decodeAliveResult, decodeAppendResult, decodeVoteResult, encodeItem,
} from './wire';

const FULL_HEARTBEAT_EVERY = 4;
/** Calls in flight per peer when its log is known to match (one while probing). */
const MAX_IN_FLIGHT = 2;

interface Channel {
  peer: ReplicationPeer;
  inFlight: number;
  /** The peer's log matched on the last call: later calls may leave before earlier ones answer. */
  pipelined: boolean;
  /** This heartbeat carries every led room (not just the node-level "alive"). */
  fullHeartbeat: boolean;
  heartbeatDue: boolean;
  /** A call (carrying "alive") left for the peer since the last heartbeat tick, other than that tick's own heartbeat. */
  sentSinceTick: boolean;
  votes: { item: VoteItem; done(r: VoteResult | null): void }[];
  lastOkMs: number;
  failures: number;
  /** Its last answer: it does not count this node (not in its PEER_NODES: being added or removed). */
  notCounting: boolean;
  /** Set while handling an answer: one of its appends did not match. */
  mismatch: boolean;
  /** The peer's incarnation from its last answer to "alive" (undefined: not known yet). */
  incarnation?: string;
}

export class PeerChannels {
  private readonly channels = new Map<string, Channel>();
  private heartbeats = 0;
  /** Led rooms that may have something for some peer; the others are quiescent. */
  private readonly active = new Set<RoomState>();

  constructor(private readonly e: Engine, peers: ReplicationPeer[]) {
    for (const p of peers) {
      this.channels.set(p.id, { peer: p, inFlight: 0, pipelined: false, fullHeartbeat: true, heartbeatDue: true, sentSinceTick: false, votes: [], lastOkMs: 0, failures: 0, mismatch: false, notCounting: false });
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

  /** Peers whose last answer was that they do not count this node. */
  notCountedBy(): string[] {
    return [...this.channels.entries()].filter(([, ch]) => ch.notCounting).map(([id]) => id);
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

  /** `rt` has something to send (entries, commit news, a peer to re-sync): no longer quiescent. */
  wake(rt: RoomState, peerId?: string): void {
    if (peerId !== undefined) rt.sentCommit.set(peerId, -1);
    this.active.add(rt);
  }

  private hasEntriesFor(peerId: string): boolean {
    for (const rt of this.active) if (rt.role === 'leader' && (rt.next.get(peerId) ?? rt.lastIndex + 1) <= rt.lastIndex) return true;
    return false;
  }

  /** Every room we lead re-syncs with `peerId` once (it may have restarted or been cut off). */
  private resyncLedRooms(peerId: string): void {
    for (const rt of this.e.rooms.values()) if (rt.role === 'leader') this.wake(rt, peerId);
  }

  /** The peer has this room whole, commit index included: nothing to send it, not even a heartbeat. */
  private quiet(rt: RoomState, peerId: string): boolean {
    return (rt.match.get(peerId) ?? 0) >= rt.lastIndex && (rt.sentCommit.get(peerId) ?? -1) >= rt.commitIndex;
  }

  kickAll(): void {
    for (const ch of this.channels.values()) this.sendTo(ch);
  }

  heartbeatTick(): void {
    if (this.e.stopped) return;
    // A node-level "alive" every tick keeps the followers of every room we lead from electing; a
    // per-room heartbeat every FULL_HEARTBEAT_EVERY ticks (well inside the election timeout) goes
    // only to rooms that are not quiescent (a peer behind, or not yet known to have our commit).
    // Every call of a node that leads rooms carries "alive": a peer that got one since the last tick
    // (and answered it) needs no call of its own now, so a busy link sends no heartbeat-only calls.
    const full = this.heartbeats++ % FULL_HEARTBEAT_EVERY === 0;
    for (const ch of this.channels.values()) {
      const rode = ch.sentSinceTick && ch.failures === 0 && !full;
      ch.sentSinceTick = false;
      if (rode) continue;
      ch.heartbeatDue = true;
      ch.fullHeartbeat ||= full;
      this.sendTo(ch);
    }
  }

  private sendTo(ch: Channel): void {
    const e = this.e;
    if (ch.inFlight >= (ch.pipelined ? MAX_IN_FLIGHT : 1) || e.stopped) return;
    // A call beside one in flight only for entries: commit news and heartbeats ride on the call
    // after its answer (a call costs more CPU than that wait: encoding, signing, a transaction).
    if (ch.inFlight > 0 && ch.votes.length === 0 && !this.hasEntriesFor(ch.peer.id)) return;
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
    for (const rt of probing ? [] : this.active) {
      if (rt.role !== 'leader') {
        this.active.delete(rt);
        continue;
      }
      const next = rt.next.get(ch.peer.id) ?? rt.lastIndex + 1;
      if (next <= rt.snapIndex) {
        // The entries it needs are compacted away here: it gets the room's state instead.
        if (byteBudget <= 0) continue;
        const snap = e.snapshots.itemFor(rt);
        byteBudget -= JSON.stringify(snap.snapshot).length;
        items.push(snap);
        const sentTerm = rt.term;
        rt.next.set(ch.peer.id, snap.snapshot.lastIndex + 1);
        rt.sentCommit.set(ch.peer.id, Math.max(rt.sentCommit.get(ch.peer.id) ?? -1, snap.snapshot.appliedIndex));
        handlers.push((r) => this.onSnapshotResult(rt, ch, sentTerm, next, snap, r));
        continue;
      }
      const hasEntries = next <= rt.lastIndex;
      // Commit news is owed unless an append or the answer to the peer's own request told it.
      const told = Math.max(rt.sentCommit.get(ch.peer.id) ?? -1, rt.answeredCommit.get(ch.peer.id) ?? -1);
      const commitNews = told < rt.commitIndex;
      if (!hasEntries && !commitNews) {
        if (this.quiet(rt, ch.peer.id)) {
          if (e.members.peerIds.every((p) => this.quiet(rt, p))) this.active.delete(rt);
          continue;
        }
        if (!ch.heartbeatDue || !ch.fullHeartbeat || rt.deleted) continue;
      }
      const count = hasEntries ? Math.min(e.cfg.maxEntriesPerItem, entryBudget, rt.lastIndex - next + 1) : 0;
      if (hasEntries && (count <= 0 || byteBudget <= 0)) continue;
      const entries = count > 0 ? e.commitment.entriesFrom(rt, next, count) : [];
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
        k: 'a', room: rt.id, term: rt.term, prevIndex, prevTerm: e.commitment.termAt(rt, prevIndex) ?? 0,
        commit: rt.commitIndex, entries,
      };
      items.push(item);
      const sentTerm = rt.term;
      const sentCommit = rt.commitIndex;
      // Optimistic: the next call goes on from here; a failure or a mismatch resets it.
      rt.next.set(ch.peer.id, next + entries.length);
      if (sentCommit > (rt.sentCommit.get(ch.peer.id) ?? -1)) rt.sentCommit.set(ch.peer.id, sentCommit);
      handlers.push((r) => this.onAppendResult(rt, ch, sentTerm, item, r));
    }
    if (e.stats.leaderOf > 0 && (items.length > 0 || ch.heartbeatDue)) {
      items.push({ k: 'h' });
      handlers.push((r) => this.onAliveResult(ch, r));
    }
    // A node leading nothing still calls (empty) on full-heartbeat ticks: how a new or removed node learns whether its peers count it.
    if (items.length === 0 && !(ch.heartbeatDue && ch.fullHeartbeat)) return;
    if (ch.heartbeatDue) ch.fullHeartbeat = false;
    // Not the tick's own heartbeat (which would make every other idle tick skip its call).
    if (!ch.heartbeatDue) ch.sentSinceTick = true;
    ch.heartbeatDue = false;
    ch.inFlight++;
    e.stats.replCalls++;
    const sentEntries = items.reduce((n, it) => n + (it.k === 'a' ? it.entries.length : 0), 0);
    e.stats.entriesSent += sentEntries;
    ch.peer.call(METHOD_REPL, [e.selfId, items.map(encodeItem)], { timeoutMs: e.cfg.callTimeoutMs })
      .then((res) => {
        if (!Array.isArray(res) || res.length !== items.length) throw new WireError('swarmchat_repl: result count mismatch');
        ch.lastOkMs = e.clock.now();
        // Back after failed calls (restarted, cut off): it may have missed or lost anything, and
        // may not know who leads what.
        if (ch.failures > 0) this.resyncLedRooms(ch.peer.id);
        ch.failures = 0;
        ch.notCounting = false;
        ch.mismatch = false;
        handlers.forEach((h, i) => h(res[i]));
        ch.pipelined = !ch.mismatch;
        ch.inFlight--;
        setImmediate(() => this.sendTo(ch));
      })
      .catch((err: Error) => {
        e.stats.replCallErrors++;
        ch.failures++;
        ch.notCounting = err.message.includes(NOT_A_PEER);
        if (ch.failures === 1 || ch.failures % 50 === 0) {
          // Refused because the peer does not count us (yet, or any more): a planned change, not a fault.
          const planned = ch.notCounting;
          e.log?.[planned ? 'info' : 'warn'](planned ? 'replication: peer does not count this node (membership change)' : 'replication: peer call failed', { peer: ch.peer.id, failures: ch.failures, err: err.message });
        }
        ch.pipelined = false;
        for (const h of handlers) h(undefined);
        ch.inFlight--;
        // Retry at the next heartbeat tick, not at once: a dead peer must not cost a busy loop.
      });
  }

  /**
   * The peer's answer to "alive": a new incarnation is a restart this node saw no failed call for
   * (it came back between two calls). It may have lost its log (no DATA_DIR) or, with it, not know
   * our quiescent rooms are caught up: it is re-synced as after failed calls.
   */
  private onAliveResult(ch: Channel, raw: XmlRpcValue | undefined): void {
    const incarnation = raw === undefined ? undefined : decodeAliveResult(raw);
    if (incarnation === undefined) return;
    if (ch.incarnation !== undefined && ch.incarnation !== incarnation) {
      this.e.log?.info('replication: peer restarted; re-syncing the rooms led here', { peer: ch.peer.id });
      this.resyncLedRooms(ch.peer.id);
    }
    ch.incarnation = incarnation;
  }

  /** The peer's answer to a snapshot: it holds the log up to the snapshot's last index, or (failed) it is sent again. */
  private onSnapshotResult(rt: RoomState, ch: Channel, sentTerm: number, sentNext: number, item: SnapshotItem, raw: XmlRpcValue | undefined): void {
    const peerId = ch.peer.id;
    if (rt.role !== 'leader' || rt.term !== sentTerm) return;
    const r = raw === undefined ? null : safe(() => decodeAppendResult(raw));
    if (r && r.term > rt.term) {
      this.e.election.stepDown(rt, r.term, null);
      return;
    }
    if (!r || !r.ok) {
      rt.next.set(peerId, Math.min(rt.next.get(peerId) ?? sentNext, sentNext));
      ch.mismatch ||= !!r;
      this.wake(rt, peerId);
      return;
    }
    const m = item.snapshot.lastIndex;
    if (m > (rt.match.get(peerId) ?? 0)) rt.match.set(peerId, m);
    rt.next.set(peerId, Math.max(rt.next.get(peerId) ?? 0, m + 1));
    this.wake(rt);
    this.e.commitment.advanceCommit(rt);
  }

  /**
   * The peer's answer to one room's append: progress (match), a conflict to back up to, a newer
   * term, or nothing (the call failed: resend from this item on, its commit news too).
   */
  private onAppendResult(rt: RoomState, ch: Channel, sentTerm: number, item: AppendItem, raw: XmlRpcValue | undefined): void {
    const peerId = ch.peer.id;
    if (rt.role !== 'leader' || rt.term !== sentTerm) return;
    const r = raw === undefined ? null : safe(() => decodeAppendResult(raw));
    if (!r) {
      rt.next.set(peerId, Math.min(rt.next.get(peerId) ?? item.prevIndex + 1, item.prevIndex + 1));
      this.wake(rt, peerId);
      return;
    }
    if (r.term > rt.term) {
      this.e.election.stepDown(rt, r.term, null);
      return;
    }
    if (r.ok) {
      // Answers may come back out of order: match only grows, next never goes below it.
      const m = item.prevIndex + item.entries.length;
      if (m > (rt.match.get(peerId) ?? 0)) rt.match.set(peerId, m);
      rt.next.set(peerId, Math.max(rt.next.get(peerId) ?? 0, m + 1));
      this.e.commitment.advanceCommit(rt);
    } else {
      ch.mismatch = true;
      this.wake(rt, peerId);
      if (r.conflict > 0) rt.next.set(peerId, Math.max(1, Math.min(r.conflict, rt.lastIndex + 1)));
    }
  }
}
