/**
 * Which Vagrant provider runs the machines, with that provider's settings and the rules that make
 * a combination impossible. VirtualBox is the default (the demo's VMs); Docker runs each machine as
 * a systemd container for hosts without VirtualBox (Linux with Docker Engine, Apple Silicon).
 */
import { TopologyError } from './errors';
import { VIRTUALBOX_DEFAULT_HOST_ONLY_RANGES } from './network';

/** Private IPv4 ranges (RFC 1918): where a Docker network for the machines may live. */
export const PRIVATE_IPV4_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/**
 * Container options that let systemd boot as PID 1 and a Docker engine run inside a container,
 * without `--privileged`: all capabilities except CAP_SYS_RESOURCE (hosts whose bounding set lacks
 * it refuse `--privileged`), no seccomp/AppArmor confinement, writable /proc and /sys paths, every
 * device, the host's cgroup tree writable with the host's cgroup namespace (systemd on cgroup v1
 * and v2 alike), tmpfs /run, and an anonymous volume for the inner engine's data, so its overlay2
 * sits on a real file system instead of on the container's own overlay.
 */
export const DOCKER_SYSTEMD_CREATE_ARGS: readonly string[] = [
  '--cgroupns=host',
  '--cap-add=ALL',
  '--cap-drop=SYS_RESOURCE',
  '--security-opt=seccomp=unconfined',
  '--security-opt=apparmor=unconfined',
  '--security-opt=systempaths=unconfined',
  '--device-cgroup-rule=a *:* rwm',
  '--volume=/sys/fs/cgroup:/sys/fs/cgroup:rw',
  '--tmpfs=/run',
  '--tmpfs=/run/lock',
  '--volume=/var/lib/docker',
];

/** Container options Vagrant or the topology already sets; a second value would contradict it. */
const OPTIONS_SET_ELSEWHERE: [RegExp, string][] = [
  [/^--name(=|$)/, 'vagrant names the container after the machine'],
  [/^(-h|--hostname)(=|$)/, "the hostname comes from the node's hostname"],
  [/^(--network|--net|--ip)(=|$)/, 'the private network comes from the topology\'s subnet'],
  [/^(-p|--publish|-P|--publish-all)(=|$)/, 'the nodes are reached on their private-network addresses'],
  [/^(-m|--memory|--cpus)(=|$)/, 'memory and cpus come from memoryMiB and cpus'],
];
/** Options that `--privileged` overrides: with it they silently do nothing. */
const IGNORED_WHEN_PRIVILEGED = /^(--cap-add|--cap-drop|--security-opt|--device-cgroup-rule)(=|$)/;

export enum ProviderKind {
  VIRTUALBOX = 'virtualbox',
  DOCKER = 'docker',
}

export interface DockerProviderProps {
  /**
   * A prebuilt machine image (systemd, sshd, a `vagrant` user with Vagrant's public key), like
   * one built from the synthesized `docker-vm/Dockerfile`. Exactly one of `image` and `build`.
   */
  readonly image?: string;
  /** Build the machine image from the synthesized `docker-vm/Dockerfile` on `vagrant up`. */
  readonly build?: { /** @default "ubuntu:22.04" (the VirtualBox box's release) */ readonly baseImage?: string };
  /** @default false: `DOCKER_SYSTEMD_CREATE_ARGS` give systemd and Docker what they need. */
  readonly privileged?: boolean;
  /** `docker run` options. @default DOCKER_SYSTEMD_CREATE_ARGS */
  readonly createArgs?: readonly string[];
}

const IMAGE_REFERENCE = /^[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]{0,127})?$/;

function checkImage(kind: string, value: string): string {
  if (typeof value !== 'string' || !IMAGE_REFERENCE.test(value)) {
    throw new TopologyError(`${kind} ${JSON.stringify(value)} is not a docker image reference; expected "name:tag" like "ubuntu:22.04"`);
  }
  return value;
}

/** The provider of every machine of a deployment. Build one with `MachineProvider.virtualBox()` or `.docker({...})`. */
export class MachineProvider {
  /** The demo's provider: VirtualBox VMs from a pinned box. */
  static virtualBox(): MachineProvider {
    return new MachineProvider(ProviderKind.VIRTUALBOX);
  }

  /** Vagrant's built-in Docker provider: each machine a systemd container with its own Docker engine. */
  static docker(props: DockerProviderProps): MachineProvider {
    if (props.image !== undefined && props.build !== undefined) {
      throw new TopologyError('docker provider has both an image and a build; give one: image (prebuilt) or build (from docker-vm/Dockerfile)');
    }
    if (props.image === undefined && props.build === undefined) {
      throw new TopologyError('docker provider has neither an image nor a build; give image: "<name:tag>" or build: {}');
    }
    if (props.image !== undefined) checkImage('docker provider image', props.image);
    // The Dockerfile's default base either way: with a prebuilt image it documents how that was made.
    const baseImage = checkImage('docker provider base image', props.build?.baseImage ?? 'ubuntu:22.04');
    const privileged = props.privileged ?? false;
    const createArgs = [...(props.createArgs ?? DOCKER_SYSTEMD_CREATE_ARGS)];
    for (const arg of createArgs) {
      if (typeof arg !== 'string' || arg.length === 0) {
        throw new TopologyError(`docker provider create argument ${JSON.stringify(arg)} is not an option; expected strings like "--tmpfs=/run"`);
      }
      for (const [pattern, why] of OPTIONS_SET_ELSEWHERE) {
        if (pattern.test(arg)) throw new TopologyError(`docker provider create argument ${JSON.stringify(arg)} conflicts with the topology (${why}); remove it`);
      }
      if (privileged && IGNORED_WHEN_PRIVILEGED.test(arg)) {
        throw new TopologyError(
          `docker provider create argument ${JSON.stringify(arg)} does nothing with privileged: true (--privileged grants every capability and device); remove it or set privileged: false`,
        );
      }
    }
    return new MachineProvider(ProviderKind.DOCKER, { image: props.image, baseImage, privileged, createArgs });
  }

  private constructor(
    readonly kind: ProviderKind,
    readonly docker?: { readonly image?: string; readonly baseImage: string; readonly privileged: boolean; readonly createArgs: readonly string[] },
  ) {}

  /** Subnets the provider accepts for the private network unless told otherwise. */
  get defaultSubnetRanges(): readonly string[] {
    return this.kind === ProviderKind.VIRTUALBOX ? VIRTUALBOX_DEFAULT_HOST_ONLY_RANGES : PRIVATE_IPV4_RANGES;
  }

  /** Whose ranges those are and how to widen them, for the network's error message. */
  get subnetRangesOwner(): { what: string; widen: string } | undefined {
    // undefined: the network's own VirtualBox wording.
    return this.kind === ProviderKind.VIRTUALBOX ? undefined : { what: 'the private ranges (RFC 1918)', widen: 'or list it in allowedSubnetRanges' };
  }

  /** True when the machines use a Vagrant box (the Docker provider uses an image instead). */
  get usesBox(): boolean {
    return this.kind !== ProviderKind.DOCKER;
  }
}
