/**
 * Client flow join_room (node-app/PROTOCOL.md §2, §4): a room this node serves (administered here, or any
 * replicated room) is joined through the room's log, with a resume from since_seq; a room
 * administered by another node is joined by XML-RPC join_room at its admin, found through the
 * admin cache or discovery.
 */
import type { JoinRoomRequest } from '../../protocol/messages';
import { LIMITS } from '../../protocol/messages';
import type { XmlRpcValue } from '../../peers/xmlrpc-codec';
import { checkActive, checkNoLookalike, usernameTaken, type Refusal } from '../../rooms/admission';
import type { Room } from '../../rooms/room';
import { pythonIsoNow } from '../../util/time';
import type { ClientSession } from '../client-session';
import type { NodeContext } from '../node-context';
import { isStruct } from '../../peers/rpc-params';
import { errText, roomInfoData, toChatMessage } from '../wire-converters';

/** Joins of one request: a removal committed right behind the join makes it join again. */
const JOIN_ATTEMPTS = 3;

function joinError(session: ClientSession, room_id: string) {
  return (error: string, error_code: string): void => {
    session.sendFrame({ type: 'join_room_error', data: { room_id, error, error_code } });
  };
}

export async function joinRoom(ctx: NodeContext, session: ClientSession, req: JoinRoomRequest): Promise<void> {
  const { room_id, username } = req.data;
  const fail = joinError(session, room_id);
  const bound = session.rooms.get(room_id);
  if (bound && bound.username !== username) {
    return fail(`This connection already joined the room as '${bound.username}'`, 'ALREADY_JOINED');
  }
  if (ctx.registry.holder(room_id, username, session)) {
    const taken = usernameTaken(username);
    return fail(taken.message, taken.code);
  }
  const notServing = ctx.store.notServing();
  if (notServing) return fail(`This node is not serving rooms: ${notServing.detail}; join through another node`, notServing.code);
  const room = await ctx.readyRoom(room_id);
  if (room) return joinServed(ctx, session, room, username, req.data.since_seq);
  await joinRemote(ctx, session, room_id, username);
}

/** A room this node serves: the join is an entry of the room's log. */
async function joinServed(ctx: NodeContext, session: ClientSession, room: Room, username: string, sinceSeq?: number): Promise<void> {
  const { store, selfId, registry, delivery, publisher, cfg, log } = ctx;
  const fail = joinError(session, room.roomId);
  const refuse = (r: Refusal) => fail(r.message, r.code);
  // Whether the room replicates is read once, with the room: a deletion meanwhile changes neither path.
  const replicated = store.replicates(room.roomId);
  const refused = checkActive(room) ?? checkNoLookalike(room, username);
  if (refused) return refuse(refused);
  const member = room.members.get(username);
  // With replication, a member whose node is down may resume here (its connection died with it).
  const takeover = !!member && member.nodeId !== selfId && store.nodeDown(member.nodeId);
  if (member && member.nodeId !== selfId && !takeover) return refuse(usernameTaken(username));
  // Replicated: a membership on this node that this connection does not hold may be stale (the
  // admin may have removed it while this node was cut off): the join goes through the admin.
  const confirmed = !!member && !takeover && (!replicated || session.rooms.get(room.roomId)?.username === username);
  if (confirmed && member) {
    member.lastActivity = Date.now();
  } else {
    try {
      // A removal of this node's members (the admin's failure sweep after this node was away) may
      // commit right behind the join; then the member is gone before it is registered here and
      // would never hear of it: join again (bounded).
      for (let attempt = 1; ; attempt++) {
        const c = await publisher.appendAndPublish(room, { kind: 'member_joined', username, nodeId: selfId, timestamp: pythonIsoNow() });
        // Answer once this node's copy holds the membership, so the next send is not refused here.
        if (replicated) await store.waitApplied(room.roomId, c.index, cfg.peerCallTimeoutMs);
        if (!replicated || room.members.get(username)?.nodeId === selfId || session.closed) break;
        if (attempt === JOIN_ATTEMPTS) return fail('Removed again while joining; try again', 'NODE_NOT_READY');
        log.info('member removed while joining; joining again', { room_id: room.roomId, username });
      }
    } catch (err) {
      // Replicated: the admin refused (USERNAME_TAKEN, room being deleted) or no majority in time.
      const code = (err as { code?: unknown }).code;
      return fail(errText(err), typeof code === 'string' ? code : 'INTERNAL_ERROR');
    }
  }
  if (session.closed) {
    // The client left while its join was being committed: take the membership back out.
    if (!registry.holder(room.roomId, username) && room.members.get(username)?.nodeId === selfId) {
      ctx.track(
        publisher
          .appendAndPublish(room, { kind: 'member_left', username, nodeId: selfId, timestamp: pythonIsoNow(), reason: 'User disconnected' })
          .catch((err) => log.warn('disconnect not recorded', { room_id: room.roomId, err: errText(err) })),
      );
    }
    return;
  }
  // Registered only now, so the joiner does not get its own member_joined (as in the original).
  registry.register(room.roomId, session, username);
  if (sinceSeq === undefined) {
    session.sendFrame({ type: 'join_room_success', data: { ...roomInfoData(room.info()) } });
    for (const m of room.history) delivery.messageTo(session, room.roomId, m);
    return;
  }
  // Resume: exactly the messages after since_seq, from the durable log when there is one.
  // No await between this read and the registration above, so live delivery continues seamlessly.
  const replay = store.history(room.roomId, { afterSeq: sinceSeq, limit: LIMITS.maxResumeReplay });
  const lastSeq = store.lastCommittedSeq(room.roomId);
  const binding = session.rooms.get(room.roomId);
  if (binding && binding.deliveredSeq < sinceSeq) binding.deliveredSeq = sinceSeq;
  session.sendFrame({
    type: 'join_room_success',
    data: { ...roomInfoData(room.info()), last_seq: lastSeq, ...(replay.length ? { replay_from_seq: replay[0].sequence_number } : {}) },
  });
  for (const m of replay) delivery.messageTo(session, room.roomId, m);
}

/** A room administered by another node: join_room at its admin, retried once after a stale cache entry. */
async function joinRemote(ctx: NodeContext, session: ClientSession, roomId: string, username: string): Promise<void> {
  const { remote, peers, cfg, selfId, registry, delivery, log } = ctx;
  const fail = joinError(session, roomId);
  remote.beginJoin(roomId);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const admin = await remote.resolveAdmin(roomId, attempt > 0);
      if (!admin) return fail('Room not found', 'ROOM_NOT_FOUND');
      remote.ensureView(roomId, admin.nodeId);
      let result: XmlRpcValue;
      try {
        result = await peers.call(admin.nodeId, 'join_room', [roomId, username, selfId], cfg.peerCallTimeoutMs);
      } catch (err) {
        remote.forgetAdmin(roomId);
        if (admin.cached && attempt === 0) continue;
        return fail(`Failed to contact administrator node: ${errText(err)}`, 'ADMIN_NODE_UNAVAILABLE');
      }
      const read = remote.readReply(roomId, admin, attempt, result, 'message', 'Join failed');
      if (read.kind === 'retry') continue;
      if (read.kind === 'refused') return fail(read.error, read.code);
      const reply = read.reply;
      const info = reply.room_info;
      if (!isStruct(info)) return fail('Administrator node sent an invalid reply', 'ADMIN_NODE_UNAVAILABLE');
      if (session.closed && !registry.holder(roomId, username)) {
        // The client left while its join was on the way: take the new membership back out.
        ctx.track(
          peers
            .call(admin.nodeId, 'notify_member_disconnect', [roomId, username, selfId, 'User disconnected'], cfg.peerCallTimeoutMs)
            .catch((err) => log.warn('disconnect notification failed', { room_id: roomId, peer: admin.nodeId, err: errText(err) })),
        );
        return;
      }
      const view = remote.ensureView(roomId, admin.nodeId);
      registry.register(roomId, session, username);
      session.sendFrame({ type: 'join_room_success', data: roomInfoData(info) });
      const history = Array.isArray(reply.messages) ? reply.messages : [];
      for (const m of history) {
        const msg = toChatMessage(m, roomId);
        if (!msg) continue;
        delivery.messageTo(session, roomId, msg);
        if (msg.sequence_number > view.lastSeq) view.lastSeq = msg.sequence_number;
      }
      // Broadcasts that reached us before the reply: replay what this connection has not seen.
      for (const msg of view.recent) delivery.messageTo(session, roomId, msg);
      return;
    }
  } finally {
    remote.endJoin(roomId);
  }
}
