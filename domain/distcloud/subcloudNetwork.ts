// Subnet and address arithmetic for the subcloud rules (IPv4 and IPv6, one address family per value), with the
// reasons dcmanager's validate_network_str / validate_address_str give: callers prefix them with
// "<field> invalid: ". Pure; addresses are compared as bigints.
import ipaddr from 'ipaddr.js';

export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
  /** Canonical text: dotted quad, or RFC 5952 (lowercase, shortest) for IPv6. */
  text: string;
}

export interface IpNetwork {
  version: IpVersion;
  /** The address as written (dcmanager keeps host bits: 10.0.0.5/24 is shown as such). */
  ip: IpAddress;
  prefix: number;
  first: bigint;
  last: bigint;
  /** 2^(width - prefix). */
  size: bigint;
  text: string;
}

/** A reason that a value failed; the caller turns it into the field's message. */
export class NetworkRuleError extends Error {}

const width = (v: IpVersion) => (v === 4 ? 32 : 128);

function toBigint(bytes: number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function fromBigint(version: IpVersion, value: bigint): IpAddress {
  const bytes: number[] = [];
  let n = value;
  for (let i = 0; i < width(version) / 8; i++) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  const addr = ipaddr.fromByteArray(bytes);
  return { version, value, text: format(addr) };
}

const format = (addr: ipaddr.IPv4 | ipaddr.IPv6) =>
  addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();

/** Parses one address; undefined when it is not an IPv4 dotted quad or an IPv6 address. */
export function parseAddress(text: unknown): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) {
    const a = ipaddr.IPv4.parse(s);
    return { version: 4, value: toBigint(a.toByteArray()), text: format(a) };
  }
  if (s.includes(':') && ipaddr.IPv6.isValid(s)) {
    const a = ipaddr.IPv6.parse(s);
    if (a.zoneId !== undefined) return undefined;
    return { version: 6, value: toBigint(a.toByteArray()), text: format(a) };
  }
  return undefined;
}

/** Parses `addr/prefix` (or a bare address, a host network); undefined when it is not one. */
export function parseNetwork(text: unknown): IpNetwork | undefined {
  if (typeof text !== 'string') return undefined;
  const [addrText, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || addrText === undefined) return undefined;
  const ip = parseAddress(addrText);
  if (!ip) return undefined;
  const w = width(ip.version);
  const prefix = prefixText === undefined ? w : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > w) return undefined;
  const hostBits = BigInt(w - prefix);
  const size = 1n << hostBits;
  const first = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, ip, prefix, first, last: first + size - 1n, size, text: `${ip.text}/${prefix}` };
}

export const contains = (net: IpNetwork, a: IpAddress) => a.version === net.version && a.value >= net.first && a.value <= net.last;

/** dcmanager's broadcast: the last address, except in /31 and /32 (and /127, /128) networks which have none. */
const broadcast = (net: IpNetwork) => (width(net.version) - net.prefix <= 1 ? undefined : net.last);

/** validate_network_str: a parsable subnet, at least `minimumSize` addresses, IPv6 prefix ≥ 64, and (when
 *  `existing` is given) its address not inside any of those networks. */
export function validateNetwork(text: unknown, minimumSize: number, existing: IpNetwork[] = []): IpNetwork {
  const net = parseNetwork(text);
  if (!net) throw new NetworkRuleError('Invalid subnet - not a valid IP subnet');
  if (net.size < BigInt(minimumSize)) {
    throw new NetworkRuleError(`Subnet too small - must have at least ${minimumSize} addresses`);
  }
  if (net.version === 6 && net.prefix < 64) throw new NetworkRuleError('IPv6 minimum prefix length is 64');
  if (existing.some((other) => contains(other, net.ip))) {
    throw new NetworkRuleError('Subnet overlaps with another configured subnet');
  }
  return net;
}

/** validate_address_str: a parsable address of the network's family, not its network or broadcast address, inside it. */
export function validateAddress(text: unknown, net: IpNetwork): IpAddress {
  if (text === undefined || text === null || text === '') {
    throw new NetworkRuleError('Invalid address - IP address not specified');
  }
  const a = parseAddress(text);
  if (!a) throw new NetworkRuleError('Invalid address - not a valid IP address');
  if (a.version !== net.version) {
    throw new NetworkRuleError(`Invalid IP version - must match network version IPv${net.version}`);
  }
  if (a.value === net.ip.value) throw new NetworkRuleError('Cannot use network address');
  if (a.value === broadcast(net)) throw new NetworkRuleError('Cannot use broadcast address');
  if (!contains(net, a)) throw new NetworkRuleError(`Address must be in subnet ${net.text}`);
  return a;
}

/** Number of addresses from start to end inclusive (0 when end < start). */
export const rangeSize = (start: IpAddress, end: IpAddress) => (end.value < start.value ? 0n : end.value - start.value + 1n);

/** Whether [aStart, aEnd] and [bStart, bEnd] share an address (never across address families). */
export function rangesOverlap(aStart: IpAddress, aEnd: IpAddress, bStart: IpAddress, bEnd: IpAddress): boolean {
  if (aStart.version !== bStart.version) return false;
  return aStart.value <= bEnd.value && bStart.value <= aEnd.value;
}

export const addressText = (version: IpVersion, value: bigint) => fromBigint(version, value).text;
