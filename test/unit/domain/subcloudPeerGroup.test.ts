import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../domain/core/errors.js';
import {
  decide,
  evolve,
  initialState,
  MAX_SUBCLOUD_REHOMING,
  NON_PRIMARY_UPDATE,
  PEER_GROUP_IN_USE,
  PEER_GROUP_NOT_FOUND,
  PRIMARY_PRIORITY,
  subcloudPeerGroupDecider,
  subcloudPeerGroupStream,
  isPeerGroupName,
  validateNewPeerGroup,
  validatePeerGroupChanges,
  type PeerGroupFields,
  type SubcloudPeerGroupEvent,
} from '../../../domain/distcloud/subcloudPeerGroup.js';
import { deciderSpec, expectValidationError } from '../../support/deciderSpec.js';

const at = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T11:00:00.000Z';
const latest = '2026-03-01T12:00:00.000Z';
const LOCAL = { uuid: '11111111-2222-4333-8444-555555555555', name: 'site-a' };
const PEER = { systemLeaderId: '66666666-7777-4888-9999-aaaaaaaaaaaa', systemLeaderName: 'site-b' };
const fields: PeerGroupFields = {
  peerGroupName: 'pg-east',
  groupPriority: 0,
  groupState: 'enabled',
  maxSubcloudRehoming: 10,
  systemLeaderId: LOCAL.uuid,
  systemLeaderName: LOCAL.name,
};
const added: SubcloudPeerGroupEvent = { type: 'SubcloudPeerGroupAdded', data: { id: 5, ...fields, at } };
const replica: SubcloudPeerGroupEvent = {
  type: 'SubcloudPeerGroupAdded',
  data: { id: 6, ...fields, groupPriority: 2, systemLeaderId: PEER.systemLeaderId, systemLeaderName: PEER.systemLeaderName, at },
};
const deleted: SubcloudPeerGroupEvent = { type: 'SubcloudPeerGroupDeleted', data: { at: later } };
const spec = deciderSpec(subcloudPeerGroupDecider);

describe('subcloud peer group decider', () => {
  it('names its stream by id', () => {
    expect(subcloudPeerGroupStream(5)).toBe('subcloudPeerGroup-5');
  });

  describe('AddSubcloudPeerGroup', () => {
    it('given no group, when added, then SubcloudPeerGroupAdded', () => {
      spec([]).when({ type: 'AddSubcloudPeerGroup', id: 5, fields, at }).then([added]);
    });

    it('given a group (even deleted) with that id, when added, then it is refused', () => {
      spec([added])
        .when({ type: 'AddSubcloudPeerGroup', id: 5, fields, at: later })
        .thenThrows(ValidationError, 'A subcloud peer group with this id already exists');
      spec([added, deleted])
        .when({ type: 'AddSubcloudPeerGroup', id: 5, fields, at: latest })
        .thenThrows(ValidationError, 'A subcloud peer group with this id already exists');
    });
  });

  describe('UpdateSubcloudPeerGroup', () => {
    it('given a primary group, when plain fields change, then only the changed ones are recorded', () => {
      spec([added])
        .when({
          type: 'UpdateSubcloudPeerGroup',
          changes: { peerGroupName: 'pg-west', groupState: 'enabled', maxSubcloudRehoming: 20 },
          fromAnotherDc: false,
          at: later,
        })
        .then([{ type: 'SubcloudPeerGroupUpdated', data: { peerGroupName: 'pg-west', maxSubcloudRehoming: 20, at: later } }]);
    });

    it('given a primary group, when every value is the one it has, then nothing happens', () => {
      spec([added])
        .when({
          type: 'UpdateSubcloudPeerGroup',
          changes: { peerGroupName: 'pg-east', groupPriority: 0, systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name },
          fromAnotherDc: false,
          at: later,
        })
        .thenNothingHappens();
    });

    it('given a group, when the leader changes with the update, then PeerGroupLeaderChanged carries the previous leader', () => {
      spec([added])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { groupState: 'disabled', ...PEER }, fromAnotherDc: false, at: later })
        .then([
          { type: 'SubcloudPeerGroupUpdated', data: { groupState: 'disabled', at: later } },
          {
            type: 'PeerGroupLeaderChanged',
            data: { ...PEER, previous: { systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name }, at: later },
          },
        ]);
    });

    it('given a group, when only the leader name changes, then the leader id is kept', () => {
      spec([added])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { systemLeaderName: 'site-a2' }, fromAnotherDc: false, at: later })
        .then([
          {
            type: 'PeerGroupLeaderChanged',
            data: {
              systemLeaderId: LOCAL.uuid,
              systemLeaderName: 'site-a2',
              previous: { systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name },
              at: later,
            },
          },
        ]);
    });

    it('given a group with no migration status, when the update sets none, then the status changes (null is not none)', () => {
      spec([added])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { migrationStatus: 'none' }, fromAnotherDc: false, at: later })
        .then([{ type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'none', at: later } }]);
    });

    it('given a group migrating, when the update sets migrating again, then nothing happens', () => {
      spec([added, { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'migrating', at: later } }])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { migrationStatus: 'migrating' }, fromAnotherDc: true, at: latest })
        .thenNothingHappens();
    });

    it('given a group, when fields, leader and migration status all change, then three events in that order', () => {
      spec([added])
        .when({
          type: 'UpdateSubcloudPeerGroup',
          changes: { maxSubcloudRehoming: 50, ...PEER, migrationStatus: 'complete' },
          fromAnotherDc: false,
          at: later,
        })
        .then([
          { type: 'SubcloudPeerGroupUpdated', data: { maxSubcloudRehoming: 50, at: later } },
          { type: 'PeerGroupLeaderChanged', data: { ...PEER, previous: { systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name }, at: later } },
          { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'complete', at: later } },
        ]);
    });

    it('given a replica (priority > 0), when this site updates it, then it is refused', () => {
      spec([replica])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { groupState: 'disabled' }, fromAnotherDc: false, at: later })
        .thenThrows(ValidationError, 'Cannot update a peer group from a non-primary site.');
    });

    it('given a replica, when its peer updates it, then the change is recorded', () => {
      spec([replica])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { groupState: 'disabled', groupPriority: 3 }, fromAnotherDc: true, at: later })
        .then([{ type: 'SubcloudPeerGroupUpdated', data: { groupState: 'disabled', groupPriority: 3, at: later } }]);
    });

    it('given no group or a deleted one, when updated, then it is not found', () => {
      spec([])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { groupState: 'disabled' }, fromAnotherDc: false, at })
        .thenThrows(NotFoundError, 'Subcloud Peer Group not found');
      spec([added, deleted])
        .when({ type: 'UpdateSubcloudPeerGroup', changes: { groupState: 'disabled' }, fromAnotherDc: true, at: latest })
        .thenThrows(NotFoundError, PEER_GROUP_NOT_FOUND);
    });
  });

  describe('ChangePeerGroupLeader', () => {
    it('given a group this site leads, when a migration makes the peer leader, then PeerGroupLeaderChanged with previous', () => {
      spec([added])
        .when({ type: 'ChangePeerGroupLeader', leader: PEER, at: later })
        .then([
          { type: 'PeerGroupLeaderChanged', data: { ...PEER, previous: { systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name }, at: later } },
        ]);
    });

    it('given a group, when the same leader is recorded, then nothing happens', () => {
      spec([added])
        .when({ type: 'ChangePeerGroupLeader', leader: { systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name }, at: later })
        .thenNothingHappens();
    });

    it('given no group or a deleted one, when the leader changes, then it is not found', () => {
      spec([]).when({ type: 'ChangePeerGroupLeader', leader: PEER, at }).thenThrows(NotFoundError, PEER_GROUP_NOT_FOUND);
      spec([added, deleted]).when({ type: 'ChangePeerGroupLeader', leader: PEER, at: latest }).thenThrows(NotFoundError, PEER_GROUP_NOT_FOUND);
    });
  });

  describe('SetPeerGroupMigrationStatus', () => {
    it('given a group, when migrating, then PeerGroupMigrationStatusChanged', () => {
      spec([added])
        .when({ type: 'SetPeerGroupMigrationStatus', migrationStatus: 'migrating', at: later })
        .then([{ type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'migrating', at: later } }]);
    });

    it('given a group with no status, when null is set, then nothing happens', () => {
      spec([added]).when({ type: 'SetPeerGroupMigrationStatus', migrationStatus: null, at: later }).thenNothingHappens();
    });

    it('given a group complete, when complete again, then nothing happens', () => {
      spec([added, { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'complete', at: later } }])
        .when({ type: 'SetPeerGroupMigrationStatus', migrationStatus: 'complete', at: latest })
        .thenNothingHappens();
    });

    it('given no group or a deleted one, when the status is set, then it is not found', () => {
      spec([]).when({ type: 'SetPeerGroupMigrationStatus', migrationStatus: 'migrating', at }).thenThrows(NotFoundError, PEER_GROUP_NOT_FOUND);
      spec([added, deleted])
        .when({ type: 'SetPeerGroupMigrationStatus', migrationStatus: 'migrating', at: latest })
        .thenThrows(NotFoundError, PEER_GROUP_NOT_FOUND);
    });
  });

  describe('DeleteSubcloudPeerGroup', () => {
    it('given a group no association names, when deleted, then SubcloudPeerGroupDeleted', () => {
      spec([added]).when({ type: 'DeleteSubcloudPeerGroup', associationCount: 0, at: later }).then([deleted]);
    });

    it('given a group an association names, when deleted, then it is refused', () => {
      spec([added])
        .when({ type: 'DeleteSubcloudPeerGroup', associationCount: 2, at: later })
        .thenThrows(ValidationError, 'Cannot delete a peer group which is associated with a system peer.');
      expect(PEER_GROUP_IN_USE).toBe('Cannot delete a peer group which is associated with a system peer.');
    });

    it('given no group or a deleted one, when deleted, then it is not found', () => {
      spec([]).when({ type: 'DeleteSubcloudPeerGroup', associationCount: 0, at }).thenThrows(NotFoundError, PEER_GROUP_NOT_FOUND);
      spec([added, deleted]).when({ type: 'DeleteSubcloudPeerGroup', associationCount: 0, at: latest }).thenThrows(NotFoundError, PEER_GROUP_NOT_FOUND);
    });
  });

  describe('evolve', () => {
    it('starts absent', () => {
      expect(initialState()).toEqual({ status: 'absent' });
    });

    it('an added group is active with no migration status, never updated', () => {
      expect(evolve(initialState(), added)).toEqual({ status: 'active', id: 5, ...fields, migrationStatus: null, createdAt: at, updatedAt: null });
    });

    it('updates, leader and migration changes fold in, each setting updatedAt', () => {
      let s = evolve(initialState(), added);
      s = evolve(s, { type: 'SubcloudPeerGroupUpdated', data: { peerGroupName: 'pg-west', groupPriority: 1, at: later } });
      expect(s).toMatchObject({ peerGroupName: 'pg-west', groupPriority: 1, updatedAt: later });
      s = evolve(s, { type: 'PeerGroupLeaderChanged', data: { ...PEER, previous: { systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name }, at: latest } });
      expect(s).toMatchObject({ ...PEER, updatedAt: latest });
      expect(s).not.toHaveProperty('previous');
      s = evolve(s, { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'complete', at } });
      expect(s).toEqual({
        status: 'active',
        id: 5,
        ...fields,
        peerGroupName: 'pg-west',
        groupPriority: 1,
        ...PEER,
        migrationStatus: 'complete',
        createdAt: at,
        updatedAt: at,
      });
    });

    it('a deleted group keeps its fields, status deleted', () => {
      expect([added, deleted].reduce(evolve, initialState())).toMatchObject({ status: 'deleted', id: 5, peerGroupName: 'pg-east', updatedAt: later });
    });

    it('events other than Added leave an absent group absent', () => {
      const absent = initialState();
      expect(evolve(absent, { type: 'SubcloudPeerGroupUpdated', data: { groupState: 'disabled', at } })).toEqual(absent);
      expect(evolve(absent, { type: 'PeerGroupLeaderChanged', data: { ...PEER, previous: PEER, at } })).toEqual(absent);
      expect(evolve(absent, { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'none', at } })).toEqual(absent);
      expect(evolve(absent, deleted)).toEqual(absent);
    });

    it('the folded state is what decide reads', () => {
      const s = [added, { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'none', at } } as SubcloudPeerGroupEvent].reduce(
        evolve,
        initialState(),
      );
      expect(decide({ type: 'SetPeerGroupMigrationStatus', migrationStatus: 'none', at: later }, s)).toEqual([]);
    });
  });
});

describe('subcloud peer group input rules (dcmanager messages)', () => {
  const refuseWith = expectValidationError;

  describe('isPeerGroupName', () => {
    it.each([['pg-1'], ['x'.repeat(255)], ['nonet']])('accepts %s', (name) => expect(isPeerGroupName(name)).toBe(true));
    it.each([[''], ['123'], ['x'.repeat(256)], ['none'], ['NONE'], [5], [undefined]])('refuses %s', (name) =>
      expect(isPeerGroupName(name)).toBe(false),
    );
  });

  describe('validateNewPeerGroup', () => {
    const refuse = (input: Record<string, unknown>, message: string, field?: string) =>
      refuseWith(() => validateNewPeerGroup(input, LOCAL), message, field);

    it('needs a body', () => {
      expect(() => validateNewPeerGroup(undefined, LOCAL)).toThrow('Body required');
      refuse({}, 'Body required');
    });

    it('defaults: primary priority, enabled, 10 rehoming, this site as leader', () => {
      expect(validateNewPeerGroup({ 'peer-group-name': 'pg-east' }, LOCAL)).toEqual({
        peerGroupName: 'pg-east',
        groupPriority: PRIMARY_PRIORITY,
        groupState: 'enabled',
        maxSubcloudRehoming: MAX_SUBCLOUD_REHOMING.default,
        systemLeaderId: LOCAL.uuid,
        systemLeaderName: LOCAL.name,
      });
      expect([PRIMARY_PRIORITY, MAX_SUBCLOUD_REHOMING.default]).toEqual([0, 10]);
    });

    it('falsy optional values take the defaults too', () => {
      expect(
        validateNewPeerGroup(
          { 'peer-group-name': 'pg', 'group-priority': 0, 'group-state': '', 'max-subcloud-rehoming': 0, 'system-leader-id': '', 'system-leader-name': '' },
          LOCAL,
        ),
      ).toEqual({ peerGroupName: 'pg', groupPriority: 0, groupState: 'enabled', maxSubcloudRehoming: 10, systemLeaderId: LOCAL.uuid, systemLeaderName: LOCAL.name });
    });

    it('takes every field as given', () => {
      expect(
        validateNewPeerGroup(
          {
            'peer-group-name': 'pg-east',
            'group-priority': '65536',
            'group-state': 'disabled',
            'max-subcloud-rehoming': 250,
            'system-leader-id': PEER.systemLeaderId,
            'system-leader-name': PEER.systemLeaderName,
          },
          LOCAL,
        ),
      ).toEqual({ peerGroupName: 'pg-east', groupPriority: 65_536, groupState: 'disabled', maxSubcloudRehoming: 250, ...PEER });
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['all digits', '42'],
      ['none', 'None'],
      ['too long', 'x'.repeat(256)],
    ])('refuses a peer-group-name that is %s', (_why, name) => refuse({ 'peer-group-name': name }, 'Invalid peer-group-name', 'peer-group-name'));

    it('refuses a system-leader-id that is not a uuid, naming it', () => {
      refuse({ 'peer-group-name': 'pg', 'system-leader-id': 'abc' }, 'Invalid system-leader-id [abc]', 'system-leader-id');
    });

    it('refuses a system-leader-name that is too long or not text', () => {
      refuse({ 'peer-group-name': 'pg', 'system-leader-name': 'x'.repeat(256) }, 'Invalid system-leader-name', 'system-leader-name');
      refuse({ 'peer-group-name': 'pg', 'system-leader-name': 7 }, 'Invalid system-leader-name', 'system-leader-name');
    });

    it('refuses a group-priority outside 0..65536', () => {
      refuse({ 'peer-group-name': 'pg', 'group-priority': 65_537 }, 'Invalid group-priority', 'group-priority');
      refuse({ 'peer-group-name': 'pg', 'group-priority': -1 }, 'Invalid group-priority', 'group-priority');
      refuse({ 'peer-group-name': 'pg', 'group-priority': 'high' }, 'Invalid group-priority', 'group-priority');
    });

    it('refuses a group-state other than enabled or disabled', () => {
      refuse({ 'peer-group-name': 'pg', 'group-state': 'Enabled' }, 'Invalid group-state', 'group-state');
    });

    it('refuses max-subcloud-rehoming outside 1..250', () => {
      refuse({ 'peer-group-name': 'pg', 'max-subcloud-rehoming': 251 }, 'Invalid max-subcloud-rehoming', 'max-subcloud-rehoming');
      refuse({ 'peer-group-name': 'pg', 'max-subcloud-rehoming': -5 }, 'Invalid max-subcloud-rehoming', 'max-subcloud-rehoming');
    });

    it('reports the first failing field in dcmanager order', () => {
      const bad = {
        'peer-group-name': '1',
        'system-leader-id': 'x',
        'system-leader-name': 1,
        'group-priority': -1,
        'group-state': 'x',
        'max-subcloud-rehoming': -1,
      };
      refuse(bad, 'Invalid peer-group-name');
      refuse({ ...bad, 'peer-group-name': 'pg' }, 'Invalid system-leader-id [x]');
      refuse({ ...bad, 'peer-group-name': 'pg', 'system-leader-id': PEER.systemLeaderId }, 'Invalid system-leader-name');
      refuse({ ...bad, 'peer-group-name': 'pg', 'system-leader-id': undefined, 'system-leader-name': undefined }, 'Invalid group-priority');
      refuse({ 'peer-group-name': 'pg', 'group-state': 'x', 'max-subcloud-rehoming': -1 }, 'Invalid group-state');
    });
  });

  describe('validatePeerGroupChanges', () => {
    const primary = { groupPriority: 0 };
    const nonPrimary = { groupPriority: 1 };
    const refuse = (input: Record<string, unknown>, message: string, field?: string, current = primary, fromAnotherDc = false) =>
      refuseWith(() => validatePeerGroupChanges(input, current, fromAnotherDc), message, field);

    it('needs a body', () => {
      expect(() => validatePeerGroupChanges(undefined, primary, false)).toThrow('Body required');
      refuse({}, 'Body required');
    });

    it('refuses any change on a non-primary site unless its peer asks', () => {
      refuse({ 'group-state': 'disabled' }, 'Cannot update a peer group from a non-primary site.', undefined, nonPrimary, false);
      expect(NON_PRIMARY_UPDATE).toBe('Cannot update a peer group from a non-primary site.');
      expect(validatePeerGroupChanges({ 'group-state': 'disabled' }, nonPrimary, true)).toEqual({ groupState: 'disabled' });
    });

    it('the non-primary refusal comes before the other checks', () => {
      refuse({ 'peer-group-name': '' }, NON_PRIMARY_UPDATE, undefined, nonPrimary, false);
      refuse({ 'peer-group-name': '1' }, NON_PRIMARY_UPDATE, undefined, nonPrimary, false);
    });

    it('needs at least one truthy field', () => {
      refuse({ 'peer-group-name': '', 'group-priority': 0, 'max-subcloud-rehoming': 0 }, 'nothing to update');
      refuse({ migration_status: '' }, 'nothing to update');
    });

    it('a null migration_status means none (and counts as something to update)', () => {
      expect(validatePeerGroupChanges({ migration_status: null }, primary, false)).toEqual({ migrationStatus: 'none' });
    });

    it('reads migration_status in any case', () => {
      expect(validatePeerGroupChanges({ migration_status: 'COMPLETE' }, primary, false)).toEqual({ migrationStatus: 'complete' });
      expect(validatePeerGroupChanges({ migration_status: 'migrating' }, nonPrimary, true)).toEqual({ migrationStatus: 'migrating' });
    });

    it('takes every field given, without defaults', () => {
      expect(
        validatePeerGroupChanges(
          {
            'peer-group-name': 'pg-west',
            'group-priority': '0',
            'group-state': 'disabled',
            'max-subcloud-rehoming': '1',
            'system-leader-id': PEER.systemLeaderId,
            'system-leader-name': PEER.systemLeaderName,
            migration_status: 'none',
          },
          primary,
          false,
        ),
      ).toEqual({
        peerGroupName: 'pg-west',
        groupPriority: 0,
        groupState: 'disabled',
        maxSubcloudRehoming: 1,
        ...PEER,
        migrationStatus: 'none',
      });
    });

    it('skips falsy fields next to a truthy one', () => {
      expect(validatePeerGroupChanges({ 'group-state': 'enabled', 'group-priority': 0, 'peer-group-name': '' }, primary, false)).toEqual({
        groupState: 'enabled',
      });
    });

    it('refuses each invalid field with its message', () => {
      refuse({ 'peer-group-name': 'none' }, 'Invalid peer-group-name', 'peer-group-name');
      refuse({ 'group-priority': 65_537 }, 'Invalid group-priority', 'group-priority');
      refuse({ 'group-state': 'off' }, 'Invalid group-state', 'group-state');
      refuse({ 'max-subcloud-rehoming': 251 }, 'Invalid max-subcloud-rehoming', 'max-subcloud-rehoming');
      refuse({ 'system-leader-id': 'abc' }, 'Invalid system-leader-id', 'system-leader-id');
      refuse({ 'system-leader-name': 'x'.repeat(256) }, 'Invalid system-leader-name', 'system-leader-name');
      refuse({ migration_status: 'done' }, 'Invalid migration_status', 'migration_status');
      refuse({ migration_status: 3 }, 'Invalid migration_status', 'migration_status');
    });

    it('reports the first failing field in dcmanager order', () => {
      const bad = {
        'peer-group-name': '1',
        'group-priority': -1,
        'group-state': 'x',
        'max-subcloud-rehoming': -1,
        'system-leader-id': 'x',
        'system-leader-name': 1,
        migration_status: 'x',
      };
      refuse(bad, 'Invalid peer-group-name');
      refuse({ ...bad, 'peer-group-name': undefined }, 'Invalid group-priority');
      refuse({ ...bad, 'peer-group-name': undefined, 'group-priority': undefined }, 'Invalid group-state');
      refuse({ ...bad, 'peer-group-name': undefined, 'group-priority': undefined, 'group-state': undefined }, 'Invalid max-subcloud-rehoming');
      refuse({ 'system-leader-id': 'x', 'system-leader-name': 1, migration_status: 'x' }, 'Invalid system-leader-id');
      refuse({ 'system-leader-name': 1, migration_status: 'x' }, 'Invalid system-leader-name');
    });
  });
});
