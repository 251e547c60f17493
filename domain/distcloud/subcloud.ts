// Subcloud: one edge cloud managed by this system controller (dcmanager `subclouds`). Stream: subcloud-<id>.
//
// Events, in three families:
// - the operator's: SubcloudAdded, SubcloudRenamed, SubcloudUpdated (description/location/group),
//   SubcloudManagementStateChanged, SubcloudDeployStatusChanged (migrate -> rehome-pending, manage -> complete),
//   SubcloudRehomeDataUpdated, SubcloudDeleted;
// - the deploy agent's: every deploy phase (create, install, bootstrap, config, deploy, rehome, restore, network
//   reconfiguration) is an operation with an id given by the workflow: SubcloudDeployPhaseStarted (deploy-status
//   becomes the phase's "pre" state), SubcloudDeployPhaseProgressed (the "running" state, or a progress note),
//   SubcloudDeployPhaseCompleted / SubcloudDeployPhaseFailed; SubcloudDeployInterrupted when a restarted process
//   finds a transitory state it cannot resume (TRANSITORY_STATES);
// - the audit's, recorded only when something changes: SubcloudAvailabilityChanged,
//   SubcloudEndpointSyncStatusChanged, SubcloudAlarmSummaryChanged.
//
// Secrets: the sysadmin and BMC passwords are never in an event; `hasSysadminPassword`/`hasBmcPassword` only say
// whether one was given (a later issue stores them encrypted). Ids, region and time come in the commands.
// Everything another aggregate knows (other subclouds' ranges, existing groups, the system controller's pool, the
// peer group) comes in the command as plain data, read by the command handler.
import type { Decider, DomainEvent } from '../core/decider.js';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../core/errors.js';
import type { SealedSecret } from '../core/sealed.js';
import { isGiven, validateSubcloudConfig, type SubcloudConfigContext, type SubcloudNetworkConfig } from './bootstrapValues.js';
import { validateInstallValues } from './installValues.js';
import { ONGOING_PRESTAGE, PRESTAGE_STATUS, type PrestageFacts, type PrestageStatus } from './prestage.js';
import { decidePrestage } from './subcloudPrestage.js';
import { peerGroupRules, type PeerGroupContext } from './subcloudPeerGroupRules.js';
import {
  SUBCLOUD_NAME_PATTERN,
  savedPayload,
  validateAddRequest,
  type AddSubcloudRequest,
  type RehomeData,
} from './subcloudValidation.js';

export const subcloudStream = (id: number) => `subcloud-${id}`;

// ---- enums (exact dcmanager strings) ----
export const MANAGEMENT_STATES = ['managed', 'unmanaged'] as const;
export type ManagementState = (typeof MANAGEMENT_STATES)[number];
export type AvailabilityStatus = 'online' | 'offline';
export const SYNC_STATUSES = ['unknown', 'in-sync', 'out-of-sync'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];
/** Endpoints a subcloud reports sync status for (R24.03 ENDPOINT_TYPES_LIST), all `unknown` at creation. */
export const ENDPOINT_TYPES = ['platform', 'patching', 'identity', 'load', 'dc-cert', 'firmware', 'kubernetes', 'kube-rootca', 'usm'] as const;
export const ERROR_DESC_EMPTY = 'No errors present';
/** Offline after this many consecutive failed audits (AVAIL_FAIL_COUNT_TO_ALARM). */
export const AVAIL_FAIL_COUNT_TO_ALARM = 2;

export const DEPLOY_STATUS = {
  none: 'not-deployed',
  preDeploy: 'pre-deploy',
  deployPrepFailed: 'deploy-prep-failed',
  creating: 'creating',
  createFailed: 'create-failed',
  created: 'create-complete',
  preInstall: 'pre-install',
  preInstallFailed: 'pre-install-failed',
  installing: 'installing',
  installFailed: 'install-failed',
  installed: 'install-complete',
  preBootstrap: 'pre-bootstrap',
  preBootstrapFailed: 'pre-bootstrap-failed',
  bootstrapping: 'bootstrapping',
  bootstrapFailed: 'bootstrap-failed',
  bootstrapAborted: 'bootstrap-aborted',
  bootstrapped: 'bootstrap-complete',
  preConfig: 'pre-config',
  preConfigFailed: 'pre-config-failed',
  configuring: 'configuring',
  configFailed: 'config-failed',
  deploying: 'deploying',
  deployFailed: 'deploy-failed',
  abortingInstall: 'aborting-install',
  installAborted: 'install-aborted',
  abortingBootstrap: 'aborting-bootstrap',
  abortingConfig: 'aborting-config',
  configAborted: 'config-aborted',
  migratingData: 'migrating-data',
  dataMigrationFailed: 'data-migration-failed',
  migrated: 'migrated',
  upgradeActivated: 'upgrade-activated',
  preRestore: 'pre-restore',
  restorePrepFailed: 'restore-prep-failed',
  restoring: 'restoring',
  restoreFailed: 'restore-failed',
  preRehome: 'pre-rehome',
  rehoming: 'rehoming',
  rehomeFailed: 'rehome-failed',
  rehomePrepFailed: 'rehome-prep-failed',
  rehomePending: 'rehome-pending',
  secondary: 'secondary',
  secondaryFailed: 'secondary-failed',
  done: 'complete',
  reconfiguringNetwork: 'reconfiguring-network',
  reconfiguringNetworkFailed: 'network-reconfiguration-failed',
} as const;
export type DeployStatus = (typeof DEPLOY_STATUS)[keyof typeof DEPLOY_STATUS];
const D = DEPLOY_STATUS;

/** What a transitory deploy-status becomes when a restarted process cannot resume it (R24.03 TRANSITORY_STATES,
 *  plus reconfiguring-network from the spec). */
export const TRANSITORY_STATES: Readonly<Partial<Record<DeployStatus, DeployStatus>>> = {
  [D.none]: D.createFailed,
  [D.creating]: D.createFailed,
  [D.preInstall]: D.preInstallFailed,
  [D.installing]: D.installFailed,
  [D.preBootstrap]: D.preBootstrapFailed,
  [D.bootstrapping]: D.bootstrapFailed,
  [D.preConfig]: D.preConfigFailed,
  [D.configuring]: D.configFailed,
  [D.abortingInstall]: D.installFailed,
  [D.abortingBootstrap]: D.bootstrapFailed,
  [D.abortingConfig]: D.configFailed,
  [D.migratingData]: D.dataMigrationFailed,
  [D.preRestore]: D.restorePrepFailed,
  [D.restoring]: D.restoreFailed,
  [D.preRehome]: D.rehomePrepFailed,
  [D.rehoming]: D.rehomeFailed,
  [D.preDeploy]: D.preConfigFailed,
  [D.deploying]: D.configFailed,
  [D.reconfiguringNetwork]: D.reconfiguringNetworkFailed,
};

/** "Secondary state" (utils.subcloud_is_secondary_state). */
export const isSecondaryState = (s: string) => s === D.secondary || s === D.secondaryFailed;

/** Each deploy phase: the status while preparing, while running, on success, on a failure while preparing, on a
 *  failure while running. */
export interface DeployPhaseStates {
  pre: DeployStatus;
  running: DeployStatus;
  complete: DeployStatus;
  prepFailed: DeployStatus;
  failed: DeployStatus;
}
export const DEPLOY_PHASES = {
  create: { pre: D.creating, running: D.creating, complete: D.created, prepFailed: D.createFailed, failed: D.createFailed },
  install: { pre: D.preInstall, running: D.installing, complete: D.installed, prepFailed: D.preInstallFailed, failed: D.installFailed },
  bootstrap: { pre: D.preBootstrap, running: D.bootstrapping, complete: D.bootstrapped, prepFailed: D.preBootstrapFailed, failed: D.bootstrapFailed },
  config: { pre: D.preConfig, running: D.configuring, complete: D.done, prepFailed: D.preConfigFailed, failed: D.configFailed },
  deploy: { pre: D.preDeploy, running: D.deploying, complete: D.done, prepFailed: D.deployPrepFailed, failed: D.deployFailed },
  rehome: { pre: D.preRehome, running: D.rehoming, complete: D.done, prepFailed: D.rehomePrepFailed, failed: D.rehomeFailed },
  restore: { pre: D.preRestore, running: D.restoring, complete: D.done, prepFailed: D.restorePrepFailed, failed: D.restoreFailed },
  networkReconfiguration: {
    pre: D.reconfiguringNetwork,
    running: D.reconfiguringNetwork,
    complete: D.done,
    prepFailed: D.reconfiguringNetworkFailed,
    failed: D.reconfiguringNetworkFailed,
  },
} as const satisfies Record<string, DeployPhaseStates>;
export type DeployPhase = keyof typeof DEPLOY_PHASES;

export interface AlarmSummary {
  criticalAlarms: number;
  majorAlarms: number;
  minorAlarms: number;
  warnings: number;
  /** `OK`, `degraded`, `critical` or `disabled`. */
  cloudStatus: string;
}

/** dcmanager's cloud_status from a subcloud's alarm counts: any critical alarm, else any major or minor one. */
export function cloudStatusOf(counts: Pick<AlarmSummary, 'criticalAlarms' | 'majorAlarms' | 'minorAlarms'>): 'critical' | 'degraded' | 'OK' {
  if (counts.criticalAlarms > 0) return 'critical';
  if (counts.majorAlarms > 0 || counts.minorAlarms > 0) return 'degraded';
  return 'OK';
}

// ---- state ----
export interface SubcloudFields {
  id: number;
  name: string;
  description: string | null;
  location: string | null;
  softwareVersion: string;
  managementState: ManagementState;
  availabilityStatus: AvailabilityStatus;
  deployStatus: string;
  backupStatus: string | null;
  backupDatetime: string | null;
  errorDescription: string;
  regionName: string;
  managementSubnet: string;
  managementStartIp: string;
  managementEndIp: string;
  managementGatewayIp: string;
  systemcontrollerGatewayIp: string;
  openstackInstalled: boolean;
  prestageStatus: string | null;
  prestageVersions: string | null;
  /** The single-subcloud prestage (PATCH /prestage) last requested; its start event holds the sealed password. */
  prestageRequestId?: string | null;
  /** The install values without the BMC password (dcmanager shows `data_install` as a JSON string). */
  dataInstall: Record<string, unknown> | null;
  groupId: number;
  peerGroupId: number | null;
  rehomeData: RehomeData | null;
  rehomed: boolean;
  /** From the bootstrap values; /detail shows it while the subcloud is online. */
  oamFloatingAddress: string;
  bootstrapAddress: string | null;
  hasSysadminPassword: boolean;
  hasBmcPassword: boolean;
  hasDeployConfig: boolean;
  endpointSyncStatus: Record<string, SyncStatus>;
  alarmSummary: AlarmSummary | null;
  /** The deploy operation last started, and how it stands. */
  operation: { id: string; phase: DeployPhase; status: 'running' | 'completed' | 'failed' } | null;
  createdAt: string;
  updatedAt: string | null;
}

export type SubcloudState = { status: 'absent' } | ({ status: 'active' | 'deleted' } & SubcloudFields);
export type ActiveSubcloud = { status: 'active' } & SubcloudFields;

export const initialState = (): SubcloudState => ({ status: 'absent' });

// ---- events ----
export interface SubcloudAddedData extends SubcloudNetworkConfig {
  id: number;
  name: string;
  description: string | null;
  location: string | null;
  softwareVersion: string;
  regionName: string;
  deployStatus: DeployStatus;
  bootstrapAddress: string | null;
  dataInstall: Record<string, unknown> | null;
  /** The bootstrap values and form fields, without any password (for the deploy workflow). */
  bootstrapValues: Record<string, unknown>;
  migrate: boolean;
  secondary: boolean;
  rehomeData: RehomeData | null;
  hasSysadminPassword: boolean;
  hasBmcPassword: boolean;
  hasDeployConfig: boolean;
  /** The passwords and the deploy config, sealed (absent from events written before they were kept). */
  secrets?: SubcloudSecrets;
  at: string;
}

/** What an add keeps sealed for the deploy phases: never in a read model, never in an API answer. */
export interface SubcloudSecrets {
  /** base64, as the request gave it (the bootstrap's login to the subcloud). */
  sysadminPassword?: SealedSecret;
  /** base64, as the request gave it (the install's login to the BMC). */
  bmcPassword?: SealedSecret;
  /** The deploy_config file as uploaded (it may hold credentials). */
  deployConfig?: SealedSecret;
}

export type SubcloudEvent =
  | DomainEvent<'SubcloudAdded', SubcloudAddedData>
  | DomainEvent<'SubcloudRenamed', { name: string; previousName: string; rehomeData: RehomeData | null; at: string }>
  | DomainEvent<'SubcloudUpdated', { description?: string; location?: string; groupId?: number; at: string }>
  | DomainEvent<'SubcloudManagementStateChanged', { managementState: ManagementState; force: boolean; at: string }>
  | DomainEvent<'SubcloudDeployStatusChanged', { deployStatus: DeployStatus; at: string }>
  | DomainEvent<'SubcloudRehomeDataUpdated', { rehomeData: RehomeData; at: string }>
  | DomainEvent<'SubcloudPeerGroupChanged', { peerGroupId: number | null; previous: number | null; at: string }>
  | DomainEvent<'SubcloudDeleted', { at: string }>
  | DomainEvent<'SubcloudDeployPhaseStarted', { operationId: string; phase: DeployPhase; deployStatus: DeployStatus; at: string }>
  | DomainEvent<'SubcloudDeployPhaseProgressed', { operationId: string; deployStatus: DeployStatus; detail: string | null; at: string }>
  | DomainEvent<
      'SubcloudDeployPhaseCompleted',
      { operationId: string; phase: DeployPhase; deployStatus: DeployStatus; softwareVersion?: string; at: string }
    >
  | DomainEvent<'SubcloudDeployPhaseFailed', { operationId: string; deployStatus: DeployStatus; errorDescription: string; at: string }>
  | DomainEvent<'SubcloudDeployInterrupted', { previousStatus: DeployStatus; deployStatus: DeployStatus; at: string }>
  | DomainEvent<'SubcloudAvailabilityChanged', { availabilityStatus: AvailabilityStatus; at: string }>
  | DomainEvent<'SubcloudEndpointSyncStatusChanged', { endpoints: Record<string, SyncStatus>; at: string }>
  | DomainEvent<'SubcloudAlarmSummaryChanged', { alarmSummary: AlarmSummary; at: string }>
  | DomainEvent<'SubcloudPrestageRequested', PrestageRequest & { at: string }>
  | DomainEvent<'SubcloudPrestageStatusChanged', { prestageStatus: PrestageStatus; prestageVersions: string | null; reason?: string; at: string }>;

/** PATCH /subclouds/{ref}/prestage, accepted: the workflow prestages `release` with these. */
export interface PrestageRequest {
  requestId: string;
  release: string;
  force: boolean;
  /** base64 as the request gave it (the subcloud's login). Never in a read model. */
  sysadminPassword: SealedSecret;
}

// ---- commands ----

/** The fields of PATCH /subclouds/{ref} the decider rules on, as parsed by the API (values not yet checked). */
export interface SubcloudChanges {
  managementState?: string;
  /** YAML-parsed `force` part: must be a boolean. */
  force?: unknown;
  description?: string;
  location?: string;
  /** The `group_id` reference resolved by the handler: the group's id, or null when no group has that id/name. */
  groupId?: number | null;
  name?: string;
  /** The `bootstrap_values` part, YAML-parsed. */
  bootstrapValues?: Record<string, unknown>;
  bootstrapAddress?: string;
  migrate?: string;
  /** `peer_group` as sent (id, name or `none`); ruled on by peerGroupRules. */
  peerGroup?: string;
}

export type SubcloudCommand =
  | {
      type: 'AddSubcloud';
      id: number;
      /** 32 hex characters generated by the handler, the caller's `region_name` (secondary), or read from the
       *  live subcloud (migrate). */
      region: string;
      softwareVersion: string;
      request: AddSubcloudRequest;
      context: SubcloudConfigContext;
      /** User-Agent dcmanager/1.0: a peer site's request (its secondary subclouds skip the install values check). */
      fromAnotherDc?: boolean;
      /** The request's secrets, sealed by the command handler (a decider holds no key). */
      secrets?: SubcloudSecrets;
      at: string;
    }
  | {
      type: 'UpdateSubcloud';
      changes: SubcloudChanges;
      /** User-Agent dcmanager/1.0: a peer site's request. */
      fromAnotherDc?: boolean;
      peerGroup?: PeerGroupContext;
      at: string;
    }
  | { type: 'DeleteSubcloud'; fromAnotherDc?: boolean; at: string }
  /** Its peer group was deleted: the subcloud belongs to none. */
  | { type: 'LeavePeerGroup'; at: string }
  /** The peer group audit mirrors the peer site (spec §3.1, §3.2, §3.4): unmanaged first when needed, then this deploy
   *  status; `secondary` also makes it offline (the peer site manages it now). */
  | { type: 'MirrorPeerDeployStatus'; deployStatus: PeerMirroredStatus; at: string }
  /** The peer group audit copies the peer site's corrected rehome data here (spec §3.2). */
  | { type: 'CopyPeerRehomeData'; rehomeData: RehomeData; at: string }
  | { type: 'StartDeployPhase'; operationId: string; phase: DeployPhase; at: string }
  /** `running`: the phase left its preparation; a `detail` alone is a progress note. */
  | { type: 'ReportDeployProgress'; operationId: string; running?: boolean; detail?: string; at: string }
  /** `deployComplete`: the last phase of a deployment without a config phase ends in `complete` (dcmanager's
   *  DEPLOY_PHASE_COMPLETE) instead of the phase's own `*-complete`. */
  | { type: 'CompleteDeployPhase'; operationId: string; softwareVersion?: string; deployComplete?: boolean; at: string }
  | { type: 'FailDeployPhase'; operationId: string; errorDescription: string; at: string }
  | { type: 'MarkInterruptedDeploy'; at: string }
  /** From the audit: this audit's reachability and the consecutive failures counted so far (this one included). */
  | { type: 'RecordAvailability'; reachable: boolean; consecutiveFailures: number; at: string }
  | { type: 'RecordEndpointSyncStatus'; endpoints: Record<string, SyncStatus>; at: string }
  | { type: 'RecordAlarmSummary'; alarmSummary: AlarmSummary; at: string }
  /** PATCH /prestage: `facts` is what the subcloud's pre-check reported; the handler knows whether a prestage
   *  strategy is in progress. */
  | ({ type: 'RequestPrestage'; facts: PrestageFacts; strategyInProgress: boolean; at: string } & PrestageRequest)
  /** A prestage (a strategy step's, or a single request's) moved on; `reason` says why it failed. */
  | { type: 'RecordPrestageStatus'; prestageStatus: PrestageStatus; prestageVersions?: string; reason?: string; at: string };

/** The deploy statuses the peer group audit sets from what the peer site reports. */
export type PeerMirroredStatus = typeof D.rehomePending | typeof D.secondary | typeof D.rehomeFailed;

// ---- messages (dcmanager's) ----
export const SUBCLOUD_NOT_FOUND = 'Subcloud not found';
export const subcloudExistsMessage = (name: string) => `Subcloud with name=${name} already exists`;
/** A manager-side refusal, as the API shows it (exceptions.BadRequest). */
const badRequest = (msg: string) => new UnprocessableError(`Bad subcloud request: ${msg}`);

// ---- decide ----

function requireActive(state: SubcloudState): ActiveSubcloud {
  if (state.status !== 'active') throw new NotFoundError(SUBCLOUD_NOT_FOUND);
  return state as ActiveSubcloud;
}

function decideAdd(command: Extract<SubcloudCommand, { type: 'AddSubcloud' }>, state: SubcloudState): SubcloudEvent[] {
  if (state.status !== 'absent') throw new ConflictError(subcloudExistsMessage(String(command.request.form.name ?? command.request.bootstrapValues?.name)));
  const payload = validateAddRequest(command.request);
  const config = validateSubcloudConfig(payload, command.context);
  const secondary = payload.secondary !== undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const bootstrapValues = savedPayload(payload, ['install_values']);
  const installValues = command.request.installValues;
  const { bmc_password: _bmc, ...given } = installValues ?? {};
  // Step 11: install values (not for a peer site's secondary subcloud, which it has already checked).
  const dataInstall =
    installValues && isGiven(installValues) && !(secondary && command.fromAnotherDc === true)
      ? validateInstallValues(installValues, payload.bmc_password, command.softwareVersion)
      : given;
  return [
    {
      type: 'SubcloudAdded',
      data: {
        id: command.id,
        name: String(payload.name),
        description: str(payload.description),
        location: str(payload.location),
        softwareVersion: command.softwareVersion,
        regionName: command.region,
        // A secondary subcloud is recorded at once (dcmanager's synchronous add_secondary_subcloud).
        deployStatus: secondary ? D.secondary : D.none,
        ...config,
        bootstrapAddress: str(payload['bootstrap-address']),
        dataInstall: installValues ? dataInstall : null,
        bootstrapValues,
        migrate: payload.migrate === 'true',
        secondary,
        rehomeData: secondary ? { saved_payload: savedPayload(payload, ['secondary']) } : null,
        hasSysadminPassword: typeof payload.sysadmin_password === 'string' && payload.sysadmin_password !== '',
        hasBmcPassword: typeof payload.bmc_password === 'string' || typeof installValues?.bmc_password === 'string',
        hasDeployConfig: command.request.hasDeployConfig,
        secrets: command.secrets ?? {},
        at: command.at,
      },
    },
  ];
}

/** The request's field names as dcmanager's form calls them (the peer-group rules tell bootstrap fields apart). */
const FORM_NAMES: Partial<Record<keyof SubcloudChanges, string>> = {
  bootstrapValues: 'bootstrap_values',
  bootstrapAddress: 'bootstrap_address',
  managementState: 'management-state',
  groupId: 'group_id',
  peerGroup: 'peer_group',
};

/** §1.1.2 items 1-4 for this subcloud and request (subcloudPeerGroupRules.ts). */
export function peerGroupOutcome(s: ActiveSubcloud, changes: SubcloudChanges, fromAnotherDc: boolean, context: PeerGroupContext = {}) {
  const given = (Object.keys(changes) as (keyof SubcloudChanges)[]).filter((k) => changes[k] !== undefined);
  return peerGroupRules({
    subcloud: {
      peerGroupId: s.peerGroupId,
      deployStatus: s.deployStatus,
      managementState: s.managementState,
      availabilityStatus: s.availabilityStatus,
      hasRehomeData: s.rehomeData !== null,
    },
    fields: given.filter((k) => k !== 'peerGroup').map((k) => FORM_NAMES[k] ?? k),
    ...(changes.peerGroup !== undefined ? { peerGroup: changes.peerGroup } : {}),
    hasBootstrapValues: changes.bootstrapValues !== undefined && Object.keys(changes.bootstrapValues).length > 0,
    hasBootstrapAddress: Boolean(changes.bootstrapAddress),
    fromAnotherDc,
    context,
  });
}


function decideUpdate(command: Extract<SubcloudCommand, { type: 'UpdateSubcloud' }>, state: SubcloudState): SubcloudEvent[] {
  const s = requireActive(state);
  const { changes, at } = command;
  const fromAnotherDc = command.fromAnotherDc ?? false;
  if (Object.values(changes).every((v) => v === undefined)) throw new ValidationError('Body required');

  const peerGroup = peerGroupOutcome(s, changes, fromAnotherDc, command.peerGroup);

  // Item 5: rename (R24.03 wording).
  const events: SubcloudEvent[] = [];
  let rehomeData = s.rehomeData;
  if (changes.name !== undefined) {
    const newName = changes.name;
    if (s.managementState !== 'unmanaged' || s.deployStatus !== D.done || ONGOING_PRESTAGE.includes(s.prestageStatus ?? '')) {
      throw new ValidationError(`Subcloud ${s.name} must be deployed, unmanaged and no ongoing prestage for the subcloud rename operation.`);
    }
    if (!SUBCLOUD_NAME_PATTERN.test(newName)) throw new ValidationError('new name must contain alphabetic characters', 'name');
    if (newName === s.name) {
      throw new ValidationError(
        `Provided subcloud name ${newName} is the same as the current subcloud ${s.name}. A different name is required to rename the subcloud`,
        'name',
      );
    }
    if (rehomeData) rehomeData = { ...rehomeData, saved_payload: { ...rehomeData.saved_payload, name: newName } };
    events.push({ type: 'SubcloudRenamed', data: { name: newName, previousName: s.name, rehomeData, at } });
  }

  // (Item 6, network reconfiguration, is not part of this aggregate yet.)

  // Item 8: migrate -> rehome-pending. When both checks fail, dcmanager reports the second.
  const managementState = changes.managementState;
  let deployStatus: DeployStatus | undefined;
  if (changes.migrate === 'true' && s.deployStatus !== D.rehomePending) {
    let message: string | undefined;
    if (s.deployStatus !== D.done && !fromAnotherDc) {
      message = `The deploy status can only be updated to '${D.rehomePending}' if the current deploy status is '${D.done}'`;
    }
    if (managementState !== 'unmanaged' && (managementState || s.managementState !== 'unmanaged')) {
      message = `Subcloud must be unmanaged for its deploy status to be updated to '${D.rehomePending}'`;
    }
    if (message) throw new ValidationError(message, 'migrate');
    deployStatus = D.rehomePending;
  }

  // Item 9: management-state.
  if (managementState && !(MANAGEMENT_STATES as readonly string[]).includes(managementState)) {
    throw new ValidationError('Invalid management-state', 'management-state');
  }
  if (managementState && s.peerGroupId !== null && !fromAnotherDc) {
    throw new ValidationError('Cannot update the management state of a subcloud that is associated with a peer group.', 'management-state');
  }

  // Item 10: force.
  const force = changes.force;
  if (force !== undefined && force !== null) {
    if (typeof force !== 'boolean') throw new ValidationError('Invalid force value', 'force');
    if (managementState !== 'managed') throw new ValidationError('Invalid option: force', 'force');
  }

  // Item 11: group.
  if (changes.groupId === null) throw new ValidationError('Invalid group', 'group_id');

  // Manager side (422): managing a rehome-pending subcloud makes it complete again.
  if (managementState === 'managed' && s.deployStatus === D.rehomePending && !deployStatus) deployStatus = D.done;
  if (managementState === 'unmanaged' && s.managementState === 'unmanaged') throw badRequest(`Subcloud ${s.name} already unmanaged`);
  if (managementState === 'managed') {
    if (s.managementState === 'managed') throw badRequest(`Subcloud ${s.name} already managed`);
    if (force !== true) {
      const rehomeToDone = s.deployStatus === D.rehomePending && deployStatus === D.done;
      if (s.deployStatus !== D.done && !rehomeToDone) {
        throw badRequest(`Unable to manage ${s.name}: its deploy_status must be either '${D.done}' or '${D.rehomePending}'`);
      }
      if (s.availabilityStatus !== 'online' && s.deployStatus !== D.rehomePending) {
        throw new UnprocessableError('Subcloud is not online.');
      }
    }
  }

  // Rehome data: new bootstrap values replace the saved payload (keeping its bootstrap-address), then the address.
  let rehomeChanged = false;
  if (changes.bootstrapValues && Object.keys(changes.bootstrapValues).length > 0) {
    const previousAddress = rehomeData?.saved_payload['bootstrap-address'];
    const saved = savedPayload(changes.bootstrapValues);
    if (previousAddress) saved['bootstrap-address'] = previousAddress;
    rehomeData = { saved_payload: saved };
    rehomeChanged = true;
  }
  if (changes.bootstrapAddress) {
    if (!rehomeData) throw badRequest('Cannot update bootstrap_address into rehome data, need to import bootstrap_values first');
    rehomeData = { saved_payload: { ...rehomeData.saved_payload, 'bootstrap-address': changes.bootstrapAddress } };
    rehomeChanged = true;
  }

  if (deployStatus) {
    let message: string | undefined;
    if (managementState !== 'unmanaged' && s.managementState !== 'unmanaged') {
      message = `Unable to update deploy_status of subcloud ${s.name} to ${deployStatus}: subcloud must also be unmanaged`;
    }
    if (managementState === 'managed' && deployStatus !== D.done) {
      message = `Unable to manage ${s.name} while also updating its deploy_status to ${deployStatus}: not allowed`;
    }
    if (message) throw badRequest(message);
  }

  // Events: only what changes.
  const fields: { description?: string; location?: string; groupId?: number } = {};
  if (changes.description !== undefined && changes.description !== s.description) fields.description = changes.description;
  if (changes.location !== undefined && changes.location !== s.location) fields.location = changes.location;
  if (typeof changes.groupId === 'number' && changes.groupId !== s.groupId) fields.groupId = changes.groupId;
  if (Object.keys(fields).length > 0) events.push({ type: 'SubcloudUpdated', data: { ...fields, at } });
  if (managementState === 'managed' || managementState === 'unmanaged') {
    events.push({ type: 'SubcloudManagementStateChanged', data: { managementState, force: force === true, at } });
  }
  if (deployStatus && deployStatus !== s.deployStatus) events.push({ type: 'SubcloudDeployStatusChanged', data: { deployStatus, at } });
  if (rehomeChanged && rehomeData) events.push({ type: 'SubcloudRehomeDataUpdated', data: { rehomeData, at } });
  if (peerGroup.peerGroupId !== undefined && peerGroup.peerGroupId !== s.peerGroupId) {
    events.push({ type: 'SubcloudPeerGroupChanged', data: { peerGroupId: peerGroup.peerGroupId, previous: s.peerGroupId, at } });
  }
  return events;
}

function decideDelete(command: Extract<SubcloudCommand, { type: 'DeleteSubcloud' }>, state: SubcloudState): SubcloudEvent[] {
  const s = requireActive(state);
  if (!command.fromAnotherDc) {
    if (s.managementState === 'managed') throw new ValidationError('Cannot delete a subcloud that is "managed" status');
    if (s.peerGroupId !== null) throw new ValidationError('Cannot delete a subcloud that is part of a peer group on this site');
  }
  return [{ type: 'SubcloudDeleted', data: { at: command.at } }];
}

const isTransitory = (status: string) => status in TRANSITORY_STATES && status !== D.none;

/** The operation a report is about: the one in the state, or a refusal. A report on a finished operation with the
 *  same id is a repeat (a retried workflow step) and changes nothing. */
function currentOperation(s: ActiveSubcloud, operationId: string) {
  const op = s.operation;
  if (!op || op.id !== operationId) {
    throw new ConflictError(`Deploy operation ${operationId} is not in progress on subcloud ${s.name}`);
  }
  return op;
}

function decideDeploy(command: SubcloudCommand, s: ActiveSubcloud): SubcloudEvent[] {
  const at = command.at;
  switch (command.type) {
    case 'StartDeployPhase': {
      if (s.operation?.id === command.operationId) return [];
      if (s.operation?.status === 'running' || isTransitory(s.deployStatus)) {
        throw new ConflictError(
          `Subcloud ${s.name} current deploy_status is '${s.deployStatus}'. Please wait until it finishes before running this operation.`,
        );
      }
      const deployStatus = DEPLOY_PHASES[command.phase].pre;
      return [{ type: 'SubcloudDeployPhaseStarted', data: { operationId: command.operationId, phase: command.phase, deployStatus, at } }];
    }
    case 'ReportDeployProgress': {
      const op = currentOperation(s, command.operationId);
      if (op.status !== 'running') return [];
      const deployStatus = command.running ? DEPLOY_PHASES[op.phase].running : (s.deployStatus as DeployStatus);
      if (deployStatus === s.deployStatus && command.detail === undefined) return [];
      return [
        { type: 'SubcloudDeployPhaseProgressed', data: { operationId: op.id, deployStatus, detail: command.detail ?? null, at } },
      ];
    }
    case 'CompleteDeployPhase': {
      const op = currentOperation(s, command.operationId);
      if (op.status !== 'running') return [];
      const data = {
        operationId: op.id,
        phase: op.phase,
        deployStatus: command.deployComplete ? D.done : DEPLOY_PHASES[op.phase].complete,
        ...(command.softwareVersion !== undefined ? { softwareVersion: command.softwareVersion } : {}),
        at,
      };
      return [{ type: 'SubcloudDeployPhaseCompleted', data }];
    }
    case 'FailDeployPhase': {
      const op = currentOperation(s, command.operationId);
      if (op.status !== 'running') return [];
      const phase: DeployPhaseStates = DEPLOY_PHASES[op.phase];
      const deployStatus = s.deployStatus === phase.pre && phase.pre !== phase.running ? phase.prepFailed : phase.failed;
      return [
        { type: 'SubcloudDeployPhaseFailed', data: { operationId: op.id, deployStatus, errorDescription: command.errorDescription, at } },
      ];
    }
    case 'MarkInterruptedDeploy': {
      const failed = TRANSITORY_STATES[s.deployStatus as DeployStatus];
      if (!failed) return [];
      return [{ type: 'SubcloudDeployInterrupted', data: { previousStatus: s.deployStatus as DeployStatus, deployStatus: failed, at } }];
    }
    default:
      return [];
  }
}

function decideAudit(command: SubcloudCommand, s: ActiveSubcloud): SubcloudEvent[] {
  const at = command.at;
  switch (command.type) {
    case 'RecordAvailability': {
      // Online at the first success; offline only after AVAIL_FAIL_COUNT_TO_ALARM failures in a row.
      const next: AvailabilityStatus | undefined = command.reachable
        ? 'online'
        : command.consecutiveFailures >= AVAIL_FAIL_COUNT_TO_ALARM
          ? 'offline'
          : undefined;
      if (!next || next === s.availabilityStatus) return [];
      return [{ type: 'SubcloudAvailabilityChanged', data: { availabilityStatus: next, at } }];
    }
    case 'RecordEndpointSyncStatus': {
      const changed = Object.fromEntries(Object.entries(command.endpoints).filter(([k, v]) => s.endpointSyncStatus[k] !== v));
      if (Object.keys(changed).length === 0) return [];
      return [{ type: 'SubcloudEndpointSyncStatusChanged', data: { endpoints: changed, at } }];
    }
    case 'RecordAlarmSummary': {
      const a = command.alarmSummary;
      const b = s.alarmSummary;
      if (
        b &&
        a.criticalAlarms === b.criticalAlarms &&
        a.majorAlarms === b.majorAlarms &&
        a.minorAlarms === b.minorAlarms &&
        a.warnings === b.warnings &&
        a.cloudStatus === b.cloudStatus
      ) {
        return [];
      }
      return [{ type: 'SubcloudAlarmSummaryChanged', data: { alarmSummary: { ...a }, at } }];
    }
    default:
      return [];
  }
}

/** Unmanage if needed, then the status; a secondary subcloud is not this site's to reach, so it is offline. */
function decideMirror(command: Extract<SubcloudCommand, { type: 'MirrorPeerDeployStatus' }>, s: ActiveSubcloud): SubcloudEvent[] {
  const at = command.at;
  const events: SubcloudEvent[] = [];
  if (s.managementState === 'managed') events.push({ type: 'SubcloudManagementStateChanged', data: { managementState: 'unmanaged', force: false, at } });
  if (s.deployStatus !== command.deployStatus) events.push({ type: 'SubcloudDeployStatusChanged', data: { deployStatus: command.deployStatus, at } });
  if (command.deployStatus === D.secondary && s.availabilityStatus === 'online') {
    events.push({ type: 'SubcloudAvailabilityChanged', data: { availabilityStatus: 'offline', at } });
  }
  return events;
}

/**
 * The peer's rehome data, keeping this site's systemcontroller_gateway_address: that address is how the subcloud
 * reaches *this* system controller, so a copy from the peer must not replace it (dcmanager HEAD, 902a4891).
 */
export function peerRehomeData(remote: RehomeData, local: RehomeData | null): RehomeData {
  const gateway = local?.saved_payload.systemcontroller_gateway_address;
  return { ...remote, saved_payload: { ...remote.saved_payload, ...(gateway !== undefined ? { systemcontroller_gateway_address: gateway } : {}) } };
}

export function decide(command: SubcloudCommand, state: SubcloudState): SubcloudEvent[] {
  switch (command.type) {
    case 'AddSubcloud':
      return decideAdd(command, state);
    case 'UpdateSubcloud':
      return decideUpdate(command, state);
    case 'DeleteSubcloud':
      return decideDelete(command, state);
    case 'LeavePeerGroup': {
      const s = requireActive(state);
      if (s.peerGroupId === null) return [];
      return [{ type: 'SubcloudPeerGroupChanged', data: { peerGroupId: null, previous: s.peerGroupId, at: command.at } }];
    }
    case 'MirrorPeerDeployStatus':
      return decideMirror(command, requireActive(state));
    case 'CopyPeerRehomeData': {
      const s = requireActive(state);
      const rehomeData = peerRehomeData(command.rehomeData, s.rehomeData);
      if (JSON.stringify(rehomeData) === JSON.stringify(s.rehomeData)) return [];
      return [{ type: 'SubcloudRehomeDataUpdated', data: { rehomeData, at: command.at } }];
    }
    case 'StartDeployPhase':
    case 'ReportDeployProgress':
    case 'CompleteDeployPhase':
    case 'FailDeployPhase':
    case 'MarkInterruptedDeploy':
      return decideDeploy(command, requireActive(state));
    case 'RecordAvailability':
    case 'RecordEndpointSyncStatus':
    case 'RecordAlarmSummary':
      return decideAudit(command, requireActive(state));
    case 'RequestPrestage':
    case 'RecordPrestageStatus':
      return decidePrestage(command, requireActive(state));
  }
}

// ---- evolve ----
export function evolve(state: SubcloudState, event: SubcloudEvent): SubcloudState {
  if (event.type === 'SubcloudAdded') {
    const d = event.data;
    return {
      status: 'active',
      id: d.id,
      name: d.name,
      description: d.description,
      location: d.location,
      softwareVersion: d.softwareVersion,
      managementState: 'unmanaged',
      availabilityStatus: 'offline',
      deployStatus: d.deployStatus,
      backupStatus: null,
      backupDatetime: null,
      errorDescription: ERROR_DESC_EMPTY,
      regionName: d.regionName,
      managementSubnet: d.managementSubnet,
      managementStartIp: d.managementStartIp,
      managementEndIp: d.managementEndIp,
      managementGatewayIp: d.managementGatewayIp,
      systemcontrollerGatewayIp: d.systemcontrollerGatewayIp,
      openstackInstalled: false,
      prestageStatus: null,
      prestageVersions: null,
      dataInstall: d.dataInstall,
      groupId: d.groupId,
      peerGroupId: null,
      rehomeData: d.rehomeData,
      rehomed: false,
      oamFloatingAddress: d.oamFloatingAddress,
      bootstrapAddress: d.bootstrapAddress,
      hasSysadminPassword: d.hasSysadminPassword,
      hasBmcPassword: d.hasBmcPassword,
      hasDeployConfig: d.hasDeployConfig,
      endpointSyncStatus: Object.fromEntries(ENDPOINT_TYPES.map((e) => [e, 'unknown' as const])),
      alarmSummary: null,
      operation: null,
      createdAt: d.at,
      updatedAt: null,
    };
  }
  if (state.status === 'absent') return state;
  const updatedAt = event.data.at;
  switch (event.type) {
    case 'SubcloudRenamed':
      return { ...state, name: event.data.name, rehomeData: event.data.rehomeData, updatedAt };
    case 'SubcloudUpdated':
      return {
        ...state,
        description: event.data.description ?? state.description,
        location: event.data.location ?? state.location,
        groupId: event.data.groupId ?? state.groupId,
        updatedAt,
      };
    case 'SubcloudManagementStateChanged':
      return { ...state, managementState: event.data.managementState, updatedAt };
    case 'SubcloudDeployStatusChanged':
      return { ...state, deployStatus: event.data.deployStatus, updatedAt };
    case 'SubcloudPeerGroupChanged':
      return { ...state, peerGroupId: event.data.peerGroupId, updatedAt };
    // The rehome data's bootstrap-address is where the next rehome goes; the subcloud is still reached (audited) where
    // it was deployed or last rehomed, until a rehome through the new address completes (below). A wrong address in
    // the rehome data therefore fails a migration, not the audit of a subcloud that is running fine.
    case 'SubcloudRehomeDataUpdated':
      return { ...state, rehomeData: event.data.rehomeData, updatedAt };
    case 'SubcloudDeleted':
      return { ...state, status: 'deleted', updatedAt };
    case 'SubcloudDeployPhaseStarted':
      return {
        ...state,
        deployStatus: event.data.deployStatus,
        errorDescription: ERROR_DESC_EMPTY,
        operation: { id: event.data.operationId, phase: event.data.phase, status: 'running' },
        updatedAt,
      };
    case 'SubcloudDeployPhaseProgressed':
      return { ...state, deployStatus: event.data.deployStatus, updatedAt };
    case 'SubcloudDeployPhaseCompleted':
      return {
        ...state,
        deployStatus: event.data.deployStatus,
        softwareVersion: event.data.softwareVersion ?? state.softwareVersion,
        rehomed: state.rehomed || event.data.phase === 'rehome',
        bootstrapAddress:
          event.data.phase === 'rehome' ? ((state.rehomeData?.saved_payload['bootstrap-address'] as string | undefined) ?? state.bootstrapAddress) : state.bootstrapAddress,
        operation: state.operation && { ...state.operation, status: 'completed' },
        updatedAt,
      };
    case 'SubcloudDeployPhaseFailed':
      return {
        ...state,
        deployStatus: event.data.deployStatus,
        errorDescription: event.data.errorDescription,
        operation: state.operation && { ...state.operation, status: 'failed' },
        updatedAt,
      };
    case 'SubcloudDeployInterrupted':
      return {
        ...state,
        deployStatus: event.data.deployStatus,
        operation: state.operation && state.operation.status === 'running' ? { ...state.operation, status: 'failed' } : state.operation,
        updatedAt,
      };
    case 'SubcloudAvailabilityChanged': {
      // Going offline makes every endpoint's sync status unknown (dcmanager's state manager does the same).
      const offline = event.data.availabilityStatus === 'offline';
      return {
        ...state,
        availabilityStatus: event.data.availabilityStatus,
        endpointSyncStatus: offline
          ? Object.fromEntries(Object.keys(state.endpointSyncStatus).map((k) => [k, 'unknown' as const]))
          : state.endpointSyncStatus,
        updatedAt,
      };
    }
    case 'SubcloudEndpointSyncStatusChanged':
      return { ...state, endpointSyncStatus: { ...state.endpointSyncStatus, ...event.data.endpoints }, updatedAt };
    case 'SubcloudAlarmSummaryChanged':
      return { ...state, alarmSummary: event.data.alarmSummary, updatedAt };
    case 'SubcloudPrestageRequested':
      return { ...state, prestageStatus: PRESTAGE_STATUS.prepare, prestageRequestId: event.data.requestId, updatedAt };
    case 'SubcloudPrestageStatusChanged':
      return { ...state, prestageStatus: event.data.prestageStatus, prestageVersions: event.data.prestageVersions, updatedAt };
  }
}

export const subcloudDecider: Decider<SubcloudState, SubcloudCommand, SubcloudEvent> = { decide, evolve, initialState };
