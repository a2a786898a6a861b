/**
 * The scenarios against three real chat-node processes on loopback (the compiled dist/, like the
 * other integration tests), with hooks that stop, start and restart the processes: the same code
 * CI's Swarm lab drives against containers. Ports 20990-20997 (top of the node test range).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCluster, startLocalCluster } from '../../../node-app/src/cluster/local-cluster';
import { DEFAULT_SETTINGS, nodeTargets, NodeTarget, runFailureScenario, runNormalScenario, runPartitionScenario, runRollingScenario, ScenarioHooks } from '../../../node-app/src/scenarios';

const WS_BASE = 20990;
const RPC_BASE = 20995;
const CLI = path.resolve(__dirname, '../../../dist/node-app/bin/chat-scenarios.js');

let dir: string;
let cluster: LocalCluster;
let nodes: NodeTarget[];
let hooks: ScenarioHooks;
const lines: string[] = [];
const write = (l: string) => lines.push(l);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scenarios-'));
  // DATA_DIR per node, as in the stack file (a named volume per node).
  cluster = await startLocalCluster({ count: 3, wsBasePort: WS_BASE, rpcBasePort: RPC_BASE, dataDir: path.join(dir, 'data'), logDir: path.join(dir, 'logs') });
  nodes = nodeTargets(cluster.nodes.map((n) => n.wsUrl));
  hooks = {
    stopNode: (id) => cluster.stopNode(id),
    startNode: (id) => cluster.startNode(id),
    updateNode: async (id) => {
      await cluster.stopNode(id);
      await cluster.startNode(id);
    },
    // A frozen process answers nothing and says no goodbye, like a host cut off the network.
    cutNode: async (id) => void cluster.nodes.find((n) => n.id === id)!.process.kill('SIGSTOP'),
    healNode: async (id) => void cluster.nodes.find((n) => n.id === id)!.process.kill('SIGCONT'),
  };
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  // The narrative is the diagnosis when a scenario fails; keep quiet when it passes.
  if (lines.some((l) => l.includes('PROBLEM'))) process.stdout.write(`${lines.join('\n')}\n`);
  lines.length = 0;
});

test('normal operation: every message reaches every member on every node once, in order', async () => {
  const r = await runNormalScenario(nodes, DEFAULT_SETTINGS, write);
  expect(r.problems).toEqual([]);
  expect(r.status).toBe('passed');
  expect(r.figures['deliveries (message x member)']).toMatch(/^1080 of 1080, duplicates 0, out of order 0$/);
}, 60_000);

test('node failure: survivors are undisturbed, the failed node\'s member is reported gone, the node returns and chats', async () => {
  const r = await runFailureScenario(nodes, hooks, { ...DEFAULT_SETTINGS, recoveryTimeoutMs: 20_000 }, write);
  expect(r.problems).toEqual([]);
  expect(r.status).toBe('passed');
}, 120_000);

test('partition (SIGSTOP): survivors are undisturbed and their failure detection reports the frozen node\'s member gone', async () => {
  const r = await runPartitionScenario(nodes, hooks, { ...DEFAULT_SETTINGS, recoveryTimeoutMs: 20_000 }, write);
  expect(r.problems).toEqual([]);
  expect(r.figures["node2's member reported gone after"]).toMatch(/reason: Node unreachable/);
}, 120_000);

test('rolling restart: every node comes back, its client reconnects, nothing is shown twice or out of order', async () => {
  const r = await runRollingScenario(nodes, hooks, { ...DEFAULT_SETTINGS, recoveryTimeoutMs: 20_000 }, write);
  expect(r.problems).toEqual([]);
  expect(Object.keys(r.figures)).toEqual(expect.arrayContaining(['node1 replaced', 'node2 replaced', 'node3 replaced']));
}, 120_000);

describe('chat-scenarios CLI', () => {
  const cli = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

  test('rejects fewer than three nodes with exit 2 and says why', () => {
    const r = cli('--nodes', 'ws://127.0.0.1:1');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--nodes needs three nodes');
  });

  test('rejects an unknown scenario and a non-ws address', () => {
    expect(cli('--nodes', nodes.map((n) => n.wsUrl).join(','), '--scenario', 'chaos').stderr).toContain('unknown scenario "chaos"');
    expect(cli('--nodes', 'http://a:1,ws://b:2,ws://c:3').stderr).toContain('must be a ws:// or wss:// URL');
  });

  test('skips the failure scenario without stop/start commands, saying so, and exits 0', () => {
    const r = cli('--nodes', nodes.map((n) => n.wsUrl).join(','), '--scenario', 'failure');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('failure: SKIPPED');
    expect(r.stdout).toContain('--stop-cmd and --start-cmd');
  });

  test('runs stop and start commands with {node} replaced', () => {
    const marker = path.join(dir, 'commands.log');
    const r = cli('--nodes', nodes.map((n) => n.wsUrl).join(','), '--scenario', 'failure', '--recovery-timeout-ms', '3000', '--failure-detection-ms', '500',
      '--stop-cmd', `echo stop {node} $CHAT_NODE >> ${marker}`, '--start-cmd', `echo start {node} >> ${marker}`);
    // The commands do not really stop anything, so the scenario fails (the member is never reported gone).
    expect(r.status).toBe(1);
    expect(fs.readFileSync(marker, 'utf8')).toBe('stop node2 node2\nstart node2\n');
    expect(r.stdout).toContain('failure: FAILED');
  });
});
