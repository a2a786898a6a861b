import { parseHopCostArgs, renderHopCost, runHopCost } from '../../node-app/bench/hop-cost';

describe('hop cost probe', () => {
  test('measures round trips to a separate echo process, with the CPU and the context switches each cost', async () => {
    const o = { rates: [50], seconds: 0.3, bytes: 200, pin: false };
    const [row] = await runHopCost(o);
    expect(row.rate).toBe(50);
    // 15 paced round trips were sent in the window; every one is answered before it ends.
    expect(row.roundTrips).toBe(15);
    expect(row.callerMicros).toBeGreaterThan(0);
    expect(row.echoMicros).toBeGreaterThan(0);
    // The echo process wakes for every request: at least one switch per round trip.
    expect(row.switches).toBeGreaterThanOrEqual(1);
    expect(renderHopCost(o, [row])).toMatch(/\| 50 \| 15 \| \d+ \(\d+ \+ \d+\) \| \d+\.\d \|/);
  });

  test('options: rates, seconds, bytes and --no-pin are read; anything else is refused by name', () => {
    expect(parseHopCostArgs(['--rates', '20,100', '--seconds', '2', '--bytes', '64', '--no-pin'])).toEqual({
      rates: [20, 100], seconds: 2, bytes: 64, pin: false,
    });
    expect(() => parseHopCostArgs(['--rates', '0'])).toThrow(/--rates needs a comma list of positive numbers, got "0"/);
    expect(() => parseHopCostArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});
