import { XmlRpcFault } from '../../../node-app/src/peers/xmlrpc-codec';
import { Room } from '../../../node-app/src/rooms/room';
import { errText, roomInfoData, toChatMessage, toRoomSummary } from '../../../node-app/src/node/wire-converters';

describe('wire converters', () => {
  it('reads a peer message struct as a ChatMessage of the room it was sent for', () => {
    const v = { message_id: 'm1', username: 'bob', content: 'hi', sequence_number: 3, timestamp: 't', room_id: 'elsewhere' };
    expect(toChatMessage(v, 'r1')).toEqual({ message_id: 'm1', room_id: 'r1', username: 'bob', content: 'hi', sequence_number: 3, timestamp: 't' });
    expect(toChatMessage({ ...v, timestamp: 5 }, 'r1')?.timestamp).toBe('');
  });

  it('drops malformed messages instead of passing them on', () => {
    const v = { message_id: 'm1', username: 'bob', content: 'hi', sequence_number: 3 };
    for (const bad of [undefined, 'text', [v], { ...v, sequence_number: 0 }, { ...v, sequence_number: 1.5 }, { ...v, content: 7 }, { ...v, message_id: undefined }]) {
      expect(toChatMessage(bad as never, 'r1')).toBeUndefined();
    }
  });

  it('reads a get_hosted_rooms item, keeping node_address only when given', () => {
    const item = { room_id: 'r1', room_name: 'general', description: 'd', member_count: 2, admin_node: 'node2', creator_id: 'alice' };
    expect(toRoomSummary(item)).toEqual(item);
    expect(toRoomSummary({ ...item, node_address: 'http://node2:9090' })?.node_address).toBe('http://node2:9090');
    expect(toRoomSummary({ room_id: 'r1', room_name: 'general', admin_node: 'node2' })).toEqual({
      room_id: 'r1', room_name: 'general', description: null, member_count: 0, admin_node: 'node2', creator_id: '',
    });
    expect(toRoomSummary({ room_id: 'r1', admin_node: 'node2' })).toBeUndefined();
  });

  it('gives a join_room_success the same data from a local room and from a peer room_info struct', () => {
    const room = new Room({ roomId: 'r1', roomName: 'general', description: null, creatorId: 'alice', adminNode: 'node1', createdAt: 't' }, 10);
    room.apply({ kind: 'member_joined', username: 'bob', nodeId: 'node2', timestamp: 't' }, 0);
    const local = roomInfoData(room.info());
    expect(local).toEqual({ room_id: 'r1', room_name: 'general', description: null, members: ['bob'], member_count: 1, admin_node: 'node1', creator_id: 'alice' });
    expect(roomInfoData({ ...room.info(), description: null } as never)).toEqual(local);
    // The original's room_info has no creator_id and may list members as it likes.
    expect(roomInfoData({ room_id: 'r1', room_name: 'general', members: ['bob', 3], admin_node: 'py1' })).toEqual({
      room_id: 'r1', room_name: 'general', description: null, members: ['bob'], member_count: 1, admin_node: 'py1',
    });
  });

  it('names a peer fault by its fault string', () => {
    expect(errText(new XmlRpcFault(1, "<class 'KeyError'>:'r1'"))).toBe("<class 'KeyError'>:'r1'");
    expect(errText(new Error('timeout'))).toBe('timeout');
    expect(errText('plain')).toBe('plain');
  });
});
