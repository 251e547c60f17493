// Peer group association (PGA): "this peer group is protected by that system peer" (dcmanager
// `peer-group-associations`). Stream: peerGroupAssociation-<id>. On the group's primary site (group priority 0) it is
// `primary` and carries the priority the peer's replica gets; the replica's site holds a `non-primary` one, whose
// sync status the primary pushes. Every sync status change is an event with its message.
import type { Decider, DomainEvent } from '../core/decider.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { intInRange } from '../core/pythonInt.js';
import { requireBody } from '../core/body.js';
import { PRIMARY_PRIORITY } from './subcloudPeerGroup.js';

export const peerGroupAssociationStream = (id: number) => `peerGroupAssociation-${id}`;

export const ASSOCIATION_PRIORITY = { min: 1, max: 65_536 } as const;
export const SYNC_STATUSES = ['syncing', 'in-sync', 'out-of-sync', 'failed', 'unknown'] as const;
export type AssociationSyncStatus = (typeof SYNC_STATUSES)[number];
export type AssociationType = 'primary' | 'non-primary';
/** dcmanager's default sync message is the text "None". */
export const NO_SYNC_MESSAGE = 'None';

export interface AssociationFields {
  peerGroupId: number;
  systemPeerId: number;
  /** The priority the peer's replica gets; null on a non-primary association. */
  peerGroupPriority: number | null;
  associationType: AssociationType;
}

// ---- events ----
export type PeerGroupAssociationEvent =
  | DomainEvent<'PeerGroupAssociationAdded', AssociationFields & { id: number; syncStatus: AssociationSyncStatus; at: string }>
  | DomainEvent<'PeerGroupAssociationPriorityChanged', { peerGroupPriority: number; at: string }>
  | DomainEvent<
      'PeerGroupAssociationSyncStatusChanged',
      { syncStatus: AssociationSyncStatus; syncMessage: string; previous: AssociationSyncStatus; at: string }
    >
  /** The sync workflow's order: push the group (and, with syncSubclouds, its subclouds) to the peer. */
  | DomainEvent<'PeerGroupAssociationSyncRequested', { syncSubclouds: boolean; previous: AssociationSyncStatus; at: string }>
  | DomainEvent<'PeerGroupAssociationDeleted', { at: string }>;

// ---- commands ----
export type PeerGroupAssociationCommand =
  | { type: 'AddPeerGroupAssociation'; id: number; fields: AssociationFields; at: string }
  | { type: 'ChangeAssociationPriority'; peerGroupPriority: number; at: string }
  /** From the API (the primary pushing a status to this non-primary), the sync workflow or the peer monitor. */
  | { type: 'SetAssociationSyncStatus'; syncStatus: AssociationSyncStatus; syncMessage: string; at: string }
  /** PATCH /{id}/sync (syncSubclouds) or a priority change (the group only); the primary only. */
  | { type: 'RequestAssociationSync'; syncSubclouds: boolean; at: string }
  | { type: 'DeletePeerGroupAssociation'; at: string };

// ---- state ----
export type PeerGroupAssociationState =
  | { status: 'absent' }
  | ({
      status: 'active' | 'deleted';
      id: number;
      syncStatus: AssociationSyncStatus;
      syncMessage: string;
      createdAt: string;
      updatedAt: string | null;
    } & AssociationFields);

export const initialState = (): PeerGroupAssociationState => ({ status: 'absent' });

// ---- input rules (dcmanager's messages) ----
export type AssociationInput = Partial<Record<'peer_group_id' | 'system_peer_id' | 'peer_group_priority' | 'sync_status', unknown>>;

export const associationPriorityOf = (v: unknown) => intInRange(v, ASSOCIATION_PRIORITY.min, ASSOCIATION_PRIORITY.max);
export const isSyncStatus = (v: unknown): v is AssociationSyncStatus => (SYNC_STATUSES as readonly unknown[]).includes(v);

export const PRIORITY_RULE =
  'Peer Group Association create is not allowed when the subcloud peer group priority is greater than 0 and it is required when the subcloud peer group priority is 0.';
export const DUPLICATE_ASSOCIATION = 'A Peer group association with same peer_group_id, system_peer_id already exists';

/**
 * POST, once the handler has looked the group and the peer up (`group` / `peerExists` undefined or false when there is
 * none). The association is primary exactly when the group is (priority 0), and then it needs a priority for the
 * peer's replica; a replica's association must not have one.
 */
export function validateNewAssociation(
  input: AssociationInput | undefined,
  group: { id: number; groupPriority: number } | undefined,
  peer: { id: number } | undefined,
): AssociationFields {
  input = requireBody(input);
  if (!group) throw new ValidationError('Invalid peer_group_id', 'peer_group_id');
  if (!peer) throw new ValidationError('Invalid system_peer_id', 'system_peer_id');
  const given = input.peer_group_priority;
  const priority = given === undefined || given === null ? null : associationPriorityOf(given);
  if (priority === undefined) throw new ValidationError('Invalid peer_group_priority', 'peer_group_priority');
  const primary = group.groupPriority === PRIMARY_PRIORITY;
  if (primary !== (priority !== null)) throw new ValidationError(PRIORITY_RULE, 'peer_group_priority');
  return { peerGroupId: group.id, systemPeerId: peer.id, peerGroupPriority: priority, associationType: primary ? 'primary' : 'non-primary' };
}

export type AssociationUpdate = { kind: 'priority'; peerGroupPriority: number } | { kind: 'syncStatus'; syncStatus: AssociationSyncStatus };

/** PATCH /{id}: a new priority (primary only) or a sync status (non-primary only), never both. */
export function validateAssociationUpdate(input: AssociationInput | undefined, type: AssociationType): AssociationUpdate {
  input = requireBody(input);
  const priority = input.peer_group_priority;
  const syncStatus = input.sync_status;
  const hasPriority = priority !== undefined && priority !== null;
  if (!hasPriority && !syncStatus) throw new ValidationError('nothing to update');
  if (hasPriority && syncStatus) throw new ValidationError('peer_group_priority and sync_status cannot be updated at the same time.');
  if (hasPriority) {
    const p = associationPriorityOf(priority);
    if (p === undefined) throw new ValidationError('Invalid peer_group_priority', 'peer_group_priority');
    if (type === 'non-primary') {
      throw new ValidationError(
        'Peer Group Association peer_group_priority is not allowed to update when the association type is non-primary.',
        'peer_group_priority',
      );
    }
    return { kind: 'priority', peerGroupPriority: p };
  }
  if (!isSyncStatus(syncStatus)) throw new ValidationError('Invalid sync_status', 'sync_status');
  if (type === 'primary') {
    throw new ValidationError('Peer Group Association sync_status is not allowed to update when the association type is primary.', 'sync_status');
  }
  return { kind: 'syncStatus', syncStatus };
}

/** The message a non-primary association keeps for a status its primary pushed. */
export const pushedSyncMessage = (status: AssociationSyncStatus) =>
  status === 'failed' ? 'Primary association sync to current site failed.' : NO_SYNC_MESSAGE;

/** A primary association when its peer stops answering (dcmanager R24.03): a settled one becomes `unknown`. */
export const statusWhenPeerUnreachable = (s: AssociationSyncStatus): AssociationSyncStatus =>
  s === 'in-sync' || s === 'unknown' ? 'unknown' : 'failed';
/** … and when the peer answers again: only what was `unknown` is known to be in sync. */
export const statusWhenPeerBack = (s: AssociationSyncStatus): AssociationSyncStatus => (s === 'unknown' ? 'in-sync' : 'out-of-sync');
export const peerUnreachableMessage = (peerName: string) => `Peer site (${peerName}) is unreachable.`;

/** PATCH /{id}/sync: only the primary association of a group this site leads. */
export function validateSyncRequest(type: AssociationType, leaderIsLocal: boolean): void {
  if (type === 'non-primary') {
    throw new ValidationError(
      'Peer Group Association sync is not allowed when the association type is non-primary. But the peer monitor notify was triggered.',
    );
  }
  if (!leaderIsLocal) {
    throw new ValidationError(
      'Peer Group Association sync is not allowed when the subcloud peer group system_leader_id is not the current system controller UUID.',
    );
  }
}

// ---- decide ----
export const ASSOCIATION_NOT_FOUND = 'Peer Group Association not found';

function requireActive(state: PeerGroupAssociationState) {
  if (state.status !== 'active') throw new NotFoundError(ASSOCIATION_NOT_FOUND);
  return state;
}

export function decide(command: PeerGroupAssociationCommand, state: PeerGroupAssociationState): PeerGroupAssociationEvent[] {
  switch (command.type) {
    case 'AddPeerGroupAssociation':
      if (state.status !== 'absent') throw new ValidationError(DUPLICATE_ASSOCIATION);
      return [{ type: 'PeerGroupAssociationAdded', data: { id: command.id, ...command.fields, syncStatus: 'syncing', at: command.at } }];
    case 'ChangeAssociationPriority': {
      const s = requireActive(state);
      if (s.peerGroupPriority === command.peerGroupPriority) return [];
      return [{ type: 'PeerGroupAssociationPriorityChanged', data: { peerGroupPriority: command.peerGroupPriority, at: command.at } }];
    }
    case 'SetAssociationSyncStatus': {
      const s = requireActive(state);
      if (s.syncStatus === command.syncStatus && s.syncMessage === command.syncMessage) return [];
      return [
        {
          type: 'PeerGroupAssociationSyncStatusChanged',
          data: { syncStatus: command.syncStatus, syncMessage: command.syncMessage, previous: s.syncStatus, at: command.at },
        },
      ];
    }
    case 'RequestAssociationSync': {
      const s = requireActive(state);
      if (s.associationType !== 'primary') throw new ValidationError('Only a primary association syncs its peer');
      return [{ type: 'PeerGroupAssociationSyncRequested', data: { syncSubclouds: command.syncSubclouds, previous: s.syncStatus, at: command.at } }];
    }
    case 'DeletePeerGroupAssociation':
      requireActive(state);
      return [{ type: 'PeerGroupAssociationDeleted', data: { at: command.at } }];
  }
}

// ---- evolve ----
export function evolve(state: PeerGroupAssociationState, event: PeerGroupAssociationEvent): PeerGroupAssociationState {
  switch (event.type) {
    case 'PeerGroupAssociationAdded': {
      const { at, ...fields } = event.data;
      return { status: 'active', ...fields, syncMessage: NO_SYNC_MESSAGE, createdAt: at, updatedAt: null };
    }
    case 'PeerGroupAssociationPriorityChanged':
      return state.status === 'absent' ? state : { ...state, peerGroupPriority: event.data.peerGroupPriority, updatedAt: event.data.at };
    case 'PeerGroupAssociationSyncStatusChanged':
      if (state.status === 'absent') return state;
      return { ...state, syncStatus: event.data.syncStatus, syncMessage: event.data.syncMessage, updatedAt: event.data.at };
    case 'PeerGroupAssociationSyncRequested':
      return state.status === 'absent' ? state : { ...state, syncStatus: 'syncing', syncMessage: NO_SYNC_MESSAGE, updatedAt: event.data.at };
    case 'PeerGroupAssociationDeleted':
      return state.status === 'absent' ? state : { ...state, status: 'deleted', updatedAt: event.data.at };
  }
}

export const peerGroupAssociationDecider: Decider<PeerGroupAssociationState, PeerGroupAssociationCommand, PeerGroupAssociationEvent> = {
  decide,
  evolve,
  initialState,
};
