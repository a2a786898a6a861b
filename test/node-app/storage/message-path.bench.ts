/**
 * What the store costs per chat message on the replicated hot path, measured (not asserted): the
 * work each node does for each message (append it in a durable transaction, then commit and apply
 * it), in batches of `--batch` messages per turn, on a file in each durability mode and in memory.
 * Prints CPU µs per message (user + system, this process) and wall µs per message; medians of
 * 5 rounds. The gap between a file and memory is what the disk costs the node's CPU.
 * Run after a build:  node dist/test/node-app/storage/message-path.bench.js [--n N] [--batch B]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type LogEntry, RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import { newMessageId } from '../../../node-app/src/util/message-id';
import { intOptions, median } from '../../support/bench-args';

const { n: N, batch: BATCH } = intOptions({ n: 20_000, batch: 4 });
const ROOM = 'bench-room';

function fill(store: RoomLogStore): number {
  const create: LogEntry = {
    idx: 1, term: 1, kind: 'create',
    data: { room_name: 'bench', creator_id: 'u0', created_at: new Date().toISOString(), admin_node: 'node1', voters: ['node1', 'node2', 'node3'] },
  };
  const joins: LogEntry[] = Array.from({ length: 30 }, (_, k) => ({
    idx: 2 + k, term: 1, kind: 'join' as const, data: { username: `u${k}`, node_id: `node${1 + (k % 3)}`, timestamp: new Date().toISOString() },
  }));
  store.transaction(() => store.append(ROOM, [create, ...joins]));
  store.commit(ROOM, 1 + joins.length);
  return 1 + joins.length;
}

/** One round: N messages in batches, each batch appended durably then committed. */
function round(store: RoomLogStore, start: { idx: number; seq: number }): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < N; done += BATCH) {
    const entries: LogEntry[] = [];
    for (let k = 0; k < BATCH; k++) {
      start.idx++;
      start.seq++;
      entries.push({
        idx: start.idx, term: 1, kind: 'message',
        data: { message_id: newMessageId(), username: `u${k}`, content: 'x'.repeat(64), timestamp: new Date().toISOString(), seq: start.seq },
      });
    }
    store.transaction(() => store.append(ROOM, entries));
    store.commit(ROOM, start.idx);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1000 / N;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / N, wall };
}

function measure(label: string, open: () => RoomLogStore): void {
  const store = open();
  const start = { idx: fill(store), seq: 0 };
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < 5; r++) {
    const m = round(store, start);
    cpu.push(m.cpu);
    wall.push(m.wall);
  }
  console.log(`  ${label.padEnd(22)} cpu ${median(cpu).toFixed(1).padStart(6)} µs/msg   wall ${median(wall).toFixed(1).padStart(6)} µs/msg`);
  store.close();
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'message-path-bench-'));
  try {
    console.log(`store work per message: append (durable) + commit, batches of ${BATCH}, median of 5 x ${N} messages:`);
    measure('file, REPL_SYNC=inline', () => RoomLogStore.open({ dir: path.join(dir, 'inline'), synchronous: 'inline' }));
    measure('file, REPL_SYNC=normal', () => RoomLogStore.open({ dir: path.join(dir, 'normal'), synchronous: 'normal' }));
    measure('memory', () => RoomLogStore.open({ file: ':memory:' }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
