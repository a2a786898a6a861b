/**
 * Where rooms live: the one interface the node talks to rooms through. Two implementations: the
 * in-memory store of a node without replication (rooms/memory-room-store.ts) and the replicated,
 * durable store (replication/replicated-room-store.ts). The node never asks which one it has; what
 * differs between them is answered here, per room.
 *
 * The seam is `append`: the entry is applied to the in-memory room at once (so the next request
 * sees it, and sequence numbers are handed out synchronously by the single writer), and the returned
 * promise resolves once the entry is *committed*. In memory that is immediately; replicated, once a
 * majority stored it. Implementations resolve a room's appends in log order (or reject; then
 * nothing is delivered).
 *
 * Delivery: for a room that `replicates`, every node holds a copy built from committed entries and
 * hears each of them through `onCommitted` (that is where it delivers to its clients, in log order);
 * for any other room the caller of `append` delivers once the promise resolves.
 */
import type { ChatMessage } from '../protocol/messages';
import type { CommittedEntry, LogEntry, Room, RoomInit } from './room';

/** A message before the admin numbers it. */
export interface MessageDraft {
  username: string;
  content: string;
}

export type AppendInput =
  | Exclude<LogEntry, { kind: 'message' }>
  | { kind: 'message'; draft: MessageDraft };

/** One page of a room's committed messages, oldest first. */
export interface HistoryQuery {
  /** Only messages with a smaller sequence number (page backwards: the newest `limit` of them). */
  beforeSeq?: number;
  /** Only messages with a larger sequence number (resume forwards: the oldest `limit` of them). */
  afterSeq?: number;
  limit: number;
}

export interface CommittedEvent {
  room: Room;
  committed: CommittedEntry;
  /** Members after the entry applied (what member events report). */
  memberCount: number;
}

export type CommittedListener = (ev: CommittedEvent) => void;
export type DeletedListener = (roomId: string, roomName: string) => void;

export interface RoomStore {
  /** A new room administered by this node. */
  create(init: RoomInit): Room;
  /** Resolves once the room's creation is durable (on a majority when replicated); rejects if it could not be. */
  whenCreated(roomId: string): Promise<void>;
  get(roomId: string): Room | undefined;
  /** Rooms in creation order (replicated: copies of rooms administered elsewhere too). */
  list(): Room[];
  remove(roomId: string): boolean;
  /** Appends to a room (replicated: from any node, routed to its admin); see the module comment. */
  append(room: Room, input: AppendInput): Promise<CommittedEntry>;

  /** True when the room's entries reach every node through `onCommitted` (see the module comment). */
  replicates(roomId: string): boolean;
  /** Committed entries of replicated rooms, on every node, in log order. */
  onCommitted(fn: CommittedListener): void;
  /** Replicated rooms whose deletion committed. */
  onDeleted(fn: DeletedListener): void;
  /**
   * Waits (bounded) until this node's copy of the room has caught up with its admin, or, for a room
   * it does not hold, until it knows the room is not one it should hold; false on timeout.
   */
  ready(roomId: string, timeoutMs: number): Promise<boolean>;
  /** Waits (bounded) until this node applied the room's log up to `index`; false on timeout. */
  waitApplied(roomId: string, index: number, timeoutMs: number): Promise<boolean>;
  /** Committed messages (get_history, a join that resumes with since_seq). */
  history(roomId: string, q: HistoryQuery): ChatMessage[];
  /** Sequence number of the room's last committed message (0 for none). */
  lastCommittedSeq(roomId: string): number;
  /** Where the room's history begins (older messages were compacted away); absent: a store that compacts nothing. */
  firstSeq?(roomId: string): number;
  /** True when `nodeId` is one of the nodes this store replicates with and it stopped answering. */
  nodeDown(nodeId: string): boolean;
  /** True when `nodeId` is one of the nodes this store replicates with and it answers. */
  nodeAnswering(nodeId: string): boolean;
  /**
   * Why this node must not take clients now (replicated: the others do not count it, it is being
   * added or removed), or undefined. A join is refused with it rather than half-joined.
   */
  notServing(): { code: string; detail: string } | undefined;
}
