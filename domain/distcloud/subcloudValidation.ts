// The input rules of POST /v1.0/subclouds before the network rules (dcmanager R24.03, §1.1.1 steps 2-6 of the
// spec): the migrate/secondary form options, the bootstrap file's name under migrate, the sysadmin password, the
// required bootstrap values. Also the pieces of rehome data both add and update build (saved_payload without
// secrets). Pure; messages are dcmanager's.
import { ValidationError } from '../core/errors.js';
import { validateBootstrapValues, type BootstrapPayload } from './bootstrapValues.js';

/** A multipart POST /subclouds as the API parsed it. */
export interface AddSubcloudRequest {
  /** Text form fields as received (`name`, `description`, `location`, `group_id`, `migrate`, `secondary`, `release`,
   *  `bootstrap-address`, `sysadmin_password`, `bmc_password`, `region_name`…). */
  form: Record<string, string>;
  /** The `bootstrap_values` file, YAML-parsed, when one was sent. */
  bootstrapValues?: Record<string, unknown>;
  /** The `install_values` file, YAML-parsed, when one was sent. */
  installValues?: Record<string, unknown>;
  /** Whether a `deploy_config` file was sent. */
  hasDeployConfig: boolean;
  /** Its content (the command handler seals it; the decider never reads it). */
  deployConfig?: string;
}

/** dcmanager's payload: the bootstrap values, then `install_values`, then the form fields (which win). */
export function mergeAddPayload(request: AddSubcloudRequest): BootstrapPayload {
  return {
    ...(request.bootstrapValues ?? {}),
    ...(request.installValues !== undefined ? { install_values: request.installValues } : {}),
    ...request.form,
  };
}

const fail = (message: string, field?: string): never => {
  throw new ValidationError(message, field);
};

/** `migrate` (R24.03 wording). */
export function validateMigrateOption(payload: BootstrapPayload, hasDeployConfig: boolean): void {
  const migrate = payload.migrate;
  if (migrate === undefined) return;
  if (migrate !== 'true' && migrate !== 'false') fail('The migrate option is invalid, valid options are true and false.', 'migrate');
  if (hasDeployConfig) fail('migrate with deploy-config is not allowed', 'migrate');
}

/** `secondary` (R24.03 wording). Any `migrate` beside it is refused, even `migrate=false`, as dcmanager does. */
export function validateSecondaryOption(payload: BootstrapPayload, hasDeployConfig: boolean): void {
  const secondary = payload.secondary;
  if (secondary === undefined) return;
  if (secondary !== 'true' && secondary !== 'false') {
    fail('The secondary option is invalid, valid options are true and false.', 'secondary');
  }
  if (hasDeployConfig) fail('secondary with deploy-config is not allowed', 'secondary');
  if (payload.migrate !== undefined) fail('secondary with migrate is not allowed', 'secondary');
}

/**
 * Python's base64.b64decode (non-strict: characters outside the alphabet are dropped, then the padding must be
 * right) followed by a UTF-8 decode. Undefined when either step fails.
 */
export function decodeBase64Text(value: string): string | undefined {
  const cleaned = value.replace(/[^A-Za-z0-9+/=]/g, '');
  const body = cleaned.replace(/=+$/, '');
  if (body.includes('=') || cleaned.length % 4 !== 0 || body.length % 4 === 1) return undefined;
  const bytes = Buffer.from(body, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function validateSysadminPassword(payload: BootstrapPayload): void {
  const password = payload.sysadmin_password;
  if (password === undefined || password === null || password === '') fail('subcloud sysadmin_password required', 'sysadmin_password');
  if (typeof password !== 'string' || decodeBase64Text(password) === undefined) {
    fail('Failed to decode subcloud sysadmin_password, verify the password is base64 encoded', 'sysadmin_password');
  }
}

/**
 * Steps 2-6 of POST /subclouds, in dcmanager's order: migrate, secondary, bootstrap name under migrate, sysadmin
 * password (not for a secondary subcloud: the key's presence is enough, as in dcmanager), the required bootstrap
 * values. Returns the merged payload (simplex floating addresses filled in). The name's uniqueness (409) comes
 * next, in the command handler; then validateSubcloudConfig.
 */
export function validateAddRequest(request: AddSubcloudRequest): BootstrapPayload {
  const payload = mergeAddPayload(request);
  validateMigrateOption(payload, request.hasDeployConfig);
  validateSecondaryOption(payload, request.hasDeployConfig);
  const bootstrapName = request.bootstrapValues?.name;
  if (payload.migrate === 'true' && bootstrapName !== undefined && bootstrapName !== null && bootstrapName !== payload.name) {
    fail('subcloud name does not match the name defined in bootstrap file', 'name');
  }
  if (!('secondary' in payload)) validateSysadminPassword(payload);
  if (Object.keys(payload).length === 0) fail('Body required');
  validateBootstrapValues(payload);
  return payload;
}

// ---- rename ----

/** RFC 1123 subdomain, as dcmanager's is_subcloud_name_format_valid. */
export const SUBCLOUD_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// ---- rehome data ----

export interface RehomeData {
  saved_payload: Record<string, unknown>;
}

/** Keys never kept in rehome data (nor in any event). */
export const SECRET_PAYLOAD_KEYS = ['sysadmin_password', 'ansible_ssh_pass', 'ansible_become_pass', 'bmc_password'] as const;

const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * The payload as dcmanager saves it for a later rehome: without the passwords, `admin_password` base64-encoded
 * (dcmanager shows it so in `rehome_data`). Also drops `install_values.bmc_password`, and the keys in `drop`.
 */
export function savedPayload(values: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if ((SECRET_PAYLOAD_KEYS as readonly string[]).includes(k) || drop.includes(k)) continue;
    if (k === 'admin_password' && typeof v === 'string') out[k] = base64(v);
    else if (k === 'install_values' && v && typeof v === 'object' && !Array.isArray(v)) {
      const { bmc_password: _secret, ...rest } = v as Record<string, unknown>;
      out[k] = rest;
    } else out[k] = v;
  }
  return out;
}
