// A fault alarm this site raises about itself (StarlingX FM's alarm: id, entity instance, severity, reason text),
// such as 280.004 "peer heartbeat failed" or 280.005 "peer group managed by a remote system". Stream:
// alarm-<alarm id>:<entity instance id>. Raised again with another severity or text, it is updated; cleared, it is gone.
import type { Decider, DomainEvent } from '../core/decider.js';

export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning';

export const ALARM_IDS = {
  /** FM_ALARM_ID_DC_SYSTEM_PEER_HEARTBEAT_FAILED */
  peerHeartbeatFailed: '280.004',
  /** FM_ALARM_ID_DC_SUBCLOUD_PEER_GROUP_NOT_MANAGED */
  peerGroupNotManaged: '280.005',
} as const;

export const alarmStream = (alarmId: string, entityInstanceId: string) => `alarm-${alarmId}:${entityInstanceId}`;

export interface AlarmFields {
  alarmId: string;
  entityInstanceId: string;
  severity: AlarmSeverity;
  reasonText: string;
}

export type FaultAlarmEvent =
  | DomainEvent<'AlarmRaised', AlarmFields & { at: string }>
  | DomainEvent<'AlarmCleared', { alarmId: string; entityInstanceId: string; at: string }>;

export type FaultAlarmCommand = ({ type: 'RaiseAlarm' } & AlarmFields & { at: string }) | { type: 'ClearAlarm'; alarmId: string; entityInstanceId: string; at: string };

export type FaultAlarmState = { status: 'absent' | 'cleared' } | ({ status: 'active'; raisedAt: string; updatedAt: string } & AlarmFields);

export const initialState = (): FaultAlarmState => ({ status: 'absent' });

export function decide(command: FaultAlarmCommand, state: FaultAlarmState): FaultAlarmEvent[] {
  if (command.type === 'ClearAlarm') {
    return state.status === 'active' ? [{ type: 'AlarmCleared', data: { alarmId: command.alarmId, entityInstanceId: command.entityInstanceId, at: command.at } }] : [];
  }
  const { type: _type, ...fields } = command;
  // Raising what is already raised, as it is, records nothing.
  if (state.status === 'active' && state.severity === command.severity && state.reasonText === command.reasonText) return [];
  return [{ type: 'AlarmRaised', data: fields }];
}

export function evolve(state: FaultAlarmState, event: FaultAlarmEvent): FaultAlarmState {
  switch (event.type) {
    case 'AlarmRaised': {
      const { at, ...fields } = event.data;
      return { status: 'active', ...fields, raisedAt: state.status === 'active' ? state.raisedAt : at, updatedAt: at };
    }
    case 'AlarmCleared':
      return { status: 'cleared' };
  }
}

export const faultAlarmDecider: Decider<FaultAlarmState, FaultAlarmCommand, FaultAlarmEvent> = { decide, evolve, initialState };

// ---- the texts of the geo-redundancy alarms (FM's events.yaml) ----
export const peerHeartbeatAlarm = (peer: { peerName: string; peerUuid: string }, impactedGroups: string[]): Omit<AlarmFields, 'alarmId'> =>
  impactedGroups.length > 0
    ? {
        entityInstanceId: `peer=${peer.peerUuid}`,
        severity: 'critical',
        reasonText: `Peer ${peer.peerName} (peer_uuid=${peer.peerUuid}) is in disconnected state. The following subcloud peer groups are impacted: ${impactedGroups.join(', ')}.`,
      }
    : {
        entityInstanceId: `peer=${peer.peerUuid}`,
        severity: 'major',
        reasonText: `Peer ${peer.peerName} (peer_uuid=${peer.peerUuid}) connections in disconnected state.`,
      };

/** 280.005: this site's group is led by a peer whose copy has a lower priority (a higher number) than ours. */
export const peerGroupNotManagedAlarm = (peerGroupName: string, peerUuid: string): Omit<AlarmFields, 'alarmId'> => ({
  entityInstanceId: peerGroupNotManagedEntity(peerGroupName, peerUuid),
  severity: 'major',
  reasonText: `Subcloud peer group (peer_group_name=${peerGroupName}) is managed by remote system (peer_uuid=${peerUuid}) with a lower priority.`,
});
export const peerGroupNotManagedEntity = (peerGroupName: string, peerUuid: string) => `peer_group=${peerGroupName},peer=${peerUuid}`;
