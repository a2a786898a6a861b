import type { BenchResult } from '../../node-app/bench/run';
import type { IdleRoomsResult } from '../../node-app/bench/workloads/idle-rooms';
import {
  closedLoopRows,
  compareRates,
  cpuPerDeliveryRatio,
  cpuPerDeliveryRows,
  highestSustainedRate,
  idleMeetsTarget,
  mergedFanout,
  verdict,
} from '../../node-app/bench/report/summary';

function step(system: string, rate: number, p99: number, opts: { complete?: boolean; inOrder?: boolean } = {}) {
  return {
    system,
    offeredRate: rate,
    drained: true,
    figures: {
      complete: opts.complete ?? true,
      inOrder: opts.inOrder ?? true,
      missingDeliveries: opts.complete === false ? 5 : 0,
      expectedDeliveries: 100,
      sendErrors: 0,
      senderOrderViolations: opts.inOrder === false ? 1 : 0,
      roomOrderViolations: 0,
      e2e: { p50Ms: p99 / 10, p99Ms: p99 },
    },
  };
}

function result(fanout: ReturnType<typeof step>[]): BenchResult {
  return { config: { systems: ['ours', 'socketio', 'ws'] }, fanout } as unknown as BenchResult;
}

describe('benchmark summary', () => {
  test('repeated runs report the lowest p99 but are complete only if every run was', () => {
    const [m] = mergedFanout(result([step('ours', 100, 80), step('ours', 100, 30, { complete: false })]));
    expect(m.figures.e2e.p99Ms).toBe(30);
    expect(m.p99Runs).toEqual([80, 30]);
    expect(m.figures.complete).toBe(false);
    expect(m.figures.missingDeliveries).toBe(5);
  });

  test('the sustained rate is the highest rate delivered completely, in order, with p99 under 100 ms', () => {
    const r = result([step('ours', 100, 20), step('ours', 200, 90), step('ours', 500, 150), step('socketio', 100, 10), step('socketio', 200, 95, { inOrder: false })]);
    expect(highestSustainedRate(r, 'ours')).toBe(200);
    expect(highestSustainedRate(r, 'socketio')).toBe(100);
  });

  test('the target fails where our p99 is worse than Socket.IO\'s and names the ratio', () => {
    const r = result([step('ours', 100, 20), step('socketio', 100, 10), step('ours', 200, 50), step('socketio', 200, 60)]);
    const rows = compareRates(r);
    expect(rows.map((x) => [x.rate, x.p99RatioVsSocketio, x.meetsTarget])).toEqual([[100, 2, false], [200, 0.83, true]]);
    expect(verdict(r).shortfalls[0]).toContain('at 100 msg/s our p99 20 ms is 2x');
  });
});

describe('summary of the closed loop, CPU per delivery and idle rooms', () => {
  const run = (system: string, extra: Record<string, unknown>, figures: Record<string, unknown> = {}) => ({
    system,
    drained: true,
    senders: 30,
    offeredRate: 500,
    figures: { complete: true, inOrder: true, ...figures },
    ...extra,
  });

  test('CPU per delivery compares the medians of the runs, ours over Socket.IO, against 1.3x', () => {
    const r = {
      cpuPerDelivery: [
        run('ours', { cpuMicrosPerDelivery: 30 }),
        run('ours', { cpuMicrosPerDelivery: 90 }),
        run('ours', { cpuMicrosPerDelivery: 20 }),
        run('socketio', { cpuMicrosPerDelivery: 20 }),
        run('socketio', { cpuMicrosPerDelivery: 10 }),
      ],
    } as unknown as BenchResult;
    expect(cpuPerDeliveryRows(r).map((x) => [x.system, x.microsPerDelivery])).toEqual([['ours', 30], ['socketio', 15]]);
    expect(cpuPerDeliveryRatio(r)).toEqual({ ratio: 2, meetsTarget: false });
  });

  test('the closed loop reports its best run but meets the target only if every run was complete and in order', () => {
    const r = {
      closedLoop: [run('ours', { ackedMsgsPerSec: 3500 }), run('ours', { ackedMsgsPerSec: 3100 }, { inOrder: false }), run('socketio', { ackedMsgsPerSec: 9000 })],
    } as unknown as BenchResult;
    const [ours] = closedLoopRows(r);
    expect(ours.best.ackedMsgsPerSec).toBe(3500);
    expect(ours.ackedRuns).toEqual([3500, 3100]);
    expect(ours.meetsTarget).toBe(false);
  });

  test('idle rooms meet the target when the busiest node is at most 5 % of a core and every room still delivers', () => {
    const idle = (maxNodeIdlePct: number, complete = true) => ({ maxNodeIdlePct, probe: { complete, inOrder: true } }) as unknown as IdleRoomsResult;
    expect(idleMeetsTarget(idle(4.9))).toBe(true);
    expect(idleMeetsTarget(idle(5.1))).toBe(false);
    expect(idleMeetsTarget(idle(1, false))).toBe(false);
  });
});
