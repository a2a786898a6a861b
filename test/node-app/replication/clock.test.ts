import { ManualClock } from '../../../node-app/src/replication/clock';

describe('ManualClock', () => {
  test('fires timers in due order, each seeing its own due time as now', () => {
    const c = new ManualClock(0);
    const seen: string[] = [];
    c.after(30, () => seen.push(`b@${c.now()}`));
    c.after(10, () => seen.push(`a@${c.now()}`));
    c.after(30, () => seen.push(`c@${c.now()}`));
    c.advance(29);
    expect(seen).toEqual(['a@10']);
    c.advance(100);
    expect(seen).toEqual(['a@10', 'b@30', 'c@30']);
    expect(c.now()).toBe(129);
    expect(c.pending).toBe(0);
  });

  test('repeats `every` timers until cancelled, and fires timers armed while advancing if they fall due', () => {
    const c = new ManualClock(0);
    const ticks: number[] = [];
    const t = c.every(25, () => {
      ticks.push(c.now());
      if (c.now() === 50) c.after(5, () => ticks.push(-c.now()));
    });
    c.advance(100);
    expect(ticks).toEqual([25, 50, -55, 75, 100]);
    t.cancel();
    c.advance(100);
    expect(ticks).toHaveLength(5);
    expect(c.pending).toBe(0);
  });

  test('a cancelled one-shot timer never fires', () => {
    const c = new ManualClock();
    let fired = false;
    c.after(10, () => (fired = true)).cancel();
    c.advance(20);
    expect(fired).toBe(false);
  });
});
