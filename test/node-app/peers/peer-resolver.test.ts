/**
 * The peer link's resolver: one lookup in flight per name, the last good answer kept while a fresh
 * one is fetched, IP literals never looked up. The resolver function here is a controllable stand-in
 * for getaddrinfo (answers when the test says so); the end-to-end case with a real hanging resolver
 * is test/e2e/peer-name-resolution.test.ts.
 */
import type { LookupAddress } from 'node:dns';
import { PeerResolver, type LookupFn } from '../../../node-app/src/peers/peer-resolver';

function controllable() {
  const pending: Array<{ host: string; cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void }> = [];
  const lookup: LookupFn = (host, _opts, cb) => {
    pending.push({ host, cb });
  };
  return { lookup, pending };
}

const NODE3 = [{ address: '10.0.0.3', family: 4 }];

/** A resolver whose answers are always stale (freshMs 0) and that has answered node3 once. */
async function answeredOnce() {
  const r = controllable();
  const res = new PeerResolver({ lookup: r.lookup, freshMs: 0 });
  const first = res.addresses('node3');
  r.pending[0].cb(null, NODE3);
  await first;
  return { r, res };
}

describe('PeerResolver', () => {
  it('shares one lookup between concurrent connections to a name that does not answer', async () => {
    const r = controllable();
    const res = new PeerResolver({ lookup: r.lookup });
    const waits = Array.from({ length: 50 }, () => res.addresses('node2'));
    expect(r.pending).toHaveLength(1);
    r.pending[0].cb(null, [{ address: '10.0.0.2', family: 4 }]);
    for (const w of waits) await expect(w).resolves.toEqual([{ address: '10.0.0.2', family: 4 }]);
  });

  it('serves the last answer while a refresh hangs, and starts no second refresh meanwhile', async () => {
    const { r, res } = await answeredOnce();
    for (let i = 0; i < 20; i++) await expect(res.addresses('node3')).resolves.toEqual(NODE3);
    expect(r.pending).toHaveLength(2); // the first lookup and one refresh, still hanging
    expect(res.lookups).toBe(2);
  });

  it('keeps the old answer when a refresh fails; fails only a name never resolved', async () => {
    const { r, res } = await answeredOnce();
    await res.addresses('node3');
    r.pending[1].cb(Object.assign(new Error('gone'), { code: 'ENOTFOUND' }), []);
    await expect(res.addresses('node3')).resolves.toEqual(NODE3);
    const never = res.addresses('ghost');
    r.pending[r.pending.length - 1].cb(Object.assign(new Error('gone'), { code: 'ENOTFOUND' }), []);
    await expect(never).rejects.toThrow('gone');
  });

  it('never looks up an IP literal', async () => {
    const r = controllable();
    const res = new PeerResolver({ lookup: r.lookup });
    await expect(res.addresses('127.0.0.1')).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(r.pending).toHaveLength(0);
  });

  it('answers in both callback forms net.connect uses', async () => {
    const r = controllable();
    const res = new PeerResolver({ lookup: r.lookup });
    const all = new Promise((resolve) => res.lookup('node2', { all: true }, (err, a) => resolve([err, a])));
    const one = new Promise((resolve) => res.lookup('node2', { family: 4 }, (err, a, f) => resolve([err, a, f])));
    r.pending[0].cb(null, [{ address: '10.0.0.2', family: 4 }]);
    await expect(all).resolves.toEqual([null, [{ address: '10.0.0.2', family: 4 }]]);
    await expect(one).resolves.toEqual([null, '10.0.0.2', 4]);
  });
});
