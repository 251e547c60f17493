// Prestage: the rules and messages of dcmanager's prestage (spec §4), shared by the prestage strategy (its
// creation, and each step's pre-check) and the single-subcloud PATCH /subclouds/{ref}/prestage. Pure: the facts a
// subcloud reports (system mode, alarms) come in as data.
import { ValidationError } from '../core/errors.js';
import { decodeBase64Text } from './subcloudValidation.js';

/** A prestage step's states in order (the 2022 design: prepare runs once for the whole strategy). */
export const PRESTAGE_STEP_STATES = ['prestage-precheck', 'prestage-prepare', 'prestaging-packages', 'prestaging-images'] as const;
export type PrestageStepState = (typeof PRESTAGE_STEP_STATES)[number];

/** The subcloud's `prestage-status` while a prestage runs, and after. */
export const PRESTAGE_STATUS = {
  prepare: 'prestage-prepare',
  packages: 'prestaging-packages',
  images: 'prestaging-images',
  complete: 'complete',
  failed: 'failed',
} as const;
export type PrestageStatus = (typeof PRESTAGE_STATUS)[keyof typeof PRESTAGE_STATUS];
/** A prestage in these states is still running (the rest are outcomes, or none). */
export const ONGOING_PRESTAGE: readonly string[] = [PRESTAGE_STATUS.prepare, PRESTAGE_STATUS.packages, PRESTAGE_STATUS.images];

/** MAX_PARALLEL_PRESTAGE_LIMIT (dcmanager HEAD). */
export const PRESTAGE_MAX_PARALLEL = 250;

/** dcmanager's PrestagePreCheckFailedException: skip = the orchestrator completes the step with this as its details. */
export interface PrestageCheckFailure {
  subcloud: string | null;
  details: string;
  skip: boolean;
}

/** The exception's text: `Prestage failed: …`, `Prestage skipped '<n>': …` or `Prestage failed '<n>': …`. */
export function prestageFailureMessage(f: PrestageCheckFailure): string {
  if (f.subcloud === null) return `Prestage failed: ${f.details}`;
  return f.skip ? `Prestage skipped '${f.subcloud}': ${f.details}` : `Prestage failed '${f.subcloud}': ${f.details}`;
}

export const MANAGEMENT_AFFECTING_ALARMS =
  'Subcloud has management affecting alarm(s). Please resolve the alarm condition(s) or use --force option and try again.';
export const ONLY_SIMPLEX = 'Prestage operation is only accepted for a simplex subcloud.';
export const PREPARE_ABORTED = 'Aborted due to previous prestage-prepare failure';
export const SUBCLOUD_INFO_UNAVAILABLE = 'Failed to retrieve subcloud system mode and system health.';
export const subcloudUnmanaged = (name: string) => `Subcloud ${name} is unmanaged.`;

/** What initial_subcloud_validate looks at. */
export interface PrestageCandidate {
  name: string;
  availabilityStatus: string;
  managementState: string;
  deployStatus: string;
  prestageStatus: string | null;
  backupStatus?: string | null;
}

const ONGOING_BACKUP = ['validating', 'pre-backup', 'backing-up'];

/** initial_subcloud_validate (R24.03): why this subcloud may not be prestaged now; all are skips. */
export function initialPrestageCheck(s: PrestageCandidate): PrestageCheckFailure | undefined {
  const skip = (details: string): PrestageCheckFailure => ({ subcloud: s.name, details, skip: true });
  if (s.availabilityStatus !== 'online') return skip('Subcloud is offline.');
  if (s.managementState !== 'managed') return skip('Subcloud is not managed.');
  if (s.backupStatus && ONGOING_BACKUP.includes(s.backupStatus)) return skip('Prestage operation is not allowed while backup is in progress.');
  if (s.deployStatus !== 'complete') return skip('Prestage operation is not allowed when subcloud deploy is not completed.');
  const allowed = [PRESTAGE_STATUS.failed, PRESTAGE_STATUS.complete];
  if (s.prestageStatus && !(allowed as string[]).includes(s.prestageStatus)) {
    return skip(
      `Prestage operation is only allowed while subcloud prestage status is one of: ${allowed.join(', ')}. The current prestage status is ${s.prestageStatus}.`,
    );
  }
  return undefined;
}

/** What the subcloud's pre-check reports about itself (the agent's `prestage-precheck` result). */
export interface PrestageFacts {
  systemMode: string;
  /** Critical and major alarms: the ones that affect management. */
  managementAffectingAlarms: number;
}

/** validate_prestage beyond the initial checks: simplex only (a skip); alarms block unless forced (a failure). */
export function precheckVerdict(name: string, facts: PrestageFacts, force: boolean): PrestageCheckFailure | undefined {
  if (facts.systemMode !== 'simplex') return { subcloud: name, details: ONLY_SIMPLEX, skip: true };
  if (!force && facts.managementAffectingAlarms > 0) return { subcloud: name, details: MANAGEMENT_AFFECTING_ALARMS, skip: false };
  return undefined;
}

/** The shared packages must be prepared when the subcloud runs another release than the one prestaged. */
export const needsPreparation = (subcloudVersion: string, release: string) => subcloudVersion !== release;

/** strategy_steps.details holds 255 characters (R24.03); longer text is cut and ends with `..`. */
export const STEP_DETAILS_MAX = 255;
export function stepDetails(text: string): string {
  // Characters, not UTF-16 units: a character outside the BMP counts once and is never cut in half.
  const chars = [...text];
  return chars.length <= STEP_DETAILS_MAX ? text : `${chars.slice(0, STEP_DETAILS_MAX - 2).join('')}..`;
}

/** A failed step's details: `<state>: <error>`. */
export const failedStepDetails = (state: string, error: string) => stepDetails(`${state}: ${error}`);

// ---- request values ----

/** The strategy's sysadmin_password: mandatory, base64 (global_prestage_validate's messages). */
export function strategySysadminPassword(value: unknown): string {
  if (value === undefined || value === null || value === '') {
    throw new ValidationError(prestageFailureMessage({ subcloud: null, details: "Missing required parameter 'sysadmin_password'", skip: false }), 'sysadmin_password');
  }
  if (typeof value !== 'string' || decodeBase64Text(value) === undefined) {
    const why = typeof value !== 'string' ? `expected a string, got ${typeof value}` : 'Incorrect padding or not UTF-8 text';
    throw new ValidationError(
      prestageFailureMessage({
        subcloud: null,
        details: `Failed to decode subcloud sysadmin_password, verify the password is base64 encoded. Details: ${why}`,
        skip: false,
      }),
      'sysadmin_password',
    );
  }
  return value;
}

/** A strategy's boolean option (dcmanager HEAD validate_bool_param): a JSON boolean, or "true"/"false" in any case. */
export function strategyBool(name: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && ['true', 'false'].includes(value.trim().toLowerCase())) return value.trim().toLowerCase() === 'true';
  throw new ValidationError(`Invalid value '${pythonText(value)}' for ${name} - must be True/False or 'true'/'false'`, name);
}

/** PATCH /subclouds/{ref}/prestage's force: true/false/t/f in any case, or a JSON boolean. */
export function singlePrestageForce(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  const v = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (v === 'true' || v === 't') return true;
  if (v === 'false' || v === 'f') return false;
  throw new ValidationError(`Invalid value for force option: ${pythonText(value)}`, 'force');
}

/** PATCH /subclouds/{ref}/prestage's sysadmin_password (the subcloud controller's messages). */
export function singlePrestagePassword(value: unknown): string {
  if (value === undefined || value === null || value === '') throw new ValidationError('sysadmin_password is required.', 'sysadmin_password');
  if (typeof value !== 'string' || decodeBase64Text(value) === undefined) {
    throw new ValidationError('Failed to decode subcloud sysadmin_password, verify the password is base64 encoded', 'sysadmin_password');
  }
  return value;
}

/** How Python's %s shows a JSON value. */
export function pythonText(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null) return 'None';
  return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
}
