/**
 * Workload 3: how many idle clients one node holds, and its memory per connection. Clients are
 * added to the first node in levels; after each level the node's RSS is read from /proc and a fresh
 * client must still get an answer (else the node no longer "holds" them). Bounded by a deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadClient } from '../load/clients';
import { nowMicros } from '../load/payload';
import { openFileLimit, processRssBytes } from '../measure/proc';
import { RunningSystem } from '../systems/types';
import { inBatches, makeClient } from './traffic';

export interface ConnectionLevel {
  connections: number;
  rssBytes: number;
  /** (RSS now - RSS with no bench clients) / connections. */
  bytesPerConnection: number;
  /** A fresh client's request/response round trip with this many idle clients attached. */
  probeMs: number;
  connectSeconds: number;
}

export interface ConnectionsResult {
  workload: 'connections';
  system: string;
  baselineRssBytes: number;
  levels: ConnectionLevel[];
  /** The most idle clients the node held while still answering a fresh client. */
  maxHeld: number;
  stoppedBecause: string;
}

export async function runConnections(system: RunningSystem, opts: { levels: number[]; deadlineMs: number; settleMs: number; batch?: number }): Promise<ConnectionsResult> {
  const pid = system.nodePids[0];
  const deadline = Date.now() + opts.deadlineMs;
  const held: LoadClient[] = [];
  const levels: ConnectionLevel[] = [];
  let stoppedBecause = 'all levels reached';
  // The load generator holds one descriptor per client: a level it cannot open says nothing about the node.
  const fdLimit = openFileLimit();
  await sleep(opts.settleMs / 2);
  const baseline = processRssBytes(pid);
  try {
    for (const level of opts.levels) {
      if (level > fdLimit - 500) {
        stoppedBecause = `next level ${level} exceeds the load generator's open-file limit (${fdLimit})`;
        break;
      }
      if (Date.now() > deadline) {
        stoppedBecause = `deadline of ${opts.deadlineMs} ms reached`;
        break;
      }
      const t0 = Date.now();
      const fresh: LoadClient[] = [];
      for (let i = held.length; i < level; i++) fresh.push(makeClient(system, 0));
      let failure = '';
      await inBatches(fresh, opts.batch ?? 100, async (c) => {
        if (failure || Date.now() > deadline) return;
        try {
          await c.connect(10000);
          held.push(c);
        } catch (err) {
          failure = (err as Error).message;
        }
      });
      if (failure || held.length < level) {
        stoppedBecause = failure ? `connect failed at ${held.length}: ${failure}` : `deadline reached at ${held.length}`;
        break;
      }
      const connectSeconds = (Date.now() - t0) / 1000;
      // Let the server finish its per-connection setup before reading memory.
      await sleep(opts.settleMs);
      const probe = makeClient(system, 0);
      let probeMs: number;
      try {
        const p0 = nowMicros();
        await probe.connect(10000);
        await probe.ping(10000);
        probeMs = Math.round((nowMicros() - p0) / 100) / 10;
      } catch (err) {
        stoppedBecause = `node stopped answering at ${level}: ${(err as Error).message}`;
        break;
      } finally {
        probe.close();
      }
      const rss = processRssBytes(pid);
      levels.push({
        connections: level,
        rssBytes: rss,
        bytesPerConnection: Math.round((rss - baseline) / level),
        probeMs,
        connectSeconds: Math.round(connectSeconds * 10) / 10,
      });
    }
  } finally {
    for (const c of held) c.close();
    await sleep(opts.settleMs / 2);
  }
  return {
    workload: 'connections',
    system: system.name,
    baselineRssBytes: baseline,
    levels,
    maxHeld: levels.length ? levels[levels.length - 1].connections : 0,
    stoppedBecause,
  };
}
