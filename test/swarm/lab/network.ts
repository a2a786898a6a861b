/**
 * The lab's network: one Linux bridge in the root namespace, one network namespace per host, a
 * veth pair from each namespace to the bridge, and an address per host on the lab subnet. The
 * root namespace gets an address on the bridge too, so the test process reaches the hosts'
 * published ports the way a user's machine reaches the VMs on the host-only network.
 */
import { Teardown } from './teardown';
import { run } from './run';

export interface LabHost {
  /** Network namespace name and hostname, e.g. chat-node1 (as on the VMs). */
  name: string;
  address: string;
}

export interface LabNetworkSpec {
  /** IPv4 CIDR, e.g. 10.77.0.0/24: the only addresses the lab ever talks to. */
  subnet: string;
  hosts: LabHost[];
  bridge: string;
}

export interface LabNetwork extends LabNetworkSpec {
  bridgeAddress: string;
  prefixLength: number;
  vethName(host: LabHost): string;
}

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`invalid IPv4 address: ${JSON.stringify(text)}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseCidr(cidr: string): { base: number; prefixLength: number; size: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 30 || Number(m[2]) < 8) throw new Error(`invalid lab subnet ${JSON.stringify(cidr)}: expected a.b.c.d/8..30`);
  const prefixLength = Number(m[2]);
  const size = 2 ** (32 - prefixLength);
  const base = parseIpv4(m[1]) - (parseIpv4(m[1]) % size);
  return { base, prefixLength, size };
}

export function inSubnet(address: string, cidr: string): boolean {
  const { base, size } = parseCidr(cidr);
  const a = parseIpv4(address);
  return a > base && a < base + size - 1;
}

/** The lowest usable address of the subnet that no host uses: the root namespace's end. */
export function chooseBridgeAddress(spec: LabNetworkSpec): string {
  const { base, size } = parseCidr(spec.subnet);
  const taken = new Set(spec.hosts.map((h) => parseIpv4(h.address)));
  for (let a = base + 1; a < base + size - 1; a++) if (!taken.has(a)) return formatIpv4(a);
  throw new Error(`lab subnet ${spec.subnet} has no free address for the bridge`);
}

export function describeNetwork(spec: LabNetworkSpec): LabNetwork {
  for (const h of spec.hosts) {
    if (!inSubnet(h.address, spec.subnet)) throw new Error(`lab host ${h.name} address ${h.address} is outside the lab subnet ${spec.subnet}`);
  }
  const index = new Map(spec.hosts.map((h, i) => [h.name, i + 1]));
  return {
    ...spec,
    bridgeAddress: chooseBridgeAddress(spec),
    prefixLength: parseCidr(spec.subnet).prefixLength,
    // Interface names are limited to 15 characters, so the root-side ends are numbered.
    vethName: (h) => {
      if (!index.has(h.name)) throw new Error(`lab host ${h.name} is not part of the lab network (hosts: ${spec.hosts.map((x) => x.name).join(', ')})`);
      return `${spec.bridge}-v${index.get(h.name)}`.slice(-15);
    },
  };
}

const IPTABLES_RULE = (bridge: string) => ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];

/** Removes what a crashed earlier run may have left under the lab's names; never touches anything else. */
export async function removeStaleNetwork(net: LabNetwork): Promise<void> {
  for (const h of net.hosts) {
    await run(['ip', 'netns', 'delete', h.name], { allowFailure: true, timeoutMs: 10_000 });
    await run(['ip', 'link', 'delete', net.vethName(h)], { allowFailure: true, timeoutMs: 10_000 });
  }
  await run(['ip', 'link', 'delete', net.bridge], { allowFailure: true, timeoutMs: 10_000 });
  for (let i = 0; i < 10; i++) {
    const r = await run(['iptables', '-D', ...IPTABLES_RULE(net.bridge)], { allowFailure: true, timeoutMs: 10_000 });
    if (r.code !== 0) break;
  }
}

/** The bridge, its address and rule, and `hosts` on it (default: every host of the network; others can be added later with addHost). */
export async function createNetwork(net: LabNetwork, teardown: Teardown, hosts: LabHost[] = net.hosts): Promise<void> {
  await run(['ip', 'link', 'add', net.bridge, 'type', 'bridge']);
  teardown.add(`bridge ${net.bridge}`, async () => void (await run(['ip', 'link', 'delete', net.bridge])));
  await run(['ip', 'addr', 'add', `${net.bridgeAddress}/${net.prefixLength}`, 'dev', net.bridge]);
  await run(['ip', 'link', 'set', net.bridge, 'up']);

  // A dockerd that ever ran in the root namespace leaves FORWARD at DROP; bridged traffic between
  // the hosts passes FORWARD when br_netfilter is loaded, so the lab allows its own bridge only.
  await run(['iptables', '-I', ...IPTABLES_RULE(net.bridge)]);
  teardown.add(`iptables rule for ${net.bridge}`, async () => void (await run(['iptables', '-D', ...IPTABLES_RULE(net.bridge)])));

  for (const h of hosts) await addHost(net, h, teardown);
}

/** One host on the bridge: its namespace, a veth pair, its address (a VM joining the private network). */
export async function addHost(net: LabNetwork, h: LabHost, teardown: Teardown): Promise<void> {
  const outer = net.vethName(h);
  const inner = `${outer}-in`.slice(-15);
  await run(['ip', 'netns', 'add', h.name]);
  teardown.add(`namespace ${h.name}`, async () => void (await run(['ip', 'netns', 'delete', h.name])));
  await run(['ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
  teardown.add(`veth ${outer}`, async () => {
    // Deleting the namespace already removed the pair; only a leftover root end needs deleting.
    await run(['ip', 'link', 'delete', outer], { allowFailure: true });
  });
  await run(['ip', 'link', 'set', inner, 'netns', h.name]);
  await run(['ip', 'link', 'set', outer, 'master', net.bridge]);
  await run(['ip', 'link', 'set', outer, 'up']);
  const inNs = (...argv: string[]) => run(['ip', '-n', h.name, ...argv]);
  await inNs('link', 'set', inner, 'name', 'eth0');
  await inNs('addr', 'add', `${h.address}/${net.prefixLength}`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('link', 'set', 'lo', 'up');
}
