// The sync's pure rules: which trigger is still wanted, what a member's push sends, which members may be pushed,
// which peer copies go, and the outcome's message.
import { describe, expect, it } from 'vitest';
import type { PeerGroupAssociationState } from '../../../domain/distcloud/peerGroupAssociation.js';
import {
  interruptedBySyncRestart,
  joinedCopyProblem,
  memberProblems,
  membersToPush,
  peerCopiesToDelete,
  peerCopyProblem,
  peerGroupCreateBody,
  peerGroupIsReplica,
  peerGroupUpdateBody,
  peerSubcloudForm,
  syncOutcome,
  syncStillWanted,
  targetNotMatchMessage,
  type SyncMember,
} from '../../../domain/distcloud/peerGroupSync.js';

const association = (over: Partial<Exclude<PeerGroupAssociationState, { status: 'absent' }>> = {}): PeerGroupAssociationState => ({
  status: 'active',
  id: 1,
  peerGroupId: 5,
  systemPeerId: 3,
  peerGroupPriority: 2,
  associationType: 'primary',
  syncStatus: 'syncing',
  syncMessage: 'None',
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: null,
  ...over,
});

const member = (over: Partial<SyncMember> = {}): SyncMember => ({
  name: 'sc1',
  regionName: 'r1',
  description: null,
  location: null,
  deployStatus: 'complete',
  rehomeData: { saved_payload: { name: 'sc1', 'bootstrap-address': '10.10.10.12', systemcontroller_gateway_address: '192.168.204.101' } },
  dataInstall: null,
  ...over,
});

describe('when a trigger runs', () => {
  it('only the latest trigger of a primary association that is still syncing', () => {
    expect(syncStillWanted(association(), 'e1', 'e1')).toBe(true);
    expect(syncStillWanted(association(), 'e2', 'e1')).toBe(false);
    expect(syncStillWanted(association({ syncStatus: 'in-sync' }), 'e1', 'e1')).toBe(false);
    expect(syncStillWanted(association({ syncStatus: 'failed' }), 'e1', 'e1')).toBe(false);
    expect(syncStillWanted(association({ associationType: 'non-primary', peerGroupPriority: null }), 'e1', 'e1')).toBe(false);
    expect(syncStillWanted(association({ status: 'deleted' }), 'e1', 'e1')).toBe(false);
    expect(syncStillWanted({ status: 'absent' }, undefined, 'e1')).toBe(false);
  });

  it('a restart fails every association left syncing, of either type', () => {
    expect(interruptedBySyncRestart(association())).toBe(true);
    expect(interruptedBySyncRestart(association({ associationType: 'non-primary', peerGroupPriority: null }))).toBe(true);
    expect(interruptedBySyncRestart(association({ syncStatus: 'out-of-sync' }))).toBe(false);
    expect(interruptedBySyncRestart({ status: 'absent' })).toBe(false);
  });
});

describe('the peer group', () => {
  const group = { peerGroupName: 'pg1', groupPriority: 0, groupState: 'disabled' as const, maxSubcloudRehoming: 7, systemLeaderId: 'u-a', systemLeaderName: 'site-a' };
  it('is created with the association\'s priority and updated with the five attributes', () => {
    expect(peerGroupCreateBody(group, 4)).toEqual({
      'peer-group-name': 'pg1',
      'group-priority': 4,
      'group-state': 'disabled',
      'system-leader-id': 'u-a',
      'system-leader-name': 'site-a',
      'max-subcloud-rehoming': 7,
    });
    expect(Object.keys(peerGroupUpdateBody(group, 4))).toEqual(['group-priority', 'group-state', 'system-leader-id', 'system-leader-name', 'max-subcloud-rehoming']);
    expect(peerGroupIsReplica(0)).toBe(false);
    expect(peerGroupIsReplica(4)).toBe(true);
  });
});

describe('members', () => {
  it('secondary members here are left out; a member needs its saved payload with both addresses', () => {
    const pushed = membersToPush([member(), member({ name: 'sc2', deployStatus: 'secondary' }), member({ name: 'sc3', deployStatus: 'secondary-failed' })]);
    expect(pushed.map((m) => m.name)).toEqual(['sc1']);
    expect(memberProblems(member())).toEqual([]);
    expect(memberProblems(member({ rehomeData: null }))).toEqual(['Subcloud sc1 has no rehome_data saved_payload to sync.']);
    expect(memberProblems(member({ rehomeData: { saved_payload: {} } }))).toEqual(['Subcloud sc1 has no rehome_data saved_payload to sync.']);
    expect(memberProblems(member({ rehomeData: { saved_payload: { name: 'sc1' } } }))).toEqual([
      'Subcloud sc1 has no bootstrap-address in its rehome_data saved_payload.',
      'Subcloud sc1 has no systemcontroller_gateway_address in its rehome_data saved_payload.',
    ]);
  });

  it('a peer copy must be secondary, rehome-failed or rehome-prep-failed, before and after the push', () => {
    for (const s of ['secondary', 'rehome-failed', 'rehome-prep-failed']) {
      expect(peerCopyProblem('sc1', s)).toBeUndefined();
      expect(joinedCopyProblem(s)).toBeUndefined();
    }
    expect(peerCopyProblem('sc1', 'complete')).toBe('Subcloud sc1 is not in the right state for sync.');
    expect(peerCopyProblem('sc1', 'secondary-failed')).toBe('Subcloud sc1 is not in the right state for sync.');
    expect(joinedCopyProblem('rehoming')).toBe("Subcloud's deploy status not correct: rehoming");
  });

  it('a new copy is added as secondary with bootstrap-address; the gateway is the peer\'s; install values go along', () => {
    const install = { bootstrap_interface: 'eno1', image: 'http://x/iso' };
    const form = peerSubcloudForm(member({ location: 'rack 1', dataInstall: install }), '192.168.204.102', false);
    expect(form.fields).toEqual({ secondary: 'true', 'bootstrap-address': '10.10.10.12', region_name: 'r1', location: 'rack 1' });
    expect(form.bootstrapValues).toEqual({ name: 'sc1', 'bootstrap-address': '10.10.10.12', systemcontroller_gateway_address: '192.168.204.102' });
    expect(form.installValues).toEqual(install);
  });

  it('an existing copy is updated with bootstrap_address; no install values when there are none', () => {
    const form = peerSubcloudForm(member({ description: 'edge' }), '192.168.204.102', true);
    expect(form.fields).toEqual({ bootstrap_address: '10.10.10.12', region_name: 'r1', description: 'edge' });
    expect(form.installValues).toBeUndefined();
  });

  it('peer copies no longer members here are deleted when their state allows', () => {
    const plan = peerCopiesToDelete(
      [
        { name: 'sc1', deployStatus: 'secondary' },
        { name: 'sc2', deployStatus: 'secondary-failed' },
        { name: 'sc3', deployStatus: 'rehome-failed' },
        { name: 'sc4', deployStatus: 'complete' },
        { name: 'sc5', deployStatus: 'rehome-prep-failed' },
        { name: 'sc6', deployStatus: 'secondary' },
      ],
      new Set(['sc1']),
    );
    expect(plan).toEqual({ remove: ['sc2', 'sc3', 'sc5', 'sc6'], keep: ['sc4'] });
  });
});

describe('outcome', () => {
  it('in-sync with "None", or failed naming the subclouds as Python prints a list', () => {
    expect(syncOutcome([], 'pg1')).toEqual({ syncStatus: 'in-sync', syncMessage: 'None' });
    expect(syncOutcome(['sc1', 'sc2'], 'pg1')).toEqual({ syncStatus: 'failed', syncMessage: "Failed to sync ['sc1', 'sc2'] in the Subcloud Peer Group pg1." });
    expect(targetNotMatchMessage('u-1', 'u-2')).toBe("Peer site system UUID u-2 does not match the system peer's peer_uuid u-1.");
  });
});
