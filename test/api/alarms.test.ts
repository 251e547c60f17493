// GET /v1.0/alarms: dcmanager's alarm summary, rendered from the subclouds read model. The router is mounted on the
// API's own app (auth, errors) over a memory read store filled by the subclouds projection from real events.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { sqliteEventStore } from '../../adapters/eventstore/sqlite.js';
import type { EventStore } from '../../adapters/eventstore/port.js';
import { memoryReadStore } from '../../adapters/readstore/memory.js';
import { alarmsRouter } from '../../api/distcloud/alarms.js';
import { createApp } from '../../api/http/app.js';
import { upcasterRegistry } from '../../domain/core/upcasting.js';
import { subcloudStream, type SubcloudEvent } from '../../domain/distcloud/subcloud.js';
import { projectionRunner } from '../../projections/core/runner.js';
import { subcloudsProjection } from '../../projections/distcloud/subclouds.js';
import { asAny } from '../../projections/core/projection.js';
import { apiCaller, type Call } from '../support/http.js';
import { added, at, managed } from '../unit/domain/subcloudFixtures.js';

const TOKEN = 'alarms-test-token-0123456789';
let server: Server;
let agent: Agent;
let eventStore: EventStore;
let call: Call;

const append = (id: number, events: SubcloudEvent[]) =>
  eventStore.appendToStream(
    subcloudStream(id),
    events.map((e) => ({
      id: randomUUID(),
      type: e.type,
      data: e.data,
      metadata: { correlationId: 'c', causationId: null, actor: { kind: 'system', name: 'test' }, occurredAt: at, schemaVersion: 1 },
    })),
  );

/** The fixture subcloud under another id, name and region. */
const addedAs = (id: number, name: string, region: string): SubcloudEvent => ({ ...added, data: { ...added.data, id, name, regionName: region } });

beforeAll(async () => {
  eventStore = sqliteEventStore({ file: ':memory:' });
  // 1: managed, online, audited with alarms; 2: added, never audited; 3: added then deleted (absent from the list).
  await append(5, [
    ...managed,
    { type: 'SubcloudAlarmSummaryChanged', data: { alarmSummary: { criticalAlarms: 0, majorAlarms: 2, minorAlarms: 1, warnings: 3, cloudStatus: 'degraded' }, at } },
  ]);
  await append(6, [addedAs(6, 'subcloud6', 'ffffffffffffffffffffffffffffffff')]);
  await append(7, [addedAs(7, 'subcloud7', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'), { type: 'SubcloudDeleted', data: { at } }]);
  const readStore = memoryReadStore();
  await projectionRunner({ eventStore, readStore, projections: [asAny(subcloudsProjection)], upcasters: upcasterRegistry([]) }).rebuild();
  const app = createApp({
    logger: pino({ level: 'silent' }),
    authenticator: { adminToken: TOKEN, validate: async () => undefined },
    readiness: async () => ({ ready: true, detail: {} }),
    routes: { '/v1.0/alarms': alarmsRouter({ readStore }) },
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  agent = new Agent();
  call = apiCaller(`http://127.0.0.1:${port}`, agent, TOKEN);
});

afterAll(async () => {
  await agent.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await eventStore.close();
});

describe('GET /v1.0/alarms', () => {
  it("answers dcmanager's alarm_summary: keys in order, region_name = subcloud name, -1/disabled before any audit", async () => {
    const r = await call('GET', '/v1.0/alarms');
    expect(r.status).toBe(200);
    // dcmanager's one key, then fleetledger's site alarms (none here).
    expect(Object.keys(r.json)).toEqual(['alarm_summary', 'alarms']);
    expect(r.json.alarms).toEqual([]);
    const [audited, fresh, ...rest] = r.json.alarm_summary;
    expect(rest).toEqual([]);
    expect(Object.keys(audited)).toEqual(['region_name', 'uuid', 'critical_alarms', 'major_alarms', 'minor_alarms', 'warnings', 'cloud_status']);
    expect(audited).toMatchObject({ region_name: 'subcloud1', critical_alarms: 0, major_alarms: 2, minor_alarms: 1, warnings: 3, cloud_status: 'degraded' });
    expect(fresh).toMatchObject({ region_name: 'subcloud6', critical_alarms: -1, major_alarms: -1, minor_alarms: -1, warnings: -1, cloud_status: 'disabled' });
    expect(audited.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(fresh.uuid).not.toBe(audited.uuid);
    // Stable: the same row, the same uuid.
    expect((await call('GET', '/v1.0/alarms/')).json.alarm_summary[0].uuid).toBe(audited.uuid);
  });

  it('needs the token', async () => {
    const r = await call('GET', '/v1.0/alarms', undefined, { 'x-auth-token': 'wrong' });
    expect(r.status).toBe(401);
  });
});
