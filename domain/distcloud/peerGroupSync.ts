// What a sync of a primary peer group association to its peer site pushes, and what it concludes (dcmanager's
// sync_subcloud_peer_group, spec §3.6): which request is still to be carried out, the peer's replica group, which local
// members may be pushed and as what multipart form, which of the peer's copies go, the final status and its message.
// Pure; workflows/peerGroupSync.ts makes the calls in the spec's order and records the outcome through the
// association's decider.
import { NO_SYNC_MESSAGE, type AssociationSyncStatus, type PeerGroupAssociationState } from './peerGroupAssociation.js';
import { DEPLOY_STATUS as D, isSecondaryState } from './subcloud.js';
import type { PeerGroupFields } from './subcloudPeerGroup.js';
import type { RehomeData } from './subcloudValidation.js';

/** Subclouds pushed (or deleted) on the peer at once (dcmanager's MAX_PARALLEL_SUBCLOUD_SYNC). */
export const MAX_PARALLEL_SUBCLOUD_SYNC = 10;

/** The events that ask for a sync: a primary association's creation, `/sync`, a priority change. */
export const SYNC_TRIGGERS = ['PeerGroupAssociationAdded', 'PeerGroupAssociationSyncRequested'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];
export const isSyncTrigger = (type: string): type is SyncTrigger => (SYNC_TRIGGERS as readonly string[]).includes(type);

// ---- messages ----
export const SERVICE_RESTART_MESSAGE = 'Service restart during syncing';
export const WRONG_PEER_GROUP_PRIORITY = 'Subcloud Peer group of peer site has wrong priority 0.';
export const systemPeerMissingMessage = (localUuid: string) => `System Peer ${localUuid} does not exist on peer site.`;
/** dcmanager raises PeerGroupAssociationTargetNotMatch; the spec gives no text, so this one names both UUIDs. */
export const targetNotMatchMessage = (expected: string, actual: string | undefined) =>
  `Peer site system UUID ${actual ?? '(none)'} does not match the system peer's peer_uuid ${expected}.`;
export const wrongStateForSync = (name: string) => `Subcloud ${name} is not in the right state for sync.`;
export const deployStatusNotCorrect = (status: string) => `Subcloud's deploy status not correct: ${status}`;
/** The names as Python renders a list of strings, as dcmanager formats the message. */
export const syncFailedMessage = (names: string[], groupName: string) =>
  `Failed to sync [${names.map((n) => `'${n}'`).join(', ')}] in the Subcloud Peer Group ${groupName}.`;
// The spec names the rehome data a member needs but gives no wording for its absence.
export const missingSavedPayload = (name: string) => `Subcloud ${name} has no rehome_data saved_payload to sync.`;
export const missingSavedValue = (name: string, key: string) => `Subcloud ${name} has no ${key} in its rehome_data saved_payload.`;

/** A peer's copy may be (re)written by a sync, and must be left so by it. */
export const SYNCABLE_PEER_STATES: readonly string[] = [D.secondary, D.rehomeFailed, D.rehomePrepFailed];
/** A peer's copy that is no longer a member here may be deleted there. */
export const DELETABLE_PEER_STATES: readonly string[] = [D.secondary, D.secondaryFailed, D.rehomeFailed, D.rehomePrepFailed];

// ---- when ----

/**
 * Whether the sync a trigger event asked for is still to be done: the association exists, is primary, is `syncing`,
 * and no later trigger took its place (that one carries the sync out). A trigger seen again after its sync ended, or
 * after a restart failed it, is not.
 */
export function syncStillWanted(state: PeerGroupAssociationState, latestTriggerId: string | undefined, triggerId: string): boolean {
  return state.status === 'active' && state.associationType === 'primary' && state.syncStatus === 'syncing' && latestTriggerId === triggerId;
}

/** At a (re)start, an association left `syncing` was being synced by the process that stopped (any type, as dcmanager). */
export const interruptedBySyncRestart = (state: PeerGroupAssociationState): boolean => state.status === 'active' && state.syncStatus === 'syncing';

// ---- the peer's group ----

/** POST /subcloud-peer-groups on the peer: the local group with the association's priority for the replica. */
export function peerGroupCreateBody(group: PeerGroupFields, priority: number): Record<string, unknown> {
  return { 'peer-group-name': group.peerGroupName, ...peerGroupUpdateBody(group, priority) };
}

/** PATCH /subcloud-peer-groups/{name} on the peer: the five attributes besides the name (which is the reference). */
export function peerGroupUpdateBody(group: PeerGroupFields, priority: number): Record<string, unknown> {
  return {
    'group-priority': priority,
    'group-state': group.groupState,
    'system-leader-id': group.systemLeaderId,
    'system-leader-name': group.systemLeaderName,
    'max-subcloud-rehoming': group.maxSubcloudRehoming,
  };
}

/** A peer's group of priority 0 is primary there: it is no replica to sync to. */
export const peerGroupIsReplica = (groupPriority: unknown): boolean => groupPriority !== 0;

// ---- members ----

/** What a sync reads of a local member subcloud. */
export interface SyncMember {
  name: string;
  regionName: string;
  description: string | null;
  location: string | null;
  deployStatus: string;
  rehomeData: RehomeData | null;
  dataInstall: Record<string, unknown> | null;
}

/** The members a sync pushes: secondary ones here are replicas of another site's and are left out. */
export const membersToPush = <M extends SyncMember>(members: M[]): M[] => members.filter((m) => !isSecondaryState(m.deployStatus));

/** A member's refusals (none: it may be pushed): it needs the saved payload's bootstrap and gateway addresses. */
export function memberProblems(m: SyncMember): string[] {
  const saved = m.rehomeData?.saved_payload;
  if (!saved || Object.keys(saved).length === 0) return [missingSavedPayload(m.name)];
  return ['bootstrap-address', 'systemcontroller_gateway_address'].filter((k) => !isText(saved[k])).map((k) => missingSavedValue(m.name, k));
}

/** A peer's existing copy must be one a sync may rewrite. */
export const peerCopyProblem = (name: string, peerDeployStatus: unknown): string | undefined =>
  SYNCABLE_PEER_STATES.includes(String(peerDeployStatus)) ? undefined : wrongStateForSync(name);

/** What a push of one member sends: text fields, and the documents sent as YAML files. */
export interface PeerSubcloudForm {
  fields: Record<string, string>;
  bootstrapValues: Record<string, unknown>;
  installValues?: Record<string, unknown>;
}

/**
 * The multipart form for the peer's copy of a member (after memberProblems found none): the saved payload as
 * bootstrap values with this site's gateway replaced by the one the peer's subclouds use, the install values, and
 * the address, region, location and description. A new copy is added as secondary with `bootstrap-address`; an
 * existing one is updated, where the address is `bootstrap_address`.
 */
export function peerSubcloudForm(m: SyncMember, peerControllerGatewayAddress: string, existing: boolean): PeerSubcloudForm {
  const saved = m.rehomeData!.saved_payload;
  const address = String(saved['bootstrap-address']);
  const fields: Record<string, string> = existing ? { bootstrap_address: address } : { secondary: 'true', 'bootstrap-address': address };
  fields.region_name = m.regionName;
  if (m.location !== null) fields.location = m.location;
  if (m.description !== null) fields.description = m.description;
  return {
    fields,
    bootstrapValues: { ...saved, systemcontroller_gateway_address: peerControllerGatewayAddress },
    ...(m.dataInstall && Object.keys(m.dataInstall).length > 0 ? { installValues: m.dataInstall } : {}),
  };
}

/** After the push, the copy joined the peer's group: it must still be waiting for a migration there. */
export const joinedCopyProblem = (peerDeployStatus: unknown): string | undefined =>
  SYNCABLE_PEER_STATES.includes(String(peerDeployStatus)) ? undefined : deployStatusNotCorrect(String(peerDeployStatus));

/** The peer's members that are no longer members here (by name): deleted when their state allows, else left. */
export function peerCopiesToDelete(peerMembers: { name: string; deployStatus: string }[], localNames: ReadonlySet<string>) {
  const gone = peerMembers.filter((p) => !localNames.has(p.name));
  return {
    remove: gone.filter((p) => DELETABLE_PEER_STATES.includes(p.deployStatus)).map((p) => p.name),
    keep: gone.filter((p) => !DELETABLE_PEER_STATES.includes(p.deployStatus)).map((p) => p.name),
  };
}

// ---- outcome ----

export interface SyncOutcome {
  syncStatus: AssociationSyncStatus;
  syncMessage: string;
}

/** The end of a sync that ran to its end: in sync, or failed naming the subclouds that could not be synced. */
export const syncOutcome = (failedNames: string[], groupName: string): SyncOutcome =>
  failedNames.length === 0
    ? { syncStatus: 'in-sync', syncMessage: NO_SYNC_MESSAGE }
    : { syncStatus: 'failed', syncMessage: syncFailedMessage(failedNames, groupName) };

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
