// Read model of the site's active fault alarms: one document per raised alarm, gone once cleared.
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { evolve, initialState, type FaultAlarmEvent, type FaultAlarmState } from '../../domain/distcloud/faultAlarm.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type FaultAlarmDoc = StateDoc<FaultAlarmState>;

export const faultAlarmsProjection = aggregateStateProjection<FaultAlarmState, FaultAlarmEvent>({
  name: 'distcloud.faultAlarms.v1',
  collection: COLLECTIONS.faultAlarms,
  indexes: [{ keys: { alarmId: 1 } }],
  streamPrefix: 'alarm-',
  initialState,
  evolve,
});
