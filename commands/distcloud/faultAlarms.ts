// Raising and clearing the site's own fault alarms (domain/distcloud/faultAlarm.ts).
import type { AlarmFields } from '../../domain/distcloud/faultAlarm.js';
import { alarmStream, faultAlarmDecider } from '../../domain/distcloud/faultAlarm.js';
import type { CommandContext } from '../core/context.js';
import type { Handle } from '../core/handler.js';

export function faultAlarmCommands(handle: Handle) {
  const run = (alarmId: string, entityInstanceId: string, command: Parameters<typeof faultAlarmDecider.decide>[0], context: CommandContext) =>
    handle({ streamId: alarmStream(alarmId, entityInstanceId), decider: faultAlarmDecider, command, context });
  return {
    raise: (alarm: AlarmFields, ctx: CommandContext) => run(alarm.alarmId, alarm.entityInstanceId, { type: 'RaiseAlarm', ...alarm, at: ctx.now.toISOString() }, ctx),
    clear: (alarmId: string, entityInstanceId: string, ctx: CommandContext) =>
      run(alarmId, entityInstanceId, { type: 'ClearAlarm', alarmId, entityInstanceId, at: ctx.now.toISOString() }, ctx),
  };
}

export type FaultAlarmCommands = ReturnType<typeof faultAlarmCommands>;
