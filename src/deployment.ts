import { Construct } from 'constructs';
import { ComposeFile } from './compose/compose-file';
import { CommentStyle, TextFile } from './files/generated-file';
import { TemplateFile } from './files/template-file';
import { YamlFile } from './files/yaml-file';
import { ChatStack, ChatStackProps } from './model/chat-stack';
import { DockerEngineSource } from './model/docker-engine';
import { TopologyError } from './model/errors';
import { checkInteger } from './model/names';
import { PrivateNetwork } from './model/network';
import { MachineProvider, ProviderKind } from './model/provider';
import { SwarmCluster, SwarmRole } from './model/swarm';
import { VagrantBox } from './model/vm';
import { Ipv4Subnet } from './net/ipv4';

/**
 * Paths shared by the Vagrantfile and the scripts, defined once. The stack's output folder is the
 * VMs' default synced folder (`/vagrant`); the project root, three levels up from
 * `cdktf.out/stacks/<stack>/`, is synced as well so node1 can build the image without a host Docker.
 */
export const LAYOUT = {
  syncDir: '/vagrant',
  projectMount: '/swarm-chat',
  projectRootFromStackDir: '../../..',
  tokenFile: 'swarm-token.txt',
  managerIpFile: 'swarm-manager-ip.txt',
  imagesDir: '.images',
  dockerfile: 'Dockerfile.node',
  /** One stack file per service, for a topology change applied one node at a time (change-topology.sh). */
  servicesDir: 'services',
  /** The Docker provider's machine image: its Dockerfile, relative to the stack folder. */
  dockerVmDir: 'docker-vm',
  /** Build arguments selecting the Dockerfile's in-container build (npm ci inside; needs internet). */
  inContainerBuildArgs: { BUILD_IN_CONTAINER: 'true' } as Record<string, string>,
} as const;

/** Runtime state that lives in the stack folder and must survive a re-synth. */
export const RUNTIME_STATE = ['.vagrant', LAYOUT.tokenFile, LAYOUT.managerIpFile, LAYOUT.imagesDir];

export interface ChatNodeSpec {
  /** VM, Swarm service and NODE_ID name, like "node1". */
  readonly name: string;
  readonly ip: string;
  /** @default `chat-<name>` */
  readonly hostname?: string;
  /** @default manager for the first node, worker for the others */
  readonly role?: SwarmRole;
  readonly webSocketPort: number;
  readonly xmlRpcPort: number;
  /** @default the node's name */
  readonly placementLabel?: string;
}

export interface NumberedNodesOptions {
  /** @default 101 */
  readonly firstHost?: number;
  /** @default 8081 */
  readonly webSocketBasePort?: number;
  /** @default 9091 */
  readonly xmlRpcBasePort?: number;
}

/** node1..nodeN on consecutive addresses and ports: adding a node is changing `count`. */
export function numberedNodes(subnetCidr: string, count: number, opts: NumberedNodesOptions = {}): ChatNodeSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > 50) {
    throw new TopologyError(`node count ${JSON.stringify(count)} is out of range; expected a whole number from 1 to 50`);
  }
  const subnet = Ipv4Subnet.parse(subnetCidr);
  const firstHost = opts.firstHost ?? 101;
  return Array.from({ length: count }, (_, i) => ({
    name: `node${i + 1}`,
    ip: subnet.host(firstHost + i),
    webSocketPort: (opts.webSocketBasePort ?? 8081) + i,
    xmlRpcPort: (opts.xmlRpcBasePort ?? 9091) + i,
  }));
}

export interface SwarmChatDeploymentProps {
  /** The VMs' private network, like "192.168.56.0/24". */
  readonly subnet: string;
  readonly nodes: readonly ChatNodeSpec[];
  /** What runs the machines. @default MachineProvider.virtualBox() */
  readonly provider?: MachineProvider;
  /** Where provisioning installs Docker Engine from. @default DockerEngineSource.DOCKER_APT_REPOSITORY */
  readonly dockerEngine?: DockerEngineSource;
  /** Box-based providers only. @default VagrantBox.UBUNTU_JAMMY */
  readonly box?: VagrantBox;
  /** Per VM. @default 2048 */
  readonly memoryMiB?: number;
  /** Per VM. @default 2 */
  readonly cpus?: number;
  /** @default "node_type" */
  readonly labelKey?: string;
  /** Subnets the provider accepts. @default VirtualBox's host-only ranges; private ranges (RFC 1918) for Docker */
  readonly allowedSubnetRanges?: readonly string[];
  /** @default "docker-compose.demo.yml" */
  readonly stackFileName?: string;
  readonly chat?: Omit<ChatStackProps, 'swarm'>;
  /**
   * A smaller node count the generated README walks through growing this stack from, as a worked
   * example of a topology change on a running stack (five-nodes: 3). @default none
   */
  readonly grownFromNodes?: number;
}

/**
 * The whole multi-VM demo: network, VMs, Swarm, chat stack, and every file that brings it up.
 * Data flows one way: props → model constructs → file constructs rendered at synth.
 */
export class SwarmChatDeployment extends Construct {
  readonly network: PrivateNetwork;
  readonly swarm: SwarmCluster;
  readonly chat: ChatStack;
  readonly box: VagrantBox;
  readonly provider: MachineProvider;
  readonly dockerEngine: DockerEngineSource;
  readonly stackFileName: string;
  readonly grownFromNodes?: number;

  constructor(scope: Construct, id: string, props: SwarmChatDeploymentProps) {
    super(scope, id);
    this.provider = props.provider ?? MachineProvider.virtualBox();
    if (!(this.provider instanceof MachineProvider)) {
      throw new TopologyError('provider is not a MachineProvider; use MachineProvider.virtualBox() or MachineProvider.docker({...})');
    }
    if (props.box !== undefined && !this.provider.usesBox) {
      throw new TopologyError(`box ${JSON.stringify(props.box.name)} is set but the ${this.provider.kind} provider uses no box; remove box, or use the image option of the provider`);
    }
    this.dockerEngine = props.dockerEngine ?? DockerEngineSource.DOCKER_APT_REPOSITORY;
    if (!Object.values(DockerEngineSource).includes(this.dockerEngine)) {
      throw new TopologyError(`docker engine source ${JSON.stringify(this.dockerEngine)} is unknown; expected one of ${Object.values(DockerEngineSource).join(', ')}`);
    }
    this.box = props.box ?? VagrantBox.UBUNTU_JAMMY;
    this.stackFileName = props.stackFileName ?? 'docker-compose.demo.yml';
    if (!/^[\w.-]+\.ya?ml$/.test(this.stackFileName)) {
      throw new TopologyError(`stack file name ${JSON.stringify(this.stackFileName)} is not a yaml file name; expected like "docker-compose.demo.yml"`);
    }
    this.network = new PrivateNetwork(this, 'network', {
      cidr: props.subnet,
      allowedRanges: props.allowedSubnetRanges ?? this.provider.defaultSubnetRanges,
      rangesOwner: this.provider.subnetRangesOwner,
    });
    this.swarm = new SwarmCluster(this, 'swarm', { network: this.network, labelKey: props.labelKey });
    this.chat = new ChatStack(this, 'chat', { ...props.chat, swarm: this.swarm });
    props.nodes.forEach((spec, i) => {
      const member = this.swarm.addNode(spec.name, {
        ip: spec.ip,
        hostname: spec.hostname,
        role: spec.role ?? (i === 0 ? SwarmRole.MANAGER : SwarmRole.WORKER),
        memoryMiB: props.memoryMiB,
        cpus: props.cpus,
      });
      this.chat.addService(member, { webSocketPort: spec.webSocketPort, xmlRpcPort: spec.xmlRpcPort, placementLabel: spec.placementLabel });
    });
    if (props.grownFromNodes !== undefined) {
      this.grownFromNodes = checkInteger('grown-from node count', props.grownFromNodes, 1, props.nodes.length - 1, ` (fewer than the ${props.nodes.length} nodes)`);
    }
    this.addFiles();
  }

  /** The values every template sees; computed at synth from the model, never typed twice. */
  templateContext() {
    const manager = this.swarm.manager;
    const nodes = this.chat.services.map((s) => {
      const vm = s.node.vm;
      return {
        name: s.name,
        envName: s.name.toUpperCase().replace(/-/g, '_'),
        hostname: vm.hostname,
        ip: vm.ip,
        memoryMiB: vm.memoryMiB,
        cpus: vm.cpus,
        role: s.node.role.name,
        isManager: s.node === manager,
        label: s.node.labels[this.swarm.labelKey],
        webSocketPort: s.webSocketPort,
        xmlRpcPort: s.xmlRpcPort,
        wsUrl: `ws://${vm.ip}:${s.webSocketPort}`,
        httpUrl: `http://${vm.ip}:${s.webSocketPort}`,
        rpcUrl: `http://${vm.ip}:${s.xmlRpcPort}`,
        service: this.chat.swarmServiceName(s),
        xmlRpcAddress: s.xmlRpcAddress,
        peerNodes: this.chat.peerNodes(s),
        serviceFile: serviceFilePath(s.name),
      };
    });
    const workers = nodes.filter((n) => !n.isManager);
    const docker = this.provider.docker;
    return {
      box: { name: this.box.name, version: this.box.version },
      // Every key is always present (the templates are strict); false means "not this provider".
      provider: {
        name: this.provider.kind,
        virtualbox: this.provider.kind === ProviderKind.VIRTUALBOX,
        docker: docker
          ? { image: docker.image ?? false, baseImage: docker.baseImage, privileged: docker.privileged, createArgs: docker.createArgs }
          : false,
      },
      dockerEngine: {
        aptRepository: this.dockerEngine === DockerEngineSource.DOCKER_APT_REPOSITORY,
        distributionPackage: this.dockerEngine === DockerEngineSource.DISTRIBUTION_PACKAGE,
      },
      subnet: this.network.cidr,
      hostAdapterIp: this.network.hostAdapterIp,
      labelKey: this.swarm.labelKey,
      nodes,
      manager: nodes.find((n) => n.isManager)!,
      workers,
      growth: this.growthContext(nodes.map((n) => n.name)),
      lastNode: workers.length ? workers[workers.length - 1] : nodes.find((n) => n.isManager)!,
      wsUrls: nodes.map((n) => n.wsUrl).join(','),
      // A room's voter set as the node's GET /membership writes it: the node ids, sorted (JS order), comma-joined.
      voterSet: nodes.map((n) => n.name).sort().join(','),
      stack: {
        name: this.chat.stackName,
        file: this.stackFileName,
        image: this.chat.image,
        imageTar: `${this.chat.image.replace(/[^\w.-]+/g, '-')}.tar`,
        overlayNetwork: this.chat.overlayNetwork,
        secretName: this.chat.clusterSecretName,
        secretFile: this.chat.secretFile,
        stopGracePeriodSeconds: this.chat.stopGracePeriodSeconds,
      },
      layout: {
        ...LAYOUT,
        buildArgs: Object.entries(LAYOUT.inContainerBuildArgs).map(([k, v]) => `--build-arg ${k}=${v}`).join(' '),
      },
    };
  }

  /** The README's worked example of a topology change: the next count, and the growth from `grownFromNodes`. */
  private growthContext(names: string[]) {
    const from = this.grownFromNodes;
    return {
      next: names.length + 1,
      from: from ?? false,
      initial: from ? names.slice(0, from) : [],
      added: from ? names.slice(from) : [],
      steps: from ? names.slice(from).map((_, i) => from + i + 1).join(' → ') : '',
    };
  }

  /** The stack file's object model. */
  compose(): ComposeFile {
    return this.chat.toCompose();
  }

  private addFiles(): void {
    const ctx = () => this.templateContext();
    const script = (id: string, path: string, template: string) =>
      new TemplateFile(this, id, { path, template, context: ctx, executable: true });
    new TemplateFile(this, 'Vagrantfile', { path: 'Vagrantfile', template: 'Vagrantfile.hbs', context: ctx });
    new YamlFile(this, 'StackFile', { path: this.stackFileName, model: () => this.compose().toObject() });
    this.chat.onServiceAdded((s) => {
      new YamlFile(this, `ServiceFile-${s.name}`, { path: serviceFilePath(s.name), model: () => this.chat.toCompose([s]).toObject() });
    });
    new TextFile(this, 'DemoEnv', { path: 'demo.env', commentStyle: CommentStyle.HASH, lines: () => demoEnvLines(this.templateContext()) });
    script('ProvisionHosts', 'provision/hosts.sh', 'provision/hosts.sh.hbs');
    script('ProvisionDocker', 'provision/install-docker.sh', 'provision/install-docker.sh.hbs');
    script('ProvisionSwarmInit', 'provision/swarm-init.sh', 'provision/swarm-init.sh.hbs');
    script('ProvisionSwarmJoin', 'provision/swarm-join.sh', 'provision/swarm-join.sh.hbs');
    script('SetupSwarm', 'scripts/setup-swarm.sh', 'scripts/setup-swarm.sh.hbs');
    script('DeployStack', 'scripts/deploy-stack.sh', 'scripts/deploy-stack.sh.hbs');
    script('ChangeTopology', 'scripts/change-topology.sh', 'scripts/change-topology.sh.hbs');
    script('DeployDemo', 'scripts/deploy-demo.sh', 'scripts/deploy-demo.sh.hbs');
    script('RunScenarios', 'scripts/run-scenarios.sh', 'scripts/run-scenarios.sh.hbs');
    if (this.provider.kind === ProviderKind.DOCKER) {
      new TemplateFile(this, 'DockerVm', { path: `${LAYOUT.dockerVmDir}/Dockerfile`, template: 'docker-vm/Dockerfile.hbs', context: ctx });
    }
    new TemplateFile(this, 'Readme', { path: 'README.md', template: 'README.md.hbs', context: ctx, commentStyle: CommentStyle.HTML });
  }
}

/** Where a service's own stack file is written, relative to the stack folder. */
function serviceFilePath(serviceName: string): string {
  return `${LAYOUT.servicesDir}/${serviceName}.yml`;
}

export type TemplateContext = ReturnType<SwarmChatDeployment['templateContext']>;

/** demo.env: the access table as shell-sourceable variables, for scripts and for people. */
function demoEnvLines(ctx: TemplateContext): string[] {
  const lines = [
    `STACK_NAME=${ctx.stack.name}`,
    `STACK_FILE=${ctx.stack.file}`,
    `IMAGE=${ctx.stack.image}`,
    `MANAGER=${ctx.manager.name}`,
    `NODES="${ctx.nodes.map((n) => n.name).join(' ')}"`,
    `WS_URLS=${ctx.wsUrls}`,
  ];
  for (const n of ctx.nodes) {
    lines.push(
      `${n.envName}_IP=${n.ip}`,
      `${n.envName}_WS_PORT=${n.webSocketPort}`,
      `${n.envName}_XMLRPC_PORT=${n.xmlRpcPort}`,
      `${n.envName}_WS_URL=${n.wsUrl}`,
      `${n.envName}_XMLRPC_URL=${n.rpcUrl}`,
    );
  }
  return lines;
}
