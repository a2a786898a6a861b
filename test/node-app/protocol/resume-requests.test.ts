import { parseClientFrame } from '../../../node-app/src/protocol/schemas';

const limits = { maxContentChars: 5000, maxRoomNameChars: 100, maxDescriptionChars: 500, maxUsernameChars: 64 };
const parse = (v: unknown) => parseClientFrame(JSON.stringify(v), limits);

describe('resume and history requests at the edge', () => {
  test('join_room keeps a valid since_seq and ignores a null one', () => {
    expect(parse({ type: 'join_room', data: { room_id: 'r', username: 'u', since_seq: 41 } })).toEqual({
      ok: true, request: { type: 'join_room', data: { room_id: 'r', username: 'u', since_seq: 41 } },
    });
    expect(parse({ type: 'join_room', data: { room_id: 'r', username: 'u', since_seq: null } })).toEqual({
      ok: true, request: { type: 'join_room', data: { room_id: 'r', username: 'u' } },
    });
  });

  test.each([-1, 1.5, '3', 2 ** 60])('join_room with since_seq %p is refused with INVALID_REQUEST', (since) => {
    expect(parse({ type: 'join_room', data: { room_id: 'r', username: 'u', since_seq: since } })).toEqual({
      ok: false, reply: { type: 'join_room_error', data: { room_id: 'r', error: 'since_seq must be a non-negative integer', error_code: 'INVALID_REQUEST' } },
    });
  });

  test('get_history accepts paging fields and refuses bad ones with history_error', () => {
    expect(parse({ type: 'get_history', data: { room_id: 'r', before_seq: 10, limit: 50 } })).toEqual({
      ok: true, request: { type: 'get_history', data: { room_id: 'r', before_seq: 10, limit: 50 } },
    });
    expect(parse({ type: 'get_history', data: {} })).toMatchObject({ ok: false, reply: { type: 'history_error', data: { error: 'Missing room_id', error_code: 'INVALID_REQUEST' } } });
    expect(parse({ type: 'get_history', data: { room_id: 'r', limit: 501 } })).toMatchObject({ ok: false, reply: { data: { error: 'limit must be between 1 and 500' } } });
    expect(parse({ type: 'get_history', data: { room_id: 'r', limit: 0 } })).toMatchObject({ ok: false, reply: { data: { error: 'limit must be between 1 and 500' } } });
    expect(parse({ type: 'get_history', data: { room_id: 'r', after_seq: 'x' } })).toMatchObject({ ok: false, reply: { data: { error: 'after_seq must be a non-negative integer' } } });
  });
});
