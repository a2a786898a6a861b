/**
 * The Docker engine Vagrant's Docker provider talks to: a dockerd of the lab's own in the root
 * namespace (own data root on a tmpfs, exec root, pidfile, socket) on a bridge of its own, reached
 * through DOCKER_HOST. A dockerd in the root namespace rewrites iptables (chains, NAT, FORWARD
 * policy) and turns IP forwarding on; the lab records both before it starts and undoes exactly
 * what changed at teardown. Stopped by PID; never by program name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dockerd } from '../../swarm/lab/dockerd';
import { killLeftovers, unmountAndRemove } from '../../swarm/lab/engines';
import { run } from '../../swarm/lab/run';
import { Teardown } from '../../swarm/lab/teardown';

export interface HostEngineSpec {
  /** Short folder (the socket path must stay under 108 bytes); a tmpfs is mounted on it. */
  root: string;
  /** Linux bridge for the engine's default network, like "vgchat0". */
  bridge: string;
  /** The bridge's address and prefix, like "10.213.0.1/24": the containers' default network. */
  bridgeCidr: string;
  tmpfsSizeMb: number;
}

const TABLES = ['filter', 'nat'] as const;
const FORWARDING = '/proc/sys/net/ipv4/ip_forward';

export class HostEngine extends Dockerd {
  constructor(readonly spec: HostEngineSpec) {
    super(spec.root, "the lab's dockerd");
  }

  /** What a crashed earlier run may have left under the lab's names. */
  async removeLeftovers(): Promise<void> {
    await killLeftovers(this.spec.root);
    await run(['ip', 'link', 'delete', this.spec.bridge], { allowFailure: true, timeoutMs: 10_000 });
    await unmountAndRemove(this.spec.root);
  }

  /** tmpfs, bridge, firewall snapshot, dockerd; each registers its undo right after it exists. */
  async start(teardown: Teardown): Promise<void> {
    fs.mkdirSync(this.spec.root, { recursive: true });
    teardown.add(`lab folder ${this.spec.root}`, () => unmountAndRemove(this.spec.root));
    await run(['mount', '-t', 'tmpfs', '-o', `size=${this.spec.tmpfsSizeMb}m,mode=0755`, 'swarm-chat-vagrant', this.spec.root]);

    await run(['ip', 'link', 'add', this.spec.bridge, 'type', 'bridge']);
    teardown.add(`bridge ${this.spec.bridge}`, async () => void (await run(['ip', 'link', 'delete', this.spec.bridge], { allowFailure: true })));
    await run(['ip', 'addr', 'add', this.spec.bridgeCidr, 'dev', this.spec.bridge]);
    await run(['ip', 'link', 'set', this.spec.bridge, 'up']);

    const before = await firewallSnapshot();
    teardown.add('iptables rules, chains and FORWARD policy the engine added; IP forwarding as it was', async () => {
      const problems = await restoreFirewall(before, (rule) => isEngineRule(rule, this.spec.bridge));
      if (problems.length > 0) throw new Error(problems.join('; '));
    });

    teardown.add('dockerd (by PID) and its leftovers', async () => {
      await this.stop();
      await killLeftovers(this.spec.root);
    });
    await this.launch(['dockerd', ...this.dockerdArgs([`--bridge=${this.spec.bridge}`])]);
  }
}

export interface FirewallSnapshot {
  rules: Record<(typeof TABLES)[number], string[]>;
  forwarding: string;
}

export async function firewallSnapshot(): Promise<FirewallSnapshot> {
  const rules = { filter: [] as string[], nat: [] as string[] };
  for (const t of TABLES) rules[t] = (await run(['iptables', '-t', t, '-S'], { timeoutMs: 15_000 })).stdout.trim().split('\n');
  return { rules, forwarding: fs.readFileSync(FORWARDING, 'utf8').trim() };
}

/**
 * A rule this lab's dockerd writes: Docker's own chains, or its bridges (the lab's, and the `br-<id>`
 * of the networks Vagrant creates). Another lab's rules added meanwhile (test/swarm's FORWARD rule
 * for its bridge) are left alone.
 */
export function isEngineRule(rule: string, bridge: string): boolean {
  return /DOCKER/.test(rule) || /\bbr-[0-9a-f]{12}\b/.test(rule) || rule.split(/\s+/).includes(bridge);
}

/**
 * Deletes the rules and chains of the engine (`ours`) that appeared since `before` (newest first),
 * sets changed chain policies back, and IP forwarding as it was. Returns what could not be undone.
 */
export async function restoreFirewall(before: FirewallSnapshot, ours: (rule: string) => boolean = () => true): Promise<string[]> {
  const problems: string[] = [];
  const now = await firewallSnapshot();
  for (const t of TABLES) {
    const had = new Set(before.rules[t]);
    const added = now.rules[t].filter((r) => !had.has(r) && ours(r));
    for (const rule of added.filter((r) => r.startsWith('-A ')).reverse()) {
      const r = await run(['iptables', '-t', t, ...splitRule(rule.replace(/^-A /, '-D '))], { allowFailure: true, timeoutMs: 15_000 });
      if (r.code !== 0) problems.push(`iptables -t ${t} ${rule}: ${r.stderr.trim()}`);
    }
    for (const chain of added.filter((r) => r.startsWith('-N ')).map((r) => r.slice(3))) {
      await run(['iptables', '-t', t, '-F', chain], { allowFailure: true, timeoutMs: 15_000 });
      const r = await run(['iptables', '-t', t, '-X', chain], { allowFailure: true, timeoutMs: 15_000 });
      if (r.code !== 0) problems.push(`iptables -t ${t} -X ${chain}: ${r.stderr.trim()}`);
    }
    for (const policy of before.rules[t].filter((r) => r.startsWith('-P '))) {
      if (!now.rules[t].includes(policy)) await run(['iptables', '-t', t, ...policy.split(' ')], { timeoutMs: 15_000 });
    }
  }
  if (fs.readFileSync(FORWARDING, 'utf8').trim() !== before.forwarding) fs.writeFileSync(FORWARDING, `${before.forwarding}\n`);
  return problems;
}

/** `iptables -S` output back into argv: words, with double-quoted comments kept whole. */
export function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1] : m[2]));
}
