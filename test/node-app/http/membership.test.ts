import { membershipSummary } from '../../../node-app/src/http/membership';

describe('GET /membership summary', () => {
  const voters: Record<string, string[]> = {
    r1: ['node2', 'node1', 'node3'],
    r2: ['node1', 'node2', 'node3'],
    r3: ['node3', 'node10', 'node1', 'node2'],
  };

  it('counts live rooms per voter set, each set sorted and comma-joined as the deploy script compares it', () => {
    const s = membershipSummary('node1', { roomIds: () => ['r1', 'r2', 'r3'], votersOf: (id) => voters[id], unsettledRoomIds: () => [] });
    expect(s).toEqual({ node_id: 'node1', rooms: 3, unsettled: 0, voter_sets: { 'node1,node2,node3': 2, 'node1,node10,node2,node3': 1 } });
  });

  it('counts unsettled rooms once each, and only live ones', () => {
    const s = membershipSummary('node2', { roomIds: () => ['r1', 'r2'], votersOf: (id) => voters[id], unsettledRoomIds: () => ['r2', 'r2', 'gone'] });
    expect(s.unsettled).toBe(1);
  });

  it('reports no voter sets for a node without rooms', () => {
    expect(membershipSummary('node4', { roomIds: () => [], votersOf: () => undefined, unsettledRoomIds: () => [] })).toEqual({ node_id: 'node4', rooms: 0, unsettled: 0, voter_sets: {} });
  });
});
