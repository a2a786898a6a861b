import { pooledRandom } from '../../../node-app/src/util/random-pool';

describe('pooled random bytes', () => {
  it('hands out fresh bytes on every draw, across refills of the pool', () => {
    const seen = new Set<string>();
    // 3000 draws of 16 bytes: the 4 KiB pool is refilled about a dozen times.
    for (let i = 0; i < 3000; i++) seen.add(pooledRandom(16).toString('hex'));
    expect(seen.size).toBe(3000);
  });

  it('gives exactly the bytes asked for, and refuses more than a block', () => {
    expect(pooledRandom(1)).toHaveLength(1);
    expect(pooledRandom(4096)).toHaveLength(4096);
    expect(() => pooledRandom(4097)).toThrow(/at most 4096 bytes/);
  });
});
