/**
 * Ports for tests: always ephemeral (the OS picks them), so two runs of the suite side by side never
 * collide. The picking itself lives with the local cluster, which uses it for `--base-port 0`.
 */
export { freePorts } from '../../node-app/src/cluster/local-cluster';

import http from 'node:http';
import { freePorts as pick } from '../../node-app/src/cluster/local-cluster';

/** True when nothing listens on `port` of 127.0.0.1 right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = http.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * The first of `n` consecutive free ports, starting from one the OS picked (for code that numbers
 * its ports from a base, like the local cluster's wsBasePort + i).
 */
export async function freePortRange(n: number, tries = 50): Promise<number> {
  for (let t = 0; t < tries; t++) {
    const [base] = await pick(1);
    if (base + n - 1 > 65535) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = await portIsFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found in ${tries} tries`);
}
