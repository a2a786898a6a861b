/**
 * A room as its administrator holds it: an append-only log of entries (messages and membership
 * changes) plus the state that log produces. The admin is the only writer of the log and of the
 * message sequence; `term` is the admin epoch (always 1 without replication; REPL bumps it on
 * failover so a stale admin's appends can be fenced).
 */
import type { ChatMessage, RoomSummary } from '../protocol/messages';

export type RoomState = 'ACTIVE' | 'DELETION_PENDING' | 'COMMITTING' | 'ROLLING_BACK';

export interface Member {
  username: string;
  /** The node the member's connection is on (the original's `node_id`). */
  nodeId: string;
  joinedAt: number;
  /** Reset by every join and every message; the inactivity sweep reads it (§9.7 fixed). */
  lastActivity: number;
}

export type LogEntry =
  | { kind: 'member_joined'; username: string; nodeId: string; timestamp: string }
  | { kind: 'member_left'; username: string; nodeId: string; timestamp: string; reason?: string }
  | { kind: 'message'; message: ChatMessage };

export interface CommittedEntry {
  roomId: string;
  /** Position in the room's log, 1-based, counting every entry kind. */
  index: number;
  term: number;
  entry: LogEntry;
}

export interface RoomInit {
  roomId: string;
  roomName: string;
  description: string | null;
  creatorId: string;
  adminNode: string;
  createdAt: string;
  term?: number;
}

export class Room {
  readonly roomId: string;
  readonly roomName: string;
  readonly description: string | null;
  readonly creatorId: string;
  readonly createdAt: string;
  adminNode: string;
  term: number;
  state: RoomState = 'ACTIVE';
  /** The 2PC transaction that froze this room, if any. */
  pendingTx: string | undefined;
  readonly members = new Map<string, Member>();
  /** Last message sequence number handed out; messages are numbered 1, 2, ... per room. */
  lastSeq = 0;
  /** Last log index (messages and membership entries). */
  lastIndex = 0;
  /** Local clock time of the last entry (or of creation here); empty idle rooms are collected by it. */
  lastActiveAt = Date.now();
  /** The newest `historyLimit` messages, oldest first; what a join replays. */
  readonly history: ChatMessage[] = [];

  constructor(init: RoomInit, private readonly historyLimit: number) {
    ({ roomId: this.roomId, roomName: this.roomName, description: this.description } = init);
    ({ creatorId: this.creatorId, adminNode: this.adminNode, createdAt: this.createdAt } = init);
    this.term = init.term ?? 1;
  }

  /** Applies an entry to the in-memory state. Called exactly once per entry, in log order. */
  apply(entry: LogEntry, now: number): void {
    this.lastIndex++;
    this.lastActiveAt = now;
    switch (entry.kind) {
      case 'member_joined': {
        const existing = this.members.get(entry.username);
        if (existing) {
          existing.lastActivity = now;
          existing.nodeId = entry.nodeId;
        } else {
          this.members.set(entry.username, { username: entry.username, nodeId: entry.nodeId, joinedAt: now, lastActivity: now });
        }
        break;
      }
      case 'member_left':
        this.members.delete(entry.username);
        break;
      case 'message': {
        this.lastSeq = entry.message.sequence_number;
        const m = this.members.get(entry.message.username);
        if (m) m.lastActivity = now;
        if (this.historyLimit > 0) {
          this.history.push(entry.message);
          if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
        }
        break;
      }
    }
  }

  /** Node ids that hold members, except `selfId`: the nodes a room event must reach. */
  memberNodes(selfId: string): Set<string> {
    const nodes = new Set<string>();
    for (const m of this.members.values()) if (m.nodeId !== selfId) nodes.add(m.nodeId);
    return nodes;
  }

  /** Member names, sorted so every reply lists them the same way (the original used set order). */
  memberNames(): string[] {
    return [...this.members.keys()].sort();
  }

  summary(): RoomSummary {
    return {
      room_id: this.roomId,
      room_name: this.roomName,
      description: this.description,
      member_count: this.members.size,
      admin_node: this.adminNode,
      creator_id: this.creatorId,
    };
  }

  /** The `room_info` struct of XML-RPC join_room (§3), plus our additive `creator_id`. */
  info(): { room_id: string; room_name: string; description: string | null; members: string[]; member_count: number; admin_node: string; creator_id: string } {
    return {
      room_id: this.roomId,
      room_name: this.roomName,
      description: this.description,
      members: this.memberNames(),
      member_count: this.members.size,
      admin_node: this.adminNode,
      creator_id: this.creatorId,
    };
  }
}
