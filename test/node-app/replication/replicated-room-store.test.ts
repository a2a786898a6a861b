import { randomUUID } from 'node:crypto';
import type { CommittedEvent } from '../../../node-app/src/replication/replicated-room-store';
import { waitFor } from '../../support/wait';
import { ReplicaSet } from './replica-set';

jest.setTimeout(20_000);

describe("NODE's RoomStore seam over the replicated log", () => {
  let set: ReplicaSet;
  const events = new Map<string, CommittedEvent[]>();
  beforeEach(async () => {
    set = new ReplicaSet(['node1', 'node2', 'node3'], {}, 3);
    await set.start();
    events.clear();
    for (const n of set.nodes) {
      events.set(n.id, []);
      n.rooms.onCommitted((ev) => events.get(n.id)!.push(ev));
    }
  });
  afterEach(() => set.close());

  async function createRoom() {
    const s1 = set.node('node1').rooms;
    const room = s1.create({ roomId: randomUUID(), roomName: 'general', description: 'd', creatorId: 'alice', adminNode: 'node1', createdAt: 't0' });
    await s1.whenCreated(room.roomId);
    return room;
  }

  test('a created room appears on every node with the same admin; appends from any node commit and reach every node in order', async () => {
    const room = await createRoom();
    await waitFor('copies on node2 and node3', () => set.nodes.every((n) => n.rooms.get(room.roomId)?.adminNode === 'node1'), 3000);
    const r2 = set.node('node2').rooms.get(room.roomId)!;
    expect(r2).toMatchObject({ roomName: 'general', description: 'd', creatorId: 'alice' });
    await set.node('node2').rooms.append(r2, { kind: 'member_joined', username: 'bob', nodeId: 'node2', timestamp: '' });
    const c = await set.node('node2').rooms.append(r2, { kind: 'message', draft: { username: 'bob', content: 'hi' } });
    expect(c.entry).toMatchObject({ kind: 'message', message: { username: 'bob', content: 'hi', sequence_number: 1, room_id: room.roomId } });
    // the sender's node already applied it when append resolved (new_message before message_sent)
    expect(events.get('node2')!.map((e) => e.committed.entry.kind)).toEqual(['member_joined', 'message']);
    await waitFor('every node saw both', () => set.nodes.every((n) => events.get(n.id)!.length === 2), 3000);
    for (const n of set.nodes) {
      const evs = events.get(n.id)!;
      expect(evs[0].memberCount).toBe(1);
      expect(evs[1].committed.entry).toEqual(c.entry);
      expect(n.rooms.get(room.roomId)!.members.get('bob')?.nodeId).toBe('node2');
    }
  });

  test('the admin refuses a message from a non-member and a re-join announces nothing', async () => {
    const room = await createRoom();
    const s1 = set.node('node1').rooms;
    await expect(s1.append(room, { kind: 'message', draft: { username: 'mallory', content: 'x' } })).rejects.toMatchObject({ code: 'NOT_MEMBER' });
    await s1.append(room, { kind: 'member_joined', username: 'alice', nodeId: 'node1', timestamp: '' });
    await s1.append(room, { kind: 'member_joined', username: 'alice', nodeId: 'node1', timestamp: '' });
    expect(events.get('node1')!.map((e) => e.committed.entry.kind)).toEqual(['member_joined']);
  });

  test('two nodes admitting the same name at once: one wins, the other gets USERNAME_TAKEN; the name moves only off a dead node', async () => {
    const room = await createRoom();
    await waitFor('copies', () => set.nodes.every((n) => n.rooms.get(room.roomId)), 3000);
    const r2 = set.node('node2').rooms.get(room.roomId)!;
    const r3 = set.node('node3').rooms.get(room.roomId)!;
    const outcomes = await Promise.allSettled([
      set.node('node2').rooms.append(r2, { kind: 'member_joined', username: 'dana', nodeId: 'node2', timestamp: '' }),
      set.node('node3').rooms.append(r3, { kind: 'member_joined', username: 'dana', nodeId: 'node3', timestamp: '' }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'USERNAME_TAKEN' });
    const holder = set.node('node1').rooms.get(room.roomId)!.members.get('dana')!.nodeId;
    const other = holder === 'node2' ? 'node3' : 'node2';
    await set.crash(holder);
    // Refused as taken while the holder's node still counts as up; accepted once it is down.
    const refusals: unknown[] = [];
    await waitFor('dana joins on the other node once the holder is down', async () => {
      try {
        await set.node(other).rooms.append(set.node(other).rooms.get(room.roomId)!, { kind: 'member_joined', username: 'dana', nodeId: other, timestamp: '' });
        return true;
      } catch (err) {
        refusals.push((err as { code?: string }).code);
        return false;
      }
    }, 10_000, 50);
    expect(refusals.filter((c) => c !== 'USERNAME_TAKEN')).toEqual([]);
    await waitFor('membership moved on the admin', () => set.node('node1').rooms.get(room.roomId)!.members.get('dana')?.nodeId === other, 3000);
  });

  test('failover moves adminNode on every surviving copy; a restarted node rebuilds its rooms from disk', async () => {
    const room = await createRoom();
    const s1 = set.node('node1').rooms;
    await s1.append(room, { kind: 'member_joined', username: 'alice', nodeId: 'node1', timestamp: '' });
    for (let i = 0; i < 3; i++) await s1.append(room, { kind: 'message', draft: { username: 'alice', content: `m${i}` } });
    await set.crash('node1');
    await waitFor('a new admin on both survivors', () => {
      const a2 = set.node('node2').rooms.get(room.roomId)?.adminNode;
      const a3 = set.node('node3').rooms.get(room.roomId)?.adminNode;
      return a2 !== 'node1' && a2 === a3 && (a2 === 'node2' || a2 === 'node3');
    }, 3000);
    const r3 = set.node('node3').rooms.get(room.roomId)!;
    const c = await set.node('node3').rooms.append(r3, { kind: 'message', draft: { username: 'alice', content: 'after' } });
    expect((c.entry as { message: { sequence_number: number } }).message.sequence_number).toBe(4);
    const back = await set.restart('node1');
    const copy = back.rooms.get(room.roomId)!;
    expect(copy.adminNode).not.toBe('node1'); // never claims adminship from old state
    expect(copy.members.has('alice')).toBe(true);
    expect(await back.rooms.ready(room.roomId, 3000)).toBe(true);
    await waitFor('node1 learned message 4', () => back.rooms.lastCommittedSeq(room.roomId) === 4, 3000);
    expect(back.rooms.history(room.roomId, { afterSeq: 0, limit: 10 }).map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'after']);
  });

  test('remove logs the deletion so every node drops the room, also after a restart', async () => {
    const room = await createRoom();
    const deleted: string[] = [];
    set.node('node3').rooms.onDeleted((id) => deleted.push(id));
    expect(set.node('node1').rooms.remove(room.roomId)).toBe(true);
    await waitFor('node3 dropped it', () => deleted.includes(room.roomId), 3000);
    await waitFor('node2 dropped it', () => set.node('node2').rooms.get(room.roomId) === undefined, 3000);
    await set.crash('node2');
    const back = await set.restart('node2');
    expect(back.rooms.get(room.roomId)).toBeUndefined();
  });
});
