import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../domain/core/errors.js';
import type { SealedSecret } from '../../../domain/core/sealed.js';
import {
  canonicalUuid,
  decide,
  evolve,
  HEARTBEAT_FAILURE_THRESHOLD,
  HEARTBEAT_INTERVAL,
  HEARTBEAT_MAINTENANCE_TIMEOUT,
  initialState,
  SYSTEM_PEER_IN_USE,
  SYSTEM_PEER_NOT_FOUND,
  systemPeerDecider,
  systemPeerStream,
  validateNewSystemPeer,
  validateSystemPeerChanges,
  type SystemPeerEvent,
  type SystemPeerFields,
} from '../../../domain/distcloud/systemPeer.js';
import { deciderSpec, expectValidationError } from '../../support/deciderSpec.js';

const at = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T11:00:00.000Z';
const latest = '2026-03-01T12:00:00.000Z';
const sealed: SealedSecret = { alg: 'A256GCM', kid: 'k', iv: 'i', tag: 't', ct: 'c' };
const resealed: SealedSecret = { alg: 'A256GCM', kid: 'k', iv: 'i2', tag: 't2', ct: 'c2' };
const PEER_UUID = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const fields: SystemPeerFields = {
  peerUuid: PEER_UUID,
  peerName: 'site-b',
  managerEndpoint: 'https://10.10.10.2:5000/v3',
  managerUsername: 'admin',
  peerControllerGatewayAddress: '10.10.10.1',
  administrativeState: 'enabled',
  heartbeatInterval: 60,
  heartbeatFailureThreshold: 3,
  heartbeatFailurePolicy: 'alarm',
  heartbeatMaintenanceTimeout: 600,
};
const added: SystemPeerEvent = { type: 'SystemPeerAdded', data: { id: 3, ...fields, managerPassword: sealed, at } };
const deleted: SystemPeerEvent = { type: 'SystemPeerDeleted', data: { at: later } };
const spec = deciderSpec(systemPeerDecider);

describe('system peer decider', () => {
  it('names its stream by id', () => {
    expect(systemPeerStream(3)).toBe('systemPeer-3');
  });

  describe('AddSystemPeer', () => {
    it('given no peer, when added, then SystemPeerAdded carries the fields and the sealed password', () => {
      spec([]).when({ type: 'AddSystemPeer', id: 3, fields, managerPassword: sealed, at }).then([added]);
    });

    it('given a peer with that id, when added again, then it is refused', () => {
      spec([added])
        .when({ type: 'AddSystemPeer', id: 3, fields, managerPassword: sealed, at: later })
        .thenThrows(ValidationError, 'A system peer with this id already exists');
    });

    it('given a deleted peer with that id, when added again, then it is refused (ids are not reused)', () => {
      spec([added, deleted])
        .when({ type: 'AddSystemPeer', id: 3, fields, managerPassword: sealed, at: latest })
        .thenThrows(ValidationError, 'A system peer with this id already exists');
    });
  });

  describe('UpdateSystemPeer', () => {
    it('given a peer, when some fields change, then only the changed ones are recorded', () => {
      spec([added])
        .when({ type: 'UpdateSystemPeer', changes: { peerName: 'site-c', heartbeatInterval: 60, heartbeatFailurePolicy: 'rehome' }, at: later })
        .then([{ type: 'SystemPeerUpdated', data: { peerName: 'site-c', heartbeatFailurePolicy: 'rehome', at: later } }]);
    });

    it('given a peer, when every value is the one it has, then nothing happens', () => {
      spec([added])
        .when({ type: 'UpdateSystemPeer', changes: { peerName: 'site-b', administrativeState: 'enabled', heartbeatInterval: 60 }, at: later })
        .thenNothingHappens();
    });

    it('given a peer, when no field changes but a password is given, then the new password is always recorded', () => {
      spec([added])
        .when({ type: 'UpdateSystemPeer', changes: { peerName: 'site-b' }, managerPassword: resealed, at: later })
        .then([{ type: 'SystemPeerUpdated', data: { managerPassword: resealed, at: later } }]);
    });

    it('given a peer, when fields and the password change, then one event carries both', () => {
      spec([added])
        .when({ type: 'UpdateSystemPeer', changes: { managerUsername: 'sysadmin' }, managerPassword: resealed, at: later })
        .then([{ type: 'SystemPeerUpdated', data: { managerUsername: 'sysadmin', managerPassword: resealed, at: later } }]);
    });

    it('given no peer or a deleted one, when updated, then it is not found', () => {
      spec([]).when({ type: 'UpdateSystemPeer', changes: { peerName: 'x' }, at }).thenThrows(NotFoundError, SYSTEM_PEER_NOT_FOUND);
      spec([added, deleted])
        .when({ type: 'UpdateSystemPeer', changes: { peerName: 'x' }, at: latest })
        .thenThrows(NotFoundError, 'System Peer not found');
    });
  });

  describe('DeleteSystemPeer', () => {
    it('given a peer no association names, when deleted, then SystemPeerDeleted', () => {
      spec([added]).when({ type: 'DeleteSystemPeer', associationCount: 0, at: later }).then([deleted]);
    });

    it('given a peer an association names, when deleted, then it is refused', () => {
      spec([added])
        .when({ type: 'DeleteSystemPeer', associationCount: 1, at: later })
        .thenThrows(ValidationError, 'Cannot delete a system peer which is associated with peer group.');
      expect(SYSTEM_PEER_IN_USE).toBe('Cannot delete a system peer which is associated with peer group.');
    });

    it('given no peer or a deleted one, when deleted, then it is not found', () => {
      spec([]).when({ type: 'DeleteSystemPeer', associationCount: 0, at }).thenThrows(NotFoundError, SYSTEM_PEER_NOT_FOUND);
      spec([added, deleted]).when({ type: 'DeleteSystemPeer', associationCount: 0, at: latest }).thenThrows(NotFoundError, SYSTEM_PEER_NOT_FOUND);
    });
  });

  describe('RecordPeerAvailability', () => {
    const becameAvailable: SystemPeerEvent = {
      type: 'SystemPeerAvailabilityChanged',
      data: { availabilityState: 'available', previous: 'created', at: later },
    };

    it('given a new peer (created), when the monitor hears from it, then it becomes available, previous created', () => {
      spec([added]).when({ type: 'RecordPeerAvailability', availabilityState: 'available', at: later }).then([becameAvailable]);
    });

    it('given an available peer, when it stops answering, then it becomes unavailable, previous available', () => {
      spec([added, becameAvailable])
        .when({ type: 'RecordPeerAvailability', availabilityState: 'unavailable', at: latest })
        .then([{ type: 'SystemPeerAvailabilityChanged', data: { availabilityState: 'unavailable', previous: 'available', at: latest } }]);
    });

    it('given an available peer, when it is available again, then nothing happens', () => {
      spec([added, becameAvailable]).when({ type: 'RecordPeerAvailability', availabilityState: 'available', at: latest }).thenNothingHappens();
    });

    it('given no peer or a deleted one, when availability is recorded, then it is not found', () => {
      spec([]).when({ type: 'RecordPeerAvailability', availabilityState: 'available', at }).thenThrows(NotFoundError, SYSTEM_PEER_NOT_FOUND);
      spec([added, deleted])
        .when({ type: 'RecordPeerAvailability', availabilityState: 'available', at: latest })
        .thenThrows(NotFoundError, SYSTEM_PEER_NOT_FOUND);
    });
  });

  describe('evolve', () => {
    it('starts absent', () => {
      expect(initialState()).toEqual({ status: 'absent' });
    });

    it('an added peer is active, availability created, never updated', () => {
      const s = evolve(initialState(), added);
      expect(s).toEqual({ status: 'active', id: 3, ...fields, managerPassword: sealed, availabilityState: 'created', createdAt: at, updatedAt: null });
    });

    it('availability goes created, then available, then unavailable', () => {
      let s = evolve(initialState(), added);
      expect(s).toMatchObject({ availabilityState: 'created' });
      s = evolve(s, { type: 'SystemPeerAvailabilityChanged', data: { availabilityState: 'available', previous: 'created', at: later } });
      expect(s).toMatchObject({ availabilityState: 'available', updatedAt: later });
      s = evolve(s, { type: 'SystemPeerAvailabilityChanged', data: { availabilityState: 'unavailable', previous: 'available', at: latest } });
      expect(s).toMatchObject({ availabilityState: 'unavailable', updatedAt: latest });
    });

    it('an update applies its fields and password and sets updatedAt', () => {
      let s = evolve(initialState(), added);
      s = evolve(s, { type: 'SystemPeerUpdated', data: { peerName: 'site-c', managerPassword: resealed, at: later } });
      expect(s).toEqual({
        status: 'active',
        id: 3,
        ...fields,
        peerName: 'site-c',
        managerPassword: resealed,
        availabilityState: 'created',
        createdAt: at,
        updatedAt: later,
      });
    });

    it('a deleted peer keeps its fields, status deleted', () => {
      const s = [added, deleted].reduce(evolve, initialState());
      expect(s).toMatchObject({ status: 'deleted', id: 3, peerName: 'site-b', updatedAt: later });
    });

    it('events other than Added leave an absent peer absent', () => {
      const absent = initialState();
      expect(evolve(absent, { type: 'SystemPeerUpdated', data: { peerName: 'x', at } })).toEqual(absent);
      expect(evolve(absent, { type: 'SystemPeerAvailabilityChanged', data: { availabilityState: 'available', previous: 'created', at } })).toEqual(
        absent,
      );
      expect(evolve(absent, deleted)).toEqual(absent);
    });

    it('the folded state is what decide reads', () => {
      const s = [added].reduce(evolve, initialState());
      expect(decide({ type: 'DeleteSystemPeer', associationCount: 0, at: later }, s)).toEqual([deleted]);
    });
  });
});

describe('canonicalUuid (what Python uuid.UUID reads)', () => {
  it.each([
    ['canonical', '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'],
    ['upper case', '6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D'],
    ['without hyphens', '6f1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d'],
    ['in braces', '{6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}'],
    ['as a URN', 'urn:uuid:6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'],
    ['as a URN with braces', 'urn:uuid:{6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}'],
  ])('normalises a uuid %s to the lower-case hyphenated form', (_why, v) => {
    expect(canonicalUuid(v)).toBe(PEER_UUID);
  });

  it.each([
    ['empty', ''],
    ['too short', '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4'],
    ['too long', '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d0'],
    ['not hex', '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', {}],
  ])('refuses %s', (_why, v) => {
    expect(canonicalUuid(v)).toBeUndefined();
  });
});

describe('system peer input rules (dcmanager messages)', () => {
  const valid = {
    peer_uuid: PEER_UUID.toUpperCase(),
    peer_name: 'site-b',
    manager_endpoint: 'https://10.10.10.2:5000/v3',
    manager_username: 'admin',
    manager_password: Buffer.from('St8rlingX*').toString('base64'),
    peer_controller_gateway_address: '10.10.10.1',
  };
  const refuseNew = (input: Record<string, unknown>, message: string, field?: string) =>
    expectValidationError(() => validateNewSystemPeer(input), message, field);

  describe('validateNewSystemPeer', () => {
    it('needs a body', () => {
      expect(() => validateNewSystemPeer(undefined)).toThrow('Body required');
      refuseNew({}, 'Body required');
    });

    it('gives the defaults for the optional fields, the uuid canonical and the password as given', () => {
      expect(validateNewSystemPeer(valid)).toEqual({
        fields: {
          peerUuid: PEER_UUID,
          peerName: 'site-b',
          managerEndpoint: 'https://10.10.10.2:5000/v3',
          managerUsername: 'admin',
          peerControllerGatewayAddress: '10.10.10.1',
          administrativeState: 'enabled',
          heartbeatInterval: HEARTBEAT_INTERVAL.default,
          heartbeatFailureThreshold: HEARTBEAT_FAILURE_THRESHOLD.default,
          heartbeatFailurePolicy: 'alarm',
          heartbeatMaintenanceTimeout: HEARTBEAT_MAINTENANCE_TIMEOUT.default,
        },
        managerPassword: valid.manager_password,
      });
      expect([HEARTBEAT_INTERVAL.default, HEARTBEAT_FAILURE_THRESHOLD.default, HEARTBEAT_MAINTENANCE_TIMEOUT.default]).toEqual([60, 3, 600]);
    });

    it('null numbers and empty texts take the defaults', () => {
      const v = validateNewSystemPeer({
        ...valid,
        administrative_state: '',
        heartbeat_interval: null,
        heartbeat_failure_threshold: null,
        heartbeat_failure_policy: '',
        heartbeat_maintenance_timeout: null,
      });
      expect(v.fields).toMatchObject({
        administrativeState: 'enabled',
        heartbeatInterval: 60,
        heartbeatFailureThreshold: 3,
        heartbeatFailurePolicy: 'alarm',
        heartbeatMaintenanceTimeout: 600,
      });
    });

    it('takes the optional fields as given, numbers the way int() reads them', () => {
      const v = validateNewSystemPeer({
        ...valid,
        administrative_state: 'disabled',
        heartbeat_interval: '10',
        heartbeat_failure_threshold: 30,
        heartbeat_failure_policy: 'delegate',
        heartbeat_maintenance_timeout: ' 36000 ',
      });
      expect(v.fields).toMatchObject({
        administrativeState: 'disabled',
        heartbeatInterval: 10,
        heartbeatFailureThreshold: 30,
        heartbeatFailurePolicy: 'delegate',
        heartbeatMaintenanceTimeout: 36_000,
      });
      expect(validateNewSystemPeer({ ...valid, heartbeat_failure_policy: 'rehome' }).fields.heartbeatFailurePolicy).toBe('rehome');
    });

    it.each([
      ['missing', undefined],
      ['not a uuid', 'not-a-uuid'],
      ['a number', 12],
    ])('refuses a peer_uuid that is %s', (_why, peer_uuid) => refuseNew({ ...valid, peer_uuid }, 'Invalid peer uuid', 'peer_uuid'));

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['all digits', '123'],
      ['255 characters', 'x'.repeat(255)],
      ['not a string', 7],
    ])('refuses a peer_name that is %s', (_why, peer_name) => refuseNew({ ...valid, peer_name }, 'Invalid peer name', 'peer_name'));

    it('accepts a peer_name of 254 characters', () => {
      expect(validateNewSystemPeer({ ...valid, peer_name: 'x'.repeat(254) }).fields.peerName).toHaveLength(254);
    });

    it.each([
      ['missing', undefined],
      ['not http', 'ftp://10.10.10.2'],
      ['too long', 'http' + 'x'.repeat(251)],
    ])('refuses a manager_endpoint that is %s', (_why, manager_endpoint) =>
      refuseNew({ ...valid, manager_endpoint }, 'Invalid peer manager_endpoint', 'manager_endpoint'),
    );

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['too long', 'u'.repeat(255)],
    ])('refuses a manager_username that is %s', (_why, manager_username) =>
      refuseNew({ ...valid, manager_username }, 'Invalid peer manager_username', 'manager_username'),
    );

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['not base64', 'not base64!'],
      ['badly padded', 'abc'],
    ])('refuses a manager_password that is %s', (_why, manager_password) =>
      refuseNew({ ...valid, manager_password }, 'Invalid peer manager_password', 'manager_password'),
    );

    it.each([
      ['missing', undefined],
      ['not an address', 'gateway'],
      ['a network', '10.10.10.0/24'],
    ])('refuses a peer_controller_gateway_address that is %s', (_why, peer_controller_gateway_address) =>
      refuseNew({ ...valid, peer_controller_gateway_address }, 'Invalid peer peer_controller_gateway_address', 'peer_controller_gateway_address'),
    );

    it('accepts an IPv6 gateway', () => {
      expect(validateNewSystemPeer({ ...valid, peer_controller_gateway_address: 'fd00::1' }).fields.peerControllerGatewayAddress).toBe('fd00::1');
    });

    it('refuses optional fields out of their sets and ranges', () => {
      refuseNew({ ...valid, administrative_state: 'Enabled' }, 'Invalid peer administrative_state', 'administrative_state');
      refuseNew({ ...valid, heartbeat_interval: 9 }, 'Invalid peer heartbeat_interval', 'heartbeat_interval');
      refuseNew({ ...valid, heartbeat_interval: 601 }, 'Invalid peer heartbeat_interval', 'heartbeat_interval');
      refuseNew({ ...valid, heartbeat_interval: '' }, 'Invalid peer heartbeat_interval', 'heartbeat_interval');
      refuseNew({ ...valid, heartbeat_failure_threshold: 0 }, 'Invalid peer heartbeat_failure_threshold', 'heartbeat_failure_threshold');
      refuseNew({ ...valid, heartbeat_failure_threshold: 31 }, 'Invalid peer heartbeat_failure_threshold', 'heartbeat_failure_threshold');
      refuseNew({ ...valid, heartbeat_failure_policy: 'ignore' }, 'Invalid peer heartbeat_failure_policy', 'heartbeat_failure_policy');
      refuseNew({ ...valid, heartbeat_maintenance_timeout: 299 }, 'Invalid peer heartbeat_maintenance_timeout', 'heartbeat_maintenance_timeout');
      refuseNew({ ...valid, heartbeat_maintenance_timeout: 36_001 }, 'Invalid peer heartbeat_maintenance_timeout', 'heartbeat_maintenance_timeout');
      refuseNew({ ...valid, heartbeat_maintenance_timeout: 'abc' }, 'Invalid peer heartbeat_maintenance_timeout', 'heartbeat_maintenance_timeout');
    });

    it('reports the first failing field in dcmanager order', () => {
      refuseNew({ peer_uuid: 'x', peer_name: '1', manager_endpoint: 'x' }, 'Invalid peer uuid');
      refuseNew({ ...valid, peer_name: '1', manager_endpoint: 'x' }, 'Invalid peer name');
      refuseNew({ ...valid, manager_endpoint: 'x', manager_username: '' }, 'Invalid peer manager_endpoint');
      refuseNew({ ...valid, manager_username: '', manager_password: '' }, 'Invalid peer manager_username');
      refuseNew({ ...valid, manager_password: '', peer_controller_gateway_address: 'x' }, 'Invalid peer manager_password');
      refuseNew({ ...valid, peer_controller_gateway_address: 'x', administrative_state: 'x' }, 'Invalid peer peer_controller_gateway_address');
      refuseNew({ ...valid, administrative_state: 'x', heartbeat_interval: 0 }, 'Invalid peer administrative_state');
      refuseNew({ ...valid, heartbeat_interval: 0, heartbeat_failure_threshold: 0 }, 'Invalid peer heartbeat_interval');
      refuseNew({ ...valid, heartbeat_failure_threshold: 0, heartbeat_failure_policy: 'x' }, 'Invalid peer heartbeat_failure_threshold');
      refuseNew({ ...valid, heartbeat_failure_policy: 'x', heartbeat_maintenance_timeout: 0 }, 'Invalid peer heartbeat_failure_policy');
    });
  });

  describe('validateSystemPeerChanges', () => {
    const refuse = (input: Record<string, unknown>, message: string, field?: string) =>
      expectValidationError(() => validateSystemPeerChanges(input), message, field);

    it('needs a body', () => {
      expect(() => validateSystemPeerChanges(undefined)).toThrow('Body required');
      refuse({}, 'Body required');
    });

    it('needs at least one truthy field', () => {
      refuse({ peer_name: '', heartbeat_interval: 0, manager_password: null }, 'nothing to update');
      refuse({ other: 'x' }, 'nothing to update');
    });

    it('returns only the fields given, without defaults', () => {
      expect(validateSystemPeerChanges({ peer_name: 'site-c' })).toEqual({ fields: { peerName: 'site-c' }, managerPassword: undefined });
    });

    it('takes every field, the uuid canonical and the password apart', () => {
      const password = Buffer.from('secret').toString('base64');
      expect(
        validateSystemPeerChanges({
          peer_uuid: `{${PEER_UUID.toUpperCase()}}`,
          peer_name: 'site-c',
          manager_endpoint: 'http://10.10.10.3:5000/v3',
          manager_username: 'sysadmin',
          manager_password: password,
          peer_controller_gateway_address: '10.10.10.254',
          administrative_state: 'disabled',
          heartbeat_interval: '600',
          heartbeat_failure_threshold: 1,
          heartbeat_failure_policy: 'rehome',
          heartbeat_maintenance_timeout: 300,
        }),
      ).toEqual({
        fields: {
          peerUuid: PEER_UUID,
          peerName: 'site-c',
          managerEndpoint: 'http://10.10.10.3:5000/v3',
          managerUsername: 'sysadmin',
          peerControllerGatewayAddress: '10.10.10.254',
          administrativeState: 'disabled',
          heartbeatInterval: 600,
          heartbeatFailureThreshold: 1,
          heartbeatFailurePolicy: 'rehome',
          heartbeatMaintenanceTimeout: 300,
        },
        managerPassword: password,
      });
    });

    it('skips falsy fields next to a truthy one', () => {
      expect(validateSystemPeerChanges({ peer_name: 'site-c', heartbeat_interval: 0, peer_uuid: '' }).fields).toEqual({ peerName: 'site-c' });
    });

    it('refuses each invalid field with its message', () => {
      refuse({ peer_uuid: 'nope' }, 'Invalid peer uuid', 'peer_uuid');
      refuse({ peer_name: '42' }, 'Invalid peer name', 'peer_name');
      refuse({ manager_endpoint: 'ftp://x' }, 'Invalid peer manager_endpoint', 'manager_endpoint');
      refuse({ manager_username: 'u'.repeat(255) }, 'Invalid peer manager_username', 'manager_username');
      refuse({ manager_password: 'not base64!' }, 'Invalid peer manager_password', 'manager_password');
      refuse({ peer_controller_gateway_address: '10.10.10' }, 'Invalid peer peer_controller_gateway_address', 'peer_controller_gateway_address');
      refuse({ administrative_state: 'off' }, 'Invalid peer administrative_state', 'administrative_state');
      refuse({ heartbeat_interval: 5 }, 'Invalid peer heartbeat_interval', 'heartbeat_interval');
      refuse({ heartbeat_failure_threshold: 99 }, 'Invalid peer heartbeat_failure_threshold', 'heartbeat_failure_threshold');
      refuse({ heartbeat_failure_policy: 'panic' }, 'Invalid peer heartbeat_failure_policy', 'heartbeat_failure_policy');
      refuse({ heartbeat_maintenance_timeout: 100 }, 'Invalid peer heartbeat_maintenance_timeout', 'heartbeat_maintenance_timeout');
    });
  });
});
