/**
 * The one way tests wait: poll a probe until it yields a value or a deadline passes. The deadline
 * is an upper bound that keeps a broken run from hanging, never a timing assertion (speed is
 * measured by the benchmarks, not by unit tests).
 */

/** Resolves after `ms`; for pacing a load, not for waiting on a condition (use `waitFor`). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` every `everyMs` until it returns a truthy value, which is returned. A probe that
 * throws counts as "not yet"; its last error is named if the deadline passes.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= end) break;
    await sleep(everyMs);
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}
