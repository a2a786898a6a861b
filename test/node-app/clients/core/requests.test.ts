import { CLIENT_REQUEST_TYPES } from '../../../../node-app/src/protocol/messages';
import { gapFillPage, requests } from '../../../../node-app/src/clients/core/requests';

const every = [
  requests.listRooms(),
  requests.discoverRooms(),
  requests.createRoom('lobby', 'alice', 'about'),
  requests.joinRoom('r1', 'alice'),
  requests.leaveRoom('r1', 'alice'),
  requests.sendMessage('r1', 'alice', 'hi'),
  requests.deleteRoom('r1', 'alice'),
  requests.getHistory('r1', { beforeSeq: 10, limit: 5 }),
];

it('builds one request of every type the protocol knows, each asking for the extended replies', () => {
  expect(every.map((r) => r.type).sort()).toEqual([...CLIENT_REQUEST_TYPES].sort());
  for (const r of every) expect([r.type, r.extended]).toEqual([r.type, true]);
});

it('keeps the flag beside type and data, where an original node does not look', () => {
  expect(requests.sendMessage('r1', 'alice', 'hi')).toEqual({
    type: 'send_message',
    data: { room_id: 'r1', username: 'alice', content: 'hi' },
    extended: true,
  });
});

it('sends since_seq only when resuming', () => {
  expect(requests.joinRoom('r1', 'alice')).toEqual({ type: 'join_room', data: { room_id: 'r1', username: 'alice' }, extended: true });
  expect(requests.joinRoom('r1', 'alice', 0).data).toEqual({ room_id: 'r1', username: 'alice', since_seq: 0 });
});

it('sends a missing description as null and leaves unset history bounds out', () => {
  expect(requests.createRoom('lobby', 'alice').data).toEqual({ room_name: 'lobby', creator_id: 'alice', description: null });
  expect(requests.getHistory('r1').data).toEqual({ room_id: 'r1' });
});

it('asks for exactly a gap, capped at the largest page', () => {
  expect(gapFillPage(3, 3, 500)).toEqual({ afterSeq: 2, limit: 1 });
  expect(gapFillPage(1, 2000, 500)).toEqual({ afterSeq: 0, limit: 500 });
});
