/**
 * Watches a node's /healthz from outside, the way Swarm's health check and a user see it, and
 * records each period it did not answer 200: how long each node was away.
 */
import * as http from 'node:http';
import type { NodeTarget } from './types';

export function probeHealth(url: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function waitHealthy(node: NodeTarget, timeoutMs: number): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await probeHealth(node.healthUrl)) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

export interface Absence {
  start: number;
  end?: number;
}

export class HealthWatch {
  readonly absences: Absence[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(readonly node: NodeTarget, intervalMs = 200) {
    this.loop = (async () => {
      while (this.running) {
        const ok = await probeHealth(node.healthUrl, 800);
        const current = this.absences[this.absences.length - 1];
        if (!ok && (!current || current.end !== undefined)) this.absences.push({ start: Date.now() });
        if (ok && current && current.end === undefined) current.end = Date.now();
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
  }

  /** Total time away within [from, to). */
  awayMs(from = 0, to = Date.now()): number {
    return this.absences.reduce((sum, a) => sum + Math.max(0, Math.min(a.end ?? to, to) - Math.max(a.start, from)), 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
