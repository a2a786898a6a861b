import { ChatConnectionClosedError, ChatRequestError, ChatTimeoutError } from '../../../../node-app/src/clients/core/errors';
import { PendingRequests, replyTo, type NodeFailure } from '../../../../node-app/src/clients/core/pending-requests';
import type { ClientRequestType, ServerFrame } from '../../../../node-app/src/protocol/messages';

function setup() {
  const unclaimed: NodeFailure[] = [];
  const refused: ClientRequestType[] = [];
  const pending = new PendingRequests({ onUnclaimedFailure: (f) => unclaimed.push(f), onRefused: (t) => refused.push(t) });
  return { pending, unclaimed, refused };
}

const sent = (room: string, seq: number): ServerFrame => ({
  type: 'message_sent',
  data: { room_id: room, message_id: `m${seq}`, sequence_number: seq, timestamp: 't' },
});

afterEach(() => jest.useRealTimers());

it('gives each reply to the request for its room, oldest first among equals', async () => {
  const { pending } = setup();
  const a1 = pending.expect('send_message', replyTo.sendMessage('a'), { roomId: 'a', timeoutMs: 1000 }).reply;
  const b = pending.expect('send_message', replyTo.sendMessage('b'), { roomId: 'b', timeoutMs: 1000 }).reply;
  const a2 = pending.expect('send_message', replyTo.sendMessage('a'), { roomId: 'a', timeoutMs: 1000 }).reply;
  pending.settle(sent('b', 1));
  pending.settle(sent('a', 1));
  pending.settle(sent('a', 2));
  expect(await Promise.all([a1, b, a2])).toMatchObject([{ sequence_number: 1 }, { room_id: 'b' }, { sequence_number: 2 }]);
});

it('rejects with the protocol error code of a failed reply', async () => {
  const { pending } = setup();
  const r = pending.expect('join_room', replyTo.joinRoom('r1'), { roomId: 'r1', timeoutMs: 1000 }).reply;
  pending.settle({ type: 'join_room_error', data: { room_id: 'r1', error: 'Room not found', error_code: 'ROOM_NOT_FOUND' } });
  await expect(r).rejects.toMatchObject({ name: 'ChatRequestError', code: 'ROOM_NOT_FOUND', roomId: 'r1', requestType: 'join_room' });
});

it('hands an error naming a request type to that request, and says the node refused it', async () => {
  const { pending, refused } = setup();
  const list = pending.expect('list_rooms', replyTo.listRooms(), { timeoutMs: 1000 }).reply;
  const history = pending.expect('get_history', replyTo.getHistory('r1'), { roomId: 'r1', timeoutMs: 1000 }).reply;
  pending.settle({ type: 'error', data: { success: false, message: 'Unknown message type: get_history' } });
  await expect(history).rejects.toBeInstanceOf(ChatRequestError);
  expect(refused).toEqual(['get_history']);
  pending.settle({ type: 'rooms_list', data: { rooms: [], total_count: 0 } });
  await expect(list).resolves.toEqual({ rooms: [], total_count: 0 });
});

it('keeps a delete pending through its initiated step', async () => {
  const { pending, unclaimed } = setup();
  const del = pending.expect('delete_room', replyTo.deleteRoom('r1'), { roomId: 'r1', timeoutMs: 1000 }).reply;
  pending.settle({ type: 'delete_room_initiated', data: { room_id: 'r1', status: 'in_progress', transaction_id: 't1' } });
  pending.settle({ type: 'delete_room_success', data: { room_id: 'r1', transaction_id: 't1', message: 'ok' } });
  await expect(del).resolves.toMatchObject({ transaction_id: 't1' });
  expect(unclaimed).toEqual([]);
});

it('reports failures nobody waited for, and ignores other unclaimed frames', () => {
  const { pending, unclaimed } = setup();
  pending.settle(sent('r1', 1));
  pending.settle({ type: 'message_error', data: { room_id: 'r1', error: 'You are not a member of this room', error_code: 'NOT_MEMBER' } });
  expect(unclaimed).toEqual([{ type: 'message_error', code: 'NOT_MEMBER', message: 'You are not a member of this room', room_id: 'r1' }]);
});

it('times a request out, and fails the rest when the connection goes', async () => {
  jest.useFakeTimers();
  const { pending } = setup();
  const slow = pending.expect('list_rooms', replyTo.listRooms(), { timeoutMs: 500 }).reply;
  const other = pending.expect('discover_rooms', replyTo.discoverRooms(), { timeoutMs: 5000 }).reply;
  jest.advanceTimersByTime(500);
  await expect(slow).rejects.toBeInstanceOf(ChatTimeoutError);
  pending.rejectAll('code 1006');
  await expect(other).rejects.toBeInstanceOf(ChatConnectionClosedError);
});

it('fails a request whose frame could not be sent', async () => {
  const { pending } = setup();
  const { reply, sendFailed } = pending.expect('list_rooms', replyTo.listRooms(), { timeoutMs: 1000 });
  sendFailed(new Error('socket closed'));
  await expect(reply).rejects.toThrow('list_rooms: connection closed (socket closed)');
});
