/**
 * What the benchmark programs under test/ share: integer options (`--name N`), each with its
 * default (an unknown option or a value that is not a non-negative integer is an error that names
 * it, never a silent NaN), and the median of a run's rounds.
 */
import { parseArgs } from 'node:util';

export function intOptions<K extends string>(defaults: Record<K, number>, argv: string[] = process.argv.slice(2)): Record<K, number> {
  const names = Object.keys(defaults) as K[];
  const { values } = parseArgs({ args: argv, options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])), strict: true });
  const out = { ...defaults };
  for (const name of names) {
    const raw = values[name];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n)) throw new Error(`--${name} ${String(raw)}: not a non-negative integer`);
    out[name] = n;
  }
  return out;
}

/** The middle value of `xs` (the upper middle one for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
