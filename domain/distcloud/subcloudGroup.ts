// Subcloud group: a named set of subclouds with its orchestration defaults (dcmanager `subcloud-groups`).
// Stream: subcloudGroup-<id>. Group 1 is the built-in `Default` group, seeded at start.
import type { Decider, DomainEvent } from '../core/decider.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { intInRange } from '../core/pythonInt.js';
import { requireBody } from '../core/body.js';
import { changedFields } from '../core/changes.js';

export const DEFAULT_GROUP = {
  id: 1,
  name: 'Default',
  description: 'Default Subcloud Group',
  updateApplyType: 'parallel',
  maxParallelSubclouds: 2,
} as const;

export const MAX_PARALLEL_SUBCLOUDS = { min: 1, max: 500 } as const; // R24.03 limits
const NAME_MAX_LENGTH = 255;
const DESCRIPTION_MAX_LENGTH = 255;
const APPLY_TYPES = ['parallel', 'serial'] as const;
export type ApplyType = (typeof APPLY_TYPES)[number];

export const subcloudGroupStream = (id: number) => `subcloudGroup-${id}`;

export interface GroupFields {
  name: string;
  description: string;
  updateApplyType: ApplyType;
  maxParallelSubclouds: number;
}

// ---- events ----
export type SubcloudGroupEvent =
  | DomainEvent<'SubcloudGroupAdded', GroupFields & { id: number; at: string }>
  | DomainEvent<'SubcloudGroupUpdated', Partial<GroupFields> & { at: string }>
  | DomainEvent<'SubcloudGroupDeleted', { at: string }>;

// ---- commands ----
export type SubcloudGroupCommand =
  | { type: 'AddSubcloudGroup'; id: number; fields: GroupFields; at: string }
  | { type: 'SeedDefaultSubcloudGroup'; at: string }
  | { type: 'UpdateSubcloudGroup'; changes: Partial<GroupFields>; at: string }
  /** memberCount: subclouds currently in the group, from the subclouds read model. */
  | { type: 'DeleteSubcloudGroup'; memberCount: number; at: string };

// ---- state ----
export type SubcloudGroupState =
  | { status: 'absent' }
  | ({ status: 'active' | 'deleted'; id: number; createdAt: string; updatedAt: string | null } & GroupFields);

export const initialState = (): SubcloudGroupState => ({ status: 'absent' });

// ---- input rules (dcmanager's validators and messages) ----

/** Raw request values, as parsed from JSON: any type may arrive. */
export type GroupInput = Partial<Record<'name' | 'description' | 'update_apply_type' | 'max_parallel_subclouds', unknown>>;

const FORBIDDEN_NAME_CHARACTERS = /[.*+?|()[\]{}^$]/;

export function isValidGroupName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !/^\d+$/.test(name) &&
    name.length <= NAME_MAX_LENGTH &&
    !FORBIDDEN_NAME_CHARACTERS.test(name) &&
    name.toLowerCase() !== DEFAULT_GROUP.name.toLowerCase()
  );
}

export const isValidDescription = (d: unknown): d is string =>
  typeof d === 'string' && d.length > 0 && d.length < DESCRIPTION_MAX_LENGTH;

export const isValidApplyType = (t: unknown): t is ApplyType =>
  typeof t === 'string' && (APPLY_TYPES as readonly string[]).includes(t);

/** Accepts what dcmanager's int() accepts: an integer, a float (truncated), or a string of digits such as "5". */
export const parseMaxParallel = (v: unknown): number | undefined =>
  intInRange(v, MAX_PARALLEL_SUBCLOUDS.min, MAX_PARALLEL_SUBCLOUDS.max);

/** All four fields are required to add a group; checked in dcmanager's order. */
export function validateNewGroup(input: GroupInput | undefined): GroupFields {
  input = requireBody(input);
  if (!isValidGroupName(input.name)) throw new ValidationError('Invalid group name', 'name');
  if (!isValidDescription(input.description)) throw new ValidationError('Invalid group description', 'description');
  if (!isValidApplyType(input.update_apply_type)) {
    throw new ValidationError('Invalid group update_apply_type', 'update_apply_type');
  }
  const max = parseMaxParallel(input.max_parallel_subclouds);
  if (max === undefined) throw new ValidationError('Invalid group max_parallel_subclouds', 'max_parallel_subclouds');
  return {
    name: input.name,
    description: input.description,
    updateApplyType: input.update_apply_type,
    maxParallelSubclouds: max,
  };
}

const given = (v: unknown) => v !== undefined && v !== null && v !== '' && v !== 0 && v !== false;

/**
 * Any subset of the fields may change. As in dcmanager, "nothing to update" means no field has a truthy value,
 * and each given field passes the same validator as on add. (dcmanager then also writes present-but-falsy values
 * without validating them; fleetledger refuses them with the field's message instead.)
 */
export function validateGroupChanges(input: GroupInput, current: { id: number }): Partial<GroupFields> {
  const { name, description, update_apply_type, max_parallel_subclouds } = input;
  if (![name, description, update_apply_type, max_parallel_subclouds].some(given)) {
    throw new ValidationError('nothing to update');
  }
  const changes: Partial<GroupFields> = {};
  if (name !== undefined) {
    if (!isValidGroupName(name)) throw new ValidationError('Invalid group name', 'name');
    if (current.id === DEFAULT_GROUP.id) throw new ValidationError('Default group name cannot be changed', 'name');
    changes.name = name;
  }
  if (description !== undefined) {
    if (!isValidDescription(description)) throw new ValidationError('Invalid group description', 'description');
    changes.description = description;
  }
  if (update_apply_type !== undefined) {
    if (!isValidApplyType(update_apply_type)) {
      throw new ValidationError('Invalid group update_apply_type', 'update_apply_type');
    }
    changes.updateApplyType = update_apply_type;
  }
  if (max_parallel_subclouds !== undefined) {
    const max = parseMaxParallel(max_parallel_subclouds);
    if (max === undefined) throw new ValidationError('Invalid group max_parallel_subclouds', 'max_parallel_subclouds');
    changes.maxParallelSubclouds = max;
  }
  return changes;
}

// ---- decide ----
export const GROUP_NOT_FOUND = 'Subcloud Group not found';

export function decide(command: SubcloudGroupCommand, state: SubcloudGroupState): SubcloudGroupEvent[] {
  switch (command.type) {
    case 'SeedDefaultSubcloudGroup': {
      if (state.status !== 'absent') return [];
      const { id, ...fields } = DEFAULT_GROUP;
      return [{ type: 'SubcloudGroupAdded', data: { id, ...fields, at: command.at } }];
    }
    case 'AddSubcloudGroup':
      if (state.status !== 'absent') throw new ValidationError('A subcloud group with this name already exists');
      return [{ type: 'SubcloudGroupAdded', data: { id: command.id, ...command.fields, at: command.at } }];
    case 'UpdateSubcloudGroup': {
      if (state.status !== 'active') throw new NotFoundError(GROUP_NOT_FOUND);
      const changed = changedFields<GroupFields>(command.changes, state);
      if (Object.keys(changed).length === 0) return [];
      return [{ type: 'SubcloudGroupUpdated', data: { ...changed, at: command.at } }];
    }
    case 'DeleteSubcloudGroup':
      if (state.status !== 'active') throw new NotFoundError(GROUP_NOT_FOUND);
      if (state.id === DEFAULT_GROUP.id) throw new ValidationError('Default Subcloud Group may not be deleted');
      if (command.memberCount > 0) throw new ValidationError('Subcloud Group not empty');
      return [{ type: 'SubcloudGroupDeleted', data: { at: command.at } }];
  }
}

// ---- evolve ----
export function evolve(state: SubcloudGroupState, event: SubcloudGroupEvent): SubcloudGroupState {
  switch (event.type) {
    // Field by field rather than splitting `at` off with an object rest (`{ at, ...fields }`), which V8 runs several
    // times slower: a replay evolves every group event it reads.
    case 'SubcloudGroupAdded': {
      const { id, name, description, updateApplyType, maxParallelSubclouds, at } = event.data;
      return { status: 'active', id, name, description, updateApplyType, maxParallelSubclouds, createdAt: at, updatedAt: null };
    }
    case 'SubcloudGroupUpdated': {
      if (state.status === 'absent') return state;
      const changes = event.data;
      return {
        ...state,
        name: changes.name ?? state.name,
        description: changes.description ?? state.description,
        updateApplyType: changes.updateApplyType ?? state.updateApplyType,
        maxParallelSubclouds: changes.maxParallelSubclouds ?? state.maxParallelSubclouds,
        updatedAt: changes.at,
      };
    }
    case 'SubcloudGroupDeleted':
      return state.status === 'absent' ? state : { ...state, status: 'deleted', updatedAt: event.data.at };
  }
}

export const subcloudGroupDecider: Decider<SubcloudGroupState, SubcloudGroupCommand, SubcloudGroupEvent> = {
  decide,
  evolve,
  initialState,
};
