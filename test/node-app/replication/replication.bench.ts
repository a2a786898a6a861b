/**
 * What replication costs and how fast it recovers, measured (not asserted).
 * Run after a build:  node dist/test/node-app/replication/replication.bench.js [--messages N] [--rounds R] [--seed S]
 *   [--only store,commit,failover,catchup] [--sync full,inline,normal]
 *
 *  1. store: batched appends per second into SQLite, each batch waited on until durable (REPL_SYNC
 *     full: off-loop WAL sync; inline: fsync in the commit; normal: none), one-entry commits
 *     waited on the same way with the process CPU each costs, and the time to read one
 *     100-message history page from a 100 000-message room;
 *  2. commit: three replicas (real peer servers and links on 127.0.0.1, own SQLite files):
 *     sequential submit latency through a follower and through the admin, and pipelined
 *     throughput with 32 requests in flight, for FULL and NORMAL;
 *  3. failover: R rounds of "crash the admin, submit through a survivor": time until the first
 *     write commits again (detection + election + commit), with the default timeouts;
 *  4. catch-up: a replica down while N messages are written, then restarted: time until it has
 *     caught up and applied everything;
 *  5. idle: 1000 rooms (--idle-rooms), admins spread over three replicas on the real wire (production
 *     timings), nobody writing: CPU of the process (all three replicas) over 10 s, as a share of one core per node.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Durability, LogEntry, RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import { waitFor } from '../../support/wait';
import { ReplicaSet } from './replica-set';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MESSAGES = arg('messages', 2000);
const ROUNDS = arg('rounds', 8);
const SEED = arg('seed', 1);
const list = (name: string, def: string[]) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1].split(',') : def;
};
const ONLY = new Set(list('only', ['store', 'commit', 'failover', 'catchup', 'idle']));
const IDLE_ROOMS = arg('idle-rooms', 1000);
const SYNCS = list('sync', ['full', 'inline', 'normal']) as Durability[];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

const durable = (store: RoomLogStore) => new Promise<void>((resolve, reject) => store.whenDurable((err) => (err ? reject(err) : resolve())));

async function storeBench(): Promise<void> {
  for (const sync of SYNCS) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'repl-bench-store-'));
    const store = RoomLogStore.open({ dir, synchronous: sync });
    const room = randomUUID();
    const batch = 100;
    const total = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < total; i += batch) {
      const entries: LogEntry[] = [];
      for (let k = 1; k <= batch; k++) {
        const idx = i + k;
        entries.push({ idx, term: 1, kind: 'message', data: { message_id: randomUUID(), username: 'u', content: 'x'.repeat(100), seq: idx, timestamp: 't' } });
      }
      store.transaction(() => {
        store.append(room, entries);
        store.commit(room, i + batch);
      });
      await durable(store);
    }
    const ms = performance.now() - t0;
    const singleT0 = performance.now();
    const cpu0 = process.cpuUsage();
    const singles = 1000;
    for (let k = 1; k <= singles; k++) {
      const idx = total + k;
      store.append(room, [{ idx, term: 1, kind: 'message', data: { message_id: randomUUID(), username: 'u', content: 'x', seq: idx, timestamp: 't' } }]);
      await durable(store);
    }
    const singleMs = (performance.now() - singleT0) / singles;
    const cpu = process.cpuUsage(cpu0);
    console.log(`store ${sync}: ${fmt((total / ms) * 1000)} entries/s in batches of ${batch} (${fmt(ms / (total / batch))} ms per durable batch); ` +
      `one entry per durable transaction: ${fmt(singleMs * 1000)} µs, process CPU ${fmt(cpu.user / singles)} µs user + ${fmt(cpu.system / singles)} µs system`);
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const store = RoomLogStore.open({ file: ':memory:' });
  const room = randomUUID();
  const n = 100_000;
  store.transaction(() => {
    for (let i = 0; i < n; i += 1000) {
      const entries: LogEntry[] = [];
      for (let k = 1; k <= 1000; k++) entries.push({ idx: i + k, term: 1, kind: 'message', data: { message_id: randomUUID(), username: 'u', content: 'hello', seq: i + k, timestamp: 't' } });
      store.append(room, entries);
    }
    store.commit(room, n);
  });
  const reads = 2000;
  const t0 = performance.now();
  let got = 0;
  for (let r = 0; r < reads; r++) got += store.history(room, { beforeSeq: 1 + ((r * 7919) % n), limit: 100 }).length;
  const ms = (performance.now() - t0) / reads;
  console.log(`history page (100 messages before a random seq in a ${n}-message room): ${fmt(ms * 1000)} µs per page (${got} rows read)`);
  store.close();
}

async function commitBench(sync: Durability): Promise<void> {
  const set2 = new ReplicaSet(['node1', 'node2', 'node3'], {}, SEED, sync);
  await set2.start();
  try {
    const room = randomUUID();
    const a = set2.node('node1');
    await a.repl.createRoom(room, { room_name: 'bench', description: null, creator_id: 'u', created_at: 't' });
    await a.repl.submit(room, 'join', { username: 'u', node_id: 'node1' });
    for (const [label, via] of [['via admin', 'node1'], ['via follower', 'node2']] as const) {
      const n = set2.node(via);
      const lat: number[] = [];
      for (let i = 0; i < Math.min(500, MESSAGES); i++) {
        const t0 = performance.now();
        await n.repl.submit(room, 'message', { message_id: randomUUID(), username: 'u', content: `m${i}` });
        lat.push(performance.now() - t0);
      }
      console.log(`commit ${sync}, sequential ${label}: p50 ${fmt(pct(lat, 0.5))} ms, p99 ${fmt(pct(lat, 0.99))} ms (${lat.length} messages, majority of 3 on disk before each ack)`);
    }
    const window = 32;
    let sent = 0;
    const st0 = { ...a.repl.stats };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const worker = async (n: (typeof set2.nodes)[number]) => {
      while (sent < MESSAGES) {
        sent++;
        await n.repl.submit(room, 'message', { message_id: randomUUID(), username: 'u', content: 'x'.repeat(100) });
      }
    };
    await Promise.all(Array.from({ length: window }, (_, i) => worker(set2.nodes[i % 3])));
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const st = a.repl.stats;
    const calls = st.replCalls - st0.replCalls;
    const entries = st.entriesSent - st0.entriesSent;
    console.log(`commit ${sync}, ${window} in flight over 3 nodes: ${fmt(MESSAGES / s)} messages/s committed; `
      + `CPU (all 3 replicas, one process) ${fmt(((cpu.user + cpu.system) / 1000) / MESSAGES * 1000)} µs per message; `
      + `admin sent ${calls} replication calls carrying ${entries} entries (${fmt(entries / Math.max(1, calls))} per call), ${st.flushes - st0.flushes} local flushes`);
  } finally {
    await set2.close();
  }
}

async function failoverBench(): Promise<void> {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Production timeouts (heartbeat 100 ms, election 700 ms + 300 ms × rank + jitter ≤ 100 ms).
    const set = new ReplicaSet(['node1', 'node2', 'node3'], { heartbeatMs: 100, electionBaseMs: 700, electionStepMs: 300, electionJitterMs: 100, callTimeoutMs: 600 }, SEED + r);
    await set.start();
    try {
      const room = randomUUID();
      await set.node('node1').repl.createRoom(room, { room_name: 'f', description: null, creator_id: 'u', created_at: 't' });
      await set.node('node1').repl.submit(room, 'join', { username: 'u', node_id: 'node1' });
      await waitFor('followers know the room', () => set.nodes.every((n) => n.repl.adminOf(room) === 'node1'), 3000);
      await new Promise((res) => setTimeout(res, 150 + r * 37));
      const t0 = performance.now();
      await set.crash('node1');
      await set.node('node2').repl.submit(room, 'message', { message_id: randomUUID(), username: 'u', content: 'after' });
      times.push(performance.now() - t0);
    } finally {
      await set.close();
    }
  }
  console.log(`failover (admin crashed, write through a survivor, default timeouts), ${ROUNDS} rounds: p50 ${fmt(pct(times, 0.5))} ms, max ${fmt(Math.max(...times))} ms`);
}

async function catchUpBench(): Promise<void> {
  const set = new ReplicaSet(['node1', 'node2', 'node3'], {}, SEED);
  await set.start();
  try {
    const room = randomUUID();
    await set.node('node1').repl.createRoom(room, { room_name: 'c', description: null, creator_id: 'u', created_at: 't' });
    await set.node('node1').repl.submit(room, 'join', { username: 'u', node_id: 'node1' });
    await waitFor('node3 knows the room', () => set.node('node3').repl.knowsRoom(room), 3000);
    await set.crash('node3');
    const n = MESSAGES * 2;
    let sent = 0;
    const worker = async () => {
      while (sent < n) {
        sent++;
        await set.node('node1').repl.submit(room, 'message', { message_id: randomUUID(), username: 'u', content: 'x'.repeat(100) });
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const t0 = performance.now();
    const back = await set.restart('node3');
    await back.repl.waitCaughtUp(room, 30_000);
    await waitFor('all applied', () => back.store.history(room, { limit: 1 })[0]?.sequence_number === n, 30_000, 5);
    const ms = performance.now() - t0;
    console.log(`catch-up: a replica that missed ${n} messages is caught up ${fmt(ms)} ms after its restart (${fmt((n / ms) * 1000)} entries/s)`);
  } finally {
    await set.close();
  }
}

async function idleBench(): Promise<void> {
  const set = new ReplicaSet(['node1', 'node2', 'node3'], { heartbeatMs: 100, electionBaseMs: 700, electionStepMs: 300, electionJitterMs: 100, callTimeoutMs: 600 }, SEED, 'full');
  await set.start();
  try {
    for (let i = 0; i < IDLE_ROOMS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, IDLE_ROOMS - i) }, (_, k) =>
        set.nodes[(i + k) % 3].repl.createRoom(randomUUID(), { room_name: `idle${i + k}`, description: null, creator_id: 'u', created_at: 't' })));
    }
    await new Promise((res) => setTimeout(res, 2000));
    const calls0 = set.nodes.reduce((n, x) => n + x.repl.stats.replCalls, 0);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((res) => setTimeout(res, 10_000));
    const cpu = process.cpuUsage(cpu0);
    const ms = performance.now() - t0;
    const calls = set.nodes.reduce((n, x) => n + x.repl.stats.replCalls, 0) - calls0;
    const share = ((cpu.user + cpu.system) / 1000 / ms / 3) * 100;
    console.log(`idle: ${IDLE_ROOMS} rooms, nobody writing: ${fmt(share)} % of a core per node (three replicas in one process, ${fmt(ms)} ms); ${fmt((calls / ms) * 1000)} replication calls/s in all`);
  } finally {
    await set.close();
  }
}

async function main(): Promise<void> {
  console.log(`replication bench (seed ${SEED}, ${os.cpus().length} cores, node ${process.version})`);
  if (ONLY.has('store')) await storeBench();
  if (ONLY.has('commit')) for (const sync of SYNCS) await commitBench(sync);
  if (ONLY.has('failover')) await failoverBench();
  if (ONLY.has('catchup')) await catchUpBench();
  if (ONLY.has('idle')) await idleBench();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
