import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../domain/core/errors.js';
import {
  ASSOCIATION_NOT_FOUND,
  decide,
  DUPLICATE_ASSOCIATION,
  evolve,
  initialState,
  isSyncStatus,
  NO_SYNC_MESSAGE,
  peerGroupAssociationDecider,
  peerGroupAssociationStream,
  peerUnreachableMessage,
  PRIORITY_RULE,
  pushedSyncMessage,
  statusWhenPeerBack,
  statusWhenPeerUnreachable,
  SYNC_STATUSES,
  validateAssociationUpdate,
  validateNewAssociation,
  validateSyncRequest,
  type AssociationFields,
  type PeerGroupAssociationEvent,
} from '../../../domain/distcloud/peerGroupAssociation.js';
import { deciderSpec, expectValidationError } from '../../support/deciderSpec.js';

const at = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T11:00:00.000Z';
const latest = '2026-03-01T12:00:00.000Z';
const primaryFields: AssociationFields = { peerGroupId: 5, systemPeerId: 3, peerGroupPriority: 2, associationType: 'primary' };
const nonPrimaryFields: AssociationFields = { peerGroupId: 6, systemPeerId: 3, peerGroupPriority: null, associationType: 'non-primary' };
const added: PeerGroupAssociationEvent = { type: 'PeerGroupAssociationAdded', data: { id: 9, ...primaryFields, syncStatus: 'syncing', at } };
const addedNonPrimary: PeerGroupAssociationEvent = {
  type: 'PeerGroupAssociationAdded',
  data: { id: 10, ...nonPrimaryFields, syncStatus: 'syncing', at },
};
const inSync: PeerGroupAssociationEvent = {
  type: 'PeerGroupAssociationSyncStatusChanged',
  data: { syncStatus: 'in-sync', syncMessage: NO_SYNC_MESSAGE, previous: 'syncing', at: later },
};
const deleted: PeerGroupAssociationEvent = { type: 'PeerGroupAssociationDeleted', data: { at: later } };
const spec = deciderSpec(peerGroupAssociationDecider);

describe('peer group association decider', () => {
  it('names its stream by id', () => {
    expect(peerGroupAssociationStream(9)).toBe('peerGroupAssociation-9');
  });

  describe('AddPeerGroupAssociation', () => {
    it('given none, when a primary association is added, then it starts syncing', () => {
      spec([]).when({ type: 'AddPeerGroupAssociation', id: 9, fields: primaryFields, at }).then([added]);
    });

    it('given none, when a non-primary association is added, then it is recorded without a priority', () => {
      spec([]).when({ type: 'AddPeerGroupAssociation', id: 10, fields: nonPrimaryFields, at }).then([addedNonPrimary]);
    });

    it('given one with that id (even deleted), when added, then it is refused as a duplicate', () => {
      spec([added])
        .when({ type: 'AddPeerGroupAssociation', id: 9, fields: primaryFields, at: later })
        .thenThrows(ValidationError, 'A Peer group association with same peer_group_id, system_peer_id already exists');
      spec([added, deleted])
        .when({ type: 'AddPeerGroupAssociation', id: 9, fields: primaryFields, at: latest })
        .thenThrows(ValidationError, DUPLICATE_ASSOCIATION);
    });
  });

  describe('ChangeAssociationPriority', () => {
    it('given an association, when its priority changes, then PeerGroupAssociationPriorityChanged', () => {
      spec([added])
        .when({ type: 'ChangeAssociationPriority', peerGroupPriority: 4, at: later })
        .then([{ type: 'PeerGroupAssociationPriorityChanged', data: { peerGroupPriority: 4, at: later } }]);
    });

    it('given an association, when the same priority is set, then nothing happens', () => {
      spec([added]).when({ type: 'ChangeAssociationPriority', peerGroupPriority: 2, at: later }).thenNothingHappens();
    });

    it('given none or a deleted one, when the priority changes, then it is not found', () => {
      spec([]).when({ type: 'ChangeAssociationPriority', peerGroupPriority: 4, at }).thenThrows(NotFoundError, 'Peer Group Association not found');
      spec([added, deleted]).when({ type: 'ChangeAssociationPriority', peerGroupPriority: 4, at: latest }).thenThrows(NotFoundError, ASSOCIATION_NOT_FOUND);
    });
  });

  describe('SetAssociationSyncStatus', () => {
    it('given a syncing association, when in-sync, then the change carries the previous status', () => {
      spec([added]).when({ type: 'SetAssociationSyncStatus', syncStatus: 'in-sync', syncMessage: NO_SYNC_MESSAGE, at: later }).then([inSync]);
    });

    it('given an in-sync association, when in-sync again with the same message, then nothing happens', () => {
      spec([added, inSync])
        .when({ type: 'SetAssociationSyncStatus', syncStatus: 'in-sync', syncMessage: 'None', at: latest })
        .thenNothingHappens();
    });

    it('given a failed association, when failed again with another message, then the new message is recorded', () => {
      const failed: PeerGroupAssociationEvent = {
        type: 'PeerGroupAssociationSyncStatusChanged',
        data: { syncStatus: 'failed', syncMessage: 'Peer site (site-b) is unreachable.', previous: 'syncing', at: later },
      };
      spec([added, failed])
        .when({ type: 'SetAssociationSyncStatus', syncStatus: 'failed', syncMessage: 'boom', at: latest })
        .then([{ type: 'PeerGroupAssociationSyncStatusChanged', data: { syncStatus: 'failed', syncMessage: 'boom', previous: 'failed', at: latest } }]);
    });

    it('given none or a deleted one, when a status is set, then it is not found', () => {
      spec([])
        .when({ type: 'SetAssociationSyncStatus', syncStatus: 'in-sync', syncMessage: NO_SYNC_MESSAGE, at })
        .thenThrows(NotFoundError, ASSOCIATION_NOT_FOUND);
      spec([added, deleted])
        .when({ type: 'SetAssociationSyncStatus', syncStatus: 'in-sync', syncMessage: NO_SYNC_MESSAGE, at: latest })
        .thenThrows(NotFoundError, ASSOCIATION_NOT_FOUND);
    });
  });

  describe('RequestAssociationSync', () => {
    it('given a primary association in sync, when a sync is requested, then SyncRequested carries syncSubclouds and previous', () => {
      spec([added, inSync])
        .when({ type: 'RequestAssociationSync', syncSubclouds: true, at: latest })
        .then([{ type: 'PeerGroupAssociationSyncRequested', data: { syncSubclouds: true, previous: 'in-sync', at: latest } }]);
    });

    it('given a primary association syncing, when a sync of the group only is requested, then it is still requested', () => {
      spec([added])
        .when({ type: 'RequestAssociationSync', syncSubclouds: false, at: later })
        .then([{ type: 'PeerGroupAssociationSyncRequested', data: { syncSubclouds: false, previous: 'syncing', at: later } }]);
    });

    it('given a non-primary association, when a sync is requested, then it is refused', () => {
      spec([addedNonPrimary])
        .when({ type: 'RequestAssociationSync', syncSubclouds: true, at: later })
        .thenThrows(ValidationError, 'Only a primary association syncs its peer');
    });

    it('given none or a deleted one, when a sync is requested, then it is not found', () => {
      spec([]).when({ type: 'RequestAssociationSync', syncSubclouds: true, at }).thenThrows(NotFoundError, ASSOCIATION_NOT_FOUND);
      spec([added, deleted]).when({ type: 'RequestAssociationSync', syncSubclouds: true, at: latest }).thenThrows(NotFoundError, ASSOCIATION_NOT_FOUND);
    });
  });

  describe('DeletePeerGroupAssociation', () => {
    it('given an association, when deleted, then PeerGroupAssociationDeleted', () => {
      spec([added]).when({ type: 'DeletePeerGroupAssociation', at: later }).then([deleted]);
      spec([addedNonPrimary]).when({ type: 'DeletePeerGroupAssociation', at: later }).then([deleted]);
    });

    it('given none or a deleted one, when deleted, then it is not found', () => {
      spec([]).when({ type: 'DeletePeerGroupAssociation', at }).thenThrows(NotFoundError, ASSOCIATION_NOT_FOUND);
      spec([added, deleted]).when({ type: 'DeletePeerGroupAssociation', at: latest }).thenThrows(NotFoundError, ASSOCIATION_NOT_FOUND);
    });
  });

  describe('evolve', () => {
    it('starts absent', () => {
      expect(initialState()).toEqual({ status: 'absent' });
    });

    it('an added association is active, syncing, message None, never updated', () => {
      expect(evolve(initialState(), added)).toEqual({
        status: 'active',
        id: 9,
        ...primaryFields,
        syncStatus: 'syncing',
        syncMessage: 'None',
        createdAt: at,
        updatedAt: null,
      });
    });

    it('a priority change sets the priority and updatedAt', () => {
      const s = evolve(evolve(initialState(), added), { type: 'PeerGroupAssociationPriorityChanged', data: { peerGroupPriority: 7, at: later } });
      expect(s).toMatchObject({ peerGroupPriority: 7, updatedAt: later });
    });

    it('a status change sets status and message, not previous', () => {
      const s = evolve(evolve(initialState(), added), {
        type: 'PeerGroupAssociationSyncStatusChanged',
        data: { syncStatus: 'failed', syncMessage: 'Primary association sync to current site failed.', previous: 'syncing', at: later },
      });
      expect(s).toMatchObject({ syncStatus: 'failed', syncMessage: 'Primary association sync to current site failed.', updatedAt: later });
      expect(s).not.toHaveProperty('previous');
    });

    it('a sync request sets status syncing and message None', () => {
      let s = evolve(initialState(), added);
      s = evolve(s, {
        type: 'PeerGroupAssociationSyncStatusChanged',
        data: { syncStatus: 'failed', syncMessage: 'boom', previous: 'syncing', at: later },
      });
      s = evolve(s, { type: 'PeerGroupAssociationSyncRequested', data: { syncSubclouds: true, previous: 'failed', at: latest } });
      expect(s).toEqual({
        status: 'active',
        id: 9,
        ...primaryFields,
        syncStatus: 'syncing',
        syncMessage: 'None',
        createdAt: at,
        updatedAt: latest,
      });
    });

    it('a deleted association keeps its fields, status deleted', () => {
      expect([added, deleted].reduce(evolve, initialState())).toMatchObject({ status: 'deleted', id: 9, ...primaryFields, updatedAt: later });
    });

    it('events other than Added leave an absent association absent', () => {
      const absent = initialState();
      expect(evolve(absent, { type: 'PeerGroupAssociationPriorityChanged', data: { peerGroupPriority: 2, at } })).toEqual(absent);
      expect(evolve(absent, inSync)).toEqual(absent);
      expect(evolve(absent, { type: 'PeerGroupAssociationSyncRequested', data: { syncSubclouds: true, previous: 'unknown', at } })).toEqual(absent);
      expect(evolve(absent, deleted)).toEqual(absent);
    });

    it('the folded state is what decide reads', () => {
      const s = [added, inSync].reduce(evolve, initialState());
      expect(decide({ type: 'SetAssociationSyncStatus', syncStatus: 'in-sync', syncMessage: 'None', at: latest }, s)).toEqual([]);
    });
  });
});

describe('peer group association input rules (dcmanager messages)', () => {
  const refuseWith = expectValidationError;
  const primaryGroup = { id: 5, groupPriority: 0 };
  const replicaGroup = { id: 6, groupPriority: 2 };
  const peer = { id: 3 };

  describe('validateNewAssociation', () => {
    const input = { peer_group_id: 5, system_peer_id: 3, peer_group_priority: 2 };
    const refuse = (i: Record<string, unknown>, group: typeof primaryGroup | undefined, p: typeof peer | undefined, message: string, field?: string) =>
      refuseWith(() => validateNewAssociation(i, group, p), message, field);

    it('needs a body', () => {
      expect(() => validateNewAssociation(undefined, primaryGroup, peer)).toThrow('Body required');
      refuse({}, primaryGroup, peer, 'Body required');
    });

    it('refuses a group or a peer that is not there, the group first', () => {
      refuse(input, undefined, peer, 'Invalid peer_group_id', 'peer_group_id');
      refuse(input, undefined, undefined, 'Invalid peer_group_id', 'peer_group_id');
      refuse(input, primaryGroup, undefined, 'Invalid system_peer_id', 'system_peer_id');
    });

    it('a primary group (priority 0) makes a primary association with the priority for the replica', () => {
      expect(validateNewAssociation(input, primaryGroup, peer)).toEqual(primaryFields);
      expect(validateNewAssociation({ ...input, peer_group_priority: '65536' }, primaryGroup, peer).peerGroupPriority).toBe(65_536);
    });

    it('a replica group (priority > 0) makes a non-primary association without a priority', () => {
      expect(validateNewAssociation({ peer_group_id: 6, system_peer_id: 3 }, replicaGroup, peer)).toEqual(nonPrimaryFields);
      expect(validateNewAssociation({ peer_group_id: 6, system_peer_id: 3, peer_group_priority: null }, replicaGroup, peer)).toEqual(
        nonPrimaryFields,
      );
    });

    it('refuses a priority outside 1..65536', () => {
      for (const bad of [0, -1, 65_537, 'x', '']) {
        refuse({ ...input, peer_group_priority: bad }, primaryGroup, peer, 'Invalid peer_group_priority', 'peer_group_priority');
      }
    });

    it('refuses a primary group without a priority and a replica group with one (the priority rule)', () => {
      expect(PRIORITY_RULE).toBe(
        'Peer Group Association create is not allowed when the subcloud peer group priority is greater than 0 and it is required when the subcloud peer group priority is 0.',
      );
      refuse({ peer_group_id: 5, system_peer_id: 3 }, primaryGroup, peer, PRIORITY_RULE, 'peer_group_priority');
      refuse({ peer_group_id: 5, system_peer_id: 3, peer_group_priority: null }, primaryGroup, peer, PRIORITY_RULE, 'peer_group_priority');
      refuse({ peer_group_id: 6, system_peer_id: 3, peer_group_priority: 2 }, replicaGroup, peer, PRIORITY_RULE, 'peer_group_priority');
    });

    it('an invalid priority is reported before the priority rule', () => {
      refuse({ peer_group_id: 6, system_peer_id: 3, peer_group_priority: 0 }, replicaGroup, peer, 'Invalid peer_group_priority');
    });
  });

  describe('validateAssociationUpdate', () => {
    const refuse = (i: Record<string, unknown>, type: 'primary' | 'non-primary', message: string, field?: string) =>
      refuseWith(() => validateAssociationUpdate(i, type), message, field);

    it('needs a body', () => {
      expect(() => validateAssociationUpdate(undefined, 'primary')).toThrow('Body required');
      refuse({}, 'primary', 'Body required');
    });

    it('needs a priority or a sync status', () => {
      refuse({ peer_group_priority: null, sync_status: '' }, 'primary', 'nothing to update');
      refuse({ other: 1 }, 'non-primary', 'nothing to update');
    });

    it('never both at once', () => {
      refuse({ peer_group_priority: 2, sync_status: 'in-sync' }, 'primary', 'peer_group_priority and sync_status cannot be updated at the same time.');
    });

    it('a primary association takes a new priority', () => {
      expect(validateAssociationUpdate({ peer_group_priority: '3' }, 'primary')).toEqual({ kind: 'priority', peerGroupPriority: 3 });
    });

    it('refuses an invalid priority, then a priority on a non-primary association', () => {
      refuse({ peer_group_priority: 0 }, 'primary', 'Invalid peer_group_priority', 'peer_group_priority');
      refuse({ peer_group_priority: 65_537 }, 'non-primary', 'Invalid peer_group_priority', 'peer_group_priority');
      refuse(
        { peer_group_priority: 3 },
        'non-primary',
        'Peer Group Association peer_group_priority is not allowed to update when the association type is non-primary.',
        'peer_group_priority',
      );
    });

    it('a non-primary association takes a pushed sync status', () => {
      for (const syncStatus of SYNC_STATUSES) {
        expect(validateAssociationUpdate({ sync_status: syncStatus }, 'non-primary')).toEqual({ kind: 'syncStatus', syncStatus });
      }
    });

    it('refuses an invalid sync status, then a sync status on a primary association', () => {
      refuse({ sync_status: 'In-Sync' }, 'non-primary', 'Invalid sync_status', 'sync_status');
      refuse({ sync_status: 'bogus' }, 'primary', 'Invalid sync_status', 'sync_status');
      refuse(
        { sync_status: 'in-sync' },
        'primary',
        'Peer Group Association sync_status is not allowed to update when the association type is primary.',
        'sync_status',
      );
    });
  });

  describe('validateSyncRequest', () => {
    it('allows the primary association of a group this site leads', () => {
      expect(() => validateSyncRequest('primary', true)).not.toThrow();
    });

    it('refuses a non-primary association (even when this site leads)', () => {
      const msg =
        'Peer Group Association sync is not allowed when the association type is non-primary. But the peer monitor notify was triggered.';
      refuseWith(() => validateSyncRequest('non-primary', true), msg);
      refuseWith(() => validateSyncRequest('non-primary', false), msg);
    });

    it('refuses a group another site leads', () => {
      refuseWith(
        () => validateSyncRequest('primary', false),
        'Peer Group Association sync is not allowed when the subcloud peer group system_leader_id is not the current system controller UUID.',
      );
    });
  });

  describe('sync messages and statuses', () => {
    it('pushedSyncMessage: failed has its message, every other status None', () => {
      expect(pushedSyncMessage('failed')).toBe('Primary association sync to current site failed.');
      for (const s of ['syncing', 'in-sync', 'out-of-sync', 'unknown'] as const) expect(pushedSyncMessage(s)).toBe('None');
      expect(NO_SYNC_MESSAGE).toBe('None');
    });

    it('isSyncStatus knows exactly the five statuses', () => {
      expect(SYNC_STATUSES).toEqual(['syncing', 'in-sync', 'out-of-sync', 'failed', 'unknown']);
      for (const s of SYNC_STATUSES) expect(isSyncStatus(s)).toBe(true);
      for (const s of ['', 'IN-SYNC', 'none', null, 1]) expect(isSyncStatus(s)).toBe(false);
    });

    it('when the peer is unreachable a settled status becomes unknown, anything else failed', () => {
      expect(statusWhenPeerUnreachable('in-sync')).toBe('unknown');
      expect(statusWhenPeerUnreachable('unknown')).toBe('unknown');
      expect(statusWhenPeerUnreachable('syncing')).toBe('failed');
      expect(statusWhenPeerUnreachable('out-of-sync')).toBe('failed');
      expect(statusWhenPeerUnreachable('failed')).toBe('failed');
      expect(peerUnreachableMessage('site-b')).toBe('Peer site (site-b) is unreachable.');
    });

    it('when the peer is back only unknown is known to be in sync', () => {
      expect(statusWhenPeerBack('unknown')).toBe('in-sync');
      for (const s of ['syncing', 'in-sync', 'out-of-sync', 'failed'] as const) expect(statusWhenPeerBack(s)).toBe('out-of-sync');
    });
  });
});
