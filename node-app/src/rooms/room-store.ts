/**
 * Where rooms live. The node talks to rooms only through this interface, so the replication layer
 * (node-app/src/replication, node-app/src/storage) can back it with a replicated, durable log
 * without touching the node's flows.
 *
 * The seam is `append`: the entry is applied to the in-memory room at once (so the next request
 * sees it, and sequence numbers are handed out synchronously by the single writer), and the returned
 * promise resolves once the entry is *committed*. Here that is immediately; with replication it is
 * once a majority stored it. Callers deliver an entry to clients only after its promise resolves, and
 * implementations must resolve a room's appends in log order (or reject; then nothing is delivered).
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '../protocol/messages';
import { pythonIsoNow } from '../util/time';
import { Room, type CommittedEntry, type LogEntry, type RoomInit } from './room';

/** A message before the admin numbers it. */
export interface MessageDraft {
  username: string;
  content: string;
}

export type AppendInput =
  | Exclude<LogEntry, { kind: 'message' }>
  | { kind: 'message'; draft: MessageDraft };

export interface RoomStore {
  create(init: RoomInit): Room;
  get(roomId: string): Room | undefined;
  /** Rooms in creation order. */
  list(): Room[];
  remove(roomId: string): boolean;
  /** Appends to a room this node administers; see the module comment for the contract. */
  append(room: Room, input: AppendInput): Promise<CommittedEntry>;
}

export class MemoryRoomStore implements RoomStore {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly opts: { historyLimit: number; now?: () => number }) {}

  create(init: RoomInit): Room {
    if (this.rooms.has(init.roomId)) throw new Error(`room ${init.roomId} already exists`);
    const room = new Room(init, this.opts.historyLimit);
    this.rooms.set(room.roomId, room);
    return room;
  }

  get(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  list(): Room[] {
    return [...this.rooms.values()];
  }

  remove(roomId: string): boolean {
    return this.rooms.delete(roomId);
  }

  append(room: Room, input: AppendInput): Promise<CommittedEntry> {
    if (this.rooms.get(room.roomId) !== room) return Promise.reject(new Error(`room ${room.roomId} is not in this store`));
    const entry = materialize(room, input);
    room.apply(entry, (this.opts.now ?? Date.now)());
    return Promise.resolve({ roomId: room.roomId, index: room.lastIndex, term: room.term, entry });
  }
}

/** Numbers a message draft: the next sequence number, a fresh id and timestamp (§2.6). */
export function materialize(room: Room, input: AppendInput): LogEntry {
  if (input.kind !== 'message') return input;
  const message: ChatMessage = {
    message_id: randomUUID(),
    room_id: room.roomId,
    username: input.draft.username,
    content: input.draft.content,
    sequence_number: room.lastSeq + 1,
    timestamp: pythonIsoNow(),
  };
  return { kind: 'message', message };
}
