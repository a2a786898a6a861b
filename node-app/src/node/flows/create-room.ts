/**
 * Client flow create_room (node-app/PROTOCOL.md §2): a new room administered by this node, acknowledged once
 * its creation is durable (on a majority when replicated: a room we announced survives its node).
 */
import { randomUUID } from 'node:crypto';
import type { CreateRoomRequest } from '../../protocol/messages';
import { roomCreationRefusal } from '../../limits/room-quota';
import { pythonIsoNow } from '../../util/time';
import type { ClientSession } from '../client-session';
import type { NodeContext } from '../node-context';
import { errText } from '../wire-converters';

export async function createRoom(ctx: NodeContext, session: ClientSession, req: CreateRoomRequest): Promise<void> {
  const { room_name, creator_id } = req.data;
  const description = req.data.description ?? null;
  const fail = (message: string): void => {
    session.sendFrame({ type: 'room_created', data: { success: false, message } });
  };
  if (ctx.shuttingDown) return fail('Node is shutting down');
  const refused = roomCreationRefusal(session.createdRooms.size, ctx.localRooms().length, ctx.cfg);
  if (refused) return fail(refused);
  if (ctx.localRooms().some((r) => r.roomName === room_name)) return fail(`Room with name '${room_name}' already exists`);
  const room = ctx.store.create({
    roomId: randomUUID(),
    roomName: room_name,
    description,
    creatorId: creator_id,
    adminNode: ctx.selfId,
    createdAt: pythonIsoNow(),
  });
  try {
    await ctx.store.whenCreated(room.roomId);
  } catch (err) {
    ctx.log.warn('room creation not committed', { room_id: room.roomId, err: errText(err) });
    return fail('Room could not be stored on a majority of nodes; try again');
  }
  session.createdRooms.add(room.roomId);
  ctx.log.info('room created', { room_id: room.roomId, room_name, creator_id });
  session.sendFrame({
    type: 'room_created',
    data: {
      room_id: room.roomId,
      room_name: room.roomName,
      admin_node: ctx.selfId,
      members: [],
      created_at: room.createdAt,
      description,
      creator_id,
    },
  });
}
