/**
 * Client flow leave_room, and the leaves of a closed connection (node-app/PROTOCOL.md §2.9: a closed
 * connection leaves every room it joined). A membership stays while another connection here holds
 * the name; a served room records the leave in its log, a remote room's admin is told.
 */
import type { LeaveRoomRequest } from '../../protocol/messages';
import { pythonIsoNow } from '../../util/time';
import type { ClientSession } from '../client-session';
import type { NodeContext } from '../node-context';
import { errText } from '../wire-converters';

export async function leaveRoom(ctx: NodeContext, session: ClientSession, req: LeaveRoomRequest): Promise<void> {
  const { room_id, username } = req.data;
  const { registry, selfId, publisher, remote, peers, cfg, log } = ctx;
  const bound = session.rooms.get(room_id);
  if (bound && bound.username !== username) {
    session.sendFrame({ type: 'error', data: { success: false, message: `This connection joined the room as '${bound.username}', not '${username}'` } });
    return;
  }
  if (bound) {
    registry.unregister(room_id, session);
    if (!registry.holder(room_id, username)) {
      const room = ctx.clientRoom(room_id);
      if (room) {
        const m = room.members.get(username);
        if (m && m.nodeId === selfId) {
          await publisher
            .appendAndPublish(room, { kind: 'member_left', username, nodeId: selfId, timestamp: pythonIsoNow() })
            .catch((err) => log.warn('leave not recorded', { room_id, err: errText(err) }));
        }
      } else {
        remote.releaseView(room_id);
        const admin = remote.knownAdmin(room_id);
        if (admin) {
          await peers
            .call(admin, 'leave_room', [room_id, username, selfId], cfg.peerCallTimeoutMs)
            .catch((err) => log.warn('remote leave failed', { room_id, peer: admin, err: errText(err) }));
        }
      }
    }
  }
  // Always success, as in the original: leaving a room one is not in leaves one not in it.
  session.sendFrame({ type: 'leave_room_success', data: { room_id, username } });
}

/** The connection closed: it leaves every room it joined, in the background (shutdown drains it). */
export function leaveAllOnClose(ctx: NodeContext, session: ClientSession): void {
  const { registry, selfId, publisher, remote, peers, cfg, log } = ctx;
  for (const [roomId, binding] of [...session.rooms]) {
    registry.unregister(roomId, session);
    // Another connection on this node still holds the name: the membership stays theirs.
    if (registry.holder(roomId, binding.username)) continue;
    const room = ctx.clientRoom(roomId);
    if (room) {
      const m = room.members.get(binding.username);
      if (m && m.nodeId === selfId) {
        ctx.track(
          publisher
            .appendAndPublish(room, { kind: 'member_left', username: binding.username, nodeId: selfId, timestamp: pythonIsoNow(), reason: 'User disconnected' })
            .catch((err) => log.warn('disconnect not recorded', { room_id: roomId, err })),
        );
      }
    } else {
      remote.releaseView(roomId);
      const admin = remote.knownAdmin(roomId);
      if (admin) {
        ctx.track(
          peers
            .call(admin, 'notify_member_disconnect', [roomId, binding.username, selfId, 'User disconnected'], cfg.peerCallTimeoutMs)
            .catch((err) => log.warn('disconnect notification failed', { room_id: roomId, peer: admin, err: errText(err) })),
        );
      }
    }
  }
}
