/**
 * The rooms one connection has joined: their names, live member sets and ordered message buffers,
 * and where a rejoin resumes (`since_seq`, the highest sequence number already shown). Frames are
 * applied synchronously as they arrive, because a join's history can arrive in the same TCP read as
 * its `join_room_success`, before any promise continuation could run.
 */
import type { ChatMessage, ServerFrame } from '../../protocol/messages';
import { GapReport, RoomMessageBuffer } from './message-buffer';

export interface JoinedRoom {
  room_id: string;
  room_name: string;
  description: string | null;
  admin_node: string;
  creator_id?: string;
  /** The name this connection joined under (one socket may join rooms under different names). */
  username: string;
  members: Set<string>;
  buffer: RoomMessageBuffer;
}

export interface MembersChange {
  room_id: string;
  members: string[];
  member_count: number;
  change: { kind: 'snapshot' } | { kind: 'joined' | 'left'; username: string; reason?: string };
}

/** Why the client no longer is in a room it joined. */
export interface RoomClosed {
  room_id: string;
  room_name: string;
  reason: 'deleted' | 'removed';
  message: string;
}

export interface JoinedRoomsOptions {
  gapWaitMs: number;
  maxBufferedPerRoom: number;
  /** Messages of joined rooms, in sequence order, without duplicates. */
  onMessage: (message: ChatMessage) => void;
  onGap: (gap: GapReport) => void;
  onMembers: (change: MembersChange) => void;
  onRoomClosed: (closed: RoomClosed) => void;
  /** A gap opened: ask the node for [from, to]; whatever arrives in time closes it silently. */
  onMissing: (roomId: string, from: number, to: number) => void;
}

export class JoinedRooms {
  private readonly rooms = new Map<string, JoinedRoom>();

  constructor(private readonly opts: JoinedRoomsOptions) {}

  get all(): ReadonlyMap<string, JoinedRoom> {
    return this.rooms;
  }

  /**
   * Starts tracking a room before its join request leaves, because history frames follow the reply
   * at once. Returns the provisional entry and the `since_seq` to send (undefined: a fresh join).
   */
  beginJoin(roomId: string, username: string, resumeAfter: number | undefined): { room: JoinedRoom; sinceSeq: number | undefined } {
    const previous = this.rooms.get(roomId);
    previous?.buffer.dispose();
    const buffer = this.makeBuffer(roomId, resumeAfter ?? previous?.buffer.lastDelivered);
    const room: JoinedRoom = {
      room_id: roomId,
      room_name: previous?.room_name ?? '',
      description: previous?.description ?? null,
      admin_node: previous?.admin_node ?? '',
      creator_id: previous?.creator_id,
      username,
      members: previous?.members ?? new Set(),
      buffer,
    };
    this.rooms.set(roomId, room);
    return { room, sinceSeq: buffer.lastDelivered };
  }

  /** A join failed: drop the provisional entry unless a newer join replaced it. */
  abandonJoin(room: JoinedRoom): void {
    if (this.rooms.get(room.room_id) !== room) return;
    room.buffer.dispose();
    this.rooms.delete(room.room_id);
  }

  /** Adds messages (a history page) to a joined room's buffer. */
  /** A page of history for a room's gap; `firstSeq` (where the node's history begins) closes a compacted gap at once. */
  addMessages(roomId: string, messages: readonly unknown[], firstSeq?: number): void {
    const room = this.rooms.get(roomId);
    if (firstSeq !== undefined) room?.buffer.historyStartsAt(firstSeq);
    for (const m of messages) room?.buffer.add(m);
  }

  forget(roomId: string): void {
    this.rooms.get(roomId)?.buffer.dispose();
    this.rooms.delete(roomId);
  }

  /** The connection closed: stop every gap timer (the entries stay readable). */
  disposeAll(): void {
    for (const room of this.rooms.values()) room.buffer.dispose();
  }

  /** Keeps joined rooms (members, buffers) current. */
  apply(frame: ServerFrame): void {
    switch (frame.type) {
      case 'join_room_success': {
        const room = this.rooms.get(frame.data.room_id);
        if (!room) return;
        room.room_name = frame.data.room_name;
        room.description = frame.data.description ?? null;
        room.admin_node = frame.data.admin_node;
        room.creator_id = frame.data.creator_id ?? room.creator_id;
        room.members = new Set(Array.isArray(frame.data.members) ? frame.data.members : []);
        // Our node says where its replay starts; the original does not, and then the first
        // replayed message sets the baseline (history may start above 1).
        const { replay_from_seq: from, last_seq: lastSeq } = frame.data;
        if (typeof from === 'number') room.buffer.setBaseline(from - 1);
        else if (typeof lastSeq === 'number') room.buffer.setBaseline(lastSeq);
        this.emitMembers(room, { kind: 'snapshot' });
        return;
      }
      case 'new_message': {
        const room = this.rooms.get(frame.data?.room_id);
        room?.buffer.add(frame.data);
        return;
      }
      case 'member_joined': {
        const room = this.rooms.get(frame.data.room_id);
        if (!room) return;
        room.members.add(frame.data.username);
        this.emitMembers(room, { kind: 'joined', username: frame.data.username });
        return;
      }
      case 'member_left': {
        const room = this.rooms.get(frame.data.room_id);
        if (!room) return;
        room.members.delete(frame.data.username);
        this.emitMembers(room, { kind: 'left', username: frame.data.username, reason: frame.data.reason });
        // Only a removal (inactivity, node unreachable) names ourselves: a plain leave unregisters first.
        if (frame.data.username === room.username) {
          this.forget(room.room_id);
          this.opts.onRoomClosed({
            room_id: room.room_id,
            room_name: room.room_name,
            reason: 'removed',
            message: `You were removed from '${room.room_name}'${frame.data.reason ? `: ${frame.data.reason}` : ''}`,
          });
        }
        return;
      }
      case 'room_deleted': {
        const room = this.rooms.get(frame.data.room_id);
        if (!room) return;
        this.forget(room.room_id);
        const name = frame.data.room_name || room.room_name;
        this.opts.onRoomClosed({
          room_id: room.room_id,
          room_name: name,
          reason: 'deleted',
          message: frame.data.message ?? `Room '${name}' has been deleted`,
        });
        return;
      }
      default:
        return;
    }
  }

  private makeBuffer(roomId: string, resumeAfter: number | undefined): RoomMessageBuffer {
    return new RoomMessageBuffer({
      roomId,
      resumeAfter,
      gapWaitMs: this.opts.gapWaitMs,
      maxBuffered: this.opts.maxBufferedPerRoom,
      onReady: (messages) => {
        for (const m of messages) this.opts.onMessage(m);
      },
      onGap: (gap) => this.opts.onGap(gap),
      onMissing: (range) => this.opts.onMissing(range.room_id, range.from, range.to),
    });
  }

  private emitMembers(room: JoinedRoom, change: MembersChange['change']): void {
    this.opts.onMembers({
      room_id: room.room_id,
      members: [...room.members].sort((a, b) => a.localeCompare(b)),
      member_count: room.members.size,
      change,
    });
  }
}
