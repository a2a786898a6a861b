/**
 * Step reporting for the lab: each step prints when it starts and ends (CI logs show where time
 * went and where a run stopped), and the summary lists every step with its duration.
 */
export interface StepRecord {
  name: string;
  ms: number;
  ok: boolean;
}

export class StepLog {
  readonly records: StepRecord[] = [];
  private readonly started = Date.now();

  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  say(line: string): void {
    this.write(`[swarm-lab ${this.clock()}] ${line}`);
  }

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.say(`▶ ${name}`);
    const t0 = Date.now();
    try {
      const value = await fn();
      this.records.push({ name, ms: Date.now() - t0, ok: true });
      this.say(`✔ ${name} (${seconds(Date.now() - t0)})`);
      return value;
    } catch (err) {
      this.records.push({ name, ms: Date.now() - t0, ok: false });
      this.say(`✘ ${name} (${seconds(Date.now() - t0)}): ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  summary(): string {
    const width = Math.max(10, ...this.records.map((r) => r.name.length));
    const lines = this.records.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(width)} ${seconds(r.ms).padStart(8)}`);
    lines.push(`  total ${''.padEnd(width - 1)} ${seconds(Date.now() - this.started).padStart(8)}`);
    return ['timing summary:', ...lines].join('\n');
  }

  private clock(): string {
    return seconds(Date.now() - this.started).padStart(7);
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
