/**
 * CI smoke of the benchmark: one small step of each workload against each system, so the harness
 * never rots. It checks that every delivery was checked and figures were produced, not speed.
 * Spawns compiled servers from dist/ (run `npm run build` first).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeResults } from '../../node-app/bench/cli';
import { BenchResult, runBench, SMOKE_CONFIG } from '../../node-app/bench/run';
import { closedLoopRows, cpuPerDeliveryRatio, verdict } from '../../node-app/bench/report/summary';

jest.setTimeout(180_000);

let result: BenchResult;
const lines: string[] = [];

beforeAll(async () => {
  result = await runBench(SMOKE_CONFIG, (l) => lines.push(l));
}, 170_000);

const systems = SMOKE_CONFIG.systems;

test('every system ran every workload without errors', () => {
  expect(result.errors).toEqual([]);
  for (const s of systems) {
    for (const runs of [result.fanout, result.cpuPerDelivery, result.closedLoop, result.idleRooms, result.manyRooms, result.connections]) {
      expect(runs.filter((r) => r.system === s)).toHaveLength(1);
    }
  }
});

const membersPerMessage: Record<string, number> = {
  fanout: SMOKE_CONFIG.fanout.members,
  'cpu-per-delivery': SMOKE_CONFIG.fanout.members,
  'closed-loop': SMOKE_CONFIG.closedLoop.senders,
  'many-rooms': SMOKE_CONFIG.manyRooms.membersPerRoom,
};

test.each(systems)('%s: fan-out, CPU per delivery, closed loop and many-rooms deliver every message to every member, in order, with figures', (s) => {
  const runs = [...result.fanout, ...result.cpuPerDelivery, ...result.closedLoop, ...result.manyRooms].filter((x) => x.system === s);
  expect(runs).toHaveLength(4);
  for (const r of runs) {
    const f = r.figures;
    expect(f.sent).toBeGreaterThan(0);
    expect(f.expectedDeliveries).toBe(f.sent * membersPerMessage[r.workload]);
    // Every delivery went through the checker: the latency histogram saw each one.
    expect(f.deliveries).toBe(f.expectedDeliveries);
    expect(f.e2e.count).toBe(f.deliveries);
    expect(f.ack.count).toBe(f.sent);
    expect(f).toMatchObject({ complete: true, inOrder: true, misrouted: 0, sendErrors: 0 });
    expect(r.drained).toBe(true);
    expect(f.e2e.p99Ms).toBeGreaterThan(0);
    expect(f.e2e.maxMs).toBeGreaterThanOrEqual(f.e2e.p99Ms);
    expect(r.cpuMicrosPerDelivery).toBeGreaterThan(0);
    expect(r.loadGenCpuPctOfCore).toBeGreaterThan(0);
    expect(r.protocolErrors).toBe(0);
    // Our nodes count their node-to-node calls (every message is at least appended to a follower).
    if (s === 'ours') expect(r.peerCallsPerMessage).toBeGreaterThan(0);
    else expect(r.peerCallsPerMessage).toBeNaN();
  }
});

test.each(systems)('%s: the closed loop keeps one message in flight per sender and reports acknowledged msg/s', (s) => {
  const r = result.closedLoop.find((x) => x.system === s)!;
  expect(r.mode).toBe('closed');
  expect(r.senders).toBe(SMOKE_CONFIG.closedLoop.senders);
  // Every sender sent more than once: each ack released its next message.
  expect(r.figures.sent).toBeGreaterThan(2 * SMOKE_CONFIG.closedLoop.senders);
  expect(r.figures.acked).toBe(r.figures.sent);
  expect(r.ackedMsgsPerSec).toBeGreaterThan(0);
  expect(closedLoopRows(result).find((x) => x.system === s)!.completeInOrder).toBe(true);
});

test.each(systems)('%s: idle rooms report CPU per server process and every room still delivers afterwards', (s) => {
  const r = result.idleRooms.find((x) => x.system === s)!;
  const { rooms, membersPerRoom } = SMOKE_CONFIG.idleRooms;
  expect(r.clients).toBe(rooms * membersPerRoom);
  expect(Object.keys(r.idlePctByProcess).sort()).toEqual(Object.keys(r.baselinePctByProcess).sort());
  for (const v of Object.values(r.idlePctByProcess)) expect(v).toBeGreaterThanOrEqual(0);
  expect(Number.isFinite(r.maxNodeIdlePct)).toBe(true);
  expect(r.probe).toMatchObject({ sent: rooms, expectedDeliveries: rooms * membersPerRoom, deliveries: rooms * membersPerRoom, complete: true, inOrder: true, drained: true });
  expect(r.protocolErrors).toBe(0);
});

test('CPU per delivery gives an ours / Socket.IO ratio', () => {
  expect(cpuPerDeliveryRatio(result).ratio).toBeGreaterThan(0);
});

test.each(systems)('%s: the connections workload held its idle clients and measured memory', (s) => {
  const c = result.connections.find((x) => x.system === s)!;
  expect(c.maxHeld).toBe(SMOKE_CONFIG.connections.levels[0]);
  expect(c.baselineRssBytes).toBeGreaterThan(0);
  expect(Number.isFinite(c.levels[0].bytesPerConnection)).toBe(true);
  expect(c.levels[0].probeMs).toBeGreaterThan(0);
});

test('the report is written as JSON, Markdown with every system, and an SVG chart', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
  try {
    const out = writeResults(result, dir);
    const json = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as BenchResult;
    expect(json.machine.cores).toBeGreaterThan(0);
    const md = readFileSync(path.join(out, 'result.md'), 'utf8');
    for (const name of ['swarm-chat', 'Socket.IO+Redis', 'raw ws']) expect(md).toContain(`| ${name} | ${SMOKE_CONFIG.fanout.rates[0]} |`);
    expect(md).toContain('### Ratios');
    for (const section of ['## Server CPU per delivery', '## Closed loop', '## Idle rooms', '## Many rooms', '## Connections']) expect(md).toContain(section);
    const svg = readFileSync(path.join(out, 'latency.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('<circle');
    expect(verdict(result).sustained).toHaveProperty('ours');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every server process the run started has been stopped', () => {
  const pids = Object.values(result.systems).flatMap((s) => s.pids);
  expect(Object.keys(result.systems).sort()).toEqual([...systems].sort());
  for (const s of Object.values(result.systems)) expect(s.pids.length).toBeGreaterThan(0);
  expect(pids.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
});

test('socket.io-client itself gets the same complete, in-order fan-out as the wire client the bench uses', async () => {
  const lib = await runBench({ ...SMOKE_CONFIG, systems: ['socketio'], workloads: ['fanout'], socketioLibraryClient: true });
  expect(lib.errors).toEqual([]);
  const [r] = lib.fanout;
  expect(r.figures).toMatchObject({ complete: true, inOrder: true });
  expect(r.figures.deliveries).toBe(r.figures.sent * SMOKE_CONFIG.fanout.members);
  expect(r.figures.ack.count).toBe(r.figures.sent);
});
