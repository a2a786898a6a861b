/**
 * The logger shape the peer modules accept (structurally the same as node-app/src/log.ts's Logger),
 * declared here so the peer link has no compile-time dependency on the node's logging module.
 */
export interface PeerLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): PeerLogger;
}

export const nullLogger: PeerLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
};
