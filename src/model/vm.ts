import { Construct } from 'constructs';
import { TopologyError } from './errors';
import { checkHostname, checkInteger, checkName } from './names';
import { PrivateNetwork } from './network';
import { parseIpv4 } from '../net/ipv4';

/** A Vagrant box pinned to one version, so every `vagrant up` starts from the same image. */
export class VagrantBox {
  /** Ubuntu 22.04 LTS, the demo's base. */
  static readonly UBUNTU_JAMMY = new VagrantBox('ubuntu/jammy64', '20241002.0.0');

  static of(name: string, version: string): VagrantBox {
    return new VagrantBox(name, version);
  }

  private constructor(readonly name: string, readonly version: string) {
    if (!/^[\w.-]+\/[\w.-]+$/.test(name)) {
      throw new TopologyError(`vagrant box ${JSON.stringify(name)} is not a box name; expected "owner/box" like "ubuntu/jammy64"`);
    }
    if (!/^\d+(\.\d+)*$/.test(version)) {
      throw new TopologyError(`vagrant box version ${JSON.stringify(version)} is not a pinned version; expected digits and dots like "20241002.0.0"`);
    }
  }
}

export interface VirtualMachineProps {
  readonly network: PrivateNetwork;
  /** The VM's address on the private network. */
  readonly ip: string;
  /** @default `chat-<name>` */
  readonly hostname?: string;
  /** @default 2048 */
  readonly memoryMiB?: number;
  /** @default 2 */
  readonly cpus?: number;
}

/** One VirtualBox VM. Its construct id is its Vagrant machine name. */
export class VirtualMachine extends Construct {
  readonly name: string;
  readonly hostname: string;
  readonly ip: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly network: PrivateNetwork;

  constructor(scope: Construct, id: string, props: VirtualMachineProps) {
    super(scope, id);
    this.name = checkName('vm name', id);
    this.hostname = checkHostname(props.hostname ?? `chat-${id}`);
    this.network = props.network;
    this.ip = props.ip;
    parseIpv4(props.ip, `ip of vm ${id}`);
    const subnet = props.network.subnet;
    if (!subnet.contains(props.ip)) {
      throw new TopologyError(
        `ip ${JSON.stringify(props.ip)} of vm ${id} is outside its network ${subnet.cidr}; pick an address inside it, like "${subnet.host(101 < subnet.size - 1 ? 101 : 2)}"`,
      );
    }
    if (subnet.isNetworkOrBroadcast(props.ip)) {
      throw new TopologyError(`ip ${JSON.stringify(props.ip)} of vm ${id} is the network or broadcast address of ${subnet.cidr}; pick a host address`);
    }
    if (props.ip === props.network.hostAdapterIp) {
      throw new TopologyError(
        `ip ${JSON.stringify(props.ip)} of vm ${id} is taken by the host's adapter on ${subnet.cidr}; pick another address, like "${subnet.host(Math.min(101, subnet.size - 2))}"`,
      );
    }
    // Docker Engine plus one chat node needs about 1 GiB; VirtualBox refuses more CPUs than the host has.
    this.memoryMiB = checkInteger(`memory of vm ${id}`, props.memoryMiB ?? 2048, 1024, 262144, ' MiB');
    this.cpus = checkInteger(`cpus of vm ${id}`, props.cpus ?? 2, 1, 64);
  }
}
