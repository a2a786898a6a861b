/** Collects one scenario's narrative, figures and problems, and prints the narrative as it goes. */
import type { ScenarioName, ScenarioResult } from './types';

export class ScenarioRecorder {
  private readonly started = Date.now();
  private readonly result: ScenarioResult;

  constructor(name: ScenarioName, private readonly write: (line: string) => void) {
    this.result = { name, status: 'passed', durationMs: 0, figures: {}, problems: [], log: [] };
  }

  log(line: string): void {
    const stamped = `[${this.result.name} ${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)} s] ${line}`;
    this.result.log.push(stamped);
    this.write(stamped);
  }

  figure(key: string, value: string | number): void {
    this.result.figures[key] = value;
    this.log(`${key}: ${value}`);
  }

  problem(text: string): void {
    this.result.problems.push(text);
    this.log(`PROBLEM: ${text}`);
  }

  skip(reason: string): ScenarioResult {
    this.log(`skipped: ${reason}`);
    this.result.status = 'skipped';
    this.result.problems = [reason];
    return this.finish();
  }

  finish(): ScenarioResult {
    this.result.durationMs = Date.now() - this.started;
    if (this.result.status !== 'skipped') this.result.status = this.result.problems.length === 0 ? 'passed' : 'failed';
    this.log(`${this.result.status.toUpperCase()} in ${(this.result.durationMs / 1000).toFixed(1)} s`);
    return this.result;
  }
}

/** Runs `fn` with a time bound; the error names what took too long. */
export async function bounded<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function runTag(): string {
  return Math.random().toString(36).slice(2, 8);
}

/** A chatting loop: calls `tick` every `intervalMs` until stopped; the ticks' promises are awaited on stop. */
export class Chatter {
  private running = true;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly loop: Promise<void>;

  constructor(intervalMs: number, tick: (n: number) => Promise<unknown> | undefined, maxTicks = 100_000) {
    this.loop = (async () => {
      for (let n = 0; this.running && n < maxTicks; n++) {
        const p = tick(n);
        if (p) {
          this.inFlight.add(p);
          void p.finally(() => this.inFlight.delete(p));
        }
        await pause(intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }
}

/** Polls a synchronous probe every 100 ms until it gives a value or `timeoutMs` passes (then undefined). */
export async function waitUntil<T>(timeoutMs: number, probe: () => T | undefined): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined || Date.now() >= deadline) return v;
    await pause(100);
  }
}
