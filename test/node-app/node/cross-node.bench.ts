/**
 * Cross-node throughput and latency of three local nodes, and what the peer link costs per message.
 * Run after a build:  node dist/test/node-app/node/cross-node.bench.js [--messages N] [--clients C] [--rooms R] [--window W] [--samples S]
 * (BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the nodes; REPLICATION=off measures the node without issue 6.)
 *
 * Workloads (each on a fresh three-node cluster on 127.0.0.1, ports 20040-20052):
 *  1. latency: one sender on node2 in a room administered by node1, one receiver on node3;
 *     sequential sends: send -> own message_sent (ack) and send -> receipt on node3 (delivery).
 *  2. throughput: C clients spread over the three nodes in R rooms (admins on different nodes),
 *     each keeping up to W sends unacknowledged; messages sequenced per second and frames delivered.
 *  3. cost: the same throughput run once with every client on the rooms' admin node (no peer link in
 *     the path) and once spread; node CPU time (utime+stime from /proc) per message of each, the
 *     difference being what the peer link path costs per message.
 */
import { readFileSync } from 'node:fs';
import { startLocalCluster, type LocalCluster } from '../../../node-app/src/cluster/local-cluster';
import { intOptions } from '../../support/bench-args';
import { TestClient } from '../../support/ws-client';

const { messages: MESSAGES, clients: CLIENTS, rooms: ROOMS, window: WINDOW, samples: LAT_SAMPLES } = intOptions({
  messages: 3000,
  clients: 12,
  rooms: 3,
  window: 8,
  samples: 500,
});

const TICKS = 100; // USER_HZ on Linux
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(parts[11]) + Number(parts[12])) * 1000) / TICKS;
}
const clusterCpu = (c: LocalCluster) => c.nodes.reduce((s, n) => s + cpuMs(n.pid), 0);

/** Sums a metric family over all nodes' /metrics. */
async function metricSum(c: LocalCluster, name: string): Promise<number> {
  let total = 0;
  for (const n of c.nodes) {
    const text = await (await fetch(n.wsUrl.replace('ws:', 'http:') + '/metrics')).text();
    for (const line of text.split('\n')) {
      if (line.startsWith(name + '{') || line.startsWith(name + ' ')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(2)} / p50 ${q(0.5).toFixed(2)} / p95 ${q(0.95).toFixed(2)} / p99 ${q(0.99).toFixed(2)} / max ${s[s.length - 1].toFixed(2)} ms`;
}

async function withCluster<T>(base: number, fn: (c: LocalCluster) => Promise<T>): Promise<T> {
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : undefined;
  const c = await startLocalCluster({ wsBasePort: base, rpcBasePort: base + 100, env: { LOG_LEVEL: 'warn' }, nodeArgs });
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

async function latency(c: LocalCluster) {
  const admin = await TestClient.connect(c.nodes[0].wsUrl);
  const sender = await TestClient.connect(c.nodes[1].wsUrl);
  const receiver = await TestClient.connect(c.nodes[2].wsUrl);
  const room = (await admin.request('create_room', { room_name: 'lat', creator_id: 'a' }, ['room_created'])).data.room_id;
  await sender.request('join_room', { room_id: room, username: 's' }, ['join_room_success']);
  await receiver.request('join_room', { room_id: room, username: 'r' }, ['join_room_success']);
  const ack: number[] = [];
  const delivery: number[] = [];
  for (let i = 0; i < LAT_SAMPLES + 50; i++) {
    const t0 = performance.now();
    const from = receiver.frames.length;
    await sender.request('send_message', { room_id: room, username: 's', content: `m${i}` }, ['message_sent'], 10_000);
    const t1 = performance.now();
    await receiver.wait((f) => f.type === 'new_message' && f.data.content === `m${i}`, 10_000, from);
    const t2 = performance.now();
    if (i >= 50) {
      ack.push(t1 - t0);
      delivery.push(t2 - t0);
    }
    // Drop what we no longer need so lookups stay O(1).
    sender.frames.length = 0;
    receiver.frames.length = 0;
  }
  for (const x of [admin, sender, receiver]) await x.close();
  console.log(`latency (sender node2 -> admin node1 -> receiver node3, ${LAT_SAMPLES} sequential sends after 50 warm-up):`);
  console.log(`  ack (send -> own message_sent):   ${stats(ack)}`);
  console.log(`  delivery (send -> other node):    ${stats(delivery)}`);
}

async function throughput(c: LocalCluster, spread: boolean) {
  const rooms: string[] = [];
  const setup: TestClient[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const a = await TestClient.connect(c.nodes[r % 3].wsUrl);
    setup.push(a);
    rooms.push((await a.request('create_room', { room_name: `tp${r}`, creator_id: 'o' }, ['room_created'])).data.room_id);
  }
  const members: Array<{ c: TestClient; room: string; user: string; node: number }> = [];
  for (let i = 0; i < CLIENTS; i++) {
    const r = i % ROOMS;
    const node = spread ? (i + Math.floor(i / ROOMS)) % 3 : r % 3;
    const cl = await TestClient.connect(c.nodes[node].wsUrl);
    await cl.request('join_room', { room_id: rooms[r], username: `u${i}` }, ['join_room_success']);
    members.push({ c: cl, room: rooms[r], user: `u${i}`, node });
  }
  const perClient = Math.ceil(MESSAGES / CLIENTS);
  const perRoom = perClient * (CLIENTS / ROOMS);
  const sentAt = new Map<string, number>();
  const deliveryLat: number[] = [];
  let received = 0;
  let malformed = 0;
  for (const m of members) {
    m.c.ws.on('message', (raw) => {
      const text = raw.toString();
      let f: any;
      try {
        f = JSON.parse(text);
      } catch {
        malformed++;
        return;
      }
      if (f.type === 'new_message') {
        received++;
        const t = sentAt.get(f.data.content);
        if (t !== undefined && f.data.username !== m.user) deliveryLat.push(performance.now() - t);
      }
    });
  }
  const posted0 = await metricSum(c, 'swarmchat_peer_stream_posted_total');
  const batches0 = await metricSum(c, 'swarmchat_peer_stream_batches_total');
  const calls0 = await metricSum(c, 'swarmchat_peer_calls_total');
  const cpu0 = clusterCpu(c);
  const t0 = performance.now();
  await Promise.all(
    members.map(async (m) => {
      let sent = 0;
      let acked = 0;
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (sent < perClient && sent - acked < WINDOW) {
            const content = `${m.user}:${sent++}`;
            sentAt.set(content, performance.now());
            m.c.send('send_message', { room_id: m.room, username: m.user, content });
          }
        };
        m.c.ws.on('message', (raw) => {
          if (raw.toString().startsWith('{"type":"message_sent"')) {
            acked++;
            if (acked === perClient) resolve();
            else pump();
          }
        });
        pump();
      });
    }),
  );
  const expected = CLIENTS * perRoom;
  const deadline = Date.now() + 30_000;
  while (received < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const secs = (performance.now() - t0) / 1000;
  const cpu = clusterCpu(c) - cpu0;
  const total = perClient * CLIENTS;
  const posted = (await metricSum(c, 'swarmchat_peer_stream_posted_total')) - posted0;
  const batches = (await metricSum(c, 'swarmchat_peer_stream_batches_total')) - batches0;
  const httpCalls = (await metricSum(c, 'swarmchat_peer_calls_total')) - calls0;
  for (const x of [...setup, ...members.map((m) => m.c)]) x.ws.terminate();
  const label = spread ? 'spread over 3 nodes (cross-node)' : 'all on the admin node (no peer link)';
  console.log(`throughput, ${CLIENTS} clients ${label}, ${ROOMS} rooms, window ${WINDOW}, ${total} messages:`);
  console.log(`  ${(total / secs).toFixed(0)} msg/s sequenced, ${(received / secs).toFixed(0)} frames/s delivered (${received}/${expected}), ${malformed} malformed`);
  console.log(`  delivery latency to other members: ${stats(deliveryLat)}`);
  console.log(`  peer link: ${posted} stream items in ${batches} batches (${batches ? (posted / batches).toFixed(1) : '-'} per batch), ${httpCalls} HTTP calls = ${(httpCalls / total).toFixed(2)} per message`);
  console.log(`  node CPU: ${cpu.toFixed(0)} ms total = ${((cpu * 1000) / total).toFixed(0)} µs per message (all 3 nodes)`);
  return (cpu * 1000) / total;
}

async function main() {
  console.log(`cross-node benchmark, node ${process.version}, ${new Date().toISOString()}`);
  await withCluster(20040, latency);
  const local = await withCluster(20043, (c) => throughput(c, false));
  const spread = await withCluster(20046, (c) => throughput(c, true));
  console.log(`peer link path: about ${(spread - local).toFixed(0)} µs of node CPU per message (spread minus local)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
