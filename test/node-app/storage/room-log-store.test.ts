import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogEntry, RoomLogStore } from '../../../node-app/src/storage/room-log-store';

const ROOM = '6f1c7a52-0000-4000-8000-000000000001';

function msg(idx: number, term: number, seq: number, user = 'alice'): LogEntry {
  return { idx, term, kind: 'message', data: { message_id: `m-${seq}-${term}`, username: user, content: `hello ${seq}`, seq, timestamp: '2026-11-26T11:53:19.604000+00:00' } };
}

function seedRoom(store: RoomLogStore): void {
  store.setTermAndVote(ROOM, 1, 'node1');
  store.append(ROOM, [
    { idx: 1, term: 1, kind: 'create', data: { room_name: 'general', description: null, creator_id: 'alice', created_at: 't0', admin_node: 'node1' } },
    { idx: 2, term: 1, kind: 'join', data: { username: 'alice', node_id: 'node1', timestamp: 't1' } },
  ]);
}

describe('RoomLogStore', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'repl-store-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('committed entries build room info and members, and survive reopening the file', () => {
    const store = RoomLogStore.open({ dir });
    seedRoom(store);
    store.append(ROOM, [msg(3, 1, 1), msg(4, 1, 2)]);
    const applied = store.commit(ROOM, 4);
    expect(applied.map((a) => a.entry.kind)).toEqual(['create', 'join', 'message', 'message']);
    expect(applied[1]).toMatchObject({ changed: true });
    expect(store.members(ROOM)).toHaveLength(1);
    store.close();

    const again = RoomLogStore.open({ dir });
    expect(again.raftState(ROOM)).toMatchObject({ currentTerm: 1, votedFor: 'node1', commitIndex: 4, lastIndex: 4, lastTerm: 1, lastSeq: 2 });
    expect(again.roomInfo(ROOM)).toMatchObject({ roomName: 'general', creatorId: 'alice', adminNode: 'node1', deleted: false, messageCount: 2 });
    expect(again.members(ROOM).map((m) => m.username)).toEqual(['alice']);
    expect(again.liveRoomIds()).toEqual([ROOM]);
    again.close();
  });

  test('a commit applies the caller\'s copy of the entries when it covers the range, else reads them back', () => {
    const store = RoomLogStore.open({ file: ':memory:' });
    seedRoom(store);
    const written = [msg(3, 1, 1), msg(4, 1, 2), msg(5, 1, 3)];
    store.append(ROOM, written);
    // Covers 1..2 only partly (it starts at 3): read back.
    expect(store.commit(ROOM, 2, written).map((a) => a.entry.kind)).toEqual(['create', 'join']);
    // Covers 3..4: the caller's objects are what is applied.
    const applied = store.commit(ROOM, 4, written);
    expect(applied.map((a) => a.entry)).toEqual([written[0], written[1]]);
    expect(applied[0].entry).toBe(written[0]);
    // A copy with a hole in it is not trusted: read back.
    const holed = [written[0], written[2]];
    const last = store.commit(ROOM, 5, holed);
    expect(last.map((a) => a.entry)).toEqual([written[2]]);
    expect(last[0].entry).not.toBe(written[2]);
    expect(store.roomInfo(ROOM)?.messageCount).toBe(3);
    store.close();
  });

  test('a re-join and a leave of a non-member change nothing and say so', () => {
    const store = RoomLogStore.open({ file: ':memory:' });
    seedRoom(store);
    store.append(ROOM, [
      { idx: 3, term: 1, kind: 'join', data: { username: 'alice', node_id: 'node2', timestamp: 't2' } },
      { idx: 4, term: 1, kind: 'leave', data: { username: 'bob', timestamp: 't3' } },
      { idx: 5, term: 1, kind: 'leave', data: { username: 'alice', timestamp: 't4' } },
    ]);
    const applied = store.commit(ROOM, 5);
    expect(applied.slice(2).map((a) => [a.entry.kind, a.changed])).toEqual([
      ['join', false], ['leave', false], ['leave', true],
    ]);
    expect(store.members(ROOM)).toEqual([]);
    store.close();
  });

  test('a member that moved to another node is not removed by a stale leave naming its old node', () => {
    const store = RoomLogStore.open({ file: ':memory:' });
    seedRoom(store); // alice joined on node1
    store.append(ROOM, [
      { idx: 3, term: 1, kind: 'join', data: { username: 'alice', node_id: 'node2', timestamp: 't2' } },
      { idx: 4, term: 1, kind: 'leave', data: { username: 'alice', node_id: 'node1', reason: 'Node unreachable', timestamp: 't3' } },
    ]);
    const applied = store.commit(ROOM, 4);
    expect(applied.slice(2).map((a) => [a.entry.kind, a.changed])).toEqual([['join', false], ['leave', false]]);
    expect(store.members(ROOM)).toEqual([{ username: 'alice', nodeId: 'node2', joinedAt: 't1' }]);
    store.close();
  });

  test('history pages backwards and resumes forwards by sequence number, committed entries only', () => {
    const store = RoomLogStore.open({ file: ':memory:' });
    seedRoom(store);
    const entries: LogEntry[] = [];
    for (let s = 1; s <= 250; s++) entries.push(msg(2 + s, 1, s));
    store.append(ROOM, entries);
    store.commit(ROOM, 2 + 240); // 241..250 are stored but not committed

    const last = store.history(ROOM, { limit: 100 });
    expect(last.map((m) => m.sequence_number)).toEqual(Array.from({ length: 100 }, (_, i) => 141 + i));
    const page = store.history(ROOM, { beforeSeq: 141, limit: 100 });
    expect(page[0].sequence_number).toBe(41);
    expect(page[99].sequence_number).toBe(140);
    const resumed = store.history(ROOM, { afterSeq: 235, limit: 100 });
    expect(resumed.map((m) => m.sequence_number)).toEqual([236, 237, 238, 239, 240]);
    expect(resumed[0]).toEqual({ message_id: 'm-236-1', room_id: ROOM, username: 'alice', content: 'hello 236', sequence_number: 236, timestamp: '2026-11-26T11:53:19.604000+00:00' });
    store.close();
  });

  test('uncommitted entries are replaced by a newer admin; committed ones are never rewritten', () => {
    const store = RoomLogStore.open({ file: ':memory:' });
    seedRoom(store);
    store.append(ROOM, [msg(3, 1, 1), msg(4, 1, 2), msg(5, 1, 3)]);
    store.commit(ROOM, 3);
    store.replaceFrom(ROOM, 4, [msg(4, 2, 2, 'bob')]);
    expect(store.raftState(ROOM)).toMatchObject({ lastIndex: 4, lastTerm: 2, lastSeq: 2 });
    expect(store.findMessage(ROOM, 'm-3-1')).toBeUndefined();
    expect(store.findMessage(ROOM, 'm-2-2')).toEqual({ idx: 4, term: 2, seq: 2 });
    expect(() => store.replaceFrom(ROOM, 3, [msg(3, 2, 1)])).toThrow(/refusing to rewrite committed entry 3/);
    expect(() => store.append(ROOM, [msg(9, 2, 9)])).toThrow(/gap/);
    expect(store.raftState(ROOM).lastIndex).toBe(4);
    store.close();
  });

  test('a delete entry hides the room from the live list but keeps its log', () => {
    const store = RoomLogStore.open({ file: ':memory:' });
    seedRoom(store);
    store.append(ROOM, [{ idx: 3, term: 1, kind: 'delete', data: {} }]);
    store.commit(ROOM, 3);
    expect(store.liveRoomIds()).toEqual([]);
    expect(store.roomInfo(ROOM)?.deleted).toBe(true);
    expect(store.entries(ROOM, 1, 10, 10)).toHaveLength(3);
    store.close();
  });

  test('a data directory held by a running store is refused with a clear error, and nothing in it is lost', () => {
    const owner = RoomLogStore.open({ dir });
    seedRoom(owner);
    owner.commit(ROOM, 2);
    expect(() => RoomLogStore.open({ dir, lockWaitMs: 50 })).toThrow(/in use by another process.*must not share a data directory/);
    // the owner goes on writing after the refused open
    owner.append(ROOM, [msg(3, 1, 1)]);
    owner.commit(ROOM, 3);
    owner.close();
    const next = RoomLogStore.open({ dir, lockWaitMs: 50 });
    expect(next.raftState(ROOM)).toMatchObject({ commitIndex: 3, lastIndex: 3, lastSeq: 1 });
    expect(next.members(ROOM).map((m) => m.username)).toEqual(['alice']);
    next.close();
  });

  test('a data directory held by another process is refused until that process exits', async () => {
    // The holder is a separate process (POSIX locks are per process) running the compiled store
    // (dist/, built by `npm test`'s pretest): it opens the store, says so, and waits.
    const storeModule = path.join(__dirname, '..', '..', '..', 'dist', 'node-app', 'src', 'storage', 'room-log-store.js');
    const holder = spawn(process.execPath, ['-e',
      `const { RoomLogStore } = require(${JSON.stringify(storeModule)});
       const s = RoomLogStore.open({ dir: ${JSON.stringify(dir)} });
       process.stdout.write('open\\n');
       process.stdin.on('end', () => { s.close(); process.exit(0); }); process.stdin.resume();`], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
        holder.stdout!.once('data', () => resolve());
      });
      expect(() => RoomLogStore.open({ dir, lockWaitMs: 50 })).toThrow(/in use by another process/);
    } finally {
      holder.stdin!.end();
      if (holder.exitCode === null) await new Promise((r) => holder.once('exit', r));
    }
    const mine = RoomLogStore.open({ dir, lockWaitMs: 50 });
    mine.close();
  }, 30_000);

  test('opening without a directory or file is a clear error', () => {
    expect(() => RoomLogStore.open({})).toThrow(/dir \(DATA_DIR\) or file/);
  });
});
