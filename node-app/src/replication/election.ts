/**
 * Roles and terms of every room: the election timer (base + successor rank + jitter, on the
 * injected clock), pre-vote then vote, the voter's side of a vote request, becoming admin,
 * stepping down, and the admin's quorum check (an admin that hears from no majority stops).
 * The vote rules themselves are pure functions in `raft-rules.ts`.
 */
import type { EntryKind } from '../storage/room-log-store';
import { type Engine, NOT_LEADER, ReplicationError } from './engine';
import { decideVote, electionTimeoutMs } from './raft-rules';
import { reloadConfig, type RoomState } from './room-state';
import type { VoteItem, VoteResult } from './wire';

export class Election {
  constructor(private readonly e: Engine) {}

  /** Runs every half heartbeat: starts the rooms' elections that are due, checks the admins' quorum. */
  tick(): void {
    const e = this.e;
    if (e.stopped) return;
    const now = e.clock.now();
    // Peers that answered lately: one count for every led room of this tick (it is node-level).
    let answered = -1;
    for (const rt of e.rooms.values()) {
      if (rt.deleted || e.resigned) continue;
      if (rt.role === 'leader') {
        if (answered < 0) answered = e.channels.answeredWithin(now, e.cfg.electionBaseMs * 2);
        this.checkQuorum(rt, now, answered);
        this.reconfigure(rt);
        continue;
      }
      // A learner (not among the room's voters yet, or removed) receives the log but runs no election.
      if (!e.members.isVoter(rt, e.selfId)) continue;
      if (now < rt.electionDeadlineMs) continue;
      const heard = this.heardFromAdmin(rt);
      if (heard > rt.lastHeardMs) {
        rt.lastHeardMs = heard;
        this.resetElectionTimer(rt, heard);
        if (now < rt.electionDeadlineMs) continue;
      }
      this.startPreVote(rt, now);
    }
  }

  /** An admin that has heard from no majority for a while stops taking writes (it may be the fenced one). */
  private checkQuorum(rt: RoomState, now: number, answered: number): void {
    const e = this.e;
    if (e.members.alone(rt)) return;
    const recent = answered + 1;
    if (recent < e.members.majorityOf(rt) && now - rt.lastHeardMs > e.cfg.electionBaseMs * 2) this.stepDown(rt, rt.term, null);
  }

  /**
   * The admin's membership change, one server at a time (membership.ts decides which): logged as
   * a `config` entry that counts from the moment it is in the log, here and on every follower.
   */
  private reconfigure(rt: RoomState): void {
    const e = this.e;
    // Asked for every led room 20 times a second: a settled room costs one comparison.
    if (rt.voters !== null && rt.settledVoters === rt.voters) return;
    if (rt.pending.length > 0 || rt.commitIndex < rt.termStartIdx) return;
    const voters = e.members.nextChange(rt, rt.match);
    if (!voters) {
      if (e.members.settled(rt)) rt.settledVoters = rt.voters;
      return;
    }
    const before = e.members.votersOf(rt);
    const entry = e.commitment.appendLocal(rt, 'config', { voters });
    rt.voters = voters;
    rt.configIdx = entry.idx;
    rt.rank = -1;
    e.log?.info('replication: membership change', { room_id: rt.id, from: before, to: voters, idx: entry.idx });
  }

  resetElectionTimer(rt: RoomState, now: number): void {
    const e = this.e;
    // Ranked among the nodes that could succeed the current admin. Cached: heartbeats reset this often.
    if (rt.rankFor !== rt.adminId || rt.rank < 0) {
      rt.rank = e.members.successorRankOfSelf(rt, rt.adminId);
      rt.rankFor = rt.adminId;
    }
    rt.electionDeadlineMs = now + electionTimeoutMs(e.cfg.electionBaseMs, e.cfg.electionStepMs, rt.rank, Math.floor(e.random() * e.cfg.electionJitterMs));
  }

  /** Stickiness: true while this node has reason to believe the room's admin is alive. */
  private leaderRecentlySeen(rt: RoomState, now: number): boolean {
    const e = this.e;
    if (rt.role === 'leader') return e.channels.answeredWithin(now, e.cfg.electionBaseMs) + 1 >= e.members.majorityOf(rt);
    return rt.adminId !== null && now - this.heardFromAdmin(rt) < e.cfg.electionBaseMs;
  }

  /**
   * When a follower last heard from its room's admin: in the room, or the admin's node-level
   * "alive" (all a quiescent room gets). 0 after the admin resigned: its "alive" no longer counts.
   */
  private heardFromAdmin(rt: RoomState): number {
    if (rt.lastHeardMs === 0 || rt.role !== 'follower' || rt.adminId === null) return rt.lastHeardMs;
    return Math.max(rt.lastHeardMs, this.e.aliveFrom.get(rt.adminId) ?? 0);
  }

  private startPreVote(rt: RoomState, now: number): void {
    const e = this.e;
    this.resetElectionTimer(rt, now);
    const term = rt.term + 1;
    rt.electionTerm = term;
    rt.electionPhase = 'pre';
    rt.preVotes = new Set([e.selfId]);
    if (e.members.alone(rt)) {
      this.startElection(rt);
      return;
    }
    const item: VoteItem = { k: 'v', room: rt.id, term, lastIndex: rt.lastIndex, lastTerm: rt.lastTerm, pre: true };
    e.channels.requestVote(item, (peerId, r) => {
      // Only the pre-vote round it belongs to counts (a candidate whose vote round failed may run
      // a new pre-vote; a late pre-vote grant must not start a second election).
      if (r?.deleted && !rt.deleted) {
        e.follower.deletedElsewhere(rt, peerId);
        return;
      }
      if (!r || rt.electionTerm !== term || rt.electionPhase !== 'pre' || rt.role === 'leader') return;
      if (r.term > rt.term && !r.granted) {
        this.stepDown(rt, r.term, null);
        return;
      }
      if (r.granted && e.members.isVoter(rt, peerId)) rt.preVotes.add(peerId);
      if (rt.preVotes.size >= e.members.majorityOf(rt)) this.startElection(rt);
    });
  }

  startElection(rt: RoomState): void {
    const e = this.e;
    e.stats.elections++;
    rt.role = 'candidate';
    rt.term += 1;
    rt.votedFor = e.selfId;
    e.store.setTermAndVote(rt.id, rt.term, e.selfId);
    rt.electionTerm = rt.term;
    rt.electionPhase = 'vote';
    rt.votes = new Set([e.selfId]);
    this.setAdmin(rt, null);
    e.log?.info('replication: election', { room_id: rt.id, term: rt.term });
    if (rt.votes.size >= e.members.majorityOf(rt)) {
      this.becomeLeader(rt);
      return;
    }
    const term = rt.term;
    const item: VoteItem = { k: 'v', room: rt.id, term, lastIndex: rt.lastIndex, lastTerm: rt.lastTerm, pre: false };
    e.channels.requestVote(item, (peerId, r) => {
      if (!r || rt.role !== 'candidate' || rt.term !== term) return;
      if (r.term > rt.term) {
        this.stepDown(rt, r.term, null);
        return;
      }
      if (r.granted && e.members.isVoter(rt, peerId)) rt.votes.add(peerId);
      if (rt.votes.size >= e.members.majorityOf(rt)) this.becomeLeader(rt);
    });
  }

  /** The voter's side of a (pre-)vote request; term and vote are persisted before the answer. */
  onVote(rt: RoomState, from: string, it: VoteItem, now: number): VoteResult {
    const e = this.e;
    // A peer that asks for a vote in a room we lead does not know us as its admin (restarted,
    // or lost our append): re-sync it even if the room is quiescent.
    if (rt.role === 'leader' && e.members.isPeer(from)) e.channels.wake(rt, from);
    const d = decideVote(
      { currentTerm: rt.term, votedFor: rt.votedFor, lastIndex: rt.lastIndex, lastTerm: rt.lastTerm, leaderRecentlySeen: this.leaderRecentlySeen(rt, now) },
      { term: it.term, candidateId: from, lastIndex: it.lastIndex, lastTerm: it.lastTerm, pre: it.pre });
    if (d.stepDown) this.stepDown(rt, d.persist?.term ?? it.term, null);
    if (d.persist) {
      e.store.setTermAndVote(rt.id, d.persist.term, d.persist.votedFor);
      rt.term = d.persist.term;
      rt.votedFor = d.persist.votedFor;
    }
    if (d.granted && !it.pre) this.resetElectionTimer(rt, now);
    // A deleted room has no admin any more: a candidate that missed the deletion would wait for
    // one forever (and a restarted node would report catching_up until its 10 s cap, every time).
    if (rt.deleted && it.lastIndex < rt.commitIndex) return { granted: false, term: rt.term, deleted: true };
    return { granted: d.granted, term: rt.term };
  }

  /** Won the vote (or created the room): admin for this term; the term's first entry follows. */
  becomeLeader(rt: RoomState, first?: { kind: EntryKind; data: Record<string, unknown> }): void {
    const e = this.e;
    rt.role = 'leader';
    rt.adminId = e.selfId;
    rt.electionTerm = 0;
    rt.electionPhase = 'none';
    rt.durableIndex = rt.lastIndex;
    rt.syncedIndex = rt.lastIndex;
    rt.tail = [];
    rt.uncommitted = [];
    rt.lastSeq = e.store.raftState(rt.id).lastSeq;
    for (const p of e.members.peerIds) {
      rt.next.set(p, rt.lastIndex + 1);
      rt.match.set(p, 0);
      rt.sentCommit.set(p, -1);
    }
    rt.answeredCommit.clear();
    e.stats.leaderOf++;
    e.log?.info('replication: became admin', { room_id: rt.id, term: rt.term, last_index: rt.lastIndex });
    // The term's first entry: commits everything before it (Raft §5.4.2) and records the admin change.
    const entry = first ?? { kind: 'noop' as EntryKind, data: { admin_node: e.selfId, term: rt.term } };
    rt.termStartIdx = e.commitment.appendLocal(rt, entry.kind, entry.data).idx;
    e.emit('admin', { roomId: rt.id, adminId: e.selfId, term: rt.term });
    e.watch.notify(rt.id);
  }

  /** Follower from here on (at `term` if it is newer); an admin drops its unwritten entries and waiters. */
  stepDown(rt: RoomState, term: number, adminId: string | null): void {
    const e = this.e;
    const wasLeader = rt.role === 'leader';
    if (term > rt.term) {
      rt.term = term;
      rt.votedFor = null;
      e.store.setTermAndVote(rt.id, term, null);
    }
    rt.role = 'follower';
    rt.electionTerm = 0;
    rt.electionPhase = 'none';
    if (wasLeader) {
      e.stats.leaderOf--;
      rt.pending = [];
      rt.tail = [];
      rt.lastIndex = rt.durableIndex;
      rt.lastTerm = e.store.termAt(rt.id, rt.lastIndex) ?? 0;
      reloadConfig(rt, e.store); // a dropped unwritten config entry no longer counts
      e.commitment.failWaiters(rt, new ReplicationError(NOT_LEADER, 'no longer the administrator of this room', true));
      e.log?.warn('replication: stepped down', { room_id: rt.id, term: rt.term });
    }
    this.setAdmin(rt, adminId);
    this.resetElectionTimer(rt, e.clock.now());
  }

  setAdmin(rt: RoomState, adminId: string | null): void {
    if (rt.adminId === adminId) return;
    rt.adminId = adminId;
    if (adminId) this.e.emit('admin', { roomId: rt.id, adminId, term: rt.term });
    this.e.watch.notify(rt.id);
  }
}
