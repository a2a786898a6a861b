import { RequestQueue } from '../../../node-app/src/limits/request-queue';

function queue(over: Partial<ConstructorParameters<typeof RequestQueue>[0]> = {}) {
  const events: string[] = [];
  const q = new RequestQueue({
    pauseAt: 8,
    hardMax: 16,
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
    onError: (err) => events.push(`error ${(err as Error).message}`),
    ...over,
  });
  return { q, events };
}

const drained = (q: RequestQueue) =>
  new Promise<void>((resolve) => {
    const check = () => (q.size === 0 ? resolve() : setImmediate(check));
    check();
  });

it('handles requests one after another, in order, also when they wait', async () => {
  const { q } = queue({ hardMax: 100 });
  const order: number[] = [];
  for (let i = 0; i < 10; i++) {
    q.push(async () => {
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 1));
      order.push(i);
    });
  }
  await drained(q);
  expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

it('yields to the rest of the node between batches instead of running a burst in one turn', async () => {
  const { q } = queue({ pauseAt: 10_000, hardMax: 10_000, perTurn: 16, sliceMs: 1000 });
  let handled = 0;
  for (let i = 0; i < 1000; i++) q.push(() => void handled++);
  // Another connection's work, scheduled after the burst arrived: it must run before the burst is done.
  const seenByOther = await new Promise<number>((resolve) => setImmediate(() => resolve(handled)));
  expect(seenByOther).toBeLessThan(1000);
  expect(seenByOther).toBeGreaterThan(0);
  await drained(q);
  expect(handled).toBe(1000);
});

it('refuses beyond hardMax, pauses reading at pauseAt and resumes at a quarter of it', async () => {
  const { q, events } = queue();
  const accepted = Array.from({ length: 20 }, () => q.push(() => undefined));
  expect(accepted.filter(Boolean)).toHaveLength(16);
  expect(events).toEqual(['pause']);
  await drained(q);
  expect(events).toEqual(['pause', 'resume']);
});

it('reports a handler that throws and goes on with the next request', async () => {
  const { q, events } = queue();
  const done: number[] = [];
  q.push(() => {
    throw new Error('boom');
  });
  q.push(() => void done.push(2));
  await drained(q);
  expect(events).toEqual(['error boom']);
  expect(done).toEqual([2]);
});

it('drops what is queued once closed', async () => {
  const { q } = queue({ perTurn: 1 });
  const done: number[] = [];
  for (let i = 0; i < 5; i++) q.push(() => void done.push(i));
  q.close();
  await new Promise((r) => setTimeout(r, 5));
  expect(done.length).toBeLessThanOrEqual(1);
  expect(q.push(() => undefined)).toBe(false);
});
