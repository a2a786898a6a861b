/** Option values the bench's command lines share: positive numbers, one or a comma list, named in the error. */

/** `v` as a comma list of positive numbers; the error names the flag and what it got. */
export function numbers(flag: string, v: string | undefined): number[] {
  const list = (v ?? '').split(',').map((s) => Number(s.trim()));
  if (!v || list.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`${flag} needs a comma list of positive numbers, got ${JSON.stringify(v)}`);
  return list;
}

/** The first of `numbers(flag, v)`. */
export function one(flag: string, v: string | undefined): number {
  const [x] = numbers(flag, v);
  return x;
}
