import { TopologyError } from '../model/errors';

/** An IPv4 address as a 32-bit unsigned integer, so subnet arithmetic is plain integer math. */
export function parseIpv4(text: string, what = 'ip address'): number {
  const parts = typeof text === 'string' ? text.split('.') : [];
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) {
    throw new TopologyError(`${what} ${JSON.stringify(text)} is not an IPv4 address; expected four numbers 0-255 like "192.168.56.101"`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** A private IPv4 subnet in CIDR notation; hosts are addressed by their number within it. */
export class Ipv4Subnet {
  static parse(cidr: string): Ipv4Subnet {
    const match = typeof cidr === 'string' ? /^([^/]+)\/(\d{1,2})$/.exec(cidr) : null;
    if (!match || Number(match[2]) > 30 || Number(match[2]) < 8) {
      throw new TopologyError(`subnet ${JSON.stringify(cidr)} is not a usable CIDR; expected "a.b.c.d/len" with len 8-30, like "192.168.56.0/24"`);
    }
    const base = parseIpv4(match[1], 'subnet address');
    const prefix = Number(match[2]);
    const size = 2 ** (32 - prefix);
    if (base % size !== 0) {
      const fixed = formatIpv4(base - (base % size));
      throw new TopologyError(`subnet ${JSON.stringify(cidr)} has host bits set; use "${fixed}/${prefix}"`);
    }
    return new Ipv4Subnet(base, prefix);
  }

  private constructor(readonly base: number, readonly prefix: number) {}

  get cidr(): string {
    return `${formatIpv4(this.base)}/${this.prefix}`;
  }

  get size(): number {
    return 2 ** (32 - this.prefix);
  }

  /** The address of host number `n` (1 = first usable address). */
  host(n: number): string {
    if (!Number.isInteger(n) || n < 1 || n > this.size - 2) {
      throw new TopologyError(`host number ${n} is outside subnet ${this.cidr}; expected 1-${this.size - 2}`);
    }
    return formatIpv4(this.base + n);
  }

  contains(ip: string): boolean {
    const value = parseIpv4(ip);
    return value >= this.base && value < this.base + this.size;
  }

  isNetworkOrBroadcast(ip: string): boolean {
    const value = parseIpv4(ip);
    return value === this.base || value === this.base + this.size - 1;
  }

  /** True when every address of this subnet lies inside `other`. */
  within(other: Ipv4Subnet): boolean {
    return this.base >= other.base && this.base + this.size <= other.base + other.size;
  }
}
