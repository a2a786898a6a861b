/**
 * One schema per client request type (node-app/PROTOCOL.md §2). A frame is checked here, at the edge, before
 * any room logic sees it; a bad frame gets the protocol's error reply for its type and nothing else
 * happens. Limits the original lacked (§9.12) are enforced here too.
 */
import { LIMITS, type ClientRequest, type ServerFrame } from './messages';
import { asksForExtensions } from './reply-shape';
import { normaliseName } from './usernames';

export interface RequestLimits {
  maxContentChars: number;
  maxRoomNameChars: number;
  maxDescriptionChars: number;
  maxUsernameChars: number;
}

/** Room ids are UUIDs from us, but a Python node's ids are too; cap them to keep maps sane. */
const MAX_ROOM_ID_CHARS = 128;

export type ParseResult = { ok: true; request: ClientRequest } | { ok: false; reply: ServerFrame };

const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

// C0/C1 controls and line breaks make names unreadable in every client; content may keep newlines.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a name-like field; returns an error text or undefined. */
function checkName(label: string, value: string, max: number): string | undefined {
  if (codePoints(value) > max) return `${label} too long (max ${max} characters)`;
  if (CONTROL.test(value)) return `${label} must not contain control characters`;
  if (value.trim() === '') return `${label} must not be blank`;
  return undefined;
}

const INVALID_JSON: ParseResult = { ok: false, reply: { type: 'error', data: { success: false, message: 'Invalid JSON format' } } };
const NOT_AN_OBJECT: ParseResult = { ok: false, reply: { type: 'error', data: { success: false, message: 'Message must be a JSON object' } } };

/**
 * JSON.parse, with no stack trace captured when it throws: a client can send thousands of invalid
 * frames, and a thrown error's stack (async frames included) was most of their cost.
 */
function parseJson(raw: string): { value: unknown } | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Parses one WebSocket frame (text or UTF-8 bytes) into a typed request or a protocol error reply. */
export function parseClientFrame(raw: string, limits: RequestLimits): ParseResult {
  return readClientFrame(raw, limits).parsed;
}

/** parseClientFrame, plus whether the frame asked for our extensions (see reply-shape.ts). */
export function readClientFrame(raw: string, limits: RequestLimits): { parsed: ParseResult; extended: boolean } {
  const json = parseJson(raw);
  if (!json) return { parsed: INVALID_JSON, extended: false };
  const value = json.value;
  if (!isPlainObject(value)) return { parsed: NOT_AN_OBJECT, extended: false };
  return { parsed: parseRequest(value, limits), extended: asksForExtensions(value) };
}

/** Python renders a missing type as None; anything not a string is named by its JSON kind, never converted. */
function shownType(type: unknown): string {
  if (type === undefined || type === null) return 'None';
  if (typeof type === 'string') return type.slice(0, 64);
  if (typeof type === 'number' || typeof type === 'boolean') return String(type);
  return Array.isArray(type) ? '<list>' : '<dict>';
}

function parseRequest(value: Record<string, unknown>, limits: RequestLimits): ParseResult {
  const type = value.type;
  const rawData = value.data;
  const data: Record<string, unknown> = isPlainObject(rawData) ? rawData : {};
  const dataIsBad = rawData !== undefined && rawData !== null && !isPlainObject(rawData);
  const s = (k: string): string | undefined => (typeof data[k] === 'string' ? (data[k] as string) : undefined);
  const badType = (k: string) => data[k] !== undefined && data[k] !== null && typeof data[k] !== 'string';
  /** The room_id and username every room request carries, checked; or the text of the request's own refusal. */
  const roomAndUser = (): { ok: true; roomId: string; username: string } | { ok: false; error: string } => {
    const roomId = s('room_id');
    const rawName = s('username');
    if (dataIsBad || !roomId || !rawName) return { ok: false, error: 'Missing room_id or username' };
    const name = normaliseName('Username', rawName, limits.maxUsernameChars);
    const err = checkRoomId(roomId) ?? (name.ok ? undefined : name.error);
    if (err || !name.ok) return { ok: false, error: err ?? 'Missing room_id or username' };
    return { ok: true, roomId, username: name.name };
  };

  switch (type) {
    case 'list_rooms':
    case 'discover_rooms':
      return { ok: true, request: { type } };

    case 'create_room': {
      const fail = (message: string): ParseResult => ({
        ok: false,
        reply: { type: 'room_created', data: { success: false, message } },
      });
      if (dataIsBad) return fail('"data" must be an object');
      const roomName = s('room_name');
      const creatorId = s('creator_id');
      if (!roomName || !creatorId || badType('room_name') || badType('creator_id')) {
        return fail('Missing room_name or creator_id');
      }
      const d = data.description;
      if (d !== undefined && d !== null && typeof d !== 'string') return fail('description must be a string or null');
      const creator = normaliseName('creator_id', creatorId, limits.maxUsernameChars);
      const err =
        checkName('Room name', roomName, limits.maxRoomNameChars) ??
        (creator.ok ? undefined : creator.error) ??
        (typeof d === 'string' && codePoints(d) > limits.maxDescriptionChars
          ? `Description too long (max ${limits.maxDescriptionChars} characters)`
          : undefined);
      if (err || !creator.ok) return fail(err ?? 'Missing room_name or creator_id');
      return {
        ok: true,
        request: {
          type,
          data: { room_name: roomName.trim(), creator_id: creator.name, description: typeof d === 'string' && d !== '' ? d : null },
        },
      };
    }

    case 'join_room': {
      const roomId = s('room_id') ?? '';
      const fail = (error: string): ParseResult => roomRefusal('join_room_error', roomId, error);
      const who = roomAndUser();
      if (!who.ok) return fail(who.error);
      const username = who.username;
      // Resume extension (issue 6): replay from after this sequence number instead of the last 100.
      const since = data.since_seq;
      if (since !== undefined && since !== null) {
        if (!isSeq(since)) return fail('since_seq must be a non-negative integer');
        return { ok: true, request: { type, data: { room_id: roomId, username, since_seq: since } } };
      }
      return { ok: true, request: { type, data: { room_id: roomId, username } } };
    }

    case 'get_history': {
      const roomId = s('room_id') ?? '';
      const fail = (error: string): ParseResult => roomRefusal('history_error', roomId, error);
      if (dataIsBad || !roomId) return fail('Missing room_id');
      const err = checkRoomId(roomId);
      if (err) return fail(err);
      const out: { room_id: string; before_seq?: number; after_seq?: number; limit?: number } = { room_id: roomId };
      for (const k of ['before_seq', 'after_seq', 'limit'] as const) {
        const v = data[k];
        if (v === undefined || v === null) continue;
        if (!isSeq(v)) return fail(`${k} must be a non-negative integer`);
        out[k] = v;
      }
      if (out.limit !== undefined && (out.limit < 1 || out.limit > LIMITS.maxHistoryPage)) {
        return fail(`limit must be between 1 and ${LIMITS.maxHistoryPage}`);
      }
      return { ok: true, request: { type, data: out } };
    }

    case 'leave_room': {
      const who = roomAndUser();
      if (!who.ok) return { ok: false, reply: { type: 'error', data: { success: false, message: who.error } } };
      return { ok: true, request: { type, data: { room_id: who.roomId, username: who.username } } };
    }

    case 'send_message': {
      const roomId = s('room_id') ?? '';
      const fail = (error: string, code: string): ParseResult => roomRefusal('message_error', roomId, error, code);
      const who = roomAndUser();
      if (!who.ok) return fail(who.error, 'INVALID_REQUEST');
      const username = who.username;
      const content = data.content;
      if (content === undefined || content === null || content === '') {
        return fail('Message content cannot be empty', 'INVALID_CONTENT');
      }
      if (typeof content !== 'string') return fail('Message content must be a string', 'INVALID_CONTENT');
      if (codePoints(content) > limits.maxContentChars) {
        return fail(`Message content too long (max ${limits.maxContentChars} characters)`, 'INVALID_CONTENT');
      }
      return { ok: true, request: { type, data: { room_id: roomId, username, content } } };
    }

    case 'delete_room': {
      const roomId = s('room_id') ?? '';
      const fail = (reason: string): ParseResult => ({
        ok: false,
        reply: { type: 'delete_room_failed', data: { room_id: roomId.slice(0, MAX_ROOM_ID_CHARS), reason, error_code: 'INVALID_REQUEST' } },
      });
      const who = roomAndUser();
      if (!who.ok) return fail(who.error);
      return { ok: true, request: { type, data: { room_id: roomId, username: who.username } } };
    }

    default: {
      return { ok: false, reply: { type: 'error', data: { success: false, message: `Unknown message type: ${shownType(type)}` } } };
    }
  }
}

/** A room request's refusal in the request's own error reply: the room_id it named (cut to the limit), the text and a code. */
function roomRefusal(type: 'join_room_error' | 'history_error' | 'message_error', roomId: string, error: string, code = 'INVALID_REQUEST'): ParseResult {
  return { ok: false, reply: { type, data: { room_id: roomId.slice(0, MAX_ROOM_ID_CHARS), error, error_code: code } } };
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkRoomId(roomId: string): string | undefined {
  if (roomId.length > MAX_ROOM_ID_CHARS) return `room_id too long (max ${MAX_ROOM_ID_CHARS} characters)`;
  if (CONTROL.test(roomId)) return 'room_id must not contain control characters';
  return undefined;
}
