import { fromReplicatedEntry, toReplicatedEntry } from '../../../node-app/src/rooms/log-vocabulary';

describe('log vocabulary', () => {
  it('writes member_joined / member_left as join / leave, keeping a leave reason', () => {
    expect(toReplicatedEntry({ kind: 'member_joined', username: 'bob', nodeId: 'node2', timestamp: 't' })).toEqual({ kind: 'join', data: { username: 'bob', node_id: 'node2' } });
    expect(toReplicatedEntry({ kind: 'member_left', username: 'bob', nodeId: 'node2', timestamp: 't', reason: 'Inactivity' })).toEqual({
      kind: 'leave',
      data: { username: 'bob', node_id: 'node2', reason: 'Inactivity' },
    });
    expect(toReplicatedEntry({ kind: 'member_left', username: 'bob', nodeId: 'node2', timestamp: 't' }).data).not.toHaveProperty('reason');
  });

  it('gives each message draft its own id (what de-duplicates a resubmission after failover)', () => {
    const a = toReplicatedEntry({ kind: 'message', draft: { username: 'bob', content: 'hi' } });
    const b = toReplicatedEntry({ kind: 'message', draft: { username: 'bob', content: 'hi' } });
    expect(a).toMatchObject({ kind: 'message', data: { username: 'bob', content: 'hi' } });
    expect(typeof a.data.message_id).toBe('string');
    expect(a.data.message_id).not.toBe(b.data.message_id);
  });

  it('reads committed entries back in the node vocabulary', () => {
    expect(fromReplicatedEntry('r1', 'join', { username: 'bob', node_id: 'node2', timestamp: 't' })).toEqual({ kind: 'member_joined', username: 'bob', nodeId: 'node2', timestamp: 't' });
    expect(fromReplicatedEntry('r1', 'leave', { username: 'bob', node_id: 'node2', timestamp: 't', reason: 'Node unreachable' })).toEqual({
      kind: 'member_left', username: 'bob', nodeId: 'node2', timestamp: 't', reason: 'Node unreachable',
    });
    expect(fromReplicatedEntry('r1', 'message', { message_id: 'm', username: 'bob', content: 'hi', seq: 7, timestamp: 't' })).toEqual({
      kind: 'message',
      message: { message_id: 'm', room_id: 'r1', username: 'bob', content: 'hi', sequence_number: 7, timestamp: 't' },
    });
  });

  it('has no node entry for the log-only kinds', () => {
    for (const kind of ['create', 'noop', 'delete'] as const) expect(fromReplicatedEntry('r1', kind, {})).toBeUndefined();
  });
});
