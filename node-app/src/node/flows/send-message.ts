/**
 * Client flow send_message (node-app/PROTOCOL.md §2, §4). Sends are pipelined: the connection's next request
 * starts as soon as this send is *submitted* (appended to the log, or posted on the ordered stream
 * to the admin), not when it is acknowledged. Order is kept because submission is in request order
 * and acknowledgements resolve in log order; one connection's throughput is then no longer one
 * round trip (or one majority commit) per message.
 */
import type { ChatMessage, SendMessageRequest } from '../../protocol/messages';
import type { XmlRpcValue } from '../../peers/xmlrpc-codec';
import { checkActive, noLongerMember, notMember, type Refusal } from '../../rooms/admission';
import type { CommittedEntry } from '../../rooms/room';
import type { ClientSession } from '../client-session';
import type { NodeContext } from '../node-context';
import { errText } from '../wire-converters';

/** Sends of one connection submitted but not yet acknowledged; more wait (backpressure). */
const MAX_INFLIGHT_SENDS = 64;

export async function pipelineSend(ctx: NodeContext, session: ClientSession, req: SendMessageRequest): Promise<void> {
  while (session.inflightSends.size >= MAX_INFLIGHT_SENDS) await Promise.race(session.inflightSends);
  let submitted!: () => void;
  const isSubmitted = new Promise<void>((resolve) => (submitted = resolve));
  const done = sendMessage(ctx, session, req, submitted)
    .catch((err) => {
      ctx.log.error('send failed', { session: session.id, err });
      session.sendFrame({ type: 'message_error', data: { room_id: req.data.room_id, error: 'Internal server error', error_code: 'INTERNAL_ERROR' } });
    })
    .finally(submitted);
  session.trackSend(done);
  await isSubmitted;
}

async function sendMessage(ctx: NodeContext, session: ClientSession, req: SendMessageRequest, submitted: () => void): Promise<void> {
  const { room_id, username, content } = req.data;
  const fail = (error: string, error_code: string): void => {
    session.sendFrame({ type: 'message_error', data: { room_id, error, error_code } });
  };
  const refuse = (r: Refusal) => fail(r.message, r.code);
  const bound = session.rooms.get(room_id);
  if (!bound) return refuse(notMember);
  if (bound.username !== username) {
    return fail(`This connection joined the room as '${bound.username}' and cannot send as '${username}'`, 'UNAUTHORIZED');
  }
  const room = await ctx.readyRoom(room_id);
  if (!room) return sendToRemoteAdmin(ctx, session, req, submitted, fail);
  const { store, selfId, publisher, rejoins } = ctx;
  // Whether the room replicates is read once, with the room: a deletion meanwhile changes neither path.
  const replicated = store.replicates(room_id);
  const inactive = checkActive(room);
  if (inactive) return refuse(inactive);
  const rejoin = rejoins.pending(room_id, username);
  if (rejoin) await rejoin;
  const m = room.members.get(username);
  // Replicated: a copy that lags behind the admin may not show a join yet; the admin checks.
  if (m ? m.nodeId !== selfId : !replicated) return refuse(noLongerMember);
  let c: CommittedEntry | undefined;
  for (let attempt = 0; !c; attempt++) {
    try {
      const appended = publisher.appendAndPublish(room, { kind: 'message', draft: { username, content } });
      if (attempt === 0) submitted();
      c = await appended;
    } catch (err) {
      // Replicated: no admin could commit it in time (no majority), or the admin refused it.
      const code = (err as { code?: unknown }).code;
      // The admin removed this live member as unreachable and our copy has not heard yet: the
      // refused message was not logged; join again and send it once more.
      if (code === 'NOT_MEMBER' && attempt === 0 && replicated && !session.closed && room.members.get(username)?.nodeId === selfId) {
        if (await rejoins.rejoin(room, username)) continue;
      }
      return fail(errText(err), typeof code === 'string' ? code : 'INTERNAL_ERROR');
    }
  }
  const msg = (c.entry as { message: ChatMessage }).message;
  session.sendFrame({ type: 'message_sent', data: { room_id, message_id: msg.message_id, sequence_number: msg.sequence_number, timestamp: msg.timestamp } });
}

/**
 * A room administered by another node: forwarded to its admin (over our ordered stream, or one
 * call at a time to a Python admin), retried once only when the cached admin no longer has the room.
 */
async function sendToRemoteAdmin(
  ctx: NodeContext,
  session: ClientSession,
  req: SendMessageRequest,
  submitted: () => void,
  fail: (error: string, error_code: string) => void,
): Promise<void> {
  const { room_id, username, content } = req.data;
  const { remote, peers, cfg, selfId, forwarding } = ctx;
  for (let attempt = 0; attempt < 2; attempt++) {
    const admin = await remote.resolveAdmin(room_id, attempt > 0);
    if (!admin) return fail('Room not found', 'ROOM_NOT_FOUND');
    let result: XmlRpcValue;
    try {
      if (peers.isLegacy(admin.nodeId)) {
        // Separate HTTP calls could overtake each other: toward a Python admin, one send at a time.
        result = await peers.call(admin.nodeId, 'forward_message', [room_id, username, content, selfId], cfg.peerCallTimeoutMs);
      } else {
        const forwarded = forwarding.viaStream(admin.nodeId, room_id, username, content);
        submitted();
        result = await forwarded;
      }
    } catch (err) {
      // Not retried: the admin may have sequenced it, and a retry would duplicate it (§9.3).
      remote.forgetAdmin(room_id);
      return fail(`Failed to contact administrator node: ${errText(err)}`, 'ADMIN_NODE_UNAVAILABLE');
    }
    const read = remote.readReply(room_id, admin, attempt, result, 'error', 'Send failed');
    if (read.kind === 'retry') continue;
    if (read.kind === 'refused') return fail(read.error, read.code);
    const reply = read.reply;
    const seq = typeof reply.sequence_number === 'number' ? reply.sequence_number : 0;
    // The sender sees its own new_message before message_sent: wait for our copy of the broadcast.
    await remote.waitForSeq(room_id, seq);
    session.sendFrame({
      type: 'message_sent',
      data: { room_id, message_id: String(reply.message_id ?? ''), sequence_number: seq, timestamp: String(reply.timestamp ?? '') },
    });
    return;
  }
}
