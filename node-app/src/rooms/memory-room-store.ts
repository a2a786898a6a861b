/**
 * The RoomStore of a node without replication (REPLICATION=off, the original's model): rooms in
 * memory, each administered and sequenced here, an append committed as soon as it is applied.
 * No room replicates, so the caller of `append` delivers its entries.
 */
import type { ChatMessage } from '../protocol/messages';
import { pythonIsoNow } from '../util/time';
import { Room, type CommittedEntry, type LogEntry, type RoomInit } from './room';
import type { AppendInput, CommittedListener, DeletedListener, HistoryQuery, RoomStore } from './room-store';
import { newMessageId } from '../util/message-id';

export class MemoryRoomStore implements RoomStore {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly opts: { historyLimit: number; now?: () => number }) {}

  create(init: RoomInit): Room {
    if (this.rooms.has(init.roomId)) throw new Error(`room ${init.roomId} already exists`);
    const room = new Room(init, this.opts.historyLimit);
    this.rooms.set(room.roomId, room);
    return room;
  }

  /** Created rooms exist at once. */
  whenCreated(_roomId: string): Promise<void> {
    return Promise.resolve();
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

  /** No room is replicated here. */
  replicates(_roomId: string): boolean {
    return false;
  }

  /** Listeners hear replicated rooms only, and this store has none: nothing to register. */
  onCommitted(_fn: CommittedListener): void {}

  onDeleted(_fn: DeletedListener): void {}

  /** This node is the only copy: always caught up. */
  ready(_roomId: string, _timeoutMs: number): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** Appends apply synchronously: applied as soon as appended. */
  waitApplied(_roomId: string, _index: number, _timeoutMs: number): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** From the room's in-memory window (the last HISTORY_LIMIT messages), with the replicated log's paging rules. */
  history(roomId: string, q: HistoryQuery): ChatMessage[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    const page = room.history.filter(
      (m) => (q.beforeSeq === undefined || m.sequence_number < q.beforeSeq) && (q.afterSeq === undefined || m.sequence_number > q.afterSeq),
    );
    return q.afterSeq !== undefined ? page.slice(0, q.limit) : page.slice(Math.max(0, page.length - q.limit));
  }

  lastCommittedSeq(roomId: string): number {
    return this.rooms.get(roomId)?.lastSeq ?? 0;
  }

  /** This store replicates with no node. */
  nodeDown(_nodeId: string): boolean {
    return false;
  }

  nodeAnswering(_nodeId: string): boolean {
    return false;
  }

  /** A node without replication always serves its rooms. */
  notServing(): undefined {
    return undefined;
  }
}

/** Numbers a message draft: the next sequence number, a fresh id and timestamp (§2.6). */
export function materialize(room: Room, input: AppendInput): LogEntry {
  if (input.kind !== 'message') return input;
  const message: ChatMessage = {
    message_id: newMessageId(),
    room_id: room.roomId,
    username: input.draft.username,
    content: input.draft.content,
    sequence_number: room.lastSeq + 1,
    timestamp: pythonIsoNow(),
  };
  return { kind: 'message', message };
}
