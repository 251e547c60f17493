// The bootstrap values of a subcloud (the YAML file merged with the form fields), checked as dcmanager does it:
// `validateBootstrapValues` (which keys are required, dcmanager's validate_bootstrap_values) and
// `validateSubcloudConfig` (names, subnets and ranges, gateways, system controller gateway, OAM, group:
// validate_subcloud_config). Same order, same messages, so each rule can be found by grepping its message.
// Network rules are single-stack (IPv4 or IPv6); comma-separated dual-stack values are refused as invalid.
import { ValidationError } from '../core/errors.js';
import {
  NetworkRuleError,
  parseAddress,
  parseNetwork,
  rangeSize,
  rangesOverlap,
  validateAddress,
  validateNetwork,
  type IpAddress,
  type IpNetwork,
} from './subcloudNetwork.js';

/** The merged request payload: bootstrap values and form fields, values as parsed (YAML may give any type). */
export type BootstrapPayload = Record<string, unknown>;

export const DEFAULT_SUBCLOUD_GROUP_ID = 1;
export const SYSTEM_MODE_SIMPLEX = 'simplex';
export const RESERVED_SUBCLOUD_NAMES = ['RegionOne', 'SystemController'] as const;

/** Python truthiness of a parsed value: None, '', 0, false, [] and {} are "not given". */
export function isGiven(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

const fail = (message: string): never => {
  throw new ValidationError(message);
};

/**
 * Required keys (validate_bootstrap_values). On simplex, a `*_floating_address` without start/end addresses
 * stands for both (written back into the payload, as dcmanager does); a floating address must equal the start one.
 */
export function validateBootstrapValues(payload: BootstrapPayload): void {
  if (!isGiven(payload.name)) fail('name required');
  if (!isGiven(payload.system_mode)) fail('system_mode required');
  const simplex = payload.system_mode === SYSTEM_MODE_SIMPLEX;

  for (const network of ['admin', 'management'] as const) {
    const floating = payload[`${network}_floating_address`];
    if (isGiven(floating) && simplex && !isGiven(payload[`${network}_start_address`]) && !isGiven(payload[`${network}_end_address`])) {
      payload[`${network}_start_address`] = floating;
      payload[`${network}_end_address`] = floating;
    }
    if (isGiven(floating) && floating !== payload[`${network}_start_address`]) {
      fail(`${network}_floating_address does not match ${network}_start_address`);
    }
    if (network === 'admin') {
      // The admin network is optional; when any of its keys is given, all are required.
      const keys = ['admin_subnet', 'admin_start_address', 'admin_end_address', 'admin_gateway_address'];
      if (keys.some((k) => isGiven(payload[k]))) {
        for (const k of keys) if (!isGiven(payload[k])) fail(`${k} required`);
      }
    }
  }

  if (!isGiven(payload.management_subnet)) fail('management_subnet required');
  if (!isGiven(payload.management_start_address)) fail('management_start_address required');
  if (!isGiven(payload.management_end_address)) fail('management_end_address required');
  const adminGateway = isGiven(payload.admin_gateway_address);
  const managementGateway = isGiven(payload.management_gateway_address);
  if (adminGateway && managementGateway) {
    fail('admin_gateway_address and management_gateway_address cannot be specified at the same time');
  } else if (!adminGateway && !managementGateway) {
    fail('management_gateway_address required');
  }
  if (!isGiven(payload.systemcontroller_gateway_address)) fail('systemcontroller_gateway_address required');
  if (!isGiven(payload.external_oam_subnet)) fail('external_oam_subnet required');
  if (!isGiven(payload.external_oam_gateway_address)) fail('external_oam_gateway_address required');
  if (!isGiven(payload.external_oam_floating_address)) fail('external_oam_floating_address required');
}

// ---- validate_subcloud_config ----

/** Another subcloud as the rules need it (from the subclouds read model). */
export interface ExistingSubcloud {
  id: number;
  name: string;
  managementSubnet: string;
  managementStartIp: string;
  managementEndIp: string;
}

/** Plain data the command handler reads before deciding. */
export interface SubcloudConfigContext {
  /** The other subclouds of this site the rules may compare with: every one, or those `networkProbes` touch. */
  existingSubclouds: ExistingSubcloud[];
  /** The system controller's own management address pool (its subnet and its range). */
  systemControllerManagement: { subnet: string; startIp: string; endIp: string };
  /** Ids of the subcloud groups that exist. */
  existingGroupIds: number[];
}

/** What the checked values give the subcloud (the admin network, when given, wins over the management one). */
export interface SubcloudNetworkConfig {
  managementSubnet: string;
  managementStartIp: string;
  managementEndIp: string;
  managementGatewayIp: string;
  systemcontrollerGatewayIp: string;
  oamFloatingAddress: string;
  groupId: number;
}

export const MIN_SUBNET_SIZE = { simplex: 4, other: 8 } as const;
export const MIN_RANGE_ADDRESSES = { simplex: 1, other: 3 } as const;
export const MIN_OAM_SUBNET_SIZE = 3;

/**
 * What the network rules compare with other subclouds, as plain numbers: the requested management (and admin)
 * ranges, which may not overlap another subcloud's management range, and the OAM subnet's address, which may not
 * lie inside another subcloud's management subnet. A handler that passes as `existingSubclouds` only the subclouds
 * these touch gets the same verdict as with every subcloud, without reading the whole fleet. A value that does not
 * parse asks for nothing: the rules refuse it before they compare.
 */
export interface NetworkProbes {
  ranges: { version: 4 | 6; start: bigint; end: bigint }[];
  addresses: { version: 4 | 6; value: bigint }[];
}

export function networkProbes(payload: BootstrapPayload): NetworkProbes {
  const ranges: NetworkProbes['ranges'] = [];
  for (const network of ['management', 'admin'] as const) {
    const start = parseAddress(payload[`${network}_start_address`]);
    const end = parseAddress(payload[`${network}_end_address`]);
    if (start && end && start.version === end.version && start.value <= end.value) {
      ranges.push({ version: start.version, start: start.value, end: end.value });
    }
  }
  const oam = parseNetwork(payload.external_oam_subnet);
  return { ranges, addresses: oam ? [{ version: oam.ip.version, value: oam.ip.value }] : [] };
}

/** Runs one network rule and turns its reason into "<field> invalid: <reason>". */
function check<T>(field: string, rule: () => T): T {
  try {
    return rule();
  } catch (e) {
    if (e instanceof NetworkRuleError) throw new ValidationError(`${field} invalid: ${e.message}`, field);
    throw e;
  }
}

function parseRange(existing: ExistingSubcloud) {
  const start = parseAddress(existing.managementStartIp);
  const end = parseAddress(existing.managementEndIp);
  return start && end ? { name: existing.name, start, end } : undefined;
}

/** The address range rules shared by the management and admin networks. */
function checkRange(
  network: 'management' | 'admin',
  subnet: IpNetwork,
  payload: BootstrapPayload,
  simplex: boolean,
  others: { name: string; start: IpAddress; end: IpAddress }[],
) {
  const start = check(`${network}_start_address`, () => validateAddress(payload[`${network}_start_address`], subnet));
  const end = check(`${network}_end_address`, () => validateAddress(payload[`${network}_end_address`], subnet));
  if (start.value > end.value) fail(`${network}_start_address greater than ${network}_end_address`);
  const min = simplex ? MIN_RANGE_ADDRESSES.simplex : MIN_RANGE_ADDRESSES.other;
  if (rangeSize(start, end) < BigInt(min)) fail(`${network} address range must contain at least ${min} addresses`);
  const clash = others.find((o) => rangesOverlap(start, end, o.start, o.end));
  if (clash) {
    fail(`${network === 'admin' ? 'Admin' : 'Management'} address range overlaps with that of subcloud ${clash.name}`);
  }
  return { start, end };
}

/** Python's str.isdigit for the names people type: only decimal digits. */
const isDigits = (s: string) => /^\p{Nd}+$/u.test(s);

/** validate_subcloud_config, in dcmanager's order. Expects validateBootstrapValues to have passed. */
export function validateSubcloudConfig(payload: BootstrapPayload, context: SubcloudConfigContext): SubcloudNetworkConfig {
  const name = String(payload.name);
  if (isDigits(name)) fail('name must contain alphabetic characters');
  if ((RESERVED_SUBCLOUD_NAMES as readonly string[]).includes(name)) {
    fail(`name cannot be ${RESERVED_SUBCLOUD_NAMES[0]} or ${RESERVED_SUBCLOUD_NAMES[1]}`);
  }
  const groupId = payload.group_id ?? DEFAULT_SUBCLOUD_GROUP_ID;
  const simplex = payload.system_mode === SYSTEM_MODE_SIMPLEX;
  const minSubnet = simplex ? MIN_SUBNET_SIZE.simplex : MIN_SUBNET_SIZE.other;
  const others = context.existingSubclouds.map(parseRange).filter((r) => r !== undefined);
  const otherSubnets = context.existingSubclouds.map((s) => parseNetwork(s.managementSubnet)).filter((n) => n !== undefined);

  // Management network: subnet, range (unique among subclouds), gateway.
  const mgmtSubnet = check('management_subnet', () => validateNetwork(payload.management_subnet, minSubnet));
  const mgmt = checkRange('management', mgmtSubnet, payload, simplex, others);
  const adminGiven = isGiven(payload.admin_gateway_address);
  const mgmtGateway = adminGiven
    ? undefined
    : check('management_gateway_address', () => validateAddress(payload.management_gateway_address, mgmtSubnet));

  // Admin network (optional; it takes over the system controller <-> subcloud traffic).
  let admin: { subnet: IpNetwork; start: IpAddress; end: IpAddress; gateway: IpAddress } | undefined;
  if (['admin_subnet', 'admin_start_address', 'admin_end_address', 'admin_gateway_address'].some((k) => isGiven(payload[k]))) {
    const subnet = check('admin_subnet', () => validateNetwork(payload.admin_subnet, minSubnet));
    const range = checkRange('admin', subnet, payload, simplex, others);
    const gateway = check('admin_gateway_address', () => validateAddress(payload.admin_gateway_address, subnet));
    if (gateway.value >= range.start.value && gateway.value <= range.end.value) {
      fail(`admin_gateway_address invalid, is within admin pool: ${range.start.text} - ${range.end.text}`);
    }
    admin = { subnet, ...range, gateway };
  }

  // The gateway towards the system controller must lie outside the subcloud's own pool.
  const pool = admin ?? { start: mgmt.start, end: mgmt.end, gateway: mgmtGateway as IpAddress };
  if (pool.gateway.value >= pool.start.value && pool.gateway.value <= pool.end.value) {
    fail(`${admin ? 'admin' : 'management'}_gateway_address invalid, is within management pool: ${pool.start.text} - ${pool.end.text}`);
  }

  const scGateway = validateSystemControllerGateway(payload.systemcontroller_gateway_address, admin?.subnet ?? mgmtSubnet, context);

  // OAM network: its subnet may not start inside another subcloud's management subnet.
  const oamSubnet = check('external_oam_subnet', () => validateNetwork(payload.external_oam_subnet, MIN_OAM_SUBNET_SIZE, otherSubnets));
  check('oam_gateway_address', () => validateAddress(payload.external_oam_gateway_address, oamSubnet));
  const oamFloating = check('oam_floating_address', () => validateAddress(payload.external_oam_floating_address, oamSubnet));

  const group = typeof groupId === 'number' ? groupId : typeof groupId === 'string' && /^\d+$/.test(groupId) ? Number(groupId) : NaN;
  if (!context.existingGroupIds.includes(group)) fail('Invalid group_id');

  return {
    managementSubnet: String(admin ? payload.admin_subnet : payload.management_subnet),
    managementStartIp: (admin ?? mgmt).start.text,
    managementEndIp: (admin ?? mgmt).end.text,
    managementGatewayIp: pool.gateway.text,
    systemcontrollerGatewayIp: scGateway.text,
    oamFloatingAddress: oamFloating.text,
    groupId: group,
  };
}

/** The subcloud's route to the system controller: same family as the subcloud's management (or admin) subnet,
 *  inside the system controller's management subnet, outside its address pool. */
function validateSystemControllerGateway(value: unknown, subcloudSubnet: IpNetwork, context: SubcloudConfigContext): IpAddress {
  const field = 'systemcontroller_gateway_address';
  const parsed = parseAddress(value);
  if (parsed && parsed.version !== subcloudSubnet.version) fail(`${field} invalid: Expected IPv${subcloudSubnet.version}`);
  const sc = context.systemControllerManagement;
  const scSubnet = parseNetwork(sc.subnet);
  if (!scSubnet) throw new Error(`system controller management subnet is not a subnet: ${sc.subnet}`);
  const gateway = check(field, () => validateAddress(value, scSubnet));
  const start = parseAddress(sc.startIp);
  const end = parseAddress(sc.endIp);
  if (start && end && gateway.value >= start.value && gateway.value <= end.value) {
    fail(`${field} invalid, is within management pool: ${start.text} - ${end.text}`);
  }
  return gateway;
}
