import { Construct } from 'constructs';
import { Ipv4Subnet } from '../net/ipv4';

export interface PrivateNetworkProps {
  /** The VMs' host-only network, e.g. "192.168.56.0/24". */
  readonly cidr: string;
}

/**
 * The private (host-only) network the VMs share. The first host address is left to the
 * hypervisor's host adapter, as VirtualBox assigns it to the host side of the network.
 */
export class PrivateNetwork extends Construct {
  readonly subnet: Ipv4Subnet;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    this.subnet = Ipv4Subnet.parse(props.cidr);
  }

  get cidr(): string {
    return this.subnet.cidr;
  }

  /** The address the hypervisor takes for the host side (x.x.x.1 in a /24). */
  get hostAdapterIp(): string {
    return this.subnet.host(1);
  }
}
