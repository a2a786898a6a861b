import { Construct } from 'constructs';
import { ComposeFile, ComposeService } from '../compose/compose-file';
import { TopologyError } from './errors';
import { checkInteger, checkName, checkNumber } from './names';
import { SwarmCluster, SwarmNode } from './swarm';

/** Where the node reads its peer-link key: the Swarm secret's mount point (see the stack contract). */
export const SECRETS_DIR = '/run/secrets';
/** The node's durable room logs (issue 6) live here, on a named volume per node. */
export const DATA_DIR = '/data';
export const LOG_DIR = '/app/logs';

export interface ChatStackProps {
  readonly swarm: SwarmCluster;
  /** The `docker stack deploy` name; services are called `<stackName>_<node>`. @default "chat-demo" */
  readonly stackName?: string;
  /** @default "chat-node:demo" */
  readonly image?: string;
  /** @default "chat-overlay" */
  readonly overlayNetwork?: string;
  /** Swarm secret holding the peer-link HMAC key, created by the deploy script if absent. @default "chat_cluster_secret" */
  readonly clusterSecretName?: string;
  /** @default 1.0 */
  readonly cpuLimit?: number;
  /** @default 512 */
  readonly memoryLimitMiB?: number;
  /** @default 0.25 */
  readonly cpuReservation?: number;
  /** @default 256 */
  readonly memoryReservationMiB?: number;
  /** Time between SIGTERM and SIGKILL; long enough for the node to hand its rooms over. @default 30 */
  readonly stopGracePeriodSeconds?: number;
  /** @default "info" */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface ChatServiceProps {
  /** WebSocket port, published in host mode on the node's VM and used inside the container too. */
  readonly webSocketPort: number;
  /** XML-RPC (peer) port, likewise. */
  readonly xmlRpcPort: number;
  /** The label value the service is pinned by. @default the node's name */
  readonly placementLabel?: string;
}

export interface ChatService {
  readonly name: string;
  readonly node: SwarmNode;
  readonly webSocketPort: number;
  readonly xmlRpcPort: number;
  readonly placementLabel: string;
  /** How peers reach this node over the overlay network (service DNS name). */
  readonly xmlRpcAddress: string;
}

/** The `chat-demo` Swarm stack: one chat-node service per Swarm node, each pinned to its VM. */
export class ChatStack extends Construct {
  readonly swarm: SwarmCluster;
  readonly stackName: string;
  readonly image: string;
  readonly overlayNetwork: string;
  readonly clusterSecretName: string;
  readonly cpuLimit: number;
  readonly memoryLimitMiB: number;
  readonly cpuReservation: number;
  readonly memoryReservationMiB: number;
  readonly stopGracePeriodSeconds: number;
  readonly logLevel: string;
  private readonly entries: ChatService[] = [];
  private readonly addedListeners: ((service: ChatService) => void)[] = [];

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id);
    this.swarm = props.swarm;
    this.stackName = checkName('stack name', props.stackName ?? 'chat-demo');
    this.image = props.image ?? 'chat-node:demo';
    if (!/^[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]{0,127})?$/.test(this.image)) {
      throw new TopologyError(`image ${JSON.stringify(this.image)} is not a docker image reference; expected "name:tag" like "chat-node:demo"`);
    }
    this.overlayNetwork = checkName('overlay network name', props.overlayNetwork ?? 'chat-overlay');
    this.clusterSecretName = props.clusterSecretName ?? 'chat_cluster_secret';
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(this.clusterSecretName)) {
      throw new TopologyError(`secret name ${JSON.stringify(this.clusterSecretName)} is not a valid swarm secret name; expected letters, digits, "_", "." or "-"`);
    }
    this.cpuLimit = checkNumber('cpu limit', props.cpuLimit ?? 1.0, 0.01, 64, ' cpus');
    this.memoryLimitMiB = checkInteger('memory limit', props.memoryLimitMiB ?? 512, 64, 262144, ' MiB');
    this.cpuReservation = checkNumber('cpu reservation', props.cpuReservation ?? 0.25, 0, 64, ' cpus');
    this.memoryReservationMiB = checkInteger('memory reservation', props.memoryReservationMiB ?? 256, 0, 262144, ' MiB');
    if (this.cpuReservation > this.cpuLimit) {
      throw new TopologyError(`cpu reservation ${this.cpuReservation} exceeds cpu limit ${this.cpuLimit}; a reservation must be at most the limit`);
    }
    if (this.memoryReservationMiB > this.memoryLimitMiB) {
      throw new TopologyError(
        `memory reservation ${this.memoryReservationMiB} MiB exceeds memory limit ${this.memoryLimitMiB} MiB; a reservation must be at most the limit`,
      );
    }
    this.stopGracePeriodSeconds = checkInteger('stop grace period', props.stopGracePeriodSeconds ?? 30, 1, 600, ' seconds');
    this.logLevel = props.logLevel ?? 'info';
    this.node.addValidation({ validate: () => this.validatePlacement() });
  }

  addService(node: SwarmNode, props: ChatServiceProps): ChatService {
    if (!this.swarm.nodes.includes(node)) {
      throw new TopologyError(`node ${node.name} is not a member of this stack's swarm; add it with swarm.addNode() first`);
    }
    const webSocketPort = checkInteger(`websocket port of ${node.name}`, props.webSocketPort, 1024, 65535);
    const xmlRpcPort = checkInteger(`xml-rpc port of ${node.name}`, props.xmlRpcPort, 1024, 65535);
    if (webSocketPort === xmlRpcPort) {
      throw new TopologyError(`websocket and xml-rpc ports of ${node.name} are both ${webSocketPort}; give the node two different ports`);
    }
    for (const other of this.entries) {
      if (other.name === node.name) {
        throw new TopologyError(`duplicate service ${JSON.stringify(node.name)}; each swarm node runs exactly one chat service`);
      }
      for (const [mine, label] of [[webSocketPort, 'websocket'], [xmlRpcPort, 'xml-rpc']] as const) {
        if (mine === other.webSocketPort || mine === other.xmlRpcPort) {
          throw new TopologyError(
            `duplicate published port ${mine}: the ${label} port of ${node.name} is already used by ${other.name}; give every published port its own number`,
          );
        }
      }
    }
    const service: ChatService = {
      name: node.name,
      node,
      webSocketPort,
      xmlRpcPort,
      placementLabel: props.placementLabel ?? node.name,
      xmlRpcAddress: `http://${node.name}:${xmlRpcPort}`,
    };
    this.entries.push(service);
    for (const fn of this.addedListeners) fn(service);
    return service;
  }

  /** `fn` for every service, those added so far and those added later (per-service files follow the topology). */
  onServiceAdded(fn: (service: ChatService) => void): void {
    this.addedListeners.push(fn);
    for (const s of this.entries) fn(s);
  }

  get services(): readonly ChatService[] {
    return this.entries;
  }

  /** The fully qualified Swarm service name, as `docker service ...` commands need it. */
  swarmServiceName(service: ChatService): string {
    return `${this.stackName}_${service.name}`;
  }

  /** `PEER_NODES` for a service: every other service as `id:url`, in topology order. */
  peerNodes(service: ChatService): string {
    return this.entries
      .filter((s) => s !== service)
      .map((s) => `${s.name}:${s.xmlRpcAddress}`)
      .join(',');
  }

  get secretFile(): string {
    return `${SECRETS_DIR}/${this.clusterSecretName}`;
  }

  /**
   * The stack file as an object model; evaluated at synth so services added late are included.
   * `only` limits it to those services (with the network, volumes and secret they use): deployed
   * without `--prune`, such a file changes those services and leaves the others running, which is
   * how a topology change rolls one node at a time. Each service's definition is the same as in the
   * whole file, so deploying the whole file afterwards changes nothing.
   */
  toCompose(only: readonly ChatService[] = this.entries): ComposeFile {
    for (const s of only) {
      if (!this.entries.includes(s)) throw new TopologyError(`service ${s.name} is not part of stack ${this.stackName}`);
    }
    const services = this.entries.filter((s) => only.includes(s));
    const compose = new ComposeFile();
    for (const s of services) compose.addService(s.name, this.composeService(s));
    compose.addNetwork(this.overlayNetwork, { driver: 'overlay', attachable: true });
    for (const s of services) {
      compose.addVolume(`${s.name}-data`);
      compose.addVolume(`${s.name}-logs`);
    }
    compose.addSecret(this.clusterSecretName, { external: true, name: this.clusterSecretName });
    return compose;
  }

  private composeService(s: ChatService): ComposeService {
    return {
      image: this.image,
      hostname: s.name,
      environment: {
        NODE_ID: s.name,
        WEBSOCKET_HOST: '0.0.0.0',
        WEBSOCKET_PORT: String(s.webSocketPort),
        XMLRPC_HOST: '0.0.0.0',
        XMLRPC_PORT: String(s.xmlRpcPort),
        XMLRPC_ADDRESS: s.xmlRpcAddress,
        PEER_NODES: this.peerNodes(s),
        LOG_LEVEL: this.logLevel,
        LOG_DIR: LOG_DIR,
        DATA_DIR: DATA_DIR,
        CLUSTER_SECRET_FILE: this.secretFile,
      },
      // Host mode: the routing mesh needs IPVS, and each node must be reached on its own VM anyway.
      ports: [s.webSocketPort, s.xmlRpcPort].map((port) => ({ target: port, published: port, protocol: 'tcp' as const, mode: 'host' as const })),
      networks: [this.overlayNetwork],
      volumes: [`${s.name}-data:${DATA_DIR}`, `${s.name}-logs:${LOG_DIR}`],
      secrets: [{ source: this.clusterSecretName, target: this.clusterSecretName }],
      // A task counts as running only once healthy, and the first probe runs one interval after start,
      // so the interval bounds how long a node is away during a rolling update.
      healthcheck: {
        test: ['CMD', 'node', 'dist/node-app/bin/chat-healthcheck.js'],
        interval: '5s',
        timeout: '3s',
        retries: 3,
        start_period: '20s',
      },
      stop_grace_period: `${this.stopGracePeriodSeconds}s`,
      deploy: {
        mode: 'replicated',
        replicas: 1,
        // DNS round-robin: peers resolve the service name straight to the task, no VIP/IPVS in between.
        endpoint_mode: 'dnsrr',
        placement: { constraints: [`node.labels.${this.swarm.labelKey} == ${s.placementLabel}`] },
        restart_policy: { condition: 'on-failure', delay: '5s', max_attempts: 3, window: '60s' },
        // Host-mode ports cannot be bound twice on one VM, so the old task must stop before the new one starts.
        // monitor: a new task that exits or turns unhealthy within 15 s of running rolls the update back
        // (3 failed 5 s probes fit in it); longer only makes each `docker service update` wait longer.
        update_config: { parallelism: 1, delay: '10s', failure_action: 'rollback', monitor: '15s', order: 'stop-first' },
        rollback_config: { parallelism: 1, delay: '0s', failure_action: 'pause', monitor: '15s', order: 'stop-first' },
        resources: {
          limits: { cpus: formatCpus(this.cpuLimit), memory: `${this.memoryLimitMiB}M` },
          reservations: { cpus: formatCpus(this.cpuReservation), memory: `${this.memoryReservationMiB}M` },
        },
      },
    };
  }

  private validatePlacement(): string[] {
    const errors: string[] = [];
    const key = this.swarm.labelKey;
    const known = this.swarm.nodes.map((n) => `${key}=${n.labels[key]}`).join(', ');
    for (const s of this.entries) {
      if (this.swarm.nodesLabelled(key, s.placementLabel).length === 0) {
        errors.push(
          `placement label ${key}=${s.placementLabel} of service ${s.name} matches no swarm node (labels: ${known}); use one of those values`,
        );
      }
      const vm = s.node.vm;
      if (this.memoryLimitMiB > vm.memoryMiB) {
        errors.push(`memory limit ${this.memoryLimitMiB} MiB of service ${s.name} exceeds vm ${vm.name}'s ${vm.memoryMiB} MiB; lower the limit or give the vm more memory`);
      }
      if (this.cpuLimit > vm.cpus) {
        errors.push(`cpu limit ${this.cpuLimit} of service ${s.name} exceeds vm ${vm.name}'s ${vm.cpus} cpus; lower the limit or give the vm more cpus`);
      }
    }
    if (this.entries.length === 0) errors.push(`stack ${this.stackName} has no services; add one per swarm node with addService()`);
    return errors;
  }
}

/** Compose wants CPU counts as decimal strings ("1.0", "0.25"). */
function formatCpus(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
