import { describe, it } from 'vitest';
import { NotFoundError, UnprocessableError, ValidationError } from '../../../domain/core/errors.js';
import { subcloudDecider, type SubcloudCommand } from '../../../domain/distcloud/subcloud.js';
import { deciderSpec } from '../../support/deciderSpec.js';
import { addCommand, added, at, deployed, later, managed } from './subcloudFixtures.js';

const spec = deciderSpec(subcloudDecider);
const update = (changes: Extract<SubcloudCommand, { type: 'UpdateSubcloud' }>['changes'], extra = {}): SubcloudCommand => ({
  type: 'UpdateSubcloud',
  changes,
  at: later,
  ...extra,
});

describe('subcloud decider: add, update, delete', () => {
  it('adds a subcloud, not deployed, without its passwords', () => {
    spec([]).when(addCommand()).then([added]);
  });

  it('manages a deployed online subcloud', () => {
    spec(deployed)
      .when(update({ managementState: 'managed' }))
      .then([{ type: 'SubcloudManagementStateChanged', data: { managementState: 'managed', force: false, at: later } }]);
  });

  it('refuses to manage twice', () => {
    spec(managed).when(update({ managementState: 'managed' })).thenThrows(UnprocessableError, 'Bad subcloud request: Subcloud subcloud1 already managed');
  });

  it('deletes an unmanaged subcloud, refuses a managed one', () => {
    spec(deployed).when({ type: 'DeleteSubcloud', at }).then([{ type: 'SubcloudDeleted', data: { at } }]);
    spec(managed).when({ type: 'DeleteSubcloud', at }).thenThrows(ValidationError, 'Cannot delete a subcloud that is "managed" status');
    spec([]).when({ type: 'DeleteSubcloud', at }).thenThrows(NotFoundError, 'Subcloud not found');
  });
});
