import { MemoryRoomStore } from '../../../node-app/src/rooms/memory-room-store';

const init = (roomId = 'r1') => ({ roomId, roomName: 'general', description: null, creatorId: 'alice', adminNode: 'node1', createdAt: 't' });
const join = (username: string, nodeId = 'node1') => ({ kind: 'member_joined' as const, username, nodeId, timestamp: 't' });

describe('room log and store', () => {
  it('numbers messages 1, 2, 3 per room, independently of membership entries', async () => {
    const store = new MemoryRoomStore({ historyLimit: 100 });
    const a = store.create(init('a'));
    const b = store.create(init('b'));
    await store.append(a, join('u'));
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await store.append(a, { kind: 'message', draft: { username: 'u', content: `m${i}` } });
      if (c.entry.kind === 'message') seqs.push(c.entry.message.sequence_number);
    }
    const other = await store.append(b, { kind: 'message', draft: { username: 'u', content: 'x' } });
    expect(seqs).toEqual([1, 2, 3]);
    expect(other.entry.kind === 'message' && other.entry.message.sequence_number).toBe(1);
    expect(a.lastIndex).toBe(4);
  });

  it('hands out sequence numbers synchronously so concurrent appends never share one', async () => {
    const store = new MemoryRoomStore({ historyLimit: 10 });
    const room = store.create(init());
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(room, { kind: 'message', draft: { username: 'u', content: String(i) } })));
    const seqs = all.map((c) => (c.entry.kind === 'message' ? c.entry.message.sequence_number : 0));
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('resolves appends in log order', async () => {
    const store = new MemoryRoomStore({ historyLimit: 10 });
    const room = store.create(init());
    const order: number[] = [];
    const ps = [0, 1, 2, 3].map((i) => store.append(room, { kind: 'message', draft: { username: 'u', content: String(i) } }).then((c) => order.push(c.index)));
    await Promise.all(ps);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('keeps only the newest historyLimit messages, oldest first', async () => {
    const store = new MemoryRoomStore({ historyLimit: 3 });
    const room = store.create(init());
    for (let i = 1; i <= 5; i++) await store.append(room, { kind: 'message', draft: { username: 'u', content: String(i) } });
    expect(room.history.map((m) => m.sequence_number)).toEqual([3, 4, 5]);
    expect(room.lastSeq).toBe(5);
  });

  it('tracks members with their node and resets activity on every message', async () => {
    let now = 1000;
    const store = new MemoryRoomStore({ historyLimit: 3, now: () => now });
    const room = store.create(init());
    await store.append(room, join('bob', 'node2'));
    expect(room.members.get('bob')).toMatchObject({ nodeId: 'node2', lastActivity: 1000 });
    now = 5000;
    await store.append(room, { kind: 'message', draft: { username: 'bob', content: 'hi' } });
    expect(room.members.get('bob')!.lastActivity).toBe(5000);
    expect([...room.memberNodes('node1')]).toEqual(['node2']);
    await store.append(room, { kind: 'member_left', username: 'bob', nodeId: 'node2', timestamp: 't' });
    expect(room.members.size).toBe(0);
  });

  it('lists rooms in creation order and refuses appends to removed rooms', async () => {
    const store = new MemoryRoomStore({ historyLimit: 3 });
    const a = store.create(init('a'));
    store.create(init('b'));
    expect(store.list().map((r) => r.roomId)).toEqual(['a', 'b']);
    store.remove('a');
    await expect(store.append(a, join('u'))).rejects.toThrow(/not in this store/);
    expect(() => store.create(init('b'))).toThrow(/already exists/);
  });

  it('sorts member names so replies are deterministic', async () => {
    const store = new MemoryRoomStore({ historyLimit: 3 });
    const room = store.create(init());
    for (const u of ['carol', 'alice', 'bob']) await store.append(room, join(u));
    expect(room.info().members).toEqual(['alice', 'bob', 'carol']);
    expect(room.summary()).toMatchObject({ member_count: 3, admin_node: 'node1', creator_id: 'alice' });
  });
});

describe('the in-memory store as a RoomStore', () => {
  async function roomWithMessages(n: number, historyLimit = 100) {
    const store = new MemoryRoomStore({ historyLimit });
    const room = store.create(init());
    await store.append(room, join('u'));
    for (let i = 1; i <= n; i++) await store.append(room, { kind: 'message', draft: { username: 'u', content: `m${i}` } });
    return { store, room };
  }
  const seqs = (ms: Array<{ sequence_number: number }>) => ms.map((m) => m.sequence_number);

  it('pages history like the replicated log: forwards from after_seq, backwards from before_seq', async () => {
    const { store } = await roomWithMessages(10);
    expect(seqs(store.history('r1', { afterSeq: 3, limit: 4 }))).toEqual([4, 5, 6, 7]);
    expect(seqs(store.history('r1', { beforeSeq: 8, limit: 3 }))).toEqual([5, 6, 7]);
    expect(seqs(store.history('r1', { limit: 2 }))).toEqual([9, 10]);
    expect(seqs(store.history('r1', { afterSeq: 2, beforeSeq: 6, limit: 10 }))).toEqual([3, 4, 5]);
    expect(store.history('missing', { limit: 5 })).toEqual([]);
  });

  it('serves history from its window of the last HISTORY_LIMIT messages', async () => {
    const { store } = await roomWithMessages(10, 4);
    expect(seqs(store.history('r1', { afterSeq: 0, limit: 100 }))).toEqual([7, 8, 9, 10]);
  });

  it('reports the last sequence number, and 0 for a room it does not have', async () => {
    const { store } = await roomWithMessages(3);
    expect(store.lastCommittedSeq('r1')).toBe(3);
    expect(store.lastCommittedSeq('missing')).toBe(0);
  });

  it('replicates no room and replicates with no node', async () => {
    const { store } = await roomWithMessages(1);
    expect(store.replicates('r1')).toBe(false);
    expect(store.nodeDown('node2')).toBe(false);
    expect(store.nodeAnswering('node2')).toBe(false);
  });

  it('is created, caught up and applied at once', async () => {
    const { store } = await roomWithMessages(1);
    await expect(store.whenCreated('r1')).resolves.toBeUndefined();
    await expect(store.ready('r1', 10)).resolves.toBe(true);
    await expect(store.waitApplied('r1', 2, 10)).resolves.toBe(true);
  });
});

