#!/usr/bin/env node
/**
 * chat-scenarios: the demo's scenarios (normal operation, node failure, rolling update) against a
 * running three-node deployment, e.g. the VMs after scripts/deploy-demo.sh, or CI's Swarm lab.
 *
 *   node dist/node-app/bin/chat-scenarios.js --nodes ws://ip1:8081,ws://ip2:8082,ws://ip3:8083 \
 *     [--scenario normal|failure|partition|rolling|all] [--stop-cmd CMD] [--start-cmd CMD] [--update-cmd CMD]
 *     [--cut-cmd CMD] [--heal-cmd CMD]
 *
 * Exit status: 0 when no scenario failed (skipped ones are listed), 1 when one failed, 2 on bad usage.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { hooksFromCommands } from '../src/scenarios/commands';
import { DEFAULT_SETTINGS, formatSummary, nodeTargets, runScenarios, SCENARIO_NAMES, ScenarioName } from '../src/scenarios';

const USAGE = `usage: chat-scenarios --nodes ws://HOST1:PORT1,ws://HOST2:PORT2,ws://HOST3:PORT3 [options]
  --scenario NAME            normal | failure | partition | rolling | all (default), or a comma list
  --stop-cmd CMD             stops a node's host engine (failure); {node} = node1.., also $CHAT_NODE
  --start-cmd CMD            starts it again (failure)
  --update-cmd CMD           replaces a node's service with the new image (rolling)
  --cut-cmd CMD              cuts a node's host off the network, processes keep running (partition)
  --heal-cmd CMD             reconnects it (partition)
  --failure-detection-ms N   a failed node's members must be reported gone within N ms (default ${DEFAULT_SETTINGS.failureDetectionMs})
  --recovery-timeout-ms N    a stopped/updated node must be healthy again within N ms (default ${DEFAULT_SETTINGS.recoveryTimeoutMs})
  --max-stall-ms N           replies to clients of healthy nodes within N ms (default ${DEFAULT_SETTINGS.maxStallMs})
  --command-timeout-ms N     limit for each command (default 300000)
  --json FILE                also write the results as JSON
The scenarios create their own uniquely named rooms and delete them at the end.`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        nodes: { type: 'string' },
        scenario: { type: 'string', default: 'all' },
        'stop-cmd': { type: 'string' },
        'start-cmd': { type: 'string' },
        'update-cmd': { type: 'string' },
        'cut-cmd': { type: 'string' },
        'heal-cmd': { type: 'string' },
        'failure-detection-ms': { type: 'string' },
        'recovery-timeout-ms': { type: 'string' },
        'max-stall-ms': { type: 'string' },
        'command-timeout-ms': { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    if (!parsed.nodes) throw new Error('--nodes is required');
    const nodes = nodeTargets(parsed.nodes.split(',').map((s) => s.trim()).filter(Boolean));
    if (nodes.length < 3) throw new Error(`--nodes needs three nodes (node1,node2,node3), got ${nodes.length}`);
    const requested = parsed.scenario === 'all' ? [...SCENARIO_NAMES] : parsed.scenario!.split(',').map((s) => s.trim());
    for (const s of requested) if (!SCENARIO_NAMES.includes(s as ScenarioName)) throw new Error(`unknown scenario ${JSON.stringify(s)}: expected ${SCENARIO_NAMES.join(', ')} or all`);
    const settings = {
      failureDetectionMs: positiveInt('failure-detection-ms', parsed['failure-detection-ms'], DEFAULT_SETTINGS.failureDetectionMs),
      recoveryTimeoutMs: positiveInt('recovery-timeout-ms', parsed['recovery-timeout-ms'], DEFAULT_SETTINGS.recoveryTimeoutMs),
      maxStallMs: positiveInt('max-stall-ms', parsed['max-stall-ms'], DEFAULT_SETTINGS.maxStallMs),
    };
    const commandTimeoutMs = positiveInt('command-timeout-ms', parsed['command-timeout-ms'], 300_000);
    const write = (l: string) => process.stdout.write(`${l}\n`);
    const hooks = hooksFromCommands({ stop: parsed['stop-cmd'], start: parsed['start-cmd'], update: parsed['update-cmd'], cut: parsed['cut-cmd'], heal: parsed['heal-cmd'] }, commandTimeoutMs, write);
    const results = await runScenarios({ nodes, scenarios: requested as ScenarioName[], hooks, settings, write });
    write(formatSummary(results));
    if (parsed.json) fs.writeFileSync(parsed.json, `${JSON.stringify(results, null, 2)}\n`);
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  } catch (err) {
    process.stderr.write(`chat-scenarios: ${(err as Error).message}\n`);
    return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`chat-scenarios: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
