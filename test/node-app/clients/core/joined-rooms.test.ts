import { JoinedRooms, type MembersChange, type RoomClosed } from '../../../../node-app/src/clients/core/joined-rooms';
import type { ChatMessage, JoinRoomSuccessReply } from '../../../../node-app/src/protocol/messages';

function setup() {
  const shown: number[] = [];
  const members: MembersChange[] = [];
  const closed: RoomClosed[] = [];
  const missing: [string, number, number][] = [];
  const rooms = new JoinedRooms({
    gapWaitMs: 1000,
    maxBufferedPerRoom: 100,
    onMessage: (m) => shown.push(m.sequence_number),
    onGap: () => undefined,
    onMembers: (c) => members.push(c),
    onRoomClosed: (c) => closed.push(c),
    onMissing: (room, from, to) => missing.push([room, from, to]),
  });
  return { rooms, shown, members, closed, missing };
}

const msg = (seq: number, room = 'r1'): ChatMessage => ({
  message_id: `m${seq}`,
  room_id: room,
  username: 'bob',
  content: `hello ${seq}`,
  sequence_number: seq,
  timestamp: 't',
});

const joined = (extra: Partial<JoinRoomSuccessReply['data']> = {}): JoinRoomSuccessReply => ({
  type: 'join_room_success',
  data: { room_id: 'r1', room_name: 'lobby', description: null, members: ['alice', 'bob'], member_count: 2, admin_node: 'node1', ...extra },
});

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('resumes after the last message shown, and starts where the node says the replay starts', () => {
  const { rooms, shown } = setup();
  rooms.beginJoin('r1', 'alice', undefined);
  rooms.apply(joined());
  for (const s of [5, 6]) rooms.apply({ type: 'new_message', data: msg(s) });
  const { sinceSeq } = rooms.beginJoin('r1', 'alice', undefined);
  expect(sinceSeq).toBe(6);
  rooms.apply(joined({ last_seq: 8, replay_from_seq: 7 }));
  for (const s of [6, 7, 8]) rooms.apply({ type: 'new_message', data: msg(s) });
  expect(shown).toEqual([5, 6, 7, 8]);
});

it('asks for a missing message when a later one arrives first', () => {
  const { rooms, shown, missing } = setup();
  rooms.beginJoin('r1', 'alice', undefined);
  rooms.apply(joined({ last_seq: 2 }));
  rooms.apply({ type: 'new_message', data: msg(4) });
  expect(missing).toEqual([['r1', 3, 3]]);
  rooms.addMessages('r1', [msg(3)]);
  expect(shown).toEqual([3, 4]);
});

it('follows the member list and closes the room when we are removed', () => {
  const { rooms, members, closed } = setup();
  rooms.beginJoin('r1', 'alice', undefined);
  rooms.apply(joined());
  rooms.apply({ type: 'member_joined', data: { room_id: 'r1', username: 'carol', member_count: 3, timestamp: 't' } });
  rooms.apply({ type: 'member_left', data: { room_id: 'r1', username: 'alice', member_count: 2, timestamp: 't', reason: 'Inactivity' } });
  expect(members.map((m) => [m.change.kind, m.members])).toEqual([
    ['snapshot', ['alice', 'bob']],
    ['joined', ['alice', 'bob', 'carol']],
    ['left', ['bob', 'carol']],
  ]);
  expect(closed).toEqual([{ room_id: 'r1', room_name: 'lobby', reason: 'removed', message: "You were removed from 'lobby': Inactivity" }]);
  expect(rooms.all.has('r1')).toBe(false);
});

it('drops a failed join unless a newer join replaced it', () => {
  const { rooms } = setup();
  const first = rooms.beginJoin('r1', 'alice', undefined).room;
  const second = rooms.beginJoin('r1', 'alice', undefined).room;
  rooms.abandonJoin(first);
  expect(rooms.all.get('r1')).toBe(second);
  rooms.abandonJoin(second);
  expect(rooms.all.has('r1')).toBe(false);
});
