import { parseClientFrame } from '../../../node-app/src/protocol/schemas';

const limits = { maxContentChars: 5000, maxRoomNameChars: 100, maxDescriptionChars: 500, maxUsernameChars: 64 };
const parse = (v: unknown) => parseClientFrame(typeof v === 'string' ? v : JSON.stringify(v), limits);

describe('client request schemas', () => {
  it('answers invalid JSON and unknown types with the protocol error', () => {
    expect(parse('{nope')).toEqual({ ok: false, reply: { type: 'error', data: { success: false, message: 'Invalid JSON format' } } });
    expect(parse({ type: 'fly' })).toMatchObject({ reply: { type: 'error', data: { message: 'Unknown message type: fly' } } });
    expect(parse({})).toMatchObject({ reply: { data: { message: 'Unknown message type: None' } } });
    expect(parse([1, 2])).toMatchObject({ ok: false, reply: { type: 'error' } });
  });

  it('accepts list and discover without data', () => {
    expect(parse({ type: 'list_rooms' })).toEqual({ ok: true, request: { type: 'list_rooms' } });
    expect(parse({ type: 'discover_rooms', data: { ignored: 1 } })).toEqual({ ok: true, request: { type: 'discover_rooms' } });
  });

  it('reports create_room errors with the room_created type', () => {
    expect(parse({ type: 'create_room', data: { room_name: 'x' } })).toEqual({
      ok: false,
      reply: { type: 'room_created', data: { success: false, message: 'Missing room_name or creator_id' } },
    });
    expect(parse({ type: 'create_room', data: { room_name: 'x'.repeat(101), creator_id: 'a' } })).toMatchObject({
      reply: { data: { message: 'Room name too long (max 100 characters)' } },
    });
    expect(parse({ type: 'create_room', data: { room_name: '   ', creator_id: 'a' } })).toMatchObject({ ok: false });
    expect(parse({ type: 'create_room', data: { room_name: 'a\nb', creator_id: 'a' } })).toMatchObject({ ok: false });
  });

  it('accepts the Python client create_room with description null', () => {
    expect(parse({ type: 'create_room', data: { room_name: 'general', creator_id: 'alice', description: null } })).toEqual({
      ok: true,
      request: { type: 'create_room', data: { room_name: 'general', creator_id: 'alice', description: null } },
    });
  });

  it('reports join errors as join_room_error INVALID_REQUEST', () => {
    expect(parse({ type: 'join_room', data: { room_id: 'r' } })).toEqual({
      ok: false,
      reply: { type: 'join_room_error', data: { room_id: 'r', error: 'Missing room_id or username', error_code: 'INVALID_REQUEST' } },
    });
    expect(parse({ type: 'join_room', data: { room_id: 'r', username: 'u'.repeat(65) } })).toMatchObject({ reply: { data: { error_code: 'INVALID_REQUEST' } } });
  });

  it('reports leave errors with the generic error type', () => {
    expect(parse({ type: 'leave_room', data: {} })).toEqual({ ok: false, reply: { type: 'error', data: { success: false, message: 'Missing room_id or username' } } });
  });

  it('checks send_message content in the original order and counts code points', () => {
    const base = { room_id: 'r', username: 'u' };
    expect(parse({ type: 'send_message', data: { content: 'x' } })).toMatchObject({ reply: { type: 'message_error', data: { error_code: 'INVALID_REQUEST' } } });
    expect(parse({ type: 'send_message', data: { ...base, content: '' } })).toMatchObject({ reply: { data: { error: 'Message content cannot be empty', error_code: 'INVALID_CONTENT' } } });
    expect(parse({ type: 'send_message', data: { ...base, content: 123 } })).toMatchObject({ reply: { data: { error_code: 'INVALID_CONTENT' } } });
    expect(parse({ type: 'send_message', data: { ...base, content: 'x'.repeat(5001) } })).toMatchObject({
      reply: { data: { error: 'Message content too long (max 5000 characters)' } },
    });
    // 5000 emoji are 10000 UTF-16 units but 5000 characters, as Python counts them.
    expect(parse({ type: 'send_message', data: { ...base, content: '😀'.repeat(5000) } })).toMatchObject({ ok: true });
    expect(parse({ type: 'send_message', data: { ...base, content: '   ' } })).toMatchObject({ ok: true });
  });

  it('reports delete errors as delete_room_failed', () => {
    expect(parse({ type: 'delete_room', data: { username: 'u' } })).toEqual({
      ok: false,
      reply: { type: 'delete_room_failed', data: { room_id: '', reason: 'Missing room_id or username', error_code: 'INVALID_REQUEST' } },
    });
  });

  it('rejects a non-object data for requests that need fields', () => {
    expect(parse({ type: 'join_room', data: 'x' })).toMatchObject({ ok: false, reply: { type: 'join_room_error' } });
  });
});
