import { findRoom, fitColumns, terminalSafe } from '../../../../node-app/src/clients/core/format';
import type { RoomSummary } from '../../../../node-app/src/protocol/messages';

describe('terminalSafe', () => {
  it('shows escape and control characters as visible escapes', () => {
    expect(terminalSafe('red \x1b[31mALERT\x07 \r\u2028end\x7f')).toBe('red \\x1b[31mALERT\\x07 \\r\\u2028end\\x7f');
  });

  it('keeps one message on one line', () => {
    expect(terminalSafe('line one\nline two')).toBe('line one\\nline two');
  });

  it('keeps ordinary text, tabs and non-ASCII as they are', () => {
    expect(terminalSafe('héllo\twörld 👋 <b>&</b>')).toBe('héllo\twörld 👋 <b>&</b>');
  });
});

describe('findRoom', () => {
  const room = (id: string, name: string, node: string): RoomSummary => ({ room_id: id, room_name: name, description: null, member_count: 0, admin_node: node, creator_id: 'a' });
  const rooms = [room('id-1', 'lobby', 'node1'), room('id-2', 'lobby', 'node2'), room('id-3', 'dev@ops', 'node3')];

  it('finds by id, by unique name, and by name@node', () => {
    expect(findRoom(rooms, 'id-2').room_id).toBe('id-2');
    expect(findRoom(rooms, 'lobby@node2').room_id).toBe('id-2');
    expect(findRoom(rooms, 'dev@ops').room_id).toBe('id-3');
  });

  it('names the candidates when a name is ambiguous, and says when nothing matches', () => {
    expect(() => findRoom(rooms, 'lobby')).toThrow('room name "lobby" is ambiguous: lobby@node1 (id-1), lobby@node2 (id-2); use name@node or the id');
    expect(() => findRoom(rooms, 'nope')).toThrow('room "nope" not found (no room is named "nope"; 3 rooms known)');
  });
});

describe('fitColumns', () => {
  it('pads and cuts by terminal columns, counting wide characters as two', () => {
    expect(fitColumns('lobby', 8)).toBe('lobby   ');
    expect(fitColumns('a very long room name', 8)).toBe('a very …');
    expect(fitColumns('漢字の部屋です', 8)).toBe('漢字の… ');
    expect(fitColumns('👋 hi', 8)).toBe('👋 hi   ');
  });
});
