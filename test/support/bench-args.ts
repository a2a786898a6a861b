/**
 * Integer options of a benchmark program (`--name N`), each with its default. An unknown option or a
 * value that is not a non-negative integer is an error that names it, never a silent NaN.
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
