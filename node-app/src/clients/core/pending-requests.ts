/**
 * Request/reply correlation for one connection. The protocol has no request ids, so a reply is
 * matched to the oldest pending request that claims it, by type and room id (`replyTo` says which
 * frames answer which request). Unlike the original client (§7.1, §9.14), matching never consumes a
 * frame: the connection still emits every frame as an event, so a broadcast that arrives while a
 * request is in flight is never lost. Owns the per-request timeouts and the errors requests end with.
 */
import type { ClientRequestType, ServerFrame } from '../../protocol/messages';
import { ChatConnectionClosedError, ChatRequestError, ChatTimeoutError } from './errors';

/** How a pending request takes a frame: its answer, its failure, a step on the way, or not its. */
export type MatchResult = 'resolve' | 'reject' | 'progress' | undefined;
export type ReplyMatcher = (frame: ServerFrame) => MatchResult;

/** A failure reported by the node, whether a request claimed it or not. */
export interface NodeFailure {
  type: string;
  code: string;
  message: string;
  room_id?: string;
}

const GENERIC = 'GENERIC';

/** Which frames answer which request. */
export const replyTo = {
  listRooms: (): ReplyMatcher => (f) => (f.type === 'rooms_list' ? 'resolve' : undefined),

  discoverRooms: (): ReplyMatcher => (f) => {
    if (f.type === 'global_rooms_list') return 'resolve';
    if (f.type === 'error' && /discover/i.test(f.data.message)) return 'reject';
    return undefined;
  },

  createRoom: (): ReplyMatcher => (f) => {
    if (f.type !== 'room_created') return undefined;
    // Replies on one socket come in request order; the node may normalize the name, so no name check.
    return 'success' in f.data && f.data.success === false ? 'reject' : 'resolve';
  },

  joinRoom: (roomId: string): ReplyMatcher => (f) => {
    if (f.type === 'join_room_success' && f.data.room_id === roomId) return 'resolve';
    if (f.type === 'join_room_error' && (f.data.room_id === roomId || f.data.room_id === '')) return 'reject';
    return undefined;
  },

  leaveRoom: (roomId: string): ReplyMatcher => (f) => {
    if (f.type === 'leave_room_success' && f.data.room_id === roomId) return 'resolve';
    if (f.type === 'error' && /room_id or username/.test(f.data.message)) return 'reject';
    return undefined;
  },

  sendMessage: (roomId: string): ReplyMatcher => (f) => {
    if (f.type === 'message_sent' && f.data.room_id === roomId) return 'resolve';
    if (f.type === 'message_error' && (f.data.room_id === roomId || f.data.room_id === '')) return 'reject';
    return undefined;
  },

  deleteRoom: (roomId: string): ReplyMatcher => (f) => {
    if (f.type === 'delete_room_initiated' && f.data.room_id === roomId && f.data.transaction_id) return 'progress';
    if (f.type === 'delete_room_success' && f.data.room_id === roomId) return 'resolve';
    if (f.type === 'delete_room_failed' && f.data.room_id === roomId) return 'reject';
    return undefined;
  },

  getHistory: (roomId: string): ReplyMatcher => (f) => {
    if (f.type === 'history' && f.data.room_id === roomId) return 'resolve';
    if (f.type === 'history_error' && (f.data.room_id === roomId || f.data.room_id === '')) return 'reject';
    if (f.type === 'error' && /get_history/.test(f.data.message)) return 'reject';
    return undefined;
  },
};

/** The failure a frame reports, if it reports one. */
export function failureOf(frame: ServerFrame): NodeFailure | undefined {
  switch (frame.type) {
    case 'error':
      return { type: frame.type, code: GENERIC, message: frame.data.message };
    case 'message_error':
    case 'join_room_error':
      return { type: frame.type, code: frame.data.error_code, message: frame.data.error, room_id: frame.data.room_id };
    case 'delete_room_failed':
      return { type: frame.type, code: frame.data.error_code, message: frame.data.reason, room_id: frame.data.room_id };
    case 'room_created':
      if ('success' in frame.data && frame.data.success === false) {
        return { type: frame.type, code: GENERIC, message: frame.data.message };
      }
      return undefined;
    default:
      return undefined;
  }
}

interface PendingRequest {
  type: ClientRequestType;
  roomId?: string;
  match: ReplyMatcher;
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface PendingRequestsHooks {
  /** A failure no pending request claimed: it still reaches the user instead of a log (§9.14). */
  onUnclaimedFailure: (failure: NodeFailure) => void;
  /**
   * The node answered with an `error` that names this request's type, as an original Python node
   * does for requests it does not know ("Unknown message type: get_history").
   */
  onRefused: (type: ClientRequestType) => void;
}

export class PendingRequests {
  private readonly entries: PendingRequest[] = [];

  constructor(private readonly hooks: PendingRequestsHooks) {}

  /**
   * Registers a request before it is sent; the promise settles with the reply's data, a
   * ChatRequestError, or a ChatTimeoutError after `timeoutMs`. `sent` reports the send's outcome.
   */
  expect<T>(type: ClientRequestType, match: ReplyMatcher, opts: { roomId?: string; timeoutMs: number }): { reply: Promise<T>; sendFailed: (err: Error) => void } {
    let entry!: PendingRequest;
    const reply = new Promise<T>((resolve, reject) => {
      entry = {
        type,
        roomId: opts.roomId,
        match,
        resolve: resolve as (d: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.remove(entry);
          reject(new ChatTimeoutError(type, opts.timeoutMs));
        }, opts.timeoutMs),
      };
      this.entries.push(entry);
    });
    const sendFailed = (err: Error): void => {
      this.remove(entry);
      entry.reject(new ChatConnectionClosedError(type, err.message));
    };
    return { reply, sendFailed };
  }

  /** Hands the frame to the oldest pending request that claims it (without consuming it). */
  settle(frame: ServerFrame): void {
    if (frame.type === 'error') {
      // "Unknown message type: get_history" belongs to that request, not to the oldest one.
      const named = this.entries.find((e) => frame.data.message?.includes(e.type));
      if (named) {
        this.hooks.onRefused(named.type);
        this.remove(named);
        named.reject(this.toError(named, frame));
        return;
      }
    }
    for (const entry of this.entries) {
      let result = entry.match(frame);
      if (result === undefined && frame.type === 'error') result = 'reject';
      if (result === 'progress') return;
      if (result === undefined) continue;
      this.remove(entry);
      if (result === 'resolve') entry.resolve(frame.data);
      else entry.reject(this.toError(entry, frame));
      return;
    }
    const failure = failureOf(frame);
    if (failure) this.hooks.onUnclaimedFailure(failure);
  }

  /** Fails every pending request: the connection is gone. */
  rejectAll(reason: string): void {
    for (const entry of this.entries.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(new ChatConnectionClosedError(entry.type, reason));
    }
  }

  private remove(entry: PendingRequest): void {
    const i = this.entries.indexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
    clearTimeout(entry.timer);
  }

  private toError(entry: PendingRequest, frame: ServerFrame): ChatRequestError {
    const f = failureOf(frame);
    if (f) return new ChatRequestError(entry.type, f.code, f.message, entry.roomId);
    return new ChatRequestError(entry.type, GENERIC, `unexpected ${frame.type} reply`, entry.roomId);
  }
}
