// /v1.0/alarms: dcmanager's alarm summary of every subcloud (spec §1.8), from the subclouds read model, which the
// availability audit keeps current (RecordAlarmSummary). Read only; no policy check beyond the API's token.
import { Router } from 'express';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import { presentAlarmSummary, presentFaultAlarm } from './presenters.js';
import type { FaultAlarmDoc } from '../../projections/distcloud/faultAlarms.js';

export interface AlarmRoutesDeps {
  readStore: ReadStore;
}

export function alarmsRouter(d: AlarmRoutesDeps): Router {
  const router = Router();
  // dcmanager lists the subcloud_alarms rows in creation order: by subcloud id here.
  router.get('/', async (_req, res) => {
    const docs = await d.readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, {}, { sort: { id: 1 } });
    // fleetledger adds the site's own active alarms (dcmanager leaves them to FM); the dcmanager CLI reads only
    // alarm_summary.
    const alarms = await d.readStore.find<FaultAlarmDoc>(COLLECTIONS.faultAlarms, {}, { sort: { alarmId: 1 } });
    res.json({ alarm_summary: docs.map(presentAlarmSummary), alarms: alarms.map((a) => presentFaultAlarm(a as Extract<FaultAlarmDoc, { status: 'active' }>)) });
  });
  return router;
}
