import {
  cannotDelete,
  checkActive,
  checkMember,
  checkNameFree,
  noLongerMember,
  notMember,
  roomBeingDeleted,
  roomNotFound,
  usernameTaken,
} from '../../../node-app/src/rooms/admission';
import { Room } from '../../../node-app/src/rooms/room';

function room(members: Array<[string, string]> = []): Room {
  const r = new Room({ roomId: 'r1', roomName: 'general', description: null, creatorId: 'alice', adminNode: 'node1', createdAt: 't' }, 10);
  for (const [username, nodeId] of members) r.apply({ kind: 'member_joined', username, nodeId, timestamp: 't' }, 0);
  return r;
}

describe('admission', () => {
  it('speaks the protocol codes and texts the clients know', () => {
    expect(roomNotFound).toEqual({ code: 'ROOM_NOT_FOUND', message: 'Room not found' });
    expect(notMember).toEqual({ code: 'NOT_MEMBER', message: 'You are not a member of this room' });
    expect(noLongerMember).toEqual({ code: 'NOT_MEMBER', message: 'You are no longer a member of this room' });
    expect(roomBeingDeleted).toEqual({ code: 'INVALID_STATE', message: 'Room is being deleted' });
    expect(usernameTaken('bob')).toEqual({ code: 'USERNAME_TAKEN', message: "Username 'bob' is already in use in this room" });
  });

  it('admits joins and sends to ACTIVE rooms only', () => {
    const r = room();
    expect(checkActive(r)).toBeUndefined();
    r.state = 'DELETION_PENDING';
    expect(checkActive(r)).toBe(roomBeingDeleted);
    expect(cannotDelete(r)).toEqual({ code: 'INVALID_STATE', message: 'Room is in DELETION_PENDING state, cannot delete' });
  });

  it('keeps a name for the node its member is on', () => {
    const r = room([['bob', 'node2']]);
    expect(checkNameFree(r, 'bob', 'node2')).toBeUndefined();
    expect(checkNameFree(r, 'bob', 'node3')).toEqual(usernameTaken('bob'));
    expect(checkNameFree(r, 'carol', 'node3')).toBeUndefined();
  });

  it('lets the caller decide whether a holder still counts (a name moves off a dead node)', () => {
    const r = room([['bob', 'node2']]);
    const node2Dead = (holder: string) => holder !== 'node3' && holder !== 'node2';
    expect(checkNameFree(r, 'bob', 'node3', node2Dead)).toBeUndefined();
  });

  it('admits a send from a member, and from its own node when one is named', () => {
    const r = room([['bob', 'node2']]);
    expect(checkMember(r, 'bob')).toBeUndefined();
    expect(checkMember(r, 'bob', 'node2')).toBeUndefined();
    expect(checkMember(r, 'bob', 'node3')).toBe(notMember);
    expect(checkMember(r, 'eve')).toBe(notMember);
  });
});
