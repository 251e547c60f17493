// The pure rules of the peer propagation: when a status is pushed and what a failed push records, when a peer group
// change is pushed and when no peer taking it is a 403, and what the first checks of a primary delete decide.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../domain/core/errors.js';
import type { PeerGroupAssociationState } from '../../../domain/distcloud/peerGroupAssociation.js';
import {
  afterFailedPush,
  AssociationDeleteRefused,
  peerCleanupPlan,
  peerCopyDeletable,
  peerDeletionFailedMessage,
  peerGroupPushBody,
  peerGroupPushNeeded,
  peerGroupPushVerdict,
  peerGroupStillAssociated,
  peerNeedsStatus,
  statusPushWanted,
} from '../../../domain/distcloud/peerPropagation.js';

const association = (associationType: 'primary' | 'non-primary', status: 'active' | 'deleted' = 'active'): PeerGroupAssociationState => ({
  status,
  id: 1,
  peerGroupId: 1,
  systemPeerId: 1,
  peerGroupPriority: associationType === 'primary' ? 2 : null,
  associationType,
  syncStatus: 'in-sync',
  syncMessage: 'None',
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: null,
});

describe('status push', () => {
  it('only a live primary association, only to an available peer', () => {
    expect(statusPushWanted(association('primary'), 'available')).toBe(true);
    expect(statusPushWanted(association('primary'), 'unavailable')).toBe(false);
    expect(statusPushWanted(association('primary'), 'created')).toBe(false);
    expect(statusPushWanted(association('non-primary'), 'available')).toBe(false);
    expect(statusPushWanted(association('primary', 'deleted'), 'available')).toBe(false);
    expect(statusPushWanted({ status: 'absent' }, 'available')).toBe(false);
  });

  it("the peer's association is PATCHed only when its status differs", () => {
    expect(peerNeedsStatus('in-sync', 'in-sync')).toBe(false);
    expect(peerNeedsStatus('failed', 'in-sync')).toBe(true);
    expect(peerNeedsStatus(undefined, 'in-sync')).toBe(true);
  });

  it("a failed push fails the local association with dcmanager's message, unless it already is failed", () => {
    expect(afterFailedPush('in-sync', 'u-1', 'out-of-sync')).toEqual({
      syncStatus: 'failed',
      syncMessage: 'Failed to Update Peer Site (u-1) Association sync_status to out-of-sync.',
    });
    expect(afterFailedPush('failed', 'u-1', 'failed')).toBeUndefined();
  });
});

describe('peer group update', () => {
  const before = { peerGroupName: 'pg1', groupState: 'enabled', maxSubcloudRehoming: 10 };
  it('is pushed when the name, state or limit changed, and never for a request from another DC', () => {
    expect(peerGroupPushNeeded(before, { ...before }, false)).toBe(false);
    expect(peerGroupPushNeeded(before, { ...before, peerGroupName: 'pg2' }, false)).toBe(true);
    expect(peerGroupPushNeeded(before, { ...before, groupState: 'disabled' }, false)).toBe(true);
    expect(peerGroupPushNeeded(before, { ...before, maxSubcloudRehoming: 20 }, false)).toBe(true);
    expect(peerGroupPushNeeded(before, { ...before, maxSubcloudRehoming: 20 }, true)).toBe(false);
  });

  it('sends the three attributes with dcmanager keys', () => {
    expect(peerGroupPushBody({ ...before, peerGroupName: 'pg2' })).toEqual({ 'peer-group-name': 'pg2', 'group-state': 'enabled', 'max-subcloud-rehoming': 10 });
  });

  it('403 only when every peer failed', () => {
    expect(() => peerGroupPushVerdict(0, 0)).not.toThrow();
    expect(() => peerGroupPushVerdict(1, 1)).not.toThrow();
    let error: unknown;
    try {
      peerGroupPushVerdict(0, 2);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ status: 403, message: 'Unable to sync the update to the peer site(s)' });
  });
});

describe('primary association delete', () => {
  it('another system at the endpoint, or no group there: delete here only; a primary group there: refused', () => {
    expect(peerCleanupPlan('AB-1', 'ab-1', { group_priority: 2 })).toEqual({ kind: 'cleanPeer' });
    expect(peerCleanupPlan('ab-1', 'cd-2', { group_priority: 2 })).toEqual({ kind: 'localOnly', reason: 'other-system' });
    expect(peerCleanupPlan('ab-1', undefined, undefined)).toEqual({ kind: 'localOnly', reason: 'other-system' });
    expect(peerCleanupPlan('ab-1', 'ab-1', undefined)).toEqual({ kind: 'localOnly', reason: 'no-peer-group' });
    expect(() => peerCleanupPlan('ab-1', 'ab-1', { group_priority: 0 })).toThrow(AssociationDeleteRefused);
    expect(() => peerCleanupPlan('ab-1', 'ab-1', { group_priority: 0 })).toThrow('Subcloud Peer group of peer site has wrong priority 0.');
  });

  it('copies are deleted only while waiting for (or after failing) a migration', () => {
    for (const s of ['secondary', 'secondary-failed', 'rehome-failed', 'rehome-prep-failed']) expect(peerCopyDeletable(s)).toBe(true);
    for (const s of ['complete', 'pre-rehome', 'rehoming', undefined]) expect(peerCopyDeletable(s)).toBe(false);
  });

  it("the failure message prints the names as Python prints a list; the peer's 'is associated' refusal is recognised", () => {
    expect(peerDeletionFailedMessage(['sc1', 'sc2'], 'pg1')).toBe("Deletion of ['sc1', 'sc2'] from the Subcloud Peer Group pg1 on the peer site failed.");
    expect(peerGroupStillAssociated(400, 'Cannot delete a peer group which is associated with a system peer.')).toBe(true);
    expect(peerGroupStillAssociated(500, 'is associated')).toBe(false);
    expect(peerGroupStillAssociated(400, 'Subcloud Peer Group not found')).toBe(false);
  });
});
