/**
 * The client <-> node WebSocket protocol of DS-G1-SMS (node-app/PROTOCOL.md §2), as types.
 *
 * Every frame is one JSON object `{type, data}`. These types are the wire contract shared by the
 * node, the terminal and browser clients, the benchmark and the Swarm scenarios, so that a change
 * to a message shape is a compile error everywhere it matters. Additive extensions (ours, unknown
 * to the Python original) are marked "extension".
 */

/** A sequenced chat message, as stored by the room's administrator and delivered to members. */
export interface ChatMessage {
  message_id: string;
  room_id: string;
  username: string;
  content: string;
  sequence_number: number;
  /** Python `datetime.isoformat()` in UTC: `2026-11-26T11:53:19.604421+00:00`. */
  timestamp: string;
}

export interface RoomSummary {
  room_id: string;
  room_name: string;
  description: string | null;
  member_count: number;
  admin_node: string;
  creator_id: string;
  /** Present on rooms that came from a peer in `global_rooms_list`. */
  node_address?: string;
}

// ---------------------------------------------------------------- requests (client -> node)

export interface ListRoomsRequest { type: 'list_rooms'; data?: Record<string, never> }
export interface DiscoverRoomsRequest { type: 'discover_rooms'; data?: Record<string, never> }
export interface CreateRoomRequest {
  type: 'create_room';
  data: { room_name: string; creator_id: string; description?: string | null };
}
export interface JoinRoomRequest {
  type: 'join_room';
  data: {
    room_id: string;
    username: string;
    /**
     * extension (resume): the last sequence number this client saw in the room. Instead of the
     * original's last-100 replay, the node replays every committed message with a larger sequence
     * number (up to LIMITS.maxResumeReplay; `join_room_success.replay_from_seq` says where the replay
     * starts, older ones are fetched with `get_history`). 0 = replay from the first message.
     */
    since_seq?: number;
  };
}
export interface LeaveRoomRequest { type: 'leave_room'; data: { room_id: string; username: string } }
export interface SendMessageRequest {
  type: 'send_message';
  data: { room_id: string; username: string; content: string };
}
export interface DeleteRoomRequest { type: 'delete_room'; data: { room_id: string; username: string } }

/**
 * extension (durable history): one page of a room's committed messages, oldest first.
 * `before_seq` pages backwards (the `limit` messages just below it; omitted = the newest ones),
 * `after_seq` pages forwards (the `limit` messages just above it). Answered by `history` or
 * `history_error`. Any node that replicates the room answers from its own durable log.
 */
export interface GetHistoryRequest {
  type: 'get_history';
  data: { room_id: string; before_seq?: number; after_seq?: number; limit?: number };
}

export type ClientRequest =
  | ListRoomsRequest
  | DiscoverRoomsRequest
  | CreateRoomRequest
  | JoinRoomRequest
  | LeaveRoomRequest
  | SendMessageRequest
  | DeleteRoomRequest
  | GetHistoryRequest;

export type ClientRequestType = ClientRequest['type'];

export const CLIENT_REQUEST_TYPES: readonly ClientRequestType[] = [
  'list_rooms',
  'create_room',
  'discover_rooms',
  'join_room',
  'leave_room',
  'send_message',
  'delete_room',
  'get_history',
];

// ---------------------------------------------------------------- replies and events (node -> client)

export interface ErrorReply { type: 'error'; data: { success: false; message: string } }

export interface RoomsListReply { type: 'rooms_list'; data: { rooms: RoomSummary[]; total_count: number } }

export interface GlobalRoomsListReply {
  type: 'global_rooms_list';
  data: {
    rooms: RoomSummary[];
    total_count: number;
    nodes_queried: string[];
    nodes_available: string[];
    nodes_unavailable: string[];
  };
}

export interface RoomCreatedReply {
  type: 'room_created';
  data: {
    room_id: string;
    room_name: string;
    admin_node: string;
    members: string[];
    created_at: string;
    /** extension: echoed so clients need not remember it. */
    description?: string | null;
    creator_id?: string;
  };
}

/** `create_room` failures reuse the `room_created` type with another data shape (§2.3). */
export interface RoomCreateFailedReply { type: 'room_created'; data: { success: false; message: string } }

export interface JoinRoomSuccessReply {
  type: 'join_room_success';
  data: {
    room_id: string;
    room_name: string;
    description: string | null;
    members: string[];
    member_count: number;
    admin_node: string;
    /** extension: lets a client show "delete" without a discovery row. */
    creator_id?: string;
    /** extension (resume): highest committed sequence number of the room when the join was answered. */
    last_seq?: number;
    /**
     * extension (resume): sequence number of the first `new_message` replayed after this reply
     * (absent when nothing is replayed). A client that asked with `since_seq` and gets a larger
     * value than since_seq + 1 pages back with `get_history` for the rest.
     */
    replay_from_seq?: number;
  };
}

export type JoinErrorCode =
  | 'INVALID_REQUEST'
  | 'ROOM_NOT_FOUND'
  | 'ADMIN_NODE_UNAVAILABLE'
  | 'INTERNAL_ERROR'
  | 'UNKNOWN_ERROR'
  | string;

export interface JoinRoomErrorReply {
  type: 'join_room_error';
  data: { room_id: string; error: string; error_code: JoinErrorCode };
}

export interface LeaveRoomSuccessReply { type: 'leave_room_success'; data: { room_id: string; username: string } }

export interface MessageSentReply {
  type: 'message_sent';
  data: { room_id: string; message_id: string; sequence_number: number; timestamp: string };
}

export type MessageErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_CONTENT'
  | 'NOT_MEMBER'
  | 'ROOM_NOT_FOUND'
  | 'ADMIN_NODE_UNAVAILABLE'
  | 'INTERNAL_ERROR'
  | string;

export interface MessageErrorReply {
  type: 'message_error';
  data: { room_id: string; error: string; error_code: MessageErrorCode };
}

export interface NewMessageEvent { type: 'new_message'; data: ChatMessage }

export interface MemberJoinedEvent {
  type: 'member_joined';
  data: { room_id: string; username: string; member_count: number; timestamp: string };
}

export interface MemberLeftEvent {
  type: 'member_left';
  data: {
    room_id: string;
    username: string;
    member_count: number;
    timestamp: string;
    /** Absent on a plain leave; "User disconnected", "Node unreachable" or "Inactivity" otherwise. */
    reason?: string;
  };
}

/** Direct reply (with transaction_id) and local broadcast (with initiator) share the type (§2.7). */
export interface DeleteRoomInitiatedEvent {
  type: 'delete_room_initiated';
  data: { room_id: string; status: 'in_progress'; transaction_id?: string; initiator?: string };
}

export interface DeleteRoomSuccessReply {
  type: 'delete_room_success';
  data: { room_id: string; transaction_id: string; message: string };
}

export type DeleteErrorCode =
  | 'INVALID_REQUEST'
  | 'ROOM_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'INVALID_STATE'
  | 'INTERNAL_ERROR'
  | 'DELETION_FAILED'
  | string;

export interface DeleteRoomFailedReply {
  type: 'delete_room_failed';
  data: { room_id: string; reason: string; error_code: DeleteErrorCode; transaction_id?: string };
}

/** Admin-local members get `message`; peer-local members get `transaction_id` (§2.7). */
export interface RoomDeletedEvent {
  type: 'room_deleted';
  data: { room_id: string; room_name: string; message?: string; transaction_id?: string };
}

export interface DeleteRoomCancelledEvent {
  type: 'delete_room_cancelled';
  data: { room_id: string; transaction_id: string };
}

/**
 * extension: reply to `get_history`. `has_more` = older (before_seq) / newer (after_seq) messages
 * exist beyond this page. `first_seq`: where the room's history begins on this node; messages
 * numbered below it were removed by log retention (only from a replicating node).
 */
export interface HistoryReply {
  type: 'history';
  data: { room_id: string; messages: ChatMessage[]; has_more: boolean; last_seq: number; first_seq?: number };
}

export interface HistoryErrorReply {
  type: 'history_error';
  data: { room_id: string; error: string; error_code: 'INVALID_REQUEST' | 'ROOM_NOT_FOUND' | 'INTERNAL_ERROR' | string };
}

export type ServerFrame =
  | ErrorReply
  | RoomsListReply
  | GlobalRoomsListReply
  | RoomCreatedReply
  | RoomCreateFailedReply
  | JoinRoomSuccessReply
  | JoinRoomErrorReply
  | LeaveRoomSuccessReply
  | MessageSentReply
  | MessageErrorReply
  | NewMessageEvent
  | MemberJoinedEvent
  | MemberLeftEvent
  | DeleteRoomInitiatedEvent
  | DeleteRoomSuccessReply
  | DeleteRoomFailedReply
  | RoomDeletedEvent
  | DeleteRoomCancelledEvent
  | HistoryReply
  | HistoryErrorReply;

export type ServerFrameType = ServerFrame['type'];

/** Limits the original never had (§9.12); the node enforces them, clients may pre-check. */
export const LIMITS = {
  /** Python `len(content)` counts code points; so do we. */
  maxContentChars: 5000,
  maxRoomNameChars: 100,
  maxDescriptionChars: 500,
  maxUsernameChars: 64,
  /** Same as the websockets library default in the original. */
  maxFrameBytes: 1024 * 1024,
  /** extension: most messages one `get_history` page returns (default page: 100). */
  maxHistoryPage: 500,
  /** extension: most messages a `join_room` with `since_seq` replays; older ones via `get_history`. */
  maxResumeReplay: 5000,
} as const;
