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
import { verdict } from '../../node-app/bench/report/summary';

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
    expect(result.fanout.filter((r) => r.system === s)).toHaveLength(1);
    expect(result.manyRooms.filter((r) => r.system === s)).toHaveLength(1);
    expect(result.connections.filter((r) => r.system === s)).toHaveLength(1);
  }
});

test.each(systems)('%s: fan-out and many-rooms deliver every message to every member, in order, with figures', (s) => {
  for (const r of [...result.fanout, ...result.manyRooms].filter((x) => x.system === s)) {
    const f = r.figures;
    expect(f.sent).toBeGreaterThan(0);
    expect(f.expectedDeliveries).toBe(f.sent * (r.workload === 'fanout' ? SMOKE_CONFIG.fanout.members : SMOKE_CONFIG.manyRooms.membersPerRoom));
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
  }
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
  expect(pids.length).toBeGreaterThanOrEqual(systems.length * 3);
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
