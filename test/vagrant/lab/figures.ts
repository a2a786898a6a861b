/**
 * What the `vagrant up` run demands of run-scenarios.sh's results (its `--json` output), beyond
 * each scenario's own pass/fail: in every scenario the acknowledged messages, deliveries complete
 * and in order, and no acknowledged message lost, read from the figures the scenarios report.
 */
import type { ScenarioResult } from '../../../node-app/src/scenarios';

export const REQUIRED_SCENARIOS = ['normal', 'failure', 'rolling'] as const;

interface Counted {
  done: number;
  of: number;
}

function count(result: ScenarioResult, key: string, problems: string[]): Counted | undefined {
  const value = result.figures[key];
  const m = typeof value === 'string' ? /^(\d+) of (\d+)/.exec(value) : null;
  if (!m) {
    problems.push(`${result.name}: figure "${key}" missing or not "N of M" (${JSON.stringify(value)})`);
    return undefined;
  }
  return { done: Number(m[1]), of: Number(m[2]) };
}

function allAcknowledged(result: ScenarioResult, key: string, problems: string[]): void {
  const c = count(result, key, problems);
  if (!c) return;
  if (c.of === 0) problems.push(`${result.name}: "${key}": no messages were sent`);
  else if (c.done !== c.of) problems.push(`${result.name}: "${key}": only ${c.done} of ${c.of} acknowledged`);
}

function deliveredInOrder(result: ScenarioResult, key: string, problems: string[]): void {
  const c = count(result, key, problems);
  const value = String(result.figures[key] ?? '');
  const m = /duplicates (\d+), out of order (\d+)/.exec(value);
  if (!c || !m) {
    if (c) problems.push(`${result.name}: figure "${key}" names no duplicates/out-of-order counts (${JSON.stringify(value)})`);
    return;
  }
  if (c.of === 0 || c.done !== c.of) problems.push(`${result.name}: "${key}": ${c.done} of ${c.of} delivered`);
  if (m[1] !== '0' || m[2] !== '0') problems.push(`${result.name}: "${key}": ${m[1]} duplicates, ${m[2]} out of order`);
}

/** Every broken expectation in words; empty when the three scenarios show what the demo promises. */
export function checkScenarioFigures(results: ScenarioResult[]): string[] {
  const problems: string[] = [];
  const byName = new Map(results.map((r) => [r.name as string, r]));
  for (const name of REQUIRED_SCENARIOS) {
    const r = byName.get(name);
    if (!r) problems.push(`${name}: no result`);
    else if (r.status !== 'passed') problems.push(`${name}: ${r.status}: ${r.problems.join('; ')}`);
  }
  const normal = byName.get('normal');
  if (normal) {
    allAcknowledged(normal, 'messages acknowledged', problems);
    deliveredInOrder(normal, 'deliveries (message x member)', problems);
  }
  const failure = byName.get('failure');
  if (failure) {
    allAcknowledged(failure, "survivors' sends during the outage", problems);
    deliveredInOrder(failure, 'survivor deliveries', problems);
  }
  const rolling = byName.get('rolling');
  if (rolling) {
    const lost = count(rolling, 'all clients: acknowledged messages not received', problems);
    if (lost && (lost.of === 0 || lost.done !== 0)) problems.push(`rolling: ${lost.done} of ${lost.of} acknowledged deliveries never arrived`);
    const clients = Object.entries(rolling.figures).filter(([k]) => k.startsWith('client on '));
    if (clients.length === 0) problems.push('rolling: no per-client figures');
    for (const [k, v] of clients) {
      const m = /acknowledged (\d+)/.exec(String(v));
      if (!m || Number(m[1]) === 0) problems.push(`rolling: ${k}: nothing acknowledged (${JSON.stringify(v)})`);
    }
  }
  return problems;
}
