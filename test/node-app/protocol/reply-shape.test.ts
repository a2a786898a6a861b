import { asksForExtensions, originalShape } from '../../../node-app/src/protocol/reply-shape';

it('gives room_created exactly the fields the original client constructs it with', () => {
  const ours = {
    type: 'room_created',
    data: { room_id: 'r', room_name: 'n', admin_node: 'node1', members: [], created_at: 't', description: null, creator_id: 'alice' },
  };
  expect(originalShape(ours)).toEqual({ type: 'room_created', data: { room_id: 'r', room_name: 'n', admin_node: 'node1', members: [], created_at: 't' } });
  const failed = { type: 'room_created', data: { success: false, message: 'Room with name \'n\' already exists' } };
  expect(originalShape(failed)).toBe(failed);
});

it('keeps the original join_room_success fields and drops ours', () => {
  const f = {
    type: 'join_room_success',
    data: { room_id: 'r', room_name: 'n', description: null, members: ['a'], member_count: 1, admin_node: 'node1', creator_id: 'a', last_seq: 4 },
  };
  expect(originalShape(f).data).toEqual({ room_id: 'r', room_name: 'n', description: null, members: ['a'], member_count: 1, admin_node: 'node1' });
});

it('passes frames that have nothing extra, and types it does not know, unchanged', () => {
  const err = { type: 'message_error', data: { room_id: 'r', error: 'e', error_code: 'NOT_MEMBER' } };
  expect(originalShape(err)).toBe(err);
  const history = { type: 'history', data: { room_id: 'r', messages: [], has_more: false, last_seq: 0 } };
  expect(originalShape(history)).toBe(history);
});

it('knows a request that asks for our extensions', () => {
  expect(asksForExtensions({ type: 'list_rooms' })).toBe(false);
  expect(asksForExtensions({ type: 'create_room', data: { room_name: 'x', creator_id: 'a', description: null } })).toBe(false);
  expect(asksForExtensions({ type: 'list_rooms', extended: true })).toBe(true);
  expect(asksForExtensions({ type: 'create_room', data: { room_name: 'x', creator_id: 'a', extended: true } })).toBe(true);
  expect(asksForExtensions({ type: 'join_room', data: { room_id: 'r', username: 'a', since_seq: 0 } })).toBe(true);
  expect(asksForExtensions({ type: 'get_history', data: { room_id: 'r' } })).toBe(true);
});
