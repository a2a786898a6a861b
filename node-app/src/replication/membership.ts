/**
 * Who votes in each room's Raft group, and how that changes. A room's voters are the latest
 * configuration in its own log (a `config` entry, or the `create` entry's `voters`), committed or
 * not, as in Raft's single-server membership change; a room with none logged yet (created before
 * configurations were logged) uses this node's swarm-chat peers and itself. Majorities and
 * successor ranks are counted here and nowhere else.
 *
 * Changes: the room's admin moves the room's voters toward its own cluster view (itself and its
 * `PEER_NODES` swarm-chat peers) one server at a time: a new node is added only once it holds the
 * log up to the commit index (until then it is a learner: it receives the log, votes for nobody's
 * majority and runs no election), a node no longer in the view is removed; the next change waits
 * until the previous one is committed. An edit adding two nodes (3 -> 5) is two changes.
 */
import { successorRank } from './raft-rules';
import type { RoomState } from './room-state';

export class Membership {
  readonly peerIds: readonly string[];
  /**
   * This node's cluster view: itself and its swarm-chat peers, sorted (what new rooms start with).
   * Built once: the election tick reads it for every room 20 times a second.
   */
  readonly clusterView: readonly string[];

  constructor(readonly selfId: string, peerIds: readonly string[]) {
    if (peerIds.includes(selfId)) throw new Error(`replication: peer list contains self (${selfId})`);
    this.peerIds = [...peerIds];
    this.clusterView = Object.freeze([selfId, ...peerIds].sort());
  }

  get voterCount(): number {
    return this.peerIds.length + 1;
  }

  isPeer(nodeId: string): boolean {
    return this.peerIds.includes(nodeId);
  }

  /** The room's voters (latest logged configuration, else the cluster view). */
  votersOf(rt: RoomState): readonly string[] {
    return rt.voters ?? this.clusterView;
  }

  isVoter(rt: RoomState, nodeId: string): boolean {
    return this.votersOf(rt).includes(nodeId);
  }

  majorityOf(rt: RoomState): number {
    return Math.floor(this.votersOf(rt).length / 2) + 1;
  }

  /** Only this node votes in the room: it commits and wins elections alone. */
  alone(rt: RoomState): boolean {
    const v = this.votersOf(rt);
    return v.length === 1 && v[0] === this.selfId;
  }

  /**
   * This node's rank among the room's voters that could succeed `adminId` (the admin itself
   * excluded, so that if it dies the rank-0 survivor is first, not second behind the dead admin).
   */
  successorRankOfSelf(rt: RoomState, adminId: string | null): number {
    const voters = this.votersOf(rt).filter((v) => v === this.selfId || v !== adminId);
    const rank = successorRank(rt.id, this.selfId, voters);
    return rank < 0 ? voters.length : rank;
  }

  /**
   * The room's voters are committed and are this node's cluster view: no change to make, and
   * none until its configuration changes (the view is fixed for the process's life).
   */
  settled(rt: RoomState): boolean {
    const v = rt.voters;
    if (!v || rt.configIdx === 0 || rt.configIdx > rt.commitIndex || v.length !== this.clusterView.length) return false;
    for (const n of this.clusterView) if (!v.includes(n)) return false;
    return true;
  }

  /**
   * The admin's next single-server change toward its cluster view, or null: nothing while the
   * last change is uncommitted; first a room with no logged configuration gets its current voters
   * written down; then one caught-up learner is added, else one node outside the view is removed
   * (never the admin itself).
   */
  nextChange(rt: RoomState, match: ReadonlyMap<string, number>): string[] | null {
    if (rt.configIdx > rt.commitIndex) return null;
    const current = this.votersOf(rt);
    if (rt.configIdx === 0) return [...current].sort();
    // Asked for every led room on every election tick: nothing is allocated unless there is a change.
    const view = this.clusterView;
    for (const n of view) if (!current.includes(n) && (match.get(n) ?? 0) >= rt.commitIndex) return [...current, n].sort();
    for (const n of current) if (!view.includes(n) && n !== this.selfId) return current.filter((x) => x !== n).sort();
    return null;
  }
}
