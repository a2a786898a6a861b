/**
 * Converters between XML-RPC values from peers and the client protocol's shapes (node-app/PROTOCOL.md §3):
 * a peer's message struct as a ChatMessage, a get_hosted_rooms item as a RoomSummary, a room_info
 * struct as the data of join_room_success. Anything malformed is dropped, never passed on.
 */
import type { ChatMessage, RoomSummary, ServerFrame } from '../protocol/messages';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import { XmlRpcFault } from '../peers/xmlrpc-codec';
import type { Room } from '../rooms/room';
import { isStruct, type Struct } from '../peers/rpc-params';

/** A failure's text as a client may see it (a peer's fault string, or the error's message). */
export function errText(err: unknown): string {
  if (err instanceof XmlRpcFault) return err.faultString;
  return err instanceof Error ? err.message : String(err);
}

export function roomInfoData(info: Struct | ReturnType<Room['info']>): ServerFrame['data'] & { room_id: string } {
  const i = info as Record<string, unknown>;
  const members = Array.isArray(i.members) ? i.members.filter((m): m is string => typeof m === 'string') : [];
  const data: Record<string, unknown> = {
    room_id: String(i.room_id ?? ''),
    room_name: String(i.room_name ?? ''),
    description: typeof i.description === 'string' ? i.description : null,
    members,
    member_count: typeof i.member_count === 'number' ? i.member_count : members.length,
    admin_node: String(i.admin_node ?? ''),
  };
  if (typeof i.creator_id === 'string') data.creator_id = i.creator_id;
  return data as ServerFrame['data'] & { room_id: string };
}

export function toChatMessage(v: XmlRpcValue | undefined, roomId: string): ChatMessage | undefined {
  if (!isStruct(v)) return undefined;
  const { message_id, username, content, sequence_number, timestamp } = v;
  if (typeof message_id !== 'string' || typeof username !== 'string' || typeof content !== 'string') return undefined;
  if (typeof sequence_number !== 'number' || !Number.isInteger(sequence_number) || sequence_number < 1) return undefined;
  return { message_id, room_id: roomId, username, content, sequence_number, timestamp: typeof timestamp === 'string' ? timestamp : '' };
}

export function toRoomSummary(v: XmlRpcValue): RoomSummary | undefined {
  if (!isStruct(v)) return undefined;
  const { room_id, room_name, description, member_count, admin_node, creator_id, node_address } = v;
  if (typeof room_id !== 'string' || typeof room_name !== 'string' || typeof admin_node !== 'string') return undefined;
  const s: RoomSummary = {
    room_id,
    room_name,
    description: typeof description === 'string' ? description : null,
    member_count: typeof member_count === 'number' ? member_count : 0,
    admin_node,
    creator_id: typeof creator_id === 'string' ? creator_id : '',
  };
  if (typeof node_address === 'string') s.node_address = node_address;
  return s;
}
