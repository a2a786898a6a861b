/** Small statistics for the scenario reports. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarizeMs(values: readonly number[]): string {
  if (values.length === 0) return 'n/a';
  const max = Math.max(...values);
  return `p50 ${percentile(values, 50).toFixed(0)} ms, p95 ${percentile(values, 95).toFixed(0)} ms, max ${max.toFixed(0)} ms (n=${values.length})`;
}

export function ms(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}
