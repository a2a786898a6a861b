import { Construct } from 'constructs';
import { TopologyError } from './errors';
import { checkName } from './names';
import { PrivateNetwork } from './network';
import { VirtualMachine, VirtualMachineProps } from './vm';

/** A node's role in the Swarm. Exactly one manager: the demo keeps the Raft quorum trivial. */
export class SwarmRole {
  static readonly MANAGER = new SwarmRole('manager');
  static readonly WORKER = new SwarmRole('worker');
  private constructor(readonly name: 'manager' | 'worker') {}
}

export interface SwarmNodeProps extends Omit<VirtualMachineProps, 'network'> {
  readonly role: SwarmRole;
  /** Extra node labels; the cluster's label key is always set to the node's name. */
  readonly labels?: Record<string, string>;
}

export interface SwarmNode {
  readonly vm: VirtualMachine;
  readonly role: SwarmRole;
  readonly labels: Readonly<Record<string, string>>;
  readonly name: string;
}

export interface SwarmClusterProps {
  readonly network: PrivateNetwork;
  /** The node label the chat services are pinned by. @default "node_type" */
  readonly labelKey?: string;
}

/** The VMs and their Swarm membership: one manager that inits, workers that join, labels for placement. */
export class SwarmCluster extends Construct {
  readonly network: PrivateNetwork;
  readonly labelKey: string;
  private readonly members: SwarmNode[] = [];

  constructor(scope: Construct, id: string, props: SwarmClusterProps) {
    super(scope, id);
    this.network = props.network;
    this.labelKey = props.labelKey ?? 'node_type';
    if (!/^[a-z][a-z0-9_.-]{0,62}$/.test(this.labelKey)) {
      throw new TopologyError(`label key ${JSON.stringify(this.labelKey)} is not a valid swarm label key; expected lowercase letters, digits, "_", "." or "-" (like "node_type")`);
    }
    this.node.addValidation({ validate: () => this.validateRoles() });
  }

  addNode(name: string, props: SwarmNodeProps): SwarmNode {
    checkName('vm name', name);
    const hostname = props.hostname ?? `chat-${name}`;
    for (const other of this.members) {
      if (other.name === name) {
        throw new TopologyError(`duplicate vm name ${JSON.stringify(name)}; give each vm its own name`);
      }
      if (other.vm.hostname === hostname) {
        throw new TopologyError(`duplicate hostname ${JSON.stringify(hostname)} on vms ${other.name} and ${name}; give each vm its own hostname`);
      }
      if (other.vm.ip === props.ip) {
        throw new TopologyError(
          `duplicate ip ${JSON.stringify(props.ip)} on vms ${other.name} and ${name}; give each vm its own address in ${this.network.cidr}`,
        );
      }
    }
    if (props.role === SwarmRole.MANAGER && this.members.some((m) => m.role === SwarmRole.MANAGER)) {
      const existing = this.members.find((m) => m.role === SwarmRole.MANAGER)!;
      throw new TopologyError(`second manager ${name}: ${existing.name} is already the manager; a swarm here has exactly one manager, make ${name} a worker`);
    }
    const labels: Record<string, string> = { ...(props.labels ?? {}), [this.labelKey]: name };
    const vm = new VirtualMachine(this, name, { ...props, network: this.network });
    const member: SwarmNode = { vm, role: props.role, labels, name };
    this.members.push(member);
    return member;
  }

  get nodes(): readonly SwarmNode[] {
    return this.members;
  }

  get manager(): SwarmNode {
    const manager = this.members.find((m) => m.role === SwarmRole.MANAGER);
    if (!manager) throw new TopologyError(this.noManagerMessage());
    return manager;
  }

  get workers(): SwarmNode[] {
    return this.members.filter((m) => m.role === SwarmRole.WORKER);
  }

  /** Every node carrying label `key=value`. */
  nodesLabelled(key: string, value: string): SwarmNode[] {
    return this.members.filter((m) => m.labels[key] === value);
  }

  private noManagerMessage(): string {
    const names = this.members.map((m) => m.name).join(', ') || 'none';
    return `swarm has no manager (nodes: ${names}); give exactly one node role SwarmRole.MANAGER`;
  }

  private validateRoles(): string[] {
    if (this.members.length === 0) return ['swarm has no nodes; add at least one node with addNode()'];
    return this.members.some((m) => m.role === SwarmRole.MANAGER) ? [] : [this.noManagerMessage()];
  }
}
