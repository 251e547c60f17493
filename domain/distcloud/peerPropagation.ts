// What a primary site pushes to its peer sites besides a full sync (dcmanager's system_peer_manager, spec §3.5 and
// §3.6): a primary association's sync status (update_sync_status), a peer group's rename / state / rehoming limit
// (update_subcloud_peer_group), and the clean-up of the peer's side when a primary association is deleted
// (delete_peer_group_association). Pure: which statuses are pushed and when a push is wanted, the bodies, the
// outcomes and their messages. workflows/associationStatusPush.ts and commands/distcloud/peerPropagation.ts make the
// calls.
import { DomainError, UnprocessableError } from '../core/errors.js';
import type { AssociationSyncStatus, PeerGroupAssociationState } from './peerGroupAssociation.js';
import { DELETABLE_PEER_STATES, MAX_PARALLEL_SUBCLOUD_SYNC, WRONG_PEER_GROUP_PRIORITY } from './peerGroupSync.js';
import type { PeerAvailability } from './systemPeer.js';

// ---- association sync status (update_sync_status) ----

/** The event whose association's status is pushed to the peer's non-primary association. */
export const STATUS_PUSH_TRIGGER = 'PeerGroupAssociationSyncStatusChanged';

export const pushFailedMessage = (peerUuid: string, status: AssociationSyncStatus) =>
  `Failed to Update Peer Site (${peerUuid}) Association sync_status to ${status}.`;

/**
 * Whether an association's current status is to be pushed now: dcmanager's update_sync_status acts on primary
 * associations only, and only a peer known to answer (`available`) is asked; a peer that comes back gets the
 * statuses the peer monitor sets then.
 */
export function statusPushWanted(association: PeerGroupAssociationState, peerAvailability: PeerAvailability | undefined): boolean {
  return association.status === 'active' && association.associationType === 'primary' && peerAvailability === 'available';
}

/** The peer's association is PATCHed only when its `sync-status` differs (HEAD's fix of the 2403 key). */
export const peerNeedsStatus = (peerSyncStatus: unknown, status: AssociationSyncStatus): boolean => peerSyncStatus !== status;

/** After a failed push, the local association is failed with the message, unless it already is failed. */
export function afterFailedPush(
  localStatus: AssociationSyncStatus,
  peerUuid: string,
  pushed: AssociationSyncStatus,
): { syncStatus: 'failed'; syncMessage: string } | undefined {
  return localStatus === 'failed' ? undefined : { syncStatus: 'failed', syncMessage: pushFailedMessage(peerUuid, pushed) };
}

// ---- subcloud peer group update (update_subcloud_peer_group) ----

export const PEER_GROUP_SYNC_REFUSED = 'Unable to sync the update to the peer site(s)';

interface GroupPushFields {
  peerGroupName: string;
  groupState: string;
  maxSubcloudRehoming: number;
}

/** dcmanager's sync_needed: a PATCH not from another DC that changed the name, the state or the rehoming limit. */
export const peerGroupPushNeeded = (before: GroupPushFields, after: GroupPushFields, fromAnotherDc: boolean): boolean =>
  !fromAnotherDc &&
  (before.peerGroupName !== after.peerGroupName || before.groupState !== after.groupState || before.maxSubcloudRehoming !== after.maxSubcloudRehoming);

/** PATCH /subcloud-peer-groups/{old name} on each peer. */
export const peerGroupPushBody = (after: GroupPushFields): Record<string, unknown> => ({
  'peer-group-name': after.peerGroupName,
  'group-state': after.groupState,
  'max-subcloud-rehoming': after.maxSubcloudRehoming,
});

/** Every peer failed (an unavailable one counts as failed): 403. Some succeeded: the failures are only logged. */
export function peerGroupPushVerdict(succeeded: number, failed: number): void {
  if (failed > 0 && succeeded === 0) throw new DomainError(403, PEER_GROUP_SYNC_REFUSED);
}

// ---- primary association delete (delete_peer_group_association) ----

/** Anything unexpected (the peer unreachable, an error answer): the API's fixed 500 message. */
export const ASSOCIATION_DELETE_FAILED = 'Unable to delete peer group association';
/** Peer copies deleted at once (dcmanager's pool of MAX_PARALLEL_SUBCLOUD_SYNC). */
export const MAX_PARALLEL_SUBCLOUD_DELETE = MAX_PARALLEL_SUBCLOUD_SYNC;

/** The names as Python renders a list of strings, as dcmanager formats the message. */
export const peerDeletionFailedMessage = (names: string[], groupName: string) =>
  `Deletion of [${names.map((n) => `'${n}'`).join(', ')}] from the Subcloud Peer Group ${groupName} on the peer site failed.`;

/** A peer's copy may be deleted only while it waits for a migration (or failed one). */
export const peerCopyDeletable = (deployStatus: unknown): boolean => DELETABLE_PEER_STATES.includes(String(deployStatus));

/** The peer refused to delete its group because an association still holds it. */
export const peerGroupStillAssociated = (status: number, detail: string): boolean => status === 400 && detail.includes('is associated');

/**
 * The refusals of a primary delete that leave the local association (and say why): 422, as dcmanager's API answers a
 * manager-side error. The association is marked `failed` with the same text where dcmanager does so.
 */
export class AssociationDeleteRefused extends UnprocessableError {}

/** What the first checks on the peer decide: delete only here, or clean the peer's side first. */
export type PeerCleanupPlan = { kind: 'localOnly'; reason: 'other-system' | 'no-peer-group' } | { kind: 'cleanPeer' };

export function peerCleanupPlan(expectedUuid: string, peerUuid: string | undefined, peerGroup: { group_priority?: unknown } | undefined): PeerCleanupPlan {
  // A different system answers at the endpoint: nothing there is this association's.
  if (peerUuid?.toLowerCase() !== expectedUuid.toLowerCase()) return { kind: 'localOnly', reason: 'other-system' };
  if (!peerGroup) return { kind: 'localOnly', reason: 'no-peer-group' };
  // Priority 0 there: the peer's group is primary, not our replica; nothing of it is ours to delete.
  if (peerGroup.group_priority === 0) throw new AssociationDeleteRefused(WRONG_PEER_GROUP_PRIORITY);
  return { kind: 'cleanPeer' };
}
