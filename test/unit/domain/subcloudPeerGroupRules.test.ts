// §1.1.2 items 1-4: what a PATCH may do to a subcloud of a peer group, by site role, leadership, peer availability and
// who asks. Every message of the rules, each from one pure function.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../domain/core/errors.js';
import { MESSAGES, peerGroupRules, type PeerGroupRuleInput } from '../../../domain/distcloud/subcloudPeerGroupRules.js';

const managedOnline = { peerGroupId: null, deployStatus: 'complete', managementState: 'managed', availabilityStatus: 'online', hasRehomeData: true };
const primaryLed = { id: 1, groupPriority: 0, leaderIsLocal: true };
const input = (over: Partial<PeerGroupRuleInput> = {}): PeerGroupRuleInput => ({
  subcloud: managedOnline,
  fields: [],
  hasBootstrapValues: false,
  hasBootstrapAddress: false,
  fromAnotherDc: false,
  context: {},
  ...over,
});
const inGroup = (current: { id: number; groupPriority: number; leaderIsLocal: boolean; peerAvailable: boolean }, over: Partial<PeerGroupRuleInput> = {}) =>
  input({ subcloud: { ...managedOnline, peerGroupId: current.id }, context: { current }, ...over });
const refused = (r: PeerGroupRuleInput, message: string) => {
  expect(() => peerGroupRules(r)).toThrow(ValidationError);
  expect(() => peerGroupRules(r)).toThrow(message);
};

describe('joining a peer group (peer_group = X)', () => {
  it('a managed, online, complete subcloud joins a primary group this site leads; the group goes out of sync', () => {
    expect(peerGroupRules(input({ peerGroup: '1', context: { target: primaryLed } }))).toEqual({
      peerGroupId: 1,
      nonPrimaryRehomeUpdate: false,
      outOfSyncGroups: [1],
    });
  });
  it('needs rehome data, or both bootstrap values and address in the request', () => {
    const noRehome = { ...managedOnline, hasRehomeData: false };
    refused(input({ subcloud: noRehome, peerGroup: '1', hasBootstrapValues: true, context: { target: primaryLed } }), MESSAGES.needRehomeData);
    expect(
      peerGroupRules(input({ subcloud: noRehome, peerGroup: '1', hasBootstrapValues: true, hasBootstrapAddress: true, context: { target: primaryLed } })).peerGroupId,
    ).toBe(1);
  });
  it('refuses an unknown group', () => refused(input({ peerGroup: 'nope', context: { target: null } }), MESSAGES.invalidPeerGroup));
  it('refuses a replica group, a group led elsewhere, a subcloud not managed, online and complete', () => {
    refused(input({ peerGroup: '2', context: { target: { id: 2, groupPriority: 1, leaderIsLocal: true } } }), MESSAGES.targetNotPrimary);
    refused(input({ peerGroup: '2', context: { target: { id: 2, groupPriority: 0, leaderIsLocal: false } } }), MESSAGES.targetNotLed);
    for (const sub of [{ managementState: 'unmanaged' }, { availabilityStatus: 'offline' }, { deployStatus: 'secondary' }]) {
      refused(input({ subcloud: { ...managedOnline, ...sub }, peerGroup: '1', context: { target: primaryLed } }), MESSAGES.notManagedOnline);
    }
  });
  it('a peer site may put its secondary subcloud in a replica group led elsewhere, and nothing goes out of sync', () => {
    const secondary = { ...managedOnline, deployStatus: 'secondary', managementState: 'unmanaged', availabilityStatus: 'offline' };
    expect(peerGroupRules(input({ subcloud: secondary, peerGroup: '2', fromAnotherDc: true, context: { target: { id: 2, groupPriority: 1, leaderIsLocal: false } } }))).toEqual({
      peerGroupId: 2,
      nonPrimaryRehomeUpdate: false,
      outOfSyncGroups: [],
    });
  });
  it('cannot move a subcloud out of a replica group into another', () => {
    const current = { id: 2, groupPriority: 1, leaderIsLocal: false, peerAvailable: false };
    refused(inGroup(current, { peerGroup: '1', context: { current, target: primaryLed } }), MESSAGES.moveFromNonPrimary);
  });
  it('moving between two primary groups puts both out of sync', () => {
    const current = { id: 3, groupPriority: 0, leaderIsLocal: true, peerAvailable: true };
    expect(peerGroupRules(inGroup(current, { peerGroup: '1', context: { current, target: primaryLed } })).outOfSyncGroups).toEqual([3, 1]);
  });
});

describe('leaving a peer group (peer_group = none)', () => {
  it('the leader site removes a subcloud from its primary group', () => {
    const current = { id: 1, groupPriority: 0, leaderIsLocal: true, peerAvailable: true };
    expect(peerGroupRules(inGroup(current, { peerGroup: 'none' }))).toEqual({ peerGroupId: null, nonPrimaryRehomeUpdate: false, outOfSyncGroups: [1] });
  });
  it('a site that does not lead the group may not', () => {
    const current = { id: 1, groupPriority: 0, leaderIsLocal: false, peerAvailable: true };
    refused(inGroup(current, { peerGroup: 'None' }), MESSAGES.removeNotLeader);
  });
  it('a non-primary site that now leads may not while its peer is available; it may once the peer is down', () => {
    const up = { id: 2, groupPriority: 1, leaderIsLocal: true, peerAvailable: true };
    refused(inGroup(up, { peerGroup: 'none' }), MESSAGES.removeWithAvailablePeer);
    expect(peerGroupRules(inGroup({ ...up, peerAvailable: false }, { peerGroup: 'none' })).peerGroupId).toBeNull();
  });
  it('a subcloud in no group: nothing to leave', () => {
    expect(peerGroupRules(input({ peerGroup: 'none' })).peerGroupId).toBeUndefined();
  });
});

describe('any other change to a subcloud of a peer group', () => {
  const replica = { id: 2, groupPriority: 1, leaderIsLocal: false, peerAvailable: false };
  const rehomeFailed = { ...managedOnline, peerGroupId: 2, deployStatus: 'rehome-failed', managementState: 'unmanaged' };
  it('non-primary site, rehome failed, primary down: bootstrap values and address may change; the association goes out of sync here', () => {
    const r = input({ subcloud: rehomeFailed, context: { current: replica }, fields: ['bootstrap_address'], hasBootstrapAddress: true });
    expect(peerGroupRules(r)).toEqual({ nonPrimaryRehomeUpdate: true, outOfSyncGroups: [] });
  });
  it('…but nothing else along with them', () => {
    const r = input({ subcloud: rehomeFailed, context: { current: replica }, fields: ['bootstrap_address', 'description'], hasBootstrapAddress: true });
    refused(r, MESSAGES.onlyBootstrapOnNonPrimary);
  });
  it('…and not while the primary site is up, nor unless the rehome failed', () => {
    refused(
      input({ subcloud: rehomeFailed, context: { current: { ...replica, peerAvailable: true } }, fields: ['bootstrap_address'], hasBootstrapAddress: true }),
      MESSAGES.nonPrimaryException,
    );
    refused(
      input({ subcloud: { ...rehomeFailed, deployStatus: 'secondary' }, context: { current: replica }, fields: ['bootstrap_values'], hasBootstrapValues: true }),
      MESSAGES.nonPrimaryException,
    );
  });
  it('any other field on a non-primary site', () => {
    refused(input({ subcloud: rehomeFailed, context: { current: replica }, fields: ['description'] }), MESSAGES.nonPrimaryUpdate);
  });
  it('a primary group led elsewhere (after a migration): no change here', () => {
    const current = { id: 1, groupPriority: 0, leaderIsLocal: false, peerAvailable: true };
    refused(inGroup(current, { fields: ['description'] }), MESSAGES.updateNotLed);
  });
  it('the primary leader changes it, and the group goes out of sync', () => {
    const current = { id: 1, groupPriority: 0, leaderIsLocal: true, peerAvailable: true };
    expect(peerGroupRules(inGroup(current, { fields: ['description'] }))).toEqual({ nonPrimaryRehomeUpdate: false, outOfSyncGroups: [1] });
  });
  it('a peer site\'s request skips these checks', () => {
    expect(peerGroupRules(input({ subcloud: rehomeFailed, context: { current: replica }, fields: ['description'], fromAnotherDc: true }))).toEqual({
      nonPrimaryRehomeUpdate: false,
      outOfSyncGroups: [],
    });
  });
});
