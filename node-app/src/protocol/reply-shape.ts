/**
 * The original's reply shapes. The original client builds some replies with a dataclass
 * constructor (`RoomCreatedResponse(**data)`), so one field it does not know crashes it
 * (`TypeError: ... unexpected keyword argument 'description'`). A connection gets exactly the
 * original's fields unless it asked for more: a request with `"extended": true` (at the top level
 * or in `data`), or one that uses an extension (`since_seq`, `get_history`), marks the connection
 * as one of ours, and from then on its replies carry our additions too.
 */

/** Fields the original sends, per reply type (node-app/PROTOCOL.md §2); types not listed pass unchanged. */
const ORIGINAL_FIELDS: Record<string, readonly string[]> = {
  room_created: ['room_id', 'room_name', 'admin_node', 'members', 'created_at'],
  join_room_success: ['room_id', 'room_name', 'description', 'members', 'member_count', 'admin_node'],
  join_room_error: ['room_id', 'error', 'error_code'],
  message_error: ['room_id', 'error', 'error_code'],
  message_sent: ['room_id', 'message_id', 'sequence_number', 'timestamp'],
  leave_room_success: ['room_id', 'username'],
  error: ['success', 'message'],
  delete_room_failed: ['room_id', 'reason', 'error_code', 'transaction_id'],
};

/** Failure replies to create_room reuse the type `room_created` with this shape (§2.3). */
const CREATE_FAILED_FIELDS = ['success', 'message'] as const;

/** True when a parsed frame asks for our extensions (see the module comment). */
export function asksForExtensions(frame: Record<string, unknown>): boolean {
  if (frame.extended === true) return true;
  const data = frame.data;
  if (typeof data !== 'object' || data === null) return frame.type === 'get_history';
  const d = data as Record<string, unknown>;
  return d.extended === true || d.since_seq !== undefined || frame.type === 'get_history';
}

/**
 * The frame as the original would have sent it: our extra fields removed. Returns the same object
 * when nothing is removed (the common case costs no copy).
 */
export function originalShape<F extends { type: string; data?: unknown }>(frame: F): F {
  const keep = ORIGINAL_FIELDS[frame.type];
  const data = frame.data as Record<string, unknown> | undefined;
  if (!keep || !data) return frame;
  const allowed = frame.type === 'room_created' && data.success === false ? CREATE_FAILED_FIELDS : keep;
  let extra = false;
  for (const k in data) {
    if (!allowed.includes(k)) {
      extra = true;
      break;
    }
  }
  if (!extra) return frame;
  const trimmed: Record<string, unknown> = {};
  for (const k of allowed) if (k in data) trimmed[k] = data[k];
  return { ...frame, data: trimmed };
}
