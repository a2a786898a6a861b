import { PeerLink, PeerUnavailableError } from '../../../node-app/src/peers/peer-link';
import { type PeerServer } from '../../../node-app/src/peers/peer-server';
import { renderPeerMetrics } from '../../../node-app/src/peers/peer-stats';
import { XmlRpcFault, type XmlRpcValue } from '../../../node-app/src/peers/xmlrpc-codec';
import { type PyServer, startChildPeerServer, startPyServer, startSilentServer } from './helpers';
import { waitFor } from '../../support/wait';
import { loopbackPeerServer, recorder } from '../../support/peer-server';

const links: PeerLink[] = [];
function link(address: string, opts: Partial<ConstructorParameters<typeof PeerLink>[0]> = {}): PeerLink {
  const l = new PeerLink({ selfId: 'nodeA', peerId: 'nodeB', address, ...opts });
  links.push(l);
  return l;
}
afterEach(() => {
  for (const l of links.splice(0)) l.close();
});

describe('PeerLink against our peer server', () => {
  let server: PeerServer;
  const got: XmlRpcValue[] = [];
  let delayFirstMs = 0;
  let hang = false;
  beforeAll(async () => {
    server = await loopbackPeerServer({
      nodeId: 'nodeB',
      handlers: {
        echo: (p) => p,
        record: async ([x]) => {
          if (delayFirstMs > 0) {
            const d = delayFirstMs;
            delayFirstMs = 0;
            await new Promise((r) => setTimeout(r, d));
          }
          got.push(x);
          return true;
        },
        fault: () => {
          throw new XmlRpcFault(7, 'nope');
        },
        hang: () => (hang ? new Promise<XmlRpcValue>(() => undefined) : true),
      },
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    got.length = 0;
    hang = false;
  });
  const url = () => `http://127.0.0.1:${server.port}`;

  test('call() returns the value and reports the peer up', async () => {
    const l = link(url());
    const ups: string[] = [];
    l.on('up', () => ups.push('up'));
    expect(l.state).toBe('unknown');
    expect(await l.call('echo', ['a', 1, null])).toEqual(['a', 1, null]);
    expect(l.state).toBe('up');
    expect(ups).toEqual(['up']);
  });

  test('a fault rejects with XmlRpcFault and still counts the peer as up', async () => {
    const l = link(url());
    await expect(l.call('fault', [])).rejects.toMatchObject({ faultCode: 7, faultString: 'nope' });
    expect(l.state).toBe('up');
    expect(l.stats.faults).toBe(1);
  });

  test('no call can hang: a handler that never answers times out at the deadline', async () => {
    hang = true;
    const l = link(url(), { callTimeoutMs: 150 });
    const err = await l.call('hang', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerUnavailableError);
    expect((err as PeerUnavailableError).reason).toBe('timeout');
    expect(l.stats.timeouts).toBe(1);
  });

  test('many posts in one tick go in few batch calls, delivered exactly once and in order', async () => {
    const l = link(url(), { maxBatch: 100 });
    const n = 1000;
    for (let i = 0; i < n; i++) l.post('record', [i]);
    expect(l.queued).toBe(n);
    await l.flush();
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(l.stats.batches).toBe(10);
    expect(l.stats.delivered).toBe(n);
    expect(l.stats.calls).toBe(11); // one capability probe + ten batches
  });

  test('interleaved posts and awaits keep their order across batches', async () => {
    const l = link(url(), { maxBatch: 7 });
    let k = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < round % 5 + 1; i++) l.post('record', [k++]);
      if (round % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    await l.flush();
    expect(got).toEqual(Array.from({ length: k }, (_, i) => i));
  });

  test('a batch whose reply is lost is retried and still delivered exactly once, in order', async () => {
    const l = link(url(), { streamTimeoutMs: 100, retryBaseMs: 150, maxAttempts: 5 });
    await l.call('echo', []); // link up
    delayFirstMs = 300; // the first delivery outlives the first attempt's deadline
    for (let i = 0; i < 20; i++) l.post('record', [i]);
    await l.flush();
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(l.stats.timeouts).toBeGreaterThanOrEqual(1);
    expect(server.stats.duplicateItems).toBeGreaterThanOrEqual(1);
    expect(l.stats.dropped).toBe(0);
  });

  test('an item that faults does not stop the items after it', async () => {
    const l = link(url());
    l.post('record', [1]);
    l.post('fault', []);
    l.post('record', [2]);
    await l.flush();
    expect(got).toEqual([1, 2]);
    expect(l.stats.delivered).toBe(3);
    expect(l.stats.faults).toBe(1);
  });

  test('Date, Buffer and non-finite numbers survive the JSON batch encoding', async () => {
    const l = link(url());
    const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    l.post('record', [{ d, b: Buffer.from([0, 1, 255]), n: NaN, i: -Infinity, s: 'plain \u0000-free' }]);
    await l.flush();
    expect(got[0]).toEqual({ d, b: Buffer.from([0, 1, 255]), n: NaN, i: -Infinity, s: 'plain \u0000-free' });
  });

  test('an item that cannot be encoded is dropped alone; the items around it go through in order', async () => {
    for (const batching of [true, false]) {
      got.length = 0;
      const l = link(url(), { batching });
      l.post('record', [1]);
      l.post('record', [batching ? (BigInt(5) as unknown as XmlRpcValue) : 'bad \u0001 control char']);
      l.post('record', [2]);
      await l.flush();
      expect(got).toEqual([1, 2]);
      expect(l.stats.dropped).toBe(1);
      expect(l.state).toBe('up');
    }
  });

  test('batches stay under the byte cap; a single item over it is dropped alone', async () => {
    const l = link(url(), { maxBatchBytes: 100_000 });
    const big = (c: string) => c.repeat(30_000);
    for (const c of ['a', 'b', 'c', 'd', 'e']) l.post('record', [big(c)]);
    l.post('record', ['x'.repeat(200_000)]);
    l.post('record', ['last']);
    await l.flush();
    expect(got).toEqual([big('a'), big('b'), big('c'), big('d'), big('e'), 'last']);
    expect(l.stats.batches).toBeGreaterThanOrEqual(3);
    expect(l.stats.dropped).toBe(1);
  });

  test('two links of one node keep separate streams at the receiver', async () => {
    const a = link(url());
    const b = link(url());
    for (let i = 0; i < 50; i++) {
      a.post('record', [`a${i}`]);
      b.post('record', [`b${i}`]);
    }
    await Promise.all([a.flush(), b.flush()]);
    expect(got.filter((x) => String(x).startsWith('a'))).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
    expect(got.filter((x) => String(x).startsWith('b'))).toEqual(Array.from({ length: 50 }, (_, i) => `b${i}`));
  });

  test('close() drops what is queued and rejects later calls', async () => {
    const l = link(url());
    for (let i = 0; i < 5; i++) l.post('record', [i]);
    l.close();
    await l.flush();
    expect(l.stats.dropped).toBe(5);
    await expect(l.call('echo', [])).rejects.toMatchObject({ reason: 'closed' });
  });

  test('stats render as Prometheus text', async () => {
    const l = link(url());
    await l.call('echo', []);
    const text = renderPeerMetrics([l]);
    expect(text).toContain('swarmchat_peer_calls_total{peer="nodeB"} 1');
    expect(text).toContain('swarmchat_peer_up{peer="nodeB"} 1');
    expect(text).toMatch(/swarmchat_peer_call_duration_seconds_bucket\{peer="nodeB",le="\+Inf"\} 1/);
  });
});

describe('dead and hung peers', () => {
  test('a refused connection fails fast; repeated failures report the peer down', async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.close(); // nothing listens there any more
    const l = link(`http://127.0.0.1:${port}`, { maxAttempts: 2, probeIntervalMs: 60_000 });
    const downs: string[] = [];
    l.on('down', (why: string) => downs.push(why));
    await expect(l.call('echo', [])).rejects.toMatchObject({ reason: 'connect' });
    expect(l.state).toBe('unknown');
    await expect(l.call('echo', [])).rejects.toMatchObject({ reason: 'connect' });
    expect(l.state).toBe('down');
    expect(downs).toHaveLength(1);
  });

  test('the stream queue is bounded: a hung peer makes it overflow, report down and drop, never grow', async () => {
    const silent = await startSilentServer();
    try {
      const l = link(`http://127.0.0.1:${silent.port}`, { maxQueue: 50, callTimeoutMs: 5000, probeIntervalMs: 60_000 });
      const downs: string[] = [];
      l.on('down', (why: string) => downs.push(why));
      let maxQueued = 0;
      for (let i = 0; i < 200; i++) {
        l.post('record', [i]);
        maxQueued = Math.max(maxQueued, l.queued);
      }
      expect(maxQueued).toBe(50);
      expect(l.state).toBe('down');
      expect(downs[0]).toMatch(/overflow/);
      expect(l.queued).toBe(0);
      expect(l.stats.dropped).toBe(200);
    } finally {
      await silent.close();
    }
  });
});

describe('a SIGSTOPped peer process never blocks the caller or other peers', () => {
  let stopped: PyServer;
  let healthy: PeerServer;
  const healthyGot: XmlRpcValue[] = [];
  beforeAll(async () => {
    stopped = await startPyServer();
    healthy = await loopbackPeerServer({
      handlers: {
        record: recorder(healthyGot),
        echo: (p) => p,
      },
    });
  });
  afterAll(async () => {
    await stopped.stop();
    await healthy.close();
  });

  test('stop, keep working with the others, detect, drop, resume', async () => {
    const slowLink = link(stopped.url, {
      peerId: 'py',
      legacy: true,
      callTimeoutMs: 300,
      maxAttempts: 2,
      retryBaseMs: 50,
      probeIntervalMs: 200,
    });
    const fastLink = link(`http://127.0.0.1:${healthy.port}`, { peerId: 'ts' });
    await slowLink.call('heartbeat', []);
    await fastLink.call('echo', []);
    const events: string[] = [];
    slowLink.on('down', () => events.push('down'));
    slowLink.on('up', () => events.push('up'));

    stopped.proc.kill('SIGSTOP');
    // The caller posts to both peers; post() returns at once: everything is still queued after the loop.
    for (let i = 0; i < 500; i++) {
      slowLink.post('record', [i]);
      fastLink.post('record', [i]);
    }
    expect(slowLink.queued).toBe(500);
    expect(fastLink.queued).toBe(500);
    // The healthy peer gets everything, in order, while the other one is frozen.
    await fastLink.flush();
    expect(healthyGot).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // and answers calls while the other one is frozen
    await expect(fastLink.call('echo', ['quick'])).resolves.toEqual(['quick']);
    // The frozen one is reported down within the bounded retries, its queue dropped.
    await waitFor('the stopped peer to be reported down', () => slowLink.state === 'down', 3000);
    await slowLink.flush();
    expect(slowLink.queued).toBe(0);
    expect(slowLink.stats.dropped).toBeGreaterThan(0);
    slowLink.post('record', ['while down']);
    expect(slowLink.stats.dropped).toBeGreaterThan(0);

    stopped.proc.kill('SIGCONT');
    await waitFor('the resumed peer to be reported up again', () => slowLink.state === 'up', 3000);
    expect(events).toEqual(['down', 'up']);
    // Items delivered to the stopped peer form an in-order prefix. Plain calls carry no sequence
    // numbers: an item whose call timed out was retried, so it may have landed twice in a row.
    const recorded = (await slowLink.call('get_recorded', [])) as XmlRpcValue[];
    const seen = recorded.filter((x, i) => i === 0 || x !== recorded[i - 1]);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
    slowLink.post('record', ['after']);
    await slowLink.flush();
    const after = (await slowLink.call('get_recorded', [])) as XmlRpcValue[];
    expect(after[after.length - 1]).toBe('after');
  });
});

describe('a SIGSTOPped node of ours, resumed within the retry budget', () => {
  let child: PyServer;
  beforeAll(async () => {
    child = await startChildPeerServer();
  });
  afterAll(() => child.stop());

  test('gets every batch exactly once and in order, although the stream retried while it was stopped', async () => {
    const l = link(child.url, { streamTimeoutMs: 200, retryBaseMs: 100, maxAttempts: 6, probeIntervalMs: 60_000 });
    l.post('record', ['warm-up']);
    await l.flush();
    expect(l.stats.batches).toBe(1);

    child.proc.kill('SIGSTOP');
    for (let i = 0; i < 100; i++) {
      l.post('record', [i]);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500)); // at least one attempt times out meanwhile
    child.proc.kill('SIGCONT');
    await l.flush();

    expect(l.stats.timeouts).toBeGreaterThanOrEqual(1);
    expect(l.stats.dropped).toBe(0);
    expect(l.state).toBe('up');
    expect(await l.call('get_recorded', [])).toEqual(['warm-up', ...Array.from({ length: 100 }, (_, i) => i)]);
  });
});
