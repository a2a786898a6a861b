/**
 * Client flows list_rooms (the rooms this node administers) and discover_rooms (every node's rooms,
 * asked in parallel; see remote-rooms.ts), with the nodes that answered and those that did not.
 */
import type { ClientSession } from '../client-session';
import type { NodeContext } from '../node-context';

export function listRooms(ctx: NodeContext, session: ClientSession): void {
  const rooms = ctx.localRooms().map((r) => r.summary());
  session.sendFrame({ type: 'rooms_list', data: { rooms, total_count: rooms.length } });
}

export async function discoverRooms(ctx: NodeContext, session: ClientSession): Promise<void> {
  const { remote, store, selfId } = ctx;
  const d = await remote.discover();
  const local = ctx.localRooms().map((r) => r.summary());
  const seen = new Set(local.map((r) => r.room_id));
  const rooms = [...local, ...d.rooms.filter((r) => !seen.has(r.room_id))];
  // Every replicated room is known here, also while its admin is being replaced (and so answers
  // no get_hosted_rooms): list it from the local copy rather than drop it.
  for (const r of rooms) seen.add(r.room_id);
  for (const r of store.list()) if (!seen.has(r.roomId) && r.state === 'ACTIVE' && store.replicates(r.roomId)) rooms.push(r.summary());
  session.sendFrame({
    type: 'global_rooms_list',
    data: {
      rooms,
      total_count: rooms.length,
      nodes_queried: [selfId, ...d.queried],
      nodes_available: [selfId, ...d.available],
      nodes_unavailable: d.unavailable,
    },
  });
}
