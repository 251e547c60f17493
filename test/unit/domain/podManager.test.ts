// The pod manager decider, given/when/then, and Valence's schema for a new pod manager.
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../domain/core/errors.js';
import type { SealedSecret } from '../../../domain/core/sealed.js';
import { podManagerDecider, validateNewPodManager, validatePodManagerChanges, type PodManagerEvent, type PodManagerFields } from '../../../domain/composable/podManager.js';
import { deciderSpec, expectValidationError } from '../../support/deciderSpec.js';

const at = '2026-03-01T10:00:00.000Z';
const sealed: SealedSecret = { alg: 'A256GCM', kid: '0123456789abcdef', iv: 'aXY=', tag: 'dGFn', ct: 'Y3Q=' };
const resealed: SealedSecret = { ...sealed, ct: 'bmV3' };
const fields: PodManagerFields = { uuid: 'u-1', name: 'podm-1', url: 'http://10.0.0.1:8443', driver: 'redfishv1', username: 'admin', description: null, location: null };
const registered: PodManagerEvent = { type: 'PodManagerRegistered', data: { ...fields, password: sealed, status: 'Online', at } };
const spec = deciderSpec(podManagerDecider);

describe('pod manager decider', () => {
  it('registers once', () => {
    spec([]).when({ type: 'RegisterPodManager', fields, password: sealed, status: 'Online', at }).then([registered]);
    spec([registered]).when({ type: 'RegisterPodManager', fields, password: sealed, status: 'Online', at }).thenThrows(ValidationError, 'duplicated name or url !');
  });

  it('records only what changes: a new name, new (sealed) credentials, a new status', () => {
    spec([registered]).when({ type: 'UpdatePodManager', changes: { name: 'podm-1' }, at }).thenNothingHappens();
    spec([registered]).when({ type: 'UpdatePodManager', changes: { name: 'podm-2', username: 'admin' }, password: resealed, at }).then([
      { type: 'PodManagerUpdated', data: { name: 'podm-2', password: resealed, at } },
    ]);
    spec([registered]).when({ type: 'RecordPodManagerStatus', status: 'Online', at }).thenNothingHappens();
    spec([registered]).when({ type: 'RecordPodManagerStatus', status: 'Offline', at }).then([{ type: 'PodManagerStatusChanged', data: { status: 'Offline', at } }]);
  });

  it('deletes a registered one; an unknown one is not found', () => {
    spec([registered]).when({ type: 'DeletePodManager', at }).then([{ type: 'PodManagerDeleted', data: { at } }]);
    spec([]).when({ type: 'DeletePodManager', at }).thenThrows(NotFoundError);
  });
});

describe("Valence's pod manager schema", () => {
  const auth = [{ type: 'basic', auth_items: { username: 'admin', password: 'pw' } }];
  it('takes name, url and basic credentials; the driver defaults to redfishv1', () => {
    expect(validateNewPodManager({ name: 'p', url: 'https://podm:8443/', authentication: auth })).toEqual({
      fields: { name: 'p', url: 'https://podm:8443', driver: 'redfishv1', username: 'admin', description: null, location: null },
      password: 'pw',
    });
  });
  it('refuses another auth type and a non-string name', () => {
    expectValidationError(() => validateNewPodManager({ name: 'p', url: 'http://x', authentication: [{ type: 'token' }] }), "'token' is not one of ['basic']");
    expectValidationError(() => validateNewPodManager({ name: 7, url: 'http://x', authentication: auth }), "7 is not of type 'string'", 'name');
  });
  it('PATCH ignores the uuid, the url and unknown keys', () => {
    expect(validatePodManagerChanges({ uuid: 'x', url: 'http://y', colour: 'blue', location: 'row 3' })).toEqual({ changes: { location: 'row 3' } });
  });
});
