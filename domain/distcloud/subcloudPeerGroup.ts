// Subcloud peer group (SPG): the subclouds two sites protect together (dcmanager `subcloud-peer-groups`).
// Stream: subcloudPeerGroup-<id>. Priority 0 makes this site the group's primary; a replica a peer pushed here has
// the association's priority (1 and up). The leader (`system_leader_id`) is the site that manages the subclouds now:
// it changes when a migration completes, here or, learnt by the audit, at the peer.
import type { Decider, DomainEvent } from '../core/decider.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import type { SealedSecret } from '../core/sealed.js';
import { intInRange } from '../core/pythonInt.js';
import { requireBody } from '../core/body.js';
import { changedFields } from '../core/changes.js';
import { canonicalUuid } from './systemPeer.js';

export const subcloudPeerGroupStream = (id: number) => `subcloudPeerGroup-${id}`;

export const PRIMARY_PRIORITY = 0;
export const GROUP_PRIORITY = { min: 0, max: 65_536 } as const;
export const MAX_SUBCLOUD_REHOMING = { min: 1, max: 250, default: 10 } as const;
const NAME_MAX = 255;
const GROUP_STATES = ['enabled', 'disabled'] as const;
const MIGRATION_STATUSES = ['migrating', 'complete', 'none'] as const;
export type GroupState = (typeof GROUP_STATES)[number];
/** null until a migration ran here or a peer set it. */
export type MigrationStatus = (typeof MIGRATION_STATUSES)[number] | null;

export interface PeerGroupFields {
  peerGroupName: string;
  groupPriority: number;
  groupState: GroupState;
  maxSubcloudRehoming: number;
  systemLeaderId: string;
  systemLeaderName: string;
}

export interface PeerGroupLeader {
  systemLeaderId: string;
  systemLeaderName: string;
}

// ---- events ----
export type SubcloudPeerGroupEvent =
  | DomainEvent<'SubcloudPeerGroupAdded', PeerGroupFields & { id: number; at: string }>
  | DomainEvent<'SubcloudPeerGroupUpdated', Partial<Omit<PeerGroupFields, keyof PeerGroupLeader>> & { at: string }>
  | DomainEvent<'PeerGroupLeaderChanged', PeerGroupLeader & { previous: PeerGroupLeader; at: string }>
  | DomainEvent<'PeerGroupMigrationStatusChanged', { migrationStatus: MigrationStatus; at: string }>
  /** A batch migration to this site began (PATCH /migrate): its subclouds, and the sysadmin password sealed. */
  | DomainEvent<'PeerGroupMigrationStarted', MigrationStart & { at: string }>
  | DomainEvent<'SubcloudPeerGroupDeleted', { at: string }>;

export interface MigrationStart {
  migrationId: string;
  /** The eligible subclouds (secondary, rehome-failed, rehome-prep-failed) when it was asked for. */
  subcloudIds: number[];
  /** base64, as the request gave it: the rehome's login to each subcloud. Never in a read model. */
  sysadminPassword: SealedSecret;
}

// ---- commands ----
export interface PeerGroupChanges extends Partial<PeerGroupFields> {
  migrationStatus?: MigrationStatus;
}

export type SubcloudPeerGroupCommand =
  | { type: 'AddSubcloudPeerGroup'; id: number; fields: PeerGroupFields; at: string }
  /** fromAnotherDc: a peer site's request, which may change a replica (priority > 0). */
  | { type: 'UpdateSubcloudPeerGroup'; changes: PeerGroupChanges; fromAnotherDc: boolean; at: string }
  /** From a migration or the audit: the site that leads the group now. */
  | { type: 'ChangePeerGroupLeader'; leader: PeerGroupLeader; at: string }
  | { type: 'SetPeerGroupMigrationStatus'; migrationStatus: MigrationStatus; at: string }
  | ({ type: 'StartPeerGroupMigration'; at: string } & MigrationStart)
  /** The migration's last step, whatever became of each subcloud: this site leads the group (spec §3.7). */
  | { type: 'CompletePeerGroupMigration'; migrationId: string; leader: PeerGroupLeader; at: string }
  /** associationCount: associations naming this group, from their read model. */
  | { type: 'DeleteSubcloudPeerGroup'; associationCount: number; at: string };

// ---- state ----
export type SubcloudPeerGroupState =
  | { status: 'absent' }
  | ({
      status: 'active' | 'deleted';
      id: number;
      migrationStatus: MigrationStatus;
      /** The batch migration this site runs or ran last (its start event holds the rest). */
      migrationId?: string | null;
      createdAt: string;
      updatedAt: string | null;
    } & PeerGroupFields);

export const initialState = (): SubcloudPeerGroupState => ({ status: 'absent' });

// ---- input rules (dcmanager's validators and messages; request keys are hyphenated) ----
export type PeerGroupInput = Partial<
  Record<'peer-group-name' | 'group-priority' | 'group-state' | 'system-leader-id' | 'system-leader-name' | 'max-subcloud-rehoming' | 'migration_status', unknown>
>;

/** Not empty, not all digits, at most 255 characters, and not `none` (which means "no group" to PATCH /subclouds). */
export const isPeerGroupName = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && !/^\d+$/.test(v) && v.length <= NAME_MAX && v.toLowerCase() !== 'none';
const isGroupState = (v: unknown): v is GroupState => (GROUP_STATES as readonly unknown[]).includes(v);
const isLeaderName = (v: unknown): v is string => typeof v === 'string' && v.length <= NAME_MAX;
const isLeaderId = (v: unknown): v is string => canonicalUuid(v) !== undefined;
const priorityOf = (v: unknown) => intInRange(v, GROUP_PRIORITY.min, GROUP_PRIORITY.max);
const maxRehomingOf = (v: unknown) => intInRange(v, MAX_SUBCLOUD_REHOMING.min, MAX_SUBCLOUD_REHOMING.max);

/** POST: the name is required; the leader defaults to this site, priority to 0 (primary). */
export function validateNewPeerGroup(input: PeerGroupInput | undefined, local: { uuid: string; name: string }): PeerGroupFields {
  input = requireBody(input);
  const name = input['peer-group-name'];
  if (!isPeerGroupName(name)) throw new ValidationError('Invalid peer-group-name', 'peer-group-name');
  const leaderId = input['system-leader-id'];
  if (leaderId && !isLeaderId(leaderId)) {
    throw new ValidationError(`Invalid system-leader-id [${String(leaderId)}]`, 'system-leader-id');
  }
  const leaderName = input['system-leader-name'];
  if (leaderName && !isLeaderName(leaderName)) throw new ValidationError('Invalid system-leader-name', 'system-leader-name');
  const priority = input['group-priority'] ? priorityOf(input['group-priority']) : PRIMARY_PRIORITY;
  if (priority === undefined) throw new ValidationError('Invalid group-priority', 'group-priority');
  const state = input['group-state'] || 'enabled';
  if (!isGroupState(state)) throw new ValidationError('Invalid group-state', 'group-state');
  const maxRehoming = input['max-subcloud-rehoming'] ? maxRehomingOf(input['max-subcloud-rehoming']) : MAX_SUBCLOUD_REHOMING.default;
  if (maxRehoming === undefined) throw new ValidationError('Invalid max-subcloud-rehoming', 'max-subcloud-rehoming');
  return {
    peerGroupName: name,
    groupPriority: priority,
    groupState: state,
    maxSubcloudRehoming: maxRehoming,
    systemLeaderId: (leaderId as string | undefined) || local.uuid,
    systemLeaderName: (leaderName as string | undefined) || local.name,
  };
}

export const NON_PRIMARY_UPDATE = 'Cannot update a peer group from a non-primary site.';

/**
 * PATCH: any of the POST keys, plus `migration_status` (a null there means `none`). As in dcmanager, only fields with
 * a truthy value are checked and changed; a non-primary site (priority > 0) accepts changes from its peer only.
 */
export function validatePeerGroupChanges(
  input: PeerGroupInput | undefined,
  current: { groupPriority: number },
  fromAnotherDc: boolean,
): PeerGroupChanges {
  input = requireBody(input);
  if (current.groupPriority > PRIMARY_PRIORITY && !fromAnotherDc) throw new ValidationError(NON_PRIMARY_UPDATE);
  const migration = 'migration_status' in input ? (input.migration_status ?? 'none') : undefined;
  const name = input['peer-group-name'];
  const priority = input['group-priority'];
  const state = input['group-state'];
  const leaderId = input['system-leader-id'];
  const leaderName = input['system-leader-name'];
  const maxRehoming = input['max-subcloud-rehoming'];
  if (![name, priority, state, leaderId, leaderName, maxRehoming, migration].some(Boolean)) {
    throw new ValidationError('nothing to update');
  }
  const changes: PeerGroupChanges = {};
  if (name) {
    if (!isPeerGroupName(name)) throw new ValidationError('Invalid peer-group-name', 'peer-group-name');
    changes.peerGroupName = name;
  }
  if (priority) {
    const p = priorityOf(priority);
    if (p === undefined) throw new ValidationError('Invalid group-priority', 'group-priority');
    changes.groupPriority = p;
  }
  if (state) {
    if (!isGroupState(state)) throw new ValidationError('Invalid group-state', 'group-state');
    changes.groupState = state;
  }
  if (maxRehoming) {
    const m = maxRehomingOf(maxRehoming);
    if (m === undefined) throw new ValidationError('Invalid max-subcloud-rehoming', 'max-subcloud-rehoming');
    changes.maxSubcloudRehoming = m;
  }
  if (leaderId) {
    if (!isLeaderId(leaderId)) throw new ValidationError('Invalid system-leader-id', 'system-leader-id');
    changes.systemLeaderId = leaderId;
  }
  if (leaderName) {
    if (!isLeaderName(leaderName)) throw new ValidationError('Invalid system-leader-name', 'system-leader-name');
    changes.systemLeaderName = leaderName;
  }
  if (migration) {
    const m = typeof migration === 'string' ? migration.toLowerCase() : undefined;
    if (!m || !(MIGRATION_STATUSES as readonly string[]).includes(m)) {
      throw new ValidationError('Invalid migration_status', 'migration_status');
    }
    changes.migrationStatus = m as MigrationStatus;
  }
  return changes;
}

// ---- decide ----
export const PEER_GROUP_NOT_FOUND = 'Subcloud Peer Group not found';
export const migrationInProgress = (name: string) => `Unable to migrate subcloud peer group ${name}: a migration of this group is in progress`;
export const PEER_GROUP_IN_USE = 'Cannot delete a peer group which is associated with a system peer.';

function requireActive(state: SubcloudPeerGroupState) {
  if (state.status !== 'active') throw new NotFoundError(PEER_GROUP_NOT_FOUND);
  return state;
}

function leaderEvent(s: PeerGroupLeader, leader: PeerGroupLeader, at: string): SubcloudPeerGroupEvent[] {
  if (s.systemLeaderId === leader.systemLeaderId && s.systemLeaderName === leader.systemLeaderName) return [];
  return [
    {
      type: 'PeerGroupLeaderChanged',
      data: { ...leader, previous: { systemLeaderId: s.systemLeaderId, systemLeaderName: s.systemLeaderName }, at },
    },
  ];
}

export function decide(command: SubcloudPeerGroupCommand, state: SubcloudPeerGroupState): SubcloudPeerGroupEvent[] {
  switch (command.type) {
    case 'AddSubcloudPeerGroup':
      if (state.status !== 'absent') throw new ValidationError('A subcloud peer group with this id already exists');
      return [{ type: 'SubcloudPeerGroupAdded', data: { id: command.id, ...command.fields, at: command.at } }];
    case 'UpdateSubcloudPeerGroup': {
      const s = requireActive(state);
      if (s.groupPriority > PRIMARY_PRIORITY && !command.fromAnotherDc) throw new ValidationError(NON_PRIMARY_UPDATE);
      const { systemLeaderId, systemLeaderName, migrationStatus, ...plain } = command.changes;
      const changed = changedFields<PeerGroupFields>(plain, s);
      const events: SubcloudPeerGroupEvent[] = [];
      if (Object.keys(changed).length > 0) events.push({ type: 'SubcloudPeerGroupUpdated', data: { ...changed, at: command.at } });
      if (systemLeaderId !== undefined || systemLeaderName !== undefined) {
        const leader = { systemLeaderId: systemLeaderId ?? s.systemLeaderId, systemLeaderName: systemLeaderName ?? s.systemLeaderName };
        events.push(...leaderEvent(s, leader, command.at));
      }
      if (migrationStatus !== undefined && migrationStatus !== s.migrationStatus) {
        events.push({ type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus, at: command.at } });
      }
      return events;
    }
    case 'ChangePeerGroupLeader':
      return leaderEvent(requireActive(state), command.leader, command.at);
    case 'SetPeerGroupMigrationStatus': {
      const s = requireActive(state);
      if (s.migrationStatus === command.migrationStatus) return [];
      return [{ type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: command.migrationStatus, at: command.at } }];
    }
    case 'StartPeerGroupMigration': {
      const s = requireActive(state);
      if (s.migrationId === command.migrationId) return [];
      // One batch at a time (dcmanager's batch_rehome_lock); a second request is refused instead of queued.
      if (s.migrationStatus === 'migrating') throw new ConflictError(migrationInProgress(s.peerGroupName));
      const { type: _type, ...data } = command;
      return [{ type: 'PeerGroupMigrationStarted', data }];
    }
    case 'CompletePeerGroupMigration': {
      const s = requireActive(state);
      if (s.migrationId !== command.migrationId || s.migrationStatus !== 'migrating') return [];
      return [
        ...leaderEvent(s, command.leader, command.at),
        { type: 'PeerGroupMigrationStatusChanged', data: { migrationStatus: 'complete', at: command.at } },
      ];
    }
    case 'DeleteSubcloudPeerGroup':
      requireActive(state);
      if (command.associationCount > 0) throw new ValidationError(PEER_GROUP_IN_USE);
      return [{ type: 'SubcloudPeerGroupDeleted', data: { at: command.at } }];
  }
}

// ---- evolve ----
export function evolve(state: SubcloudPeerGroupState, event: SubcloudPeerGroupEvent): SubcloudPeerGroupState {
  switch (event.type) {
    case 'SubcloudPeerGroupAdded': {
      const { at, ...fields } = event.data;
      return { status: 'active', ...fields, migrationStatus: null, createdAt: at, updatedAt: null };
    }
    case 'SubcloudPeerGroupUpdated': {
      if (state.status === 'absent') return state;
      const { at, ...changes } = event.data;
      return { ...state, ...changes, updatedAt: at };
    }
    case 'PeerGroupLeaderChanged':
      if (state.status === 'absent') return state;
      return { ...state, systemLeaderId: event.data.systemLeaderId, systemLeaderName: event.data.systemLeaderName, updatedAt: event.data.at };
    case 'PeerGroupMigrationStatusChanged':
      return state.status === 'absent' ? state : { ...state, migrationStatus: event.data.migrationStatus, updatedAt: event.data.at };
    case 'PeerGroupMigrationStarted':
      return state.status === 'absent' ? state : { ...state, migrationStatus: 'migrating', migrationId: event.data.migrationId, updatedAt: event.data.at };
    case 'SubcloudPeerGroupDeleted':
      return state.status === 'absent' ? state : { ...state, status: 'deleted', updatedAt: event.data.at };
  }
}

export const subcloudPeerGroupDecider: Decider<SubcloudPeerGroupState, SubcloudPeerGroupCommand, SubcloudPeerGroupEvent> = {
  decide,
  evolve,
  initialState,
};
