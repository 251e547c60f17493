// POST /v1.0/sw-update-strategy: the request's own checks, in dcmanager's order and words (spec §1.6, §4.1):
// HEAD's validate_strategy_payload (force, apply type, group, max-parallel with the prestage limit of 250), then
// type, the prestage password (global_prestage_validate's messages), stop-on-failure. Every refusal is a 400 naming
// the field. What needs the current state (an existing strategy, the subclouds) is the command handler's.
import { requireBody } from '../core/body.js';
import { ValidationError } from '../core/errors.js';
import { pythonInt } from '../core/pythonInt.js';
import { PRESTAGE_MAX_PARALLEL, pythonText, strategyBool, strategySysadminPassword } from './prestage.js';
import { DEFAULT_MAX_PARALLEL, ORCHESTRATED_TYPES, STRATEGY_TYPES, type StrategyType, type SubcloudApplyType } from './swUpdateStrategy.js';

/** dcmanager's MAX_PARALLEL_SUBCLOUDS_LIMIT, for the types fleetledger does not orchestrate. */
const MAX_PARALLEL_LIMIT = 5000;

export type StrategyInput = Partial<
  Record<
    'type' | 'subcloud-apply-type' | 'max-parallel-subclouds' | 'stop-on-failure' | 'force' | 'cloud_name' | 'subcloud_group' | 'group' | 'sysadmin_password',
    unknown
  >
>;

/** The subcloud group a request names, as the handler found it (null: no such group). */
export interface RequestedGroup {
  id: number;
  updateApplyType: string;
  maxParallelSubclouds: number;
}

export interface StrategyRequest {
  type: StrategyType;
  subcloudApplyType: SubcloudApplyType | null;
  maxParallelSubclouds: number;
  stopOnFailure: boolean;
  force: boolean;
  /** base64, checked. */
  sysadminPassword: string;
  cloudName: string | null;
  groupId: number | null;
}

/** `subcloud_group`, or `group` as the 2022 commit's curl sample sends it. */
export const groupRefOf = (input: StrategyInput | undefined): string | undefined => {
  const ref = input?.subcloud_group ?? input?.group;
  return ref === undefined || ref === null || ref === '' ? undefined : String(ref);
};

export function validateStrategyRequest(input: StrategyInput | undefined, group: RequestedGroup | null | undefined): StrategyRequest {
  input = requireBody(input);
  // The type first (R24.03's order), so no other message has to speak of a strategy of no type.
  const type = input.type;
  if (!type) throw new ValidationError('type required', 'type');
  if (!(STRATEGY_TYPES as readonly unknown[]).includes(type)) throw new ValidationError('type invalid', 'type');
  const force = strategyBool('force', input.force) ?? false;
  let applyType = input['subcloud-apply-type'];
  if (applyType !== undefined && applyType !== null && applyType !== '' && applyType !== 'parallel' && applyType !== 'serial') {
    throw new ValidationError('subcloud-apply-type invalid', 'subcloud-apply-type');
  }
  const maxGiven = input['max-parallel-subclouds'];
  const cloudName = input.cloud_name === undefined || input.cloud_name === null || input.cloud_name === '' ? null : String(input.cloud_name);
  const groupRef = groupRefOf(input);
  let max: number | undefined;
  let groupId: number | null = null;
  if (groupRef !== undefined) {
    if (cloudName !== null) throw new ValidationError('cloud_name and subcloud_group are mutually exclusive', 'subcloud_group');
    if (applyType || (maxGiven !== undefined && maxGiven !== null && maxGiven !== '')) {
      throw new ValidationError('subcloud-apply-type and max-parallel-subclouds are not allowed when subcloud_group is provided', 'subcloud_group');
    }
    if (!group) throw new ValidationError('Invalid group_id', 'subcloud_group');
    applyType = group.updateApplyType;
    max = group.maxParallelSubclouds;
    groupId = group.id;
  } else if (maxGiven !== undefined && maxGiven !== null && maxGiven !== '') {
    max = pythonInt(maxGiven);
    if (max === undefined) throw new ValidationError(`max-parallel-subclouds invalid value. Value: ${pythonText(maxGiven)}`, 'max-parallel-subclouds');
  }
  if (applyType === 'serial') max = 1;
  max ??= DEFAULT_MAX_PARALLEL;
  const prestage = type === 'prestage';
  const limit = prestage ? PRESTAGE_MAX_PARALLEL : MAX_PARALLEL_LIMIT;
  if (max < 1 || max > limit) {
    throw new ValidationError(
      `Invalid max-parallel-subclouds value: ${max}. For ${prestage ? 'prestage' : `${String(type)} strategy`}, the value must be between 1 and ${limit}.`,
      'max-parallel-subclouds',
    );
  }
  if (!(ORCHESTRATED_TYPES as readonly unknown[]).includes(type)) {
    throw new ValidationError(`Strategy type ${String(type)} is not orchestrated by this system controller; only prestage is`, 'type');
  }
  const sysadminPassword = strategySysadminPassword(input.sysadmin_password);
  const stopOnFailure = input['stop-on-failure'];
  if (stopOnFailure !== undefined && stopOnFailure !== null && !['true', 'false', true, false].includes(stopOnFailure as string | boolean)) {
    throw new ValidationError('stop-on-failure invalid', 'stop-on-failure');
  }
  return {
    type: type as StrategyType,
    subcloudApplyType: (applyType || null) as SubcloudApplyType | null,
    maxParallelSubclouds: max,
    stopOnFailure: stopOnFailure === 'true' || stopOnFailure === true,
    force,
    sysadminPassword,
    cloudName,
    groupId,
  };
}
