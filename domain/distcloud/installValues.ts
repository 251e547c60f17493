// The install_values file of POST /subclouds (step 11 of spec §1.1.1, dcmanager's validate_install_values), in
// dcmanager's order and wording, so each rule can be found by grepping its message. What it returns is what the
// subcloud's `data_install` keeps: the values with the software version filled in and addresses in canonical form,
// never the BMC password.
//
// Left out: dcmanager also looks up the installation image (ISO) for the software version in its load vault and
// writes its path into the values. fleetledger keeps no load vault; the agent installs the software version.
import { ValidationError } from '../core/errors.js';
import { decodeBase64Text } from './subcloudValidation.js';
import { NetworkRuleError, parseAddress, validateNetwork } from './subcloudNetwork.js';

/** Smallest persistent partition an install may ask for, in MB. */
export const DEFAULT_PERSISTENT_SIZE = 30000;
/** install_type is one of 0..5. */
export const SUPPORTED_INSTALL_TYPES = 6;
export const MANDATORY_INSTALL_VALUES = [
  'bootstrap_interface',
  'bootstrap_address',
  'bootstrap_address_prefix',
  'install_type',
  'bmc_username',
  'bmc_address',
  'bmc_password',
] as const;
/** Install values that hold an address, rewritten in canonical form (dcmanager's format_ip_address). */
const ADDRESS_KEYS = ['bootstrap_address', 'bmc_address', 'nexthop_gateway', 'network_address'] as const;

const fail = (message: string, field = 'install_values'): never => {
  throw new ValidationError(message, field);
};

/** Python's str() of a YAML value, as dcmanager's messages print it. */
function pyStr(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return typeof v === 'object' ? JSON.stringify(v) : String(v as string | number);
}

/** Python's isinstance(v, int) for a YAML value (booleans are ints there). */
const isPyInt = (v: unknown): v is number | boolean => typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v));
const asNumber = (v: number | boolean) => (typeof v === 'boolean' ? Number(v) : v);

/** netaddr's IPAddress(): the address, or the reason it gives. */
function ipAddress(key: string, v: unknown) {
  const a = parseAddress(v);
  if (!a) fail(`${key} invalid: failed to detect a valid IP address from ${pyRepr(v)}`);
  return a!;
}
const pyRepr = (v: unknown) => (typeof v === 'string' ? `'${v}'` : pyStr(v));

/** Python's int() of a value: the integer, or ValueError's text. */
function pyInt(v: unknown): number | string {
  if (isPyInt(v)) return asNumber(v);
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v);
  return `invalid literal for int() with base 10: ${pyRepr(v)}`;
}

export function validateInstallValues(
  installValues: Record<string, unknown>,
  bmcPassword: unknown,
  softwareVersion: string,
): Record<string, unknown> {
  if (bmcPassword === undefined || bmcPassword === null || bmcPassword === '') fail('subcloud bmc_password required', 'bmc_password');
  if (typeof bmcPassword !== 'string' || decodeBase64Text(bmcPassword) === undefined) {
    fail('Failed to decode subcloud bmc_password, verify the password is base64 encoded', 'bmc_password');
  }
  const values: Record<string, unknown> = { ...installValues, bmc_password: bmcPassword };

  if ('software_version' in values) {
    const requested = pyStr(values.software_version);
    if (requested !== softwareVersion) {
      fail(
        `The software_version value ${requested} in the install values yaml file does not match with the specified/current ` +
          `software version of ${softwareVersion}. Please correct or remove this parameter from the yaml file and try again.`,
      );
    }
  } else {
    // The install needs it; dcmanager fills it in from the subcloud's software version.
    values.software_version = softwareVersion;
  }

  if ('persistent_size' in values) {
    const size = values.persistent_size;
    if (!isPyInt(size)) fail(`The install value persistent_size (in MB) must be a whole number greater than or equal to ${DEFAULT_PERSISTENT_SIZE}`);
    if (asNumber(size as number) < DEFAULT_PERSISTENT_SIZE) {
      fail(`persistent_size of ${pyStr(size)} MB is less than the permitted minimum ${DEFAULT_PERSISTENT_SIZE} MB `);
    }
  }

  if ('hw_settle' in values) {
    const settle = values.hw_settle;
    if (!isPyInt(settle)) fail('The install value hw_settle (in seconds) must be a whole number greater than or equal to 0');
    if (asNumber(settle as number) < 0) fail(`hw_settle of ${pyStr(settle)} seconds is less than 0`);
  }

  if ('extra_boot_params' in values) {
    const params = values.extra_boot_params;
    if (params === '' || params === null || params === 'None') fail('The install value extra_boot_params must not be empty.');
    if (pyStr(params).includes(' ')) {
      fail(`Invalid install value 'extra_boot_params=${pyStr(params)}'. Spaces are not allowed (use ',' to separate multiple arguments)`);
    }
  }

  for (const key of MANDATORY_INSTALL_VALUES) if (!(key in values)) fail(`Mandatory install value ${key} not present`);

  const installType = values.install_type;
  if (!(typeof installType === 'number' && Number.isInteger(installType) && installType >= 0 && installType < SUPPORTED_INSTALL_TYPES)) {
    fail(`install_type invalid: ${pyStr(installType)}`);
  }

  const version = ipAddress('bootstrap_address', values.bootstrap_address).version;
  if (ipAddress('bmc_address', values.bmc_address).version !== version) fail('bmc_address and bootstrap_address must be the same IP version');

  if ('nexthop_gateway' in values && ipAddress('nexthop_gateway', values.nexthop_gateway).version !== version) {
    fail('nexthop_gateway and bootstrap_address must be the same IP version');
  }
  if ('network_address' in values) {
    if (!('nexthop_gateway' in values)) fail('nexthop_gateway is required when network_address is present');
    if (!('network_mask' in values)) fail('The network mask is required when network address is present');
    let network;
    try {
      network = validateNetwork(`${pyStr(values.network_address)}/${pyStr(values.network_mask)}`, 1);
    } catch (e) {
      if (e instanceof NetworkRuleError) fail(`network address invalid: ${e.message}`);
      throw e;
    }
    if (network!.version !== version) fail('network address and bootstrap address must be the same IP version');
  }

  if ('rd.net.timeout.ipv6dad' in values) {
    const timeout = pyInt(values['rd.net.timeout.ipv6dad']);
    if (typeof timeout === 'string') fail(`rd.net.timeout.ipv6dad invalid: ${timeout}`);
    if ((timeout as number) <= 0) fail(`rd.net.timeout.ipv6dad must be greater than 0: ${timeout}`);
  }

  if ('rvmc_debug_level' in values) {
    const level = pyInt(values.rvmc_debug_level);
    if (typeof level === 'string') fail(`Invalid value of rvmc_debug_level: ${level}`);
    if ((level as number) < 0 || (level as number) > 4) fail('rvmc_debug_level must be an integer between 0 and 4.');
  }

  for (const key of ADDRESS_KEYS) if (key in values) values[key] = ipAddress(key, values[key]).text;
  const { bmc_password: _secret, ...kept } = values;
  return kept;
}
