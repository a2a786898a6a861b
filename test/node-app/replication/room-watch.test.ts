import { ManualClock } from '../../../node-app/src/replication/clock';
import { RoomWatch } from '../../../node-app/src/replication/room-watch';

describe('RoomWatch', () => {
  test('resolves true once the condition holds after a notify of that room, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const w = new RoomWatch(clock);
    let v = 0;
    const p = w.waitFor('r', 1000, () => v >= 2);
    v = 2;
    w.notify('other');
    clock.advance(10);
    w.notify('r');
    await expect(p).resolves.toBe(true);
    expect(clock.pending).toBe(0);
  });

  test('resolves with the condition at the deadline, on the injected clock', async () => {
    const clock = new ManualClock();
    const w = new RoomWatch(clock);
    const p = w.waitFor('r', 500, () => false);
    let settled = false;
    void p.then(() => (settled = true));
    clock.advance(499);
    await Promise.resolve();
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(p).resolves.toBe(false);
  });

  test('cancel resolves false at once; a condition already true or a zero timeout answers without waiting', async () => {
    const clock = new ManualClock();
    const w = new RoomWatch(clock);
    const x = w.watch('r', 1000, () => false);
    x.cancel();
    await expect(x.promise).resolves.toBe(false);
    expect(clock.pending).toBe(0);
    await expect(w.waitFor('r', 1000, () => true)).resolves.toBe(true);
    await expect(w.waitFor('r', 0, () => false)).resolves.toBe(false);
  });
});
