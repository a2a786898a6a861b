/**
 * Durable writes: the WAL synced on the event loop where a mode promises it (`REPL_SYNC=inline`,
 * Raft state), and off it (`REPL_SYNC=full`): a write is reported durable only once a
 * real fdatasync of the WAL that started after it has completed; writes made while one runs share
 * the next; a failed sync is never reported as durable; and what was reported durable is there
 * after the writing process is killed with SIGKILL right after the report.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type LogEntry, RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import { waitFor } from '../../support/wait';
import { HeldSync } from './held-sync';

const ROOM = '6f1c7a52-0000-4000-8000-0000000000aa';

function msg(idx: number): LogEntry {
  return { idx, term: 1, kind: 'message', data: { message_id: `m-${idx}`, username: 'alice', content: `hello ${idx}`, seq: idx, timestamp: 't' } };
}

/** Every `done` call of `whenDurable`, in order: 'ok' or the error message. */
function recorder(): { calls: string[]; done: (tag: string) => (err?: Error) => void } {
  const calls: string[] = [];
  return { calls, done: (tag) => (err) => calls.push(err ? `${tag}: ${err.message}` : tag) };
}

describe('WAL sync off the event loop', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-sync-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A `full` store whose syncs the test releases by hand, and a recorder of what `whenDurable` told. */
  function heldStore(): { sync: HeldSync; store: RoomLogStore; r: ReturnType<typeof recorder> } {
    const sync = new HeldSync();
    return { sync, store: RoomLogStore.open({ dir, synchronous: 'full', syncCall: sync.call }), r: recorder() };
  }

  test('a write is reported durable only after the fdatasync that started after it completes', async () => {
    const { sync, store, r } = heldStore();
    store.append(ROOM, [msg(1)]);
    store.whenDurable(r.done('first'));
    expect(sync.started).toBe(1);
    await waitFor('the sync to return from the kernel', () => sync.waiting === 1, 5000);
    expect(r.calls).toEqual([]);
    sync.release();
    expect(r.calls).toEqual(['first']);
    expect(store.walSyncs).toBe(1);
    // Nothing written since: answered at once, no new sync.
    store.whenDurable(r.done('nothing new'));
    expect(r.calls).toEqual(['first', 'nothing new']);
    expect(sync.started).toBe(1);
    store.close();
  });

  test('writes made while a sync runs wait for the next one, which covers them all (one sync in flight)', async () => {
    const { sync, store, r } = heldStore();
    store.append(ROOM, [msg(1)]);
    store.whenDurable(r.done('a'));
    store.append(ROOM, [msg(2)]);
    store.whenDurable(r.done('b'));
    store.append(ROOM, [msg(3)]);
    store.whenDurable(r.done('c'));
    expect(sync.started).toBe(1);
    await waitFor('the first sync', () => sync.waiting === 1, 5000);
    sync.release();
    // The first sync started before b and c were written: it does not cover them.
    expect(r.calls).toEqual(['a']);
    expect(sync.started).toBe(2);
    await waitFor('the second sync', () => sync.waiting === 1, 5000);
    sync.release();
    expect(r.calls).toEqual(['a', 'b', 'c']);
    expect(sync.maxInFlight).toBe(1);
    store.close();
  });

  test('transactions that need no durability start no sync', () => {
    const { sync, store, r } = heldStore();
    store.transaction(() => store.append(ROOM, [msg(1)]), { durable: false });
    store.whenDurable(r.done('x'));
    expect(r.calls).toEqual(['x']);
    expect(sync.started).toBe(0);
    store.close();
  });

  test('a failed sync is reported to every waiter and to every later one', async () => {
    // A real failure from the kernel: fdatasync of a descriptor that is not open.
    const failing = (_fd: number, done: (err: NodeJS.ErrnoException | null) => void) => fs.fdatasync(2 ** 30, done);
    const store = RoomLogStore.open({ dir, synchronous: 'full', syncCall: failing });
    const r = recorder();
    store.append(ROOM, [msg(1)]);
    store.whenDurable(r.done('a'));
    await waitFor('the failed sync', () => r.calls.length === 1, 5000);
    expect(r.calls[0]).toMatch(/^a: wal sync: fdatasync of the write-ahead log failed/);
    store.append(ROOM, [msg(2)]);
    store.whenDurable(r.done('b'));
    expect(r.calls[1]).toMatch(/^b: wal sync: fdatasync of the write-ahead log failed/);
    store.close();
  });

  test('closing the store fails the waiters and waits for the sync in flight before closing its descriptor', async () => {
    const { sync, store, r } = heldStore();
    store.append(ROOM, [msg(1)]);
    store.whenDurable(r.done('a'));
    store.close();
    expect(r.calls).toEqual(['a: wal sync: the store is closing']);
    await waitFor('the sync in flight', () => sync.waiting === 1, 5000);
    sync.release();
    expect(r.calls).toHaveLength(1);
    const again = RoomLogStore.open({ dir });
    expect(again.raftState(ROOM).lastIndex).toBe(1);
    again.close();
  });

  test('each mode syncs the WAL on the event loop where it promises to: once at open (what an earlier process left unsynced), inline after every durable commit, full and inline for Raft state, normal never', () => {
    const counts: Record<string, number[]> = {};
    for (const synchronous of ['full', 'inline', 'normal'] as const) {
      let syncsNow = 0;
      const store = RoomLogStore.open({
        dir: path.join(dir, synchronous), synchronous,
        syncNowCall: (fd) => { syncsNow++; fs.fdatasyncSync(fd); },
      });
      const seen: number[] = [syncsNow];
      store.setTermAndVote(ROOM, 1, 'node1');
      seen.push(syncsNow);
      store.transaction(() => store.append(ROOM, [msg(1)]), { durable: false });
      seen.push(syncsNow);
      store.append(ROOM, [msg(2)]);
      seen.push(syncsNow);
      // Nested transactions are one: synced once, at the end of the outermost.
      store.transaction(() => { store.append(ROOM, [msg(3)]); store.setTermAndVote(ROOM, 2, null); });
      seen.push(syncsNow);
      counts[synchronous] = seen;
      store.close();
    }
    expect(counts).toEqual({ full: [1, 2, 2, 2, 2], inline: [1, 2, 2, 3, 4], normal: [0, 0, 0, 0, 0] });
  });

  test('a failed sync on the event loop fails the write and every later one: nothing is reported durable after it', () => {
    let fail = false;
    const store = RoomLogStore.open({
      dir, synchronous: 'inline',
      syncNowCall: (fd) => { if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }); fs.fdatasyncSync(fd); },
    });
    store.append(ROOM, [msg(1)]);
    fail = true;
    expect(() => store.append(ROOM, [msg(2)])).toThrow(/fdatasync of the write-ahead log failed: EIO/);
    fail = false;
    expect(() => store.append(ROOM, [msg(3)])).toThrow(/fdatasync of the write-ahead log failed/);
    const r = recorder();
    store.whenDurable(r.done('after'));
    expect(r.calls).toEqual(['after: wal sync: fdatasync of the write-ahead log failed: EIO: i/o error, fdatasync']);
    store.close();
  });

  test('inline and normal durability, and an in-memory store, answer at once', () => {
    for (const synchronous of ['inline', 'normal'] as const) {
      const store = RoomLogStore.open({ dir: path.join(dir, synchronous), synchronous });
      const r = recorder();
      store.append(ROOM, [msg(1)]);
      store.whenDurable(r.done(synchronous));
      expect(r.calls).toEqual([synchronous]);
      // inline: the one sync made before append returned; normal: none.
      expect(store.walSyncs).toBe(synchronous === 'inline' ? 1 : 0);
      store.close();
    }
    const mem = RoomLogStore.open({ file: ':memory:' });
    const r = recorder();
    mem.append(ROOM, [msg(1)]);
    mem.whenDurable(r.done('memory'));
    expect(r.calls).toEqual(['memory']);
    mem.close();
  });

  test('every write reported durable is there after the writer is killed with SIGKILL right after the report', async () => {
    // A real child process appends batches as fast as it can and prints each batch's last index
    // once whenDurable reports it; the parent kills it with SIGKILL mid-stream.
    const storeModule = path.resolve(__dirname, '../../../dist/node-app/src/storage/room-log-store.js');
    if (!fs.existsSync(storeModule)) throw new Error(`build first (npm run build): ${storeModule} is missing`);
    const script = `
      const { RoomLogStore } = require(${JSON.stringify(storeModule)});
      const store = RoomLogStore.open({ dir: ${JSON.stringify(dir)}, synchronous: 'full' });
      let next = 1;
      const batch = () => {
        const entries = [];
        for (let i = 0; i < 5; i++, next++) entries.push({ idx: next, term: 1, kind: 'message', data: { message_id: 'm-' + next, username: 'a', content: 'x'.repeat(200), seq: next, timestamp: 't' } });
        store.append(${JSON.stringify(ROOM)}, entries);
        const last = next - 1;
        store.whenDurable((err) => { if (err) throw err; process.stdout.write(last + '\\n'); });
        if (next < 1e6) setImmediate(batch);
      };
      batch();
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const acked = () => out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    await waitFor(`200 durable batches from the writer${err ? ` (stderr: ${err})` : ''}`, () => acked().length >= 200, 20_000, 5);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const lastAcked = Math.max(...acked());
    expect(lastAcked).toBeGreaterThanOrEqual(1000);
    const store = RoomLogStore.open({ dir });
    const state = store.raftState(ROOM);
    expect(state.lastIndex).toBeGreaterThanOrEqual(lastAcked);
    const kept = store.entries(ROOM, 1, lastAcked, lastAcked + 1);
    expect(kept.map((e) => e.idx)).toEqual(Array.from({ length: lastAcked }, (_, i) => i + 1));
    store.close();
  });
});
