/**
 * Delivery to the connections on this node: room events and messages written to every local
 * member's socket (each message serialized once, each sequence number at most once per
 * connection and in order), evictions after a member_left, and dropping a deleted room's
 * registrations.
 */
import type { ChatMessage } from '../protocol/messages';
import type { ClientSession } from './client-session';
import type { NodeContext } from './node-context';

export class Delivery {
  constructor(private readonly ctx: NodeContext) {}

  /** Writes one serialized frame to every local connection in the room (UTF-8 encoded once). */
  frame(roomId: string, text: string, exceptUsername?: string): void {
    let bytes: Buffer | undefined;
    for (const s of this.ctx.registry.sessions(roomId)) {
      if (exceptUsername !== undefined && s.rooms.get(roomId)?.username === exceptUsername) continue;
      bytes ??= Buffer.from(text);
      if (s.send(bytes)) this.ctx.metrics.framesDelivered.inc();
    }
  }

  /**
   * Serializes and UTF-8 encodes once for every recipient (ws would otherwise measure and encode
   * the string again per connection); each connection gets each sequence number at most once and
   * in order.
   */
  message(roomId: string, msg: ChatMessage): void {
    let bytes: Buffer | undefined;
    for (const s of this.ctx.registry.sessions(roomId)) {
      const b = s.rooms.get(roomId);
      if (!b || msg.sequence_number <= b.deliveredSeq) continue;
      bytes ??= Buffer.from(JSON.stringify({ type: 'new_message', data: msg }));
      b.deliveredSeq = msg.sequence_number;
      if (s.send(bytes)) this.ctx.metrics.framesDelivered.inc();
    }
  }

  /** One message to one connection (join replay), unless it already has it. */
  messageTo(session: ClientSession, roomId: string, msg: ChatMessage): void {
    const b = session.rooms.get(roomId);
    if (!b || msg.sequence_number <= b.deliveredSeq) return;
    b.deliveredSeq = msg.sequence_number;
    if (session.sendFrame({ type: 'new_message', data: msg })) this.ctx.metrics.framesDelivered.inc();
  }

  /** After a member_left, connections still holding that name (inactivity, node failure) leave too. */
  evict(roomId: string, username: string): void {
    for (const s of [...this.ctx.registry.sessions(roomId)]) {
      if (s.rooms.get(roomId)?.username === username) this.ctx.registry.unregister(roomId, s);
    }
    if (!this.ctx.localRoom(roomId)) this.ctx.remote.releaseView(roomId);
  }

  /** The room is gone: no connection here stays in it, and its remote view is forgotten. */
  dropRoom(roomId: string): void {
    for (const s of [...this.ctx.registry.sessions(roomId)]) this.ctx.registry.unregister(roomId, s);
    this.ctx.remote.forgetRoom(roomId);
  }
}
