// IPv4 arithmetic for the simulator: sequential loopback addresses and non-overlapping subnets.
import { isIPv4 } from 'node:net';

export function ipv4ToInt(address: string): number {
  if (!isIPv4(address)) throw new TypeError(`not an IPv4 address: ${address}`);
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * `count` addresses from `base` upwards, skipping x.y.z.0 and x.y.z.255, all inside 127.0.0.0/8
 * (Linux routes the whole block to `lo`, so each can be bound without any setup).
 */
export function loopbackAddresses(base: string, count: number): string[] {
  let n = ipv4ToInt(base);
  const out: string[] = [];
  while (out.length < count) {
    const last = n & 255;
    if (last !== 0 && last !== 255) {
      if (n >>> 24 !== 127) throw new RangeError(`${count} addresses from ${base} leave 127.0.0.0/8`);
      out.push(intToIpv4(n));
    }
    n++;
  }
  return out;
}

/** Subnet number `index` of size 2^(32-prefix) carved sequentially from `pool` (an address). */
export function nthSubnet(pool: string, prefix: number, index: number) {
  const size = 2 ** (32 - prefix);
  const start = ipv4ToInt(pool) + index * size;
  if (start + size - 1 > 0xffffffff) throw new RangeError('subnet pool exhausted');
  return { network: start, size, cidr: `${intToIpv4(start)}/${prefix}`, at: (offset: number) => intToIpv4(start + offset) };
}
