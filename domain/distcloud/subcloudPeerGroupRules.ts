// What a PATCH /subclouds/{ref} may do to a subcloud of a subcloud peer group (dcmanager R24.03, spec §1.1.2 items
// 1-4 and §3.2): join, move or leave a group, and any other change, allowed or refused by this site's role for the
// group (primary = priority 0), who leads it and whether the peer site answers. A peer site's own requests skip the
// checks its sync and audit rely on. Pure: the command handler looks the groups and the peer up.
import { ValidationError } from '../core/errors.js';

/** A subcloud peer group as the rules see it. */
export interface PeerGroupFacts {
  id: number;
  groupPriority: number;
  /** The group's system_leader_id is this site. */
  leaderIsLocal: boolean;
}

export interface PeerGroupContext {
  /** The subcloud's current group, and whether the peer site of its (last) association is available (true when the
   *  group has no association, as in dcmanager). */
  current?: PeerGroupFacts & { peerAvailable: boolean };
  /** The group `peer_group` names; null when no group has that id or name. */
  target?: PeerGroupFacts | null;
}

/** The parts of a subcloud and of the request the rules read. */
export interface PeerGroupRuleInput {
  subcloud: { peerGroupId: number | null; deployStatus: string; managementState: string; availabilityStatus: string; hasRehomeData: boolean };
  /** The request's fields that were given (by name), and `peer_group` as sent. */
  fields: string[];
  peerGroup?: string;
  hasBootstrapValues: boolean;
  hasBootstrapAddress: boolean;
  fromAnotherDc: boolean;
  context: PeerGroupContext;
}

export interface PeerGroupOutcome {
  /** The subcloud's group after the change: a group id, null to leave it, undefined when it does not change. */
  peerGroupId?: number | null;
  /** The §3.2 exception: a non-primary site corrected the rehome data; its association becomes out-of-sync here only. */
  nonPrimaryRehomeUpdate: boolean;
  /** Groups this site leads as primary whose associations the change makes out-of-sync (on both sites). */
  outOfSyncGroups: number[];
}

export const MESSAGES = {
  removeNotLeader: 'Removing subcloud from a peer group not led by the current site is prohibited.',
  removeWithAvailablePeer: 'Removing subcloud from a peer group associated with an available system peer is prohibited.',
  needRehomeData: 'Cannot update the subcloud peer group: must provide both the bootstrap-values and bootstrap-address.',
  moveFromNonPrimary: 'Cannot move subcloud to a new peer group if the original peer group is not primary (non-zero priority).',
  invalidPeerGroup: 'Invalid peer group',
  targetNotPrimary: 'Cannot set the subcloud to a peer group with non-zero priority.',
  targetNotLed: 'Update subcloud to a peer group that is not led by the current site is prohibited.',
  notManagedOnline: 'Only subclouds that are managed and online can be added to a peer group.',
  onlyBootstrapOnNonPrimary: 'Only bootstrap values and address can be updated in the non-primary site',
  nonPrimaryException:
    'Subcloud bootstrap values or address update in the non-primary site is only allowed when rehome failed and the primary site is unavailable.',
  nonPrimaryUpdate: 'Subcloud update is only allowed when its peer group priority value is 0.',
  updateNotLed: 'Updating subcloud from a peer group not led by the current site is prohibited.',
} as const;

const BOOTSTRAP_FIELDS = ['bootstrap_values', 'bootstrap_address'];

export function peerGroupRules(r: PeerGroupRuleInput): PeerGroupOutcome {
  const { subcloud, context, fromAnotherDc } = r;
  const current = subcloud.peerGroupId !== null ? context.current : undefined;
  const outcome: PeerGroupOutcome = { nonPrimaryRehomeUpdate: false, outOfSyncGroups: [] };
  // Item 1: a change to a subcloud of a primary group this site leads puts that group out of sync with its peers.
  if (current && current.groupPriority === 0 && current.leaderIsLocal && !fromAnotherDc) outcome.outOfSyncGroups.push(current.id);

  if (r.peerGroup !== undefined) {
    if (r.peerGroup.toLowerCase() === 'none') {
      // Item 2: leave the group.
      if (current) {
        if (!current.leaderIsLocal) throw new ValidationError(MESSAGES.removeNotLeader, 'peer_group');
        if (current.peerAvailable && current.groupPriority > 0) throw new ValidationError(MESSAGES.removeWithAvailablePeer, 'peer_group');
        outcome.peerGroupId = null;
      }
      return outcome;
    }
    // Item 3: join or move.
    if (!subcloud.hasRehomeData && !(r.hasBootstrapValues && r.hasBootstrapAddress)) {
      throw new ValidationError(MESSAGES.needRehomeData, 'peer_group');
    }
    const target = context.target;
    if (current && current.groupPriority > 0 && target?.id !== current.id) {
      throw new ValidationError(MESSAGES.moveFromNonPrimary, 'peer_group');
    }
    if (!target) throw new ValidationError(MESSAGES.invalidPeerGroup, 'peer_group');
    if (!fromAnotherDc) {
      if (target.groupPriority > 0) throw new ValidationError(MESSAGES.targetNotPrimary, 'peer_group');
      if (!target.leaderIsLocal) throw new ValidationError(MESSAGES.targetNotLed, 'peer_group');
      if (!(subcloud.deployStatus === 'complete' && subcloud.managementState === 'managed' && subcloud.availabilityStatus === 'online')) {
        throw new ValidationError(MESSAGES.notManagedOnline, 'peer_group');
      }
      if (!outcome.outOfSyncGroups.includes(target.id)) outcome.outOfSyncGroups.push(target.id);
    }
    outcome.peerGroupId = target.id;
    return outcome;
  }

  // Item 4: any other change to a subcloud of a group, unless a peer site asks.
  if (current && !fromAnotherDc) {
    if (current.groupPriority > 0) {
      if (!r.hasBootstrapValues && !r.hasBootstrapAddress) throw new ValidationError(MESSAGES.nonPrimaryUpdate);
      if (r.fields.some((f) => !BOOTSTRAP_FIELDS.includes(f))) throw new ValidationError(MESSAGES.onlyBootstrapOnNonPrimary);
      if (subcloud.deployStatus !== 'rehome-failed' || current.peerAvailable) throw new ValidationError(MESSAGES.nonPrimaryException);
      outcome.nonPrimaryRehomeUpdate = true;
      return outcome;
    }
    if (!current.leaderIsLocal) throw new ValidationError(MESSAGES.updateNotLed);
  }
  return outcome;
}
