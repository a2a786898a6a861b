/** The closing summary of a scenario run: one block per scenario with its status, figures and problems. */
import type { ScenarioResult } from './types';

export function formatSummary(results: readonly ScenarioResult[]): string {
  const lines = ['scenario summary:'];
  for (const r of results) {
    lines.push(`  ${r.name}: ${r.status.toUpperCase()} (${(r.durationMs / 1000).toFixed(1)} s)`);
    for (const [k, v] of Object.entries(r.figures)) lines.push(`    ${k}: ${v}`);
    for (const p of r.problems) lines.push(`    ${r.status === 'skipped' ? 'why' : 'problem'}: ${p}`);
  }
  return lines.join('\n');
}
