import { Construct } from 'constructs';
import { Ipv4Subnet } from '../net/ipv4';
import { TopologyError } from './errors';

/** What VirtualBox 6.1.28+ accepts for host-only networks unless /etc/vbox/networks.conf says more. */
export const VIRTUALBOX_DEFAULT_HOST_ONLY_RANGES = ['192.168.56.0/21'];

export interface PrivateNetworkProps {
  /** The VMs' host-only network, e.g. "192.168.56.0/24". */
  readonly cidr: string;
  /**
   * Ranges the hypervisor accepts for host-only networks; list more after adding them to
   * /etc/vbox/networks.conf. @default VIRTUALBOX_DEFAULT_HOST_ONLY_RANGES
   */
  readonly allowedRanges?: readonly string[];
  /**
   * Whose ranges `allowedRanges` are and how to widen them, for the error message.
   * @default VirtualBox's host-only ranges and /etc/vbox/networks.conf
   */
  readonly rangesOwner?: { readonly what: string; readonly widen: string };
}

const VIRTUALBOX_RANGES_OWNER = {
  what: 'the host-only ranges VirtualBox accepts',
  widen: 'or list it in /etc/vbox/networks.conf and in allowedRanges',
};

/**
 * The private (host-only) network the VMs share. The first host address is left to the
 * hypervisor's host adapter, as VirtualBox assigns it to the host side of the network.
 */
export class PrivateNetwork extends Construct {
  readonly subnet: Ipv4Subnet;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    this.subnet = Ipv4Subnet.parse(props.cidr);
    const allowed = props.allowedRanges ?? VIRTUALBOX_DEFAULT_HOST_ONLY_RANGES;
    if (!allowed.some((range) => this.subnet.within(Ipv4Subnet.parse(range)))) {
      // The provider would only refuse it at `vagrant up`, machines half created.
      const owner = props.rangesOwner ?? VIRTUALBOX_RANGES_OWNER;
      throw new TopologyError(
        `subnet ${this.subnet.cidr} is outside ${owner.what} (${allowed.join(', ')}); ` +
          `use a subnet inside them, like "192.168.60.0/24", ${owner.widen}`,
      );
    }
  }

  get cidr(): string {
    return this.subnet.cidr;
  }

  /** The address the hypervisor takes for the host side (x.x.x.1 in a /24). */
  get hostAdapterIp(): string {
    return this.subnet.host(1);
  }
}
