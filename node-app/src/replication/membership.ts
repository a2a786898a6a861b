/**
 * Who votes in every room's Raft group: this node and its swarm-chat peers (original Python peers
 * are not voters). Majorities and successor ranks are counted here and nowhere else, so a change
 * of membership (through the log) has one place to land.
 */
import { successorRank } from './raft-rules';

export class Membership {
  readonly peerIds: readonly string[];

  constructor(readonly selfId: string, peerIds: readonly string[]) {
    if (peerIds.includes(selfId)) throw new Error(`replication: peer list contains self (${selfId})`);
    this.peerIds = [...peerIds];
  }

  get voterCount(): number {
    return this.peerIds.length + 1;
  }

  get majority(): number {
    return Math.floor(this.voterCount / 2) + 1;
  }

  isPeer(nodeId: string): boolean {
    return this.peerIds.includes(nodeId);
  }

  /**
   * This node's rank among the nodes that could succeed `adminId` in `roomId` (the admin itself
   * excluded, so that if it dies the rank-0 survivor is first, not second behind the dead admin).
   */
  successorRankOfSelf(roomId: string, adminId: string | null): number {
    const voters = [this.selfId, ...this.peerIds].filter((v) => v === this.selfId || v !== adminId);
    return successorRank(roomId, this.selfId, voters);
  }
}
