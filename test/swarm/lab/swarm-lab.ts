/**
 * The Swarm lab: the synthesized demo brought up on three Docker engines, each in its own network
 * namespace with its own hostname, as the VMs would be after Docker is installed. Everything
 * after that point is the synthesized output's own doing: its provisioning scripts form the swarm
 * and label the nodes, Dockerfile.node builds the image, deploy-stack.sh deploys the stack file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importNodeBaseImage } from './base-image';
import { Engine, killLeftovers, unmountAndRemove } from './engines';
import { addHost, createNetwork, describeNetwork, LabNetwork, removeStaleNetwork } from './network';
import { run, waitFor } from './run';
import { StepLog } from './steps';
import { Teardown } from './teardown';
import { LabVm } from './topology';

export interface SwarmLabOptions {
  repoRoot: string;
  /** The synthesized lab stack folder (cdktf.out/stacks/<lab>). */
  stackDir: string;
  subnet: string;
  vms: LabVm[];
  /** VMs the lab may add later (addVm): their addresses and names are reserved, their leftovers cleaned. */
  spareVms?: LabVm[];
  /** Short path: engine sockets live below it. */
  labRoot: string;
  bridge: string;
  stackName: string;
  log: StepLog;
}

export const BASE_IMAGE_TAG = 'swarm-chat/node-base:lab';
/** The lab holds about 2.5 GB (two image versions on three engines, build layers). */
const TMPFS_SIZE_MB = 6_144;
const TMPFS_MIN_AVAILABLE_MB = 10_240;

function availableMemoryMb(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export class SwarmLab {
  readonly teardown = new Teardown();
  readonly net: LabNetwork;
  readonly engines = new Map<string, Engine>();
  /** The lab's /vagrant: a copy of the synthesized folder, where the scripts also leave the token files. */
  readonly syncDir: string;
  /** The VMs that are up: the topology's, then those added by addVm. */
  readonly vms: LabVm[];
  private stackDeployed = false;

  constructor(readonly opts: SwarmLabOptions) {
    const all = [...opts.vms, ...(opts.spareVms ?? [])];
    this.net = describeNetwork({ subnet: opts.subnet, bridge: opts.bridge, hosts: all.map((v) => ({ name: v.hostname, address: v.ip })) });
    this.syncDir = path.join(opts.labRoot, 'vagrant');
    this.vms = [...opts.vms];
  }

  get manager(): Engine {
    return this.engine(this.managerVm.name);
  }

  get managerVm(): LabVm {
    return this.vms.find((v) => v.role === 'manager')!;
  }

  engine(vmName: string): Engine {
    const e = this.engines.get(vmName);
    if (!e) throw new Error(`no engine for VM ${vmName}`);
    return e;
  }

  vm(name: string): LabVm {
    const vm = this.vms.find((v) => v.name === name);
    if (!vm) throw new Error(`no VM ${name} in the topology`);
    return vm;
  }

  /** Debian's docker.io when dockerd is missing (CI installs it, a fresh machine may not have it). */
  static async ensureDockerEngine(log: StepLog): Promise<void> {
    if (fs.existsSync('/usr/sbin/dockerd') || fs.existsSync('/usr/bin/dockerd')) return;
    log.say('dockerd not found: installing Debian\'s docker.io');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'docker.io'];
    const first = await run(install, { env, timeoutMs: 300_000, allowFailure: true });
    if (first.code !== 0) {
      await run(['apt-get', 'update', '-qq'], { env, timeoutMs: 180_000 });
      await run(install, { env, timeoutMs: 300_000 });
    }
  }

  /** Bridge, namespaces and engines; what an earlier crashed run left under the same names goes first. */
  async createHosts(): Promise<void> {
    await killLeftovers(this.opts.labRoot);
    await removeStaleNetwork(this.net);
    await unmountAndRemove(this.opts.labRoot);
    fs.mkdirSync(this.opts.labRoot, { recursive: true });
    this.teardown.add(`lab folder ${this.opts.labRoot}`, () => unmountAndRemove(this.opts.labRoot));
    // Engine data on a tmpfs when memory allows: image layers are written faster, and teardown
    // is an unmount instead of deleting a few hundred thousand files (about a minute on disk).
    if (availableMemoryMb() >= TMPFS_MIN_AVAILABLE_MB) {
      await run(['mount', '-t', 'tmpfs', '-o', `size=${TMPFS_SIZE_MB}m,mode=0755`, 'swarm-chat-lab', this.opts.labRoot]);
      this.opts.log.say(`lab data on a ${TMPFS_SIZE_MB} MB tmpfs at ${this.opts.labRoot}`);
    }
    await createNetwork(this.net, this.teardown, this.net.hosts.filter((h) => this.vms.some((v) => v.hostname === h.name)));
    for (const vm of this.vms) this.addEngine(vm);
    this.teardown.add('engines (by PID) and their leftovers', async () => {
      await Promise.all([...this.engines.values()].map((e) => e.stop()));
      await killLeftovers(this.opts.labRoot);
    });
    await Promise.all([...this.engines.values()].map((e) => e.start()));
  }

  private addEngine(vm: LabVm): Engine {
    const engine = new Engine({ hostname: vm.hostname, netns: vm.hostname, root: path.join(this.opts.labRoot, `e${this.engines.size + 1}`) });
    this.engines.set(vm.name, engine);
    return engine;
  }

  /**
   * A new VM joins, as `vagrant up` after adding a node to the topology does it: its host and
   * engine come up, the re-synthesized folder (`stackDir`) replaces the synced one, the VM joins
   * with provision/swarm-join.sh, setup-swarm.sh labels it, and the image is loaded on it.
   */
  async addVm(vm: LabVm, stackDir: string, image: string): Promise<string[]> {
    const host = this.net.hosts.find((h) => h.name === vm.hostname);
    if (!host || !this.opts.spareVms?.some((v) => v.name === vm.name)) throw new Error(`VM ${vm.name} is not one of the lab's spare VMs`);
    await addHost(this.net, host, this.teardown);
    this.vms.push(vm);
    const engine = this.addEngine(vm);
    await engine.start();
    fs.cpSync(stackDir, this.syncDir, { recursive: true, filter: (src) => !path.basename(src).startsWith('.') });
    const out = [await this.runScript(vm.name, 'provision/swarm-join.sh', [vm.ip])];
    out.push(await this.runScript(this.managerVm.name, 'scripts/setup-swarm.sh', [], 240_000));
    const tar = path.join(this.opts.labRoot, 'added-vm-image.tar');
    await this.manager.docker(['save', '-o', tar, image], { timeoutMs: 180_000 });
    await engine.docker(['load', '-q', '-i', tar], { timeoutMs: 180_000 });
    fs.rmSync(tar, { force: true });
    return out;
  }

  /** Runs a synthesized script the way the Vagrantfile does, inside the VM's namespaces. */
  async runScript(vmName: string, script: string, args: string[] = [], timeoutMs = 120_000): Promise<string> {
    const engine = this.engine(vmName);
    const file = path.join(this.syncDir, script);
    const r = await engine.inHost(['bash', file, ...args], { timeoutMs, env: engine.env({ SYNC_DIR: this.syncDir }) });
    return (r.stdout + r.stderr).trim();
  }

  /** The swarm steps the Vagrantfile runs once Docker is installed: init, join, then the labelling. */
  async formSwarm(): Promise<string[]> {
    fs.cpSync(this.opts.stackDir, this.syncDir, { recursive: true, filter: (src) => !path.basename(src).startsWith('.') });
    const out: string[] = [];
    const manager = this.managerVm;
    out.push(await this.runScript(manager.name, 'provision/swarm-init.sh', [manager.ip]));
    const workers = this.vms.filter((v) => v.role === 'worker');
    out.push(...(await Promise.all(workers.map((w) => this.runScript(w.name, 'provision/swarm-join.sh', [w.ip])))));
    out.push(await this.runScript(manager.name, 'scripts/setup-swarm.sh', [], 240_000));
    return out;
  }

  async nodeTable(): Promise<{ hostname: string; status: string; labels: Record<string, string> }[]> {
    const ids = (await this.manager.docker(['node', 'ls', '-q'])).stdout.trim().split('\n').filter(Boolean);
    const inspected = JSON.parse((await this.manager.docker(['node', 'inspect', ...ids])).stdout) as {
      Description: { Hostname: string };
      Status: { State: string };
      Spec: { Labels?: Record<string, string> };
    }[];
    return inspected.map((n) => ({ hostname: n.Description.Hostname, status: n.Status.State, labels: n.Spec.Labels ?? {} }));
  }

  /**
   * Builds `tag` with Dockerfile.node on the manager's engine (on a Node base image made there
   * from this machine's node binary), then saves it once and loads it on every other engine.
   */
  async buildAndDistribute(tag: string, extraBuildArgs: string[] = []): Promise<{ buildMs: number; loadMs: number; sizeMb: number }> {
    const manager = this.manager;
    const haveBase = (await manager.docker(['image', 'inspect', BASE_IMAGE_TAG], { allowFailure: true })).code === 0;
    if (!haveBase) await importNodeBaseImage({ dockerHost: manager.dockerHost, workDir: path.join(this.opts.labRoot, 'base'), tag: BASE_IMAGE_TAG });
    const t0 = Date.now();
    await manager.docker(
      ['build', '-q', '-f', path.join(this.opts.repoRoot, 'Dockerfile.node'), '--build-arg', `BASE_IMAGE=${BASE_IMAGE_TAG}`, ...extraBuildArgs, '-t', tag, this.opts.repoRoot],
      { timeoutMs: 420_000 },
    );
    const buildMs = Date.now() - t0;
    const tar = path.join(this.opts.labRoot, `${tag.replace(/[^a-zA-Z0-9]/g, '-')}.tar`);
    const t1 = Date.now();
    await manager.docker(['save', '-o', tar, tag], { timeoutMs: 180_000 });
    await Promise.all([...this.engines.values()].filter((e) => e !== manager).map((e) => e.docker(['load', '-q', '-i', tar], { timeoutMs: 180_000 })));
    const loadMs = Date.now() - t1;
    const sizeMb = fs.statSync(tar).size / 1e6;
    fs.rmSync(tar, { force: true });
    const ids = await Promise.all([...this.engines.values()].map(async (e) => (await e.docker(['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim()));
    if (new Set(ids).size !== 1) throw new Error(`engines hold different images for ${tag}: ${ids.join(', ')}`);
    return { buildMs, loadMs, sizeMb };
  }

  /**
   * The synthesized deploy step on the manager: secret, `docker stack deploy`, bounded wait for
   * healthy services; on a running stack with other nodes it runs change-topology.sh first.
   */
  async deployStack(): Promise<string> {
    if (!this.stackDeployed) {
      this.stackDeployed = true;
      this.teardown.add(`stack ${this.opts.stackName}`, async () => {
        await this.manager.docker(['stack', 'rm', this.opts.stackName], { timeoutMs: 60_000, allowFailure: true });
      });
    }
    return this.runScript(this.managerVm.name, 'scripts/deploy-stack.sh', [], 600_000);
  }

  /** The stack's services and their running task ids (a redeployed service gets a new task). */
  async runningTasks(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const vm of this.vms) {
      const r = await this.manager.docker(['service', 'ps', '--no-trunc', '-q', '--filter', 'desired-state=running', this.serviceName(vm.name)]);
      out[vm.name] = r.stdout.trim();
    }
    return out;
  }

  serviceName(vmName: string): string {
    return `${this.opts.stackName}_${vmName}`;
  }

  /** A node failure: the VM's engine goes away (SIGTERM; dockerd stops its containers first). */
  async stopVm(vmName: string): Promise<void> {
    await this.engine(vmName).stop();
  }

  /** The VM's engine comes back on the same data root and rejoins the swarm by itself. */
  async startVm(vmName: string): Promise<void> {
    await this.engine(vmName).start();
  }

  /** A partition: the VM's only link goes down; its engine and containers keep running, unaware. */
  async cutVm(vmName: string): Promise<void> {
    await run(['ip', '-n', this.vm(vmName).hostname, 'link', 'set', 'eth0', 'down']);
  }

  async healVm(vmName: string): Promise<void> {
    await run(['ip', '-n', this.vm(vmName).hostname, 'link', 'set', 'eth0', 'up']);
  }

  /** `docker service update --image` on the manager, as the user's run-scenarios.sh does. */
  async updateService(vmName: string, image: string): Promise<void> {
    await this.manager.docker(['service', 'update', '--quiet', '--image', image, this.serviceName(vmName)], { timeoutMs: 300_000 });
  }

  async waitServicesRunning(timeoutMs: number): Promise<void> {
    await waitFor(
      'every service at 1/1',
      async () => {
        const out = (await this.manager.docker(['service', 'ls', '--format', '{{.Name}} {{.Replicas}}'])).stdout;
        const lines = out.trim().split('\n').filter((l) => l.startsWith(`${this.opts.stackName}_`));
        return lines.length === this.vms.length && lines.every((l) => l.endsWith(' 1/1')) ? true : undefined;
      },
      { timeoutMs, intervalMs: 1_000 },
    );
  }

  /** What to show when a step failed: tasks and their errors, and the engines' last log lines. */
  /**
   * The node's readiness log lines of a service (every task, oldest first): how long a restarted
   * task took to catch up and, while it waited, which rooms/admins/peers it waited for.
   */
  async readinessLog(vmName: string): Promise<string[]> {
    const r = await this.manager.docker(['service', 'logs', '--raw', '--no-trunc', this.serviceName(vmName)], { timeoutMs: 15_000, allowFailure: true });
    return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /replication: (caught up, serving|catching up|not caught up)|chat node started|shutting down|peer up|peer down|source address|looked up again/i.test(l));
  }

  async diagnostics(): Promise<string> {
    const parts: string[] = [];
    try {
      parts.push((await this.manager.docker(['stack', 'ps', this.opts.stackName, '--no-trunc', '--format', '{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}'], { timeoutMs: 15_000, allowFailure: true })).stdout);
    } catch (err) {
      parts.push(`(no task list: ${(err as Error).message})`);
    }
    for (const [name, e] of this.engines) parts.push(`--- dockerd of ${name}:\n${e.logTail(8)}`);
    return parts.join('\n');
  }

  async destroy(): Promise<string[]> {
    this.opts.log.say(`teardown: ${this.teardown.size} things to undo`);
    return this.teardown.runAll((l) => this.opts.log.say(l));
  }
}
