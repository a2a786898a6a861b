import { FailureDetector } from '../../../node-app/src/node/failure-detector';

const tick = () => new Promise((r) => setImmediate(r));

function detector(failures: number, alive: Record<string, boolean>, targets: string[], stillAlive?: (id: string) => boolean) {
  const events: string[] = [];
  const pings: string[] = [];
  const pending: Array<() => void> = [];
  const d = new FailureDetector({
    intervalMs: 1000,
    timeoutMs: 100,
    failures,
    targets: () => targets,
    ping: (id) => {
      pings.push(id);
      if (alive[id] === undefined) return new Promise<void>((resolve) => pending.push(resolve)); // hung
      return alive[id] ? Promise.resolve() : Promise.reject(new Error('down'));
    },
    stillAlive,
    onFailed: (id) => events.push(`failed ${id}`),
    onRecovered: (id) => events.push(`recovered ${id}`),
  });
  return { d, events, pings, pending };
}

describe('heartbeat failure detector', () => {
  it('declares a node failed after the configured consecutive misses, once', async () => {
    const alive = { n2: true, n3: false };
    const { d, events } = detector(3, alive, ['n2', 'n3']);
    for (let i = 0; i < 5; i++) {
      d.round();
      await tick();
    }
    expect(events).toEqual(['failed n3']);
    expect(d.isFailed('n3')).toBe(true);
    expect(d.isFailed('n2')).toBe(false);
  });

  it('reports recovery when a failed node answers again, and a success resets the count', async () => {
    const alive: Record<string, boolean> = { n2: false };
    const { d, events } = detector(2, alive, ['n2']);
    d.round(); await tick();
    alive.n2 = true;
    d.round(); await tick();
    alive.n2 = false;
    d.round(); await tick();
    expect(events).toEqual([]);
    d.round(); await tick();
    expect(events).toEqual(['failed n2']);
    alive.n2 = true;
    d.round(); await tick();
    expect(events).toEqual(['failed n2', 'recovered n2']);
  });

  it('never overlaps pings to a node that has not answered yet', async () => {
    const { d, pings, pending } = detector(2, {}, ['hung']);
    d.round(); await tick();
    d.round(); await tick();
    d.round(); await tick();
    expect(pings).toEqual(['hung']);
    pending.forEach((f) => f());
  });

  it('forgets nodes that no longer hold members', async () => {
    const targets = ['n2'];
    const { d } = detector(1, { n2: false }, targets);
    d.round(); await tick();
    expect(d.isFailed('n2')).toBe(true);
    targets.length = 0;
    d.round(); await tick();
    expect(d.isFailed('n2')).toBe(false);
  });

  it('does not declare a node failed while other evidence says it is alive, and does once that stops', async () => {
    const replicationAnswers: Record<string, boolean> = { n3: true };
    const { d, events } = detector(3, { n3: false }, ['n3'], (id) => replicationAnswers[id]);
    for (let i = 0; i < 6; i++) {
      d.round();
      await tick();
    }
    expect(events).toEqual([]);
    replicationAnswers.n3 = false;
    d.round(); await tick();
    expect(events).toEqual(['failed n3']);
  });
});
