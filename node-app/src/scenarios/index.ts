/**
 * The demo's three scenarios as a library: the CLI (`chat-scenarios`) and the CI Swarm lab run the
 * same code against the same published ports; only the hooks that act on the deployment differ.
 */
import { runFailureScenario, runPartitionScenario } from './failure';
import { runNormalScenario } from './normal';
import { runRollingScenario } from './rolling';
import { DEFAULT_SETTINGS, NodeTarget, ScenarioHooks, ScenarioName, ScenarioResult, ScenarioSettings } from './types';

export * from './types';
export { runNormalScenario, runFailureScenario, runPartitionScenario, runRollingScenario };
export { formatSummary } from './summary';

/** node1..nodeN in the order given, each with its WebSocket URL and the /healthz URL on the same port. */
export function nodeTargets(wsUrls: readonly string[]): NodeTarget[] {
  return wsUrls.map((raw, i) => {
    const url = new URL(raw);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`node address ${JSON.stringify(raw)} must be a ws:// or wss:// URL`);
    const health = new URL('/healthz', url);
    health.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    return { id: `node${i + 1}`, wsUrl: url.toString(), healthUrl: health.toString() };
  });
}

export async function runScenarios(opts: {
  nodes: readonly NodeTarget[];
  scenarios: readonly ScenarioName[];
  hooks?: ScenarioHooks;
  settings?: Partial<ScenarioSettings>;
  write?: (line: string) => void;
}): Promise<ScenarioResult[]> {
  const settings = { ...DEFAULT_SETTINGS, ...opts.settings };
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`));
  const hooks = opts.hooks ?? {};
  const results: ScenarioResult[] = [];
  for (const name of opts.scenarios) {
    if (name === 'normal') results.push(await runNormalScenario(opts.nodes, settings, write));
    if (name === 'failure') results.push(await runFailureScenario(opts.nodes, hooks, settings, write));
    if (name === 'partition') results.push(await runPartitionScenario(opts.nodes, hooks, settings, write));
    if (name === 'rolling') results.push(await runRollingScenario(opts.nodes, hooks, settings, write));
  }
  return results;
}
