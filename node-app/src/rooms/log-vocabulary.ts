/**
 * The one translation between the node's room-log vocabulary (`member_joined`, `member_left`,
 * `message`, as clients see the events) and the replicated log's (`join`, `leave`, `message`, as
 * stored and sent between our nodes, replication/wire.ts). Nothing else converts between them.
 */
import type { ChatMessage } from '../protocol/messages';
import type { EntryKind } from '../storage/room-log-store';
import type { LogEntry } from './room';
import type { AppendInput } from './room-store';
import { newMessageId } from '../util/message-id';

function s(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A node append as a replicated log entry; a message draft gets its id here (de-duplication across failover). */
export function toReplicatedEntry(input: AppendInput): { kind: EntryKind; data: Record<string, unknown> } {
  switch (input.kind) {
    case 'member_joined':
      return { kind: 'join', data: { username: input.username, node_id: input.nodeId } };
    case 'member_left':
      return { kind: 'leave', data: { username: input.username, node_id: input.nodeId, ...(input.reason ? { reason: input.reason } : {}) } };
    case 'message':
      return { kind: 'message', data: { message_id: newMessageId(), username: input.draft.username, content: input.draft.content } };
  }
}

/** A committed replicated entry as the node's room entry; undefined for kinds the room does not apply (create, noop, delete). */
export function fromReplicatedEntry(roomId: string, kind: EntryKind, d: Record<string, unknown>): LogEntry | undefined {
  switch (kind) {
    case 'join':
      return { kind: 'member_joined', username: s(d.username), nodeId: s(d.node_id), timestamp: s(d.timestamp) };
    case 'leave': {
      const e: LogEntry = { kind: 'member_left', username: s(d.username), nodeId: s(d.node_id), timestamp: s(d.timestamp) };
      if (typeof d.reason === 'string') e.reason = d.reason;
      return e;
    }
    case 'message': {
      const message: ChatMessage = {
        message_id: s(d.message_id), room_id: roomId, username: s(d.username), content: s(d.content),
        sequence_number: Number(d.seq), timestamp: s(d.timestamp),
      };
      return { kind: 'message', message };
    }
    default:
      return undefined;
  }
}
