/**
 * The body of `GET /membership`: what this node's room logs say about the cluster's membership,
 * summed up so a deploy script can tell from outside, with no JSON tool, when a topology change
 * has committed (scripts/change-topology.sh in the synthesized output waits on it).
 *
 * `voter_sets` counts the live rooms per voter set (the latest configuration in each room's log,
 * committed or not, as one sorted comma-separated string); `unsettled` counts the rooms that are
 * not yet settled here: a configuration not committed yet, not caught up with the room's admin,
 * or this node not a counted voter. Every room counted under the expected set with `unsettled` 0
 * means: that configuration is the latest and it has committed, as far as this node can know.
 */

export interface MembershipSource {
  /** Live (not deleted) rooms known here. */
  roomIds(): string[];
  /** The room's voters as this node's log has them, or undefined for a room it does not know. */
  votersOf(roomId: string): string[] | undefined;
  /** Rooms this node is not settled in (the replicator's readiness list). */
  unsettledRoomIds(): string[];
}

export interface MembershipSummary {
  node_id: string;
  rooms: number;
  unsettled: number;
  voter_sets: Record<string, number>;
}

export function membershipSummary(nodeId: string, source: MembershipSource): MembershipSummary {
  const rooms = source.roomIds();
  const live = new Set(rooms);
  const voterSets: Record<string, number> = {};
  for (const id of rooms) {
    const key = [...(source.votersOf(id) ?? [])].sort().join(',');
    voterSets[key] = (voterSets[key] ?? 0) + 1;
  }
  const unsettled = new Set(source.unsettledRoomIds().filter((id) => live.has(id))).size;
  return { node_id: nodeId, rooms: rooms.length, unsettled, voter_sets: voterSets };
}
