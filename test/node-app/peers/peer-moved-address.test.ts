/**
 * A peer replaced under the same name at a new address (a Swarm task replaced by a stop-first
 * update gets a new overlay IP) while the one regular lookup of its name, started while the name
 * was gone, hangs. Before: we kept calling the old address until DNS answered the new one (~12 s
 * in the Swarm lab), so the restarted node heard from no admin and sat at its 10 s catch-up cap.
 * Now an inbound call from the peer (`heardFrom`) points us at the call's source address, or
 * without one looks the name up again at once. Real servers on
 * 127.0.0.2 and 127.0.0.3; the lookup function stands in for DNS (answers or hangs as told).
 */
import type { LookupAddress } from 'node:dns';
import { PeerLink } from '../../../node-app/src/peers/peer-link';
import { PeerResolver, type LookupFn } from '../../../node-app/src/peers/peer-resolver';
import { type PeerServer, startPeerServer } from '../../../node-app/src/peers/peer-server';

type Cb = (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a peer that comes back at a new address under the same name', () => {
  const hung: Cb[] = [];
  let answer: string | 'hang' = '127.0.0.2';
  const lookup: LookupFn = (_host, _opts, cb) => {
    // asynchronous, like dns.lookup
    if (answer === 'hang') hung.push(cb);
    else {
      const a = answer;
      setImmediate(() => cb(null, [{ address: a, family: 4 }]));
    }
  };
  const servers: PeerServer[] = [];
  let link: PeerLink | undefined;
  const serve = async (host: string, port: number) => {
    const s = await startPeerServer({ host, port, nodeId: 'nodeB', handlers: { whoami: () => host } });
    servers.push(s);
    return s;
  };
  beforeEach(() => {
    answer = '127.0.0.2';
  });
  afterEach(async () => {
    link?.close();
    for (const s of servers.splice(0)) await s.close();
    for (const cb of hung.splice(0)) cb(Object.assign(new Error('test over'), { code: 'ENOTFOUND' }), []);
  });

  async function movedPeer(): Promise<{ link: PeerLink; resolver: PeerResolver }> {
    const old = await serve('127.0.0.2', 0);
    const port = old.port;
    const resolver = new PeerResolver({ lookup, freshMs: 50 });
    link = new PeerLink({ selfId: 'nodeA', peerId: 'nodeB', address: `http://nodeb:${port}`, resolver, callTimeoutMs: 500 });
    await expect(link.call('whoami', [])).resolves.toBe('127.0.0.2');
    // the old task stops; its name is gone and the lookup started now hangs
    answer = 'hang';
    await old.close();
    servers.splice(servers.indexOf(old), 1);
    await sleep(60);
    const err = await link.call('whoami', []).then(() => undefined, (e: Error) => e);
    expect(String(err)).toMatch(/ECONNREFUSED|no answer/);
    expect(hung.length).toBe(1);
    // the new task runs at a new address; the name resolves again, but the hung lookup is still out
    await serve('127.0.0.3', port);
    answer = '127.0.0.3';
    return { link, resolver };
  }

  it('keeps calling the old address while the regular lookup hangs (what heardFrom is for)', async () => {
    const { link: l } = await movedPeer();
    for (let i = 0; i < 5; i++) {
      await expect(l.call('whoami', [])).rejects.toThrow();
      await sleep(100);
    }
  });

  it('reaches the new address right after the peer calls us', async () => {
    const { link: l, resolver } = await movedPeer();
    await sleep(PeerLink.rescueAfterMs);
    const before = resolver.lookups;
    l.heardFrom();
    let reached: unknown;
    for (let i = 0; i < 20 && reached === undefined; i++) {
      reached = await l.call('whoami', []).catch(() => undefined);
      if (reached === undefined) await sleep(50);
    }
    expect(reached).toBe('127.0.0.3');
    expect(resolver.lookups).toBe(before + 1);
  });

  it('calls the peer where its call came from, without waiting for DNS', async () => {
    const { link: l, resolver } = await movedPeer();
    answer = 'hang'; // the name is not known yet where we are
    await sleep(PeerLink.rescueAfterMs);
    const before = resolver.lookups;
    l.heardFrom('127.0.0.3');
    await expect(l.call('whoami', [])).resolves.toBe('127.0.0.3');
    expect(resolver.lookups).toBe(before);
  });

  it('does not look a peer up again when it answers us', async () => {
    const s = await serve('127.0.0.2', 0);
    const resolver = new PeerResolver({ lookup, freshMs: 60_000 });
    link = new PeerLink({ selfId: 'nodeA', peerId: 'nodeB', address: `http://nodeb:${s.port}`, resolver });
    await link.call('whoami', []);
    const before = resolver.lookups;
    for (let i = 0; i < 10; i++) link.heardFrom('127.0.0.9');
    expect(resolver.lookups).toBe(before);
    await expect(link.call('whoami', [])).resolves.toBe('127.0.0.2');
  });
});
