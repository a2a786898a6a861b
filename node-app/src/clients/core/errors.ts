/** Errors a ChatConnection request can end with; each says which request and why. */

export class ChatRequestError extends Error {
  constructor(
    readonly requestType: string,
    /** The protocol's error_code (ROOM_NOT_FOUND, NOT_MEMBER, ...) or GENERIC for an `error` frame. */
    readonly code: string,
    message: string,
    readonly roomId?: string,
  ) {
    super(message);
    this.name = 'ChatRequestError';
  }
}

export class ChatTimeoutError extends Error {
  constructor(readonly requestType: string, readonly timeoutMs: number) {
    super(`${requestType}: no reply within ${timeoutMs} ms`);
    this.name = 'ChatTimeoutError';
  }
}

export class ChatConnectionClosedError extends Error {
  constructor(readonly requestType: string, reason: string) {
    super(`${requestType}: connection closed (${reason})`);
    this.name = 'ChatConnectionClosedError';
  }
}

/**
 * Join refusals that pass on their own, so a rejoin after a reconnect retries them for a while:
 * USERNAME_TAKEN while the admin still binds the name to the node the client lost, NODE_NOT_READY
 * while the node it reached catches up or is not yet counted in the rooms' membership,
 * ADMIN_NODE_UNAVAILABLE while the room's admin changes or its majority is not reachable in time
 * (a node just back is often the cause).
 */
export function isPassingJoinRefusal(code: string | undefined): boolean {
  return code === 'USERNAME_TAKEN' || code === 'NODE_NOT_READY' || code === 'ADMIN_NODE_UNAVAILABLE';
}
