import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../domain/core/errors.js';
import {
  decide,
  evolve,
  initialState,
  parseMaxParallel,
  subcloudGroupDecider,
  validateGroupChanges,
  validateNewGroup,
  type SubcloudGroupEvent,
} from '../../../domain/distcloud/subcloudGroup.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const at = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T11:00:00.000Z';
const fields = { name: 'edge', description: 'edge sites', updateApplyType: 'serial' as const, maxParallelSubclouds: 4 };
const added: SubcloudGroupEvent = { type: 'SubcloudGroupAdded', data: { id: 7, ...fields, at } };
const seeded: SubcloudGroupEvent = {
  type: 'SubcloudGroupAdded',
  data: { id: 1, name: 'Default', description: 'Default Subcloud Group', updateApplyType: 'parallel', maxParallelSubclouds: 2, at },
};
const spec = deciderSpec(subcloudGroupDecider);

describe('subcloud group decider', () => {
  it('adds a group', () => {
    spec([]).when({ type: 'AddSubcloudGroup', id: 7, fields, at }).then([added]);
  });

  it('seeds the Default group once', () => {
    spec([]).when({ type: 'SeedDefaultSubcloudGroup', at }).then([seeded]);
    spec([seeded]).when({ type: 'SeedDefaultSubcloudGroup', at: later }).thenNothingHappens();
  });

  it('records only the fields that change', () => {
    spec([added])
      .when({ type: 'UpdateSubcloudGroup', changes: { description: 'new', maxParallelSubclouds: 4 }, at: later })
      .then([{ type: 'SubcloudGroupUpdated', data: { description: 'new', at: later } }]);
  });

  it('records nothing when every value is already set', () => {
    spec([added]).when({ type: 'UpdateSubcloudGroup', changes: { name: 'edge' }, at: later }).thenNothingHappens();
  });

  it('refuses to update or delete a missing group', () => {
    spec([]).when({ type: 'UpdateSubcloudGroup', changes: { description: 'x' }, at }).thenThrows(NotFoundError, 'Subcloud Group not found');
    spec([added, { type: 'SubcloudGroupDeleted', data: { at } }])
      .when({ type: 'DeleteSubcloudGroup', memberCount: 0, at })
      .thenThrows(NotFoundError, 'Subcloud Group not found');
  });

  it('never deletes the Default group', () => {
    spec([seeded]).when({ type: 'DeleteSubcloudGroup', memberCount: 0, at }).thenThrows(ValidationError, 'Default Subcloud Group may not be deleted');
  });

  it('refuses to delete a group that still has subclouds', () => {
    spec([added]).when({ type: 'DeleteSubcloudGroup', memberCount: 2, at }).thenThrows(ValidationError, 'Subcloud Group not empty');
    spec([added]).when({ type: 'DeleteSubcloudGroup', memberCount: 0, at }).then([{ type: 'SubcloudGroupDeleted', data: { at } }]);
  });

  it('folds into the state the API shows', () => {
    let s = initialState();
    s = evolve(s, added);
    s = evolve(s, { type: 'SubcloudGroupUpdated', data: { name: 'core', at: later } });
    expect(s).toEqual({ status: 'active', id: 7, ...fields, name: 'core', createdAt: at, updatedAt: later });
    expect(decide({ type: 'DeleteSubcloudGroup', memberCount: 0, at: later }, s)).toHaveLength(1);
  });
});

describe('subcloud group input rules (dcmanager messages)', () => {
  const valid = { name: 'g', description: 'd', update_apply_type: 'parallel', max_parallel_subclouds: 2 };
  const refuse = (input: Record<string, unknown>, message: string) =>
    expect(() => validateNewGroup(input)).toThrow(message);

  it('needs a body', () => {
    refuse({}, 'Body required');
    expect(() => validateNewGroup(undefined)).toThrow('Body required');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['all digits', '123'],
    ['reserved Default in any case', 'dEfAuLt'],
    ['a regex character', 'a.b'],
    ['a bracket', 'grp[1]'],
    ['too long', 'x'.repeat(256)],
    ['not a string', 12],
  ])('rejects a name that is %s', (_why, name) => refuse({ ...valid, name }, 'Invalid group name'));

  it('accepts names dcmanager accepts', () => {
    for (const name of ['Default ', 'edge-1', 'east_coast', 'x'.repeat(255), 'ünïcode']) {
      expect(validateNewGroup({ ...valid, name }).name).toBe(name);
    }
  });

  it('checks description length 1..254', () => {
    refuse({ ...valid, description: '' }, 'Invalid group description');
    refuse({ ...valid, description: 'x'.repeat(255) }, 'Invalid group description');
    expect(validateNewGroup({ ...valid, description: 'x'.repeat(254) }).description).toHaveLength(254);
  });

  it('checks update_apply_type exactly', () => {
    refuse({ ...valid, update_apply_type: 'Serial' }, 'Invalid group update_apply_type');
    refuse({ ...valid, update_apply_type: undefined }, 'Invalid group update_apply_type');
  });

  it('checks max_parallel_subclouds 1..500 the way int() reads it', () => {
    for (const bad of [0, -1, 501, 'abc', '5.0', '', null, [3]]) {
      refuse({ ...valid, max_parallel_subclouds: bad }, 'Invalid group max_parallel_subclouds');
    }
    expect(parseMaxParallel('5')).toBe(5);
    expect(parseMaxParallel(' 7 ')).toBe(7);
    expect(parseMaxParallel(5.9)).toBe(5);
    expect(parseMaxParallel(500)).toBe(500);
  });

  it('reports the first failing field in dcmanager order', () => {
    refuse({ name: '1', description: '', update_apply_type: 'x', max_parallel_subclouds: 0 }, 'Invalid group name');
    refuse({ ...valid, description: '', update_apply_type: 'x' }, 'Invalid group description');
  });

  it('updates need at least one truthy field', () => {
    expect(() => validateGroupChanges({ max_parallel_subclouds: 0 }, { id: 5 })).toThrow('nothing to update');
    expect(() => validateGroupChanges({ name: '' }, { id: 5 })).toThrow('nothing to update');
    expect(validateGroupChanges({ max_parallel_subclouds: '9' }, { id: 5 })).toEqual({ maxParallelSubclouds: 9 });
  });

  it('validates a present falsy field instead of writing it unchecked', () => {
    expect(() => validateGroupChanges({ description: 'x', max_parallel_subclouds: 0 }, { id: 5 })).toThrow(
      'Invalid group max_parallel_subclouds',
    );
  });

  it('the Default group keeps its name: name rules first, then the id check', () => {
    expect(() => validateGroupChanges({ name: 'default' }, { id: 1 })).toThrow('Invalid group name');
    expect(() => validateGroupChanges({ name: 'Foo' }, { id: 1 })).toThrow('Default group name cannot be changed');
    expect(validateGroupChanges({ description: 'still default' }, { id: 1 })).toEqual({ description: 'still default' });
  });
});
