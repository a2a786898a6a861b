import type { BenchResult } from '../../node-app/bench/run';
import { compareRates, highestSustainedRate, mergedFanout, verdict } from '../../node-app/bench/report/summary';

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
