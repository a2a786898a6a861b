/** Client flow get_history: one page of a room's committed messages, oldest first, and whether more exist. */
import type { GetHistoryRequest } from '../../protocol/messages';
import type { ClientSession } from '../client-session';
import type { NodeContext } from '../node-context';

export async function getHistory(ctx: NodeContext, session: ClientSession, req: GetHistoryRequest): Promise<void> {
  const { room_id, before_seq, after_seq } = req.data;
  const limit = req.data.limit ?? 100;
  const room = await ctx.readyRoom(room_id);
  if (!room) {
    session.sendFrame({ type: 'history_error', data: { room_id, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' } });
    return;
  }
  // One extra row tells whether another page exists.
  let page = ctx.store.history(room_id, { beforeSeq: before_seq, afterSeq: after_seq, limit: limit + 1 });
  const hasMore = page.length > limit;
  if (hasMore) page = after_seq !== undefined ? page.slice(0, limit) : page.slice(page.length - limit);
  const lastSeq = ctx.store.lastCommittedSeq(room_id);
  const firstSeq = ctx.store.firstSeq?.(room_id);
  session.sendFrame({
    type: 'history',
    data: { room_id, messages: page, has_more: hasMore, last_seq: lastSeq, ...(firstSeq !== undefined ? { first_seq: firstSeq } : {}) },
  });
}
