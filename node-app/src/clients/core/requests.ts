/**
 * The request frames our clients send (node-app/PROTOCOL.md §2), built in one place for the Node clients and
 * the browser client alike. Every frame carries `"extended": true` beside `type` and `data`: the
 * node then adds our extensions to its replies (`creator_id` and `description` on `room_created`,
 * `last_seq` and `replay_from_seq` on joins, ...), which the original Python client never asks for
 * because its dataclass constructors crash on fields they do not know. The flag sits at the top
 * level, where an original node does not look, so the same frames work against original nodes.
 */
import type { ClientRequest } from '../../protocol/messages';

/** A request as our clients put it on the wire. */
export type OutgoingRequest = ClientRequest & { extended: true };

/** Marks a request as coming from a client that understands our reply extensions. */
export function extended<T extends ClientRequest>(request: T): T & { extended: true } {
  return { ...request, extended: true };
}

export interface HistoryPage {
  /** Messages with a higher sequence number (paging forward, filling a gap). */
  afterSeq?: number;
  /** Messages with a lower sequence number (paging backward). */
  beforeSeq?: number;
  limit?: number;
}

export const requests = {
  listRooms: (): OutgoingRequest => extended({ type: 'list_rooms' }),

  discoverRooms: (): OutgoingRequest => extended({ type: 'discover_rooms' }),

  createRoom: (roomName: string, creatorId: string, description?: string | null): OutgoingRequest =>
    extended({ type: 'create_room', data: { room_name: roomName, creator_id: creatorId, description: description ?? null } }),

  /**
   * `sinceSeq` is the highest sequence number already shown (our node's resume extension, so the
   * replay holds only what was missed); an original node ignores it and replays its usual tail.
   */
  joinRoom: (roomId: string, username: string, sinceSeq?: number): OutgoingRequest =>
    extended({
      type: 'join_room',
      data: sinceSeq === undefined ? { room_id: roomId, username } : { room_id: roomId, username, since_seq: sinceSeq },
    }),

  leaveRoom: (roomId: string, username: string): OutgoingRequest =>
    extended({ type: 'leave_room', data: { room_id: roomId, username } }),

  sendMessage: (roomId: string, username: string, content: string): OutgoingRequest =>
    extended({ type: 'send_message', data: { room_id: roomId, username, content } }),

  deleteRoom: (roomId: string, username: string): OutgoingRequest =>
    extended({ type: 'delete_room', data: { room_id: roomId, username } }),

  /** One page of a room's history (our node's `get_history` extension). */
  getHistory: (roomId: string, page: HistoryPage = {}): OutgoingRequest => {
    const data: { room_id: string; after_seq?: number; before_seq?: number; limit?: number } = { room_id: roomId };
    if (page.afterSeq !== undefined) data.after_seq = page.afterSeq;
    if (page.beforeSeq !== undefined) data.before_seq = page.beforeSeq;
    if (page.limit !== undefined) data.limit = page.limit;
    return extended({ type: 'get_history', data });
  },
};

/** The `get_history` page that fills the gap [from, to] (what the ordering buffer asks for). */
export function gapFillPage(from: number, to: number, maxPage: number): HistoryPage {
  return { afterSeq: from - 1, limit: Math.min(to - from + 1, maxPage) };
}
