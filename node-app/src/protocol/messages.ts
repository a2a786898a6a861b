/**
 * The client <-> node WebSocket protocol of DS-G1-SMS (../shared/protocol.md §2), as types.
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
export interface JoinRoomRequest { type: 'join_room'; data: { room_id: string; username: string } }
export interface LeaveRoomRequest { type: 'leave_room'; data: { room_id: string; username: string } }
export interface SendMessageRequest {
  type: 'send_message';
  data: { room_id: string; username: string; content: string };
}
export interface DeleteRoomRequest { type: 'delete_room'; data: { room_id: string; username: string } }

export type ClientRequest =
  | ListRoomsRequest
  | DiscoverRoomsRequest
  | CreateRoomRequest
  | JoinRoomRequest
  | LeaveRoomRequest
  | SendMessageRequest
  | DeleteRoomRequest;

export type ClientRequestType = ClientRequest['type'];

export const CLIENT_REQUEST_TYPES: readonly ClientRequestType[] = [
  'list_rooms',
  'create_room',
  'discover_rooms',
  'join_room',
  'leave_room',
  'send_message',
  'delete_room',
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
  | DeleteRoomCancelledEvent;

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
} as const;
