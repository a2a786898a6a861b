/** Text helpers shared by the terminal UI and the line-oriented CLI commands. */
import stringWidth from 'string-width';
import type { RoomSummary } from '../../protocol/messages';

/**
 * Message text is untrusted: an ESC or other control character in it could move the cursor,
 * recolor or retitle the reader's terminal. Show such characters as visible escapes instead.
 */
export function terminalSafe(text: string): string {
  // Newlines too: one message is one line, in the UI and in `follow` output that scripts read.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    const code = c.codePointAt(0) ?? 0;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** `HH:MM:SS` of an ISO timestamp, in the viewer's local time (the original showed the UTC digits). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '--:--:--';
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class RoomLookupError extends Error {
  override name = 'RoomLookupError';
}

/**
 * Finds a room by id, by exact name, or by `name@node` when several nodes host a room of that
 * name (names are unique per node only).
 */
export function findRoom(rooms: readonly RoomSummary[], ref: string): RoomSummary {
  const byId = rooms.find((r) => r.room_id === ref);
  if (byId) return byId;
  const at = ref.lastIndexOf('@');
  const [name, node] = at > 0 ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, undefined];
  let matches = rooms.filter((r) => r.room_name === name && (node === undefined || r.admin_node === node));
  if (matches.length === 0 && node !== undefined) matches = rooms.filter((r) => r.room_name === ref);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    const hint = UUID.test(ref) ? 'no room has this id' : `no room is named "${name}"`;
    throw new RoomLookupError(`room "${ref}" not found (${hint}; ${rooms.length} rooms known)`);
  }
  const where = matches.map((r) => `${r.room_name}@${r.admin_node} (${r.room_id})`).join(', ');
  throw new RoomLookupError(`room name "${ref}" is ambiguous: ${where}; use name@node or the id`);
}

/** Terminal columns a string takes (wide CJK and emoji count 2). */
export function columns(text: string): number {
  return stringWidth(text);
}

/** Pads or cuts `text` to exactly `width` columns (cut text ends in "…"), for table cells. */
export function fitColumns(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text + ' '.repeat(width - stringWidth(text));
  let out = '';
  for (const ch of text) {
    if (stringWidth(out + ch) > width - 1) break;
    out += ch;
  }
  return out + '…' + ' '.repeat(Math.max(0, width - 1 - stringWidth(out)));
}
