/**
 * What log compaction costs, measured (not asserted), on a real SQLite file (synchronous=FULL):
 *  - one compaction step (512 entries deleted, snapshot row written) beside one append of 512
 *    messages in the same run (the ratio is what to compare on a shared, noisy machine);
 *  - finding the retention point (count limit, and count + age limits);
 *  - building a snapshot of a room with M members and installing it on another store.
 * Run after a build:  node dist/test/node-app/storage/compaction.bench.js [--messages N] [--members M]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LogEntry, RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import { median } from '../../support/bench-args';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MESSAGES = arg('messages', 100_000);
const MEMBERS = arg('members', 1000);
const STEP = 512;
const ROOM = 'bench-room';

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compaction-bench-'));
  try {
    const store = RoomLogStore.open({ file: path.join(dir, 'admin.sqlite') });
    store.setTermAndVote(ROOM, 1, 'node1');
    store.append(ROOM, [{ idx: 1, term: 1, kind: 'create', data: { room_name: 'b', description: null, creator_id: 'u0', created_at: 't', admin_node: 'node1', voters: ['node1', 'node2', 'node3'] } }]);
    let idx = 2;
    store.append(ROOM, Array.from({ length: MEMBERS }, (_, i) => ({ idx: idx++, term: 1, kind: 'join' as const, data: { username: `u${i}`, node_id: 'node1', timestamp: 't' } })));
    const stamp = new Date(Date.now() - 3 * 24 * 3600_000).toISOString();
    const appendMs: number[] = [];
    for (let seq = 1; seq <= MESSAGES;) {
      const batch: LogEntry[] = [];
      for (let k = 0; k < STEP && seq <= MESSAGES; k++, seq++) {
        batch.push({ idx: idx++, term: 1, kind: 'message', data: { message_id: `m${seq}`, username: 'u0', content: `message ${seq} `.padEnd(120, 'x'), seq, timestamp: stamp } });
      }
      const t = performance.now();
      store.append(ROOM, batch);
      appendMs.push(performance.now() - t);
    }
    store.commit(ROOM, idx - 1);

    const keep = { messages: 1000, days: 0, minAgeMs: 0 };
    const withAge = { messages: 1000, days: 1, minAgeMs: 3600_000 };
    const pointMs: number[] = [];
    const pointAgeMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      let t = performance.now();
      store.snapshots.retentionPoint(ROOM, keep, Date.now());
      pointMs.push(performance.now() - t);
      t = performance.now();
      store.snapshots.retentionPoint(ROOM, withAge, Date.now());
      pointAgeMs.push(performance.now() - t);
    }
    const stepMs: number[] = [];
    for (;;) {
      const point = store.snapshots.retentionPoint(ROOM, keep, Date.now());
      const before = store.snapshots.meta(ROOM)?.lastIndex ?? 0;
      if (point <= before) break;
      const t = performance.now();
      store.snapshots.compact(ROOM, point, STEP);
      stepMs.push(performance.now() - t);
    }
    let t = performance.now();
    const snap = store.snapshots.build(ROOM);
    const buildMs = performance.now() - t;
    const other = RoomLogStore.open({ file: path.join(dir, 'follower.sqlite') });
    t = performance.now();
    other.snapshots.install(ROOM, snap);
    const installMs = performance.now() - t;

    const a = median(appendMs);
    const s = median(stepMs);
    console.log(`messages ${MESSAGES}, members ${MEMBERS}, kept 1000`);
    console.log(`append of ${STEP} messages (fsync)      median ${a.toFixed(2)} ms, max ${Math.max(...appendMs).toFixed(2)} ms`);
    console.log(`compaction step of ${STEP} entries       median ${s.toFixed(2)} ms, max ${Math.max(...stepMs).toFixed(2)} ms, ${stepMs.length} steps; step / append = ${(s / a).toFixed(2)}`);
    console.log(`retention point, count limit       median ${median(pointMs).toFixed(3)} ms`);
    console.log(`retention point, count + age limits median ${median(pointAgeMs).toFixed(3)} ms`);
    console.log(`snapshot: build ${buildMs.toFixed(2)} ms, ${JSON.stringify(snap).length} bytes of JSON; install ${installMs.toFixed(2)} ms`);
    store.close();
    other.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
