/**
 * Forwarded sends (node-app/PROTOCOL.md §3 forward_message and our stream extension swarmchat_forward).
 * Sender side: a send for a room administered by another of our nodes goes as a stream item and
 * waits for the result item matched by request id. Admin side: a forwarded send is admitted with
 * the original's checks, in its order, then sequenced.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '../protocol/messages';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import { checkActive, checkMember, notMember, roomNotFound, type Refusal } from '../rooms/admission';
import type { NodeContext } from './node-context';
import type { Struct } from '../peers/rpc-params';
import { errText } from './wire-converters';

export class Forwarding {
  /** Sends forwarded over the stream, waiting for their result: request id -> resolver. */
  private readonly pending = new Map<string, (result: Struct) => void>();

  constructor(private readonly ctx: NodeContext) {}

  /** Sends forward_message as a stream item to one of our nodes and waits for its result item. */
  viaStream(admin: string, roomId: string, username: string, content: string): Promise<XmlRpcValue> {
    const { cfg, peers, selfId } = this.ctx;
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no answer from ${admin} within ${cfg.peerCallTimeoutMs} ms`));
      }, cfg.peerCallTimeoutMs);
      this.pending.set(requestId, (result) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        resolve(result);
      });
      if (!peers.post(admin, 'swarmchat_forward', [requestId, roomId, username, content, selfId])) {
        clearTimeout(timer);
        this.pending.delete(requestId);
        reject(new Error(`no address known for node ${admin}`));
      }
    });
  }

  /** The result item of a send forwarded by viaStream arrived. */
  settle(requestId: string, result: Struct): void {
    this.pending.get(requestId)?.(result);
  }

  /**
   * The admin's side of a forwarded send: the original's checks in its order, then sequencing.
   * A signed caller may only send for members on its own node (§9.8).
   */
  async admit(roomId: string, username: string, content: XmlRpcValue | undefined, nodeId: string, caller: string | undefined): Promise<Struct> {
    const { cfg, log, publisher } = this.ctx;
    const fail = (error: string, error_code: string) => ({ success: false, error, error_code });
    const refuse = (r: Refusal) => fail(r.message, r.code);
    if (content === null || content === '' || content === undefined) return fail('Message content cannot be empty', 'INVALID_CONTENT');
    if (typeof content !== 'string') return fail('Message content must be a string', 'INVALID_CONTENT');
    if ([...content].length > cfg.maxContentChars) return fail(`Message content too long (max ${cfg.maxContentChars} characters)`, 'INVALID_CONTENT');
    const room = this.ctx.localRoom(roomId);
    if (!room) return refuse(roomNotFound);
    const member = checkMember(room, username, nodeId) ?? (caller !== undefined && caller !== nodeId ? notMember : undefined);
    if (member) return refuse(member);
    const inactive = checkActive(room);
    if (inactive) return refuse(inactive);
    try {
      const c = await publisher.appendAndPublish(room, { kind: 'message', draft: { username, content } });
      const msg = (c.entry as { message: ChatMessage }).message;
      return { success: true, message_id: msg.message_id, sequence_number: msg.sequence_number, timestamp: msg.timestamp };
    } catch (err) {
      log.warn('message not committed', { room_id: roomId, err: errText(err) });
      return fail('Failed to add message', 'INTERNAL_ERROR');
    }
  }
}
