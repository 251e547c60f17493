// Renders state and read-model documents exactly as dcmanager v1.0 does (keys, order, value formats).
import { createHash } from 'node:crypto';
import type { SubcloudFields } from '../../domain/distcloud/subcloud.js';
import { DEFAULT_GROUP, type GroupFields } from '../../domain/distcloud/subcloudGroup.js';
import type { AlarmFields } from '../../domain/distcloud/faultAlarm.js';
import type { AssociationFields } from '../../domain/distcloud/peerGroupAssociation.js';
import type { PeerGroupFields } from '../../domain/distcloud/subcloudPeerGroup.js';
import type { SystemPeerFields } from '../../domain/distcloud/systemPeer.js';
import type { StrategySettings } from '../../domain/distcloud/swUpdateStrategy.js';
import type { StrategyStepDoc } from '../../projections/distcloud/strategySteps.js';

/** Python's str(datetime) of a naive UTC time: "2024-03-01 12:34:56.123456", no fraction when it is zero. */
export function pythonDatetime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const base = d.toISOString().slice(0, 19).replace('T', ' ');
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? base : `${base}.${String(ms * 1000).padStart(6, '0')}`;
}

export interface GroupView extends GroupFields {
  id: number;
  createdAt: string | null;
  updatedAt: string | null;
}

export function presentSubcloudGroup(g: GroupView) {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    update_apply_type: g.updateApplyType,
    max_parallel_subclouds: g.maxParallelSubclouds,
    // dcmanager inserts its Default row outside the ORM, so that row has no creation time.
    'created-at': g.id === DEFAULT_GROUP.id ? null : pythonDatetime(g.createdAt),
    'updated-at': pythonDatetime(g.updatedAt),
  };
}

/** dcmanager's subcloud_db_model_to_dict (R24.03): these keys, in this order, mixed hyphens and underscores. */
export function presentSubcloudDbDict(s: SubcloudFields): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    location: s.location,
    'software-version': s.softwareVersion,
    'management-state': s.managementState,
    'availability-status': s.availabilityStatus,
    'deploy-status': s.deployStatus,
    'backup-status': s.backupStatus,
    'backup-datetime': pythonDatetime(s.backupDatetime),
    'error-description': s.errorDescription,
    'region-name': s.regionName,
    'management-subnet': s.managementSubnet,
    'management-start-ip': s.managementStartIp,
    'management-end-ip': s.managementEndIp,
    'management-gateway-ip': s.managementGatewayIp,
    'openstack-installed': s.openstackInstalled,
    'prestage-status': s.prestageStatus,
    'prestage-versions': s.prestageVersions,
    'systemcontroller-gateway-ip': s.systemcontrollerGatewayIp,
    // Text columns holding JSON in dcmanager's database, rendered as such.
    data_install: s.dataInstall === null ? null : JSON.stringify(s.dataInstall),
    data_upgrade: null,
    'created-at': pythonDatetime(s.createdAt),
    'updated-at': pythonDatetime(s.updatedAt),
    group_id: s.groupId,
    peer_group_id: s.peerGroupId,
    rehome_data: s.rehomeData === null ? null : JSON.stringify(s.rehomeData),
  };
}

const endpointList = (s: SubcloudFields) =>
  Object.entries(s.endpointSyncStatus).map(([endpoint_type, sync_status]) => ({ endpoint_type, sync_status }));

/** dcmanager's aggregate: the first endpoint's status, or out-of-sync as soon as one differs from it. */
export function aggregateSyncStatus(s: SubcloudFields): string {
  const statuses = Object.values(s.endpointSyncStatus);
  if (statuses.length === 0) return 'unknown';
  return statuses.every((x) => x === statuses[0]) ? statuses[0]! : 'out-of-sync';
}

/** GET /subclouds/{ref}: the dict and the endpoint statuses. */
export const presentSubcloud = (s: SubcloudFields) => ({ ...presentSubcloudDbDict(s), endpoint_sync_status: endpointList(s) });

/** One entry of GET /subclouds: adds the aggregate sync status. */
export const presentSubcloudListEntry = (s: SubcloudFields) => ({ ...presentSubcloud(s), sync_status: aggregateSyncStatus(s) });

/** GET /subclouds/{ref}/detail: what dcmanager asks the subcloud for, shown only while it is online. */
export function presentSubcloudDetail(s: SubcloudFields) {
  const online = s.availabilityStatus === 'online';
  return {
    ...presentSubcloud(s),
    oam_floating_ip: online && s.oamFloatingAddress ? s.oamFloatingAddress : 'unavailable',
    deploy_config_sync_status: 'unknown',
    region_name: s.regionName,
  };
}

/** A stable uuid for a subcloud's alarm summary row (dcmanager's `subcloud_alarms.uuid`), from its region. */
const alarmSummaryUuid = (s: SubcloudFields) => {
  const h = createHash('sha256').update(`subcloud_alarms\u0000${s.regionName}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** One entry of GET /alarms (dcmanager's SubcloudAlarmController, R24.03): `region_name` is the subcloud's name (the
 *  `subcloud_alarms.name` column); a subcloud not yet audited shows the row dcmanager creates with the subcloud:
 *  -1 counts and `disabled`. */
export function presentAlarmSummary(s: SubcloudFields) {
  const a = s.alarmSummary;
  return {
    region_name: s.name,
    uuid: alarmSummaryUuid(s),
    critical_alarms: a ? a.criticalAlarms : -1,
    major_alarms: a ? a.majorAlarms : -1,
    minor_alarms: a ? a.minorAlarms : -1,
    warnings: a ? a.warnings : -1,
    cloud_status: a ? a.cloudStatus : 'disabled',
  };
}

/** dcmanager's system_peer_db_model_to_dict: hyphenated keys; the manager password is never among them. */
export function presentSystemPeer(p: SystemPeerFields & { id: number; availabilityState: string; createdAt: string | null; updatedAt: string | null }) {
  return {
    id: p.id,
    'peer-uuid': p.peerUuid,
    'peer-name': p.peerName,
    'manager-endpoint': p.managerEndpoint,
    'manager-username': p.managerUsername,
    'peer-controller-gateway-address': p.peerControllerGatewayAddress,
    'administrative-state': p.administrativeState,
    'heartbeat-interval': p.heartbeatInterval,
    'heartbeat-failure-threshold': p.heartbeatFailureThreshold,
    'heartbeat-failure-policy': p.heartbeatFailurePolicy,
    'heartbeat-maintenance-timeout': p.heartbeatMaintenanceTimeout,
    'availability-state': p.availabilityState,
    'created-at': pythonDatetime(p.createdAt),
    'updated-at': pythonDatetime(p.updatedAt),
  };
}

/** dcmanager's subcloud_peer_group_db_model_to_dict: underscores, unlike the hyphenated request keys. */
export function presentSubcloudPeerGroup(g: PeerGroupFields & { id: number; migrationStatus: string | null; createdAt: string | null; updatedAt: string | null }) {
  return {
    id: g.id,
    peer_group_name: g.peerGroupName,
    group_priority: g.groupPriority,
    group_state: g.groupState,
    max_subcloud_rehoming: g.maxSubcloudRehoming,
    system_leader_id: g.systemLeaderId,
    system_leader_name: g.systemLeaderName,
    migration_status: g.migrationStatus,
    'created-at': pythonDatetime(g.createdAt),
    'updated-at': pythonDatetime(g.updatedAt),
  };
}

/** dcmanager's peer_group_association_db_model_to_dict; its list leaves `sync-message` out. */
export function presentPeerGroupAssociation(
  a: AssociationFields & { id: number; syncStatus: string; syncMessage: string; createdAt: string | null; updatedAt: string | null },
  withMessage = true,
) {
  return {
    id: a.id,
    'peer-group-id': a.peerGroupId,
    'system-peer-id': a.systemPeerId,
    'peer-group-priority': a.peerGroupPriority,
    'association-type': a.associationType,
    'sync-status': a.syncStatus,
    ...(withMessage ? { 'sync-message': a.syncMessage } : {}),
    'created-at': pythonDatetime(a.createdAt),
    'updated-at': pythonDatetime(a.updatedAt),
  };
}

/** A site alarm in FM's terms (alarm_id, entity_instance_id, severity, reason_text, timestamp). */
export function presentFaultAlarm(a: AlarmFields & { raisedAt: string }) {
  return {
    alarm_id: a.alarmId,
    entity_instance_id: a.entityInstanceId,
    severity: a.severity,
    reason_text: a.reasonText,
    timestamp: pythonDatetime(a.raisedAt),
  };
}

/** dcmanager's sw_update_strategy_db_model_to_dict; `extra-args` never carries the password. */
export function presentStrategy(s: StrategyView) {
  return {
    id: s.id,
    type: s.type,
    'subcloud-apply-type': s.subcloudApplyType,
    'max-parallel-subclouds': s.maxParallelSubclouds,
    'stop-on-failure': s.stopOnFailure,
    state: s.state,
    'created-at': pythonDatetime(s.createdAt),
    'updated-at': pythonDatetime(s.updatedAt),
    'extra-args': s.extraArgs,
  };
}

export interface StrategyView extends StrategySettings {
  id: number;
  state: string;
  createdAt: string;
  updatedAt: string | null;
}

/** dcmanager's strategy_step_db_model_to_dict (R24.03: the stage as an integer). */
export function presentStrategyStep(s: StrategyStepDoc) {
  return {
    id: s.subcloudId,
    cloud: s.cloud,
    stage: s.stage,
    state: s.state,
    details: s.details,
    'started-at': pythonDatetime(s.startedAt),
    'finished-at': pythonDatetime(s.finishedAt),
    'created-at': pythonDatetime(s.createdAt),
    'updated-at': pythonDatetime(s.updatedAt),
  };
}
