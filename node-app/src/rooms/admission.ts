/**
 * Admission: who may join a room, who may send to it, and in which room state, with the error
 * codes and texts the clients and peers see (node-app/PROTOCOL.md §2, §3). The node's flows, its XML-RPC
 * handlers and the replicated store's admin-side check all refuse through these rules, so a rule
 * or its wording changes here only. Each caller composes the rules in the order its protocol
 * reply requires (the original checks membership before room state for a forwarded send, and
 * room state first for a join).
 */
import { lookalikeOf } from '../protocol/usernames';
import type { Room } from './room';

export type AdmissionCode = 'ROOM_NOT_FOUND' | 'NOT_MEMBER' | 'USERNAME_TAKEN' | 'INVALID_STATE';

export interface Refusal {
  code: AdmissionCode;
  message: string;
}

export const roomNotFound: Refusal = { code: 'ROOM_NOT_FOUND', message: 'Room not found' };
export const notMember: Refusal = { code: 'NOT_MEMBER', message: 'You are not a member of this room' };
/** The member was in the room (this connection joined it) and has been removed since. */
export const noLongerMember: Refusal = { code: 'NOT_MEMBER', message: 'You are no longer a member of this room' };
export const roomBeingDeleted: Refusal = { code: 'INVALID_STATE', message: 'Room is being deleted' };

export function usernameTaken(username: string): Refusal {
  return { code: 'USERNAME_TAKEN', message: `Username '${username}' is already in use in this room` };
}

/** A deletion asked of a room that is not ACTIVE (another deletion is running). */
export function cannotDelete(room: Room): Refusal {
  return { code: 'INVALID_STATE', message: `Room is in ${room.state} state, cannot delete` };
}

/** Joins and sends go to ACTIVE rooms only: a room in a 2PC deletion is frozen. */
export function checkActive(room: Room): Refusal | undefined {
  return room.state === 'ACTIVE' ? undefined : roomBeingDeleted;
}

/**
 * A name is held by the node its member is on. `heldElsewhere(holder)` says whether that holder
 * still counts (the replicated store lets a name move off a dead node).
 */
export function checkNameFree(room: Room, username: string, nodeId: string, heldElsewhere: (holder: string) => boolean = (h) => h !== nodeId): Refusal | undefined {
  const m = room.members.get(username);
  return m && heldElsewhere(m.nodeId) ? usernameTaken(username) : undefined;
}

/** A name a reader would mistake for a member's (same skeleton, protocol/usernames.ts) is taken too. */
export function checkNoLookalike(room: Room, username: string): Refusal | undefined {
  const lookalike = lookalikeOf(username, room.members.keys());
  return lookalike === undefined ? undefined : { code: 'USERNAME_TAKEN', message: `Username '${username}' looks like '${lookalike}', who is in this room` };
}

/** A send needs a member of that name; `nodeId` (when given) must be the node the member is on. */
export function checkMember(room: Room, username: string, nodeId?: string): Refusal | undefined {
  const m = room.members.get(username);
  return !m || (nodeId !== undefined && m.nodeId !== nodeId) ? notMember : undefined;
}
