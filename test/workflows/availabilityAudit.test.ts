// The availability audit against the in-process fleet simulator, on a test site whose workflows are not started:
// every cycle is driven by runCycle(), nothing waits for the audit interval.
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subcloudAgentClient, type SubcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import { systemContext } from '../../commands/core/context.js';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import { bootstrapValues } from '../../simulator/bootstrapValues.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { createAvailabilityAudit, isAuditable, type AvailabilityAuditOptions } from '../../workflows/availabilityAudit.js';
import type { WorkflowDeps } from '../../workflows/workflow.js';
import { expectReadModelsEqualRebuild } from '../support/readModels.js';
import type { FormCall } from '../support/http.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

const PORT = 8120;
const FLEET = 5;
/** Subclouds 1..4 are deployed (audited); subcloud5 stays not-deployed (never audited). */
const DEPLOYED = 4;

let t: TestSite;
let fleet: FleetSimulator;
let agent: SubcloudAgentClient;
/** Health calls in flight, and the most seen at once. */
const inFlight = { now: 0, max: 0 };

const form: FormCall = (...args) => t.form(...args);

/** The site's deps for a workflow, with the counting agent. */
const deps = (concurrency = 2): WorkflowDeps => ({
  ...t.site.workflowDeps,
  agent,
  settings: { subcloudAuditIntervalSeconds: 30, subcloudAuditConcurrency: concurrency },
});

const auditWith = (concurrency = 2, options: AvailabilityAuditOptions = { healthTimeoutMs: 400 }) =>
  createAvailabilityAudit(deps(concurrency), options);

async function settled() {
  const head = await t.site.eventStore.headPosition();
  expect(await t.site.runner.waitFor(head, 5_000)).toBe(true);
  return head;
}

/** One cycle; the events it appended (the read models caught up afterwards). */
async function cycle(audit = auditWith()) {
  const before = await settled();
  const report = await audit.runCycle();
  await settled();
  const events = await t.site.eventStore.readAll({ after: before });
  return { report, events, summary: events.map((e) => `${e.streamId} ${e.type}`) };
}

const subcloudDoc = (id: number) => t.site.readStore.get<any>('subclouds', String(id));
const healthCalls = (i: number) => fleet.subcloud(`subcloud${i}`)!.requests.byRoute['GET /v1/health'] ?? 0;
const dataOf = (e: RecordedEvent) => e.data as any;

beforeAll(async () => {
  fleet = await startFleetSimulator({ subclouds: FLEET, baseAddress: '127.0.44.1', port: PORT, adminPort: 0, opDurationMs: 20, initialState: 'configured' });
  const real = subcloudAgentClient({ port: PORT, retries: 0, timeouts: { connectMs: 1_000, headersMs: 2_000, bodyMs: 2_000 } });
  agent = {
    ...real,
    async health(address, opts) {
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      try {
        return await real.health(address, opts);
      } finally {
        inFlight.now--;
      }
    },
  };
  t = await startTestSite({ workflows: [], agent });
  for (const [index, sc] of fleet.subclouds.entries()) {
    const values = bootstrapValues({ index, name: sc.name, address: sc.address, systemMode: 'simplex', softwareVersion: '24.03', systemControllerGateway: '192.168.204.101' });
    const r = await form('POST', '/v1.0/subclouds', { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': sc.address }, { bootstrap_values: stringify(values) });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    if (index >= DEPLOYED) continue;
    const ctx = () => systemContext(t.clock.now(), 'test');
    await t.site.commands.subclouds.record(r.json.id, { type: 'StartDeployPhase', operationId: `deploy-${index}`, phase: 'deploy', at: t.clock.now().toISOString() }, ctx());
    await t.site.commands.subclouds.record(r.json.id, { type: 'CompleteDeployPhase', operationId: `deploy-${index}`, at: t.clock.now().toISOString() }, ctx());
  }
  await settled();
});

afterAll(async () => {
  await t?.stop();
  await fleet?.stop();
});

describe('availability audit', () => {
  it('audits only deployed subclouds (or online ones) with a bootstrap address', async () => {
    expect((await subcloudDoc(1)).deployStatus).toBe('complete');
    expect((await subcloudDoc(5)).deployStatus).toBe('not-deployed');
    const base = { bootstrapAddress: '127.0.0.1', availabilityStatus: 'offline' as const };
    expect(isAuditable({ ...base, deployStatus: 'complete' })).toBe(true);
    expect(isAuditable({ ...base, deployStatus: 'rehome-pending', availabilityStatus: 'online' })).toBe(true);
    expect(isAuditable({ ...base, deployStatus: 'not-deployed' })).toBe(false);
    expect(isAuditable({ ...base, deployStatus: 'bootstrap-failed' })).toBe(false);
    expect(isAuditable({ ...base, deployStatus: 'secondary', availabilityStatus: 'online' })).toBe(false);
    expect(isAuditable({ ...base, bootstrapAddress: null, deployStatus: 'complete' })).toBe(false);
  });

  it('first cycle: the deployed subclouds go online; unmanaged ones get no endpoint or alarm audit', async () => {
    const { report, summary } = await cycle();
    expect(report).toMatchObject({ audited: DEPLOYED, reachable: DEPLOYED, unreachable: 0, changed: DEPLOYED });
    expect(summary.sort()).toEqual([1, 2, 3, 4].map((id) => `subcloud-${id} SubcloudAvailabilityChanged`));
    expect((await subcloudDoc(1)).availabilityStatus).toBe('online');
    expect((await subcloudDoc(1)).alarmSummary).toBeNull();
    expect(healthCalls(5)).toBe(0);
    expect(fleet.subcloud('subcloud1')!.requests.byRoute['GET /v1/endpoints']).toBeUndefined();
  });

  it('once managed: endpoint statuses and the alarm summary are recorded', async () => {
    for (const id of [1, 2, 3, 4]) {
      const r = await form('PATCH', `/v1.0/subclouds/${id}`, { 'management-state': 'managed' });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    const { report, events } = await cycle();
    expect(report).toMatchObject({ audited: DEPLOYED, reachable: DEPLOYED, changed: DEPLOYED });
    expect(events.map((e) => e.type).sort()).toEqual([
      ...Array(DEPLOYED).fill('SubcloudAlarmSummaryChanged'),
      ...Array(DEPLOYED).fill('SubcloudEndpointSyncStatusChanged'),
    ]);
    expect(events.every((e) => e.metadata.actor.name === 'availability-audit')).toBe(true);
    const doc = await subcloudDoc(2);
    expect(Object.values(doc.endpointSyncStatus)).toEqual(Array(9).fill('in-sync'));
    expect(doc.alarmSummary).toEqual({ criticalAlarms: 0, majorAlarms: 0, minorAlarms: 0, warnings: 0, cloudStatus: 'OK' });
    const list = await t.call('GET', '/v1.0/subclouds');
    expect(list.json.subclouds.map((s: any) => [s['availability-status'], s.sync_status])).toEqual([
      ...Array(DEPLOYED).fill(['online', 'in-sync']),
      ['offline', 'unknown'],
    ]);
  });

  it('an idle cycle appends zero events', async () => {
    for (let i = 0; i < 2; i++) {
      const { report, events } = await cycle();
      expect(report).toMatchObject({ audited: DEPLOYED, reachable: DEPLOYED, changed: 0 });
      expect(events).toEqual([]);
    }
  });

  it('unreachable: still online after one failure (no event), offline after the second, online again at the first success', async () => {
    await fleet.setFaults('subcloud2', { unreachable: true });
    const audit = auditWith();
    const first = await cycle(audit);
    expect(first.report).toMatchObject({ reachable: DEPLOYED - 1, unreachable: 1, changed: 0 });
    expect(first.events).toEqual([]);
    expect((await subcloudDoc(2)).availabilityStatus).toBe('online');

    const second = await cycle(audit);
    expect(second.summary).toEqual(['subcloud-2 SubcloudAvailabilityChanged']);
    expect(dataOf(second.events[0]!).availabilityStatus).toBe('offline');
    expect(Object.values((await subcloudDoc(2)).endpointSyncStatus)).toEqual(Array(9).fill('unknown'));

    const third = await cycle(audit);
    expect(third.report).toMatchObject({ unreachable: 1, changed: 0 });
    expect(third.events).toEqual([]);

    await fleet.clearFaults('subcloud2');
    const back = await cycle(audit);
    expect(back.summary).toEqual(['subcloud-2 SubcloudAvailabilityChanged', 'subcloud-2 SubcloudEndpointSyncStatusChanged']);
    expect(dataOf(back.events[0]!).availabilityStatus).toBe('online');
    expect((await cycle(audit)).events).toEqual([]);
  });

  it('a blip of one failed audit resets the count: two separate failures do not take a subcloud offline', async () => {
    const audit = auditWith();
    for (let i = 0; i < 2; i++) {
      await fleet.setFaults('subcloud3', { unreachable: true });
      expect((await cycle(audit)).events).toEqual([]);
      await fleet.clearFaults('subcloud3');
      expect((await cycle(audit)).events).toEqual([]);
    }
    expect((await subcloudDoc(3)).availabilityStatus).toBe('online');
  });

  it('the count is in memory: a new audit (a restart) counts from zero', async () => {
    await fleet.setFaults('subcloud3', { unreachable: true });
    expect((await cycle(auditWith())).events).toEqual([]);
    expect((await cycle(auditWith())).events).toEqual([]);
    expect((await subcloudDoc(3)).availabilityStatus).toBe('online');
    await fleet.clearFaults('subcloud3');
  });

  it('alarms and sync status changes: one event each, only what changed; GET /v1.0/alarms shows them', async () => {
    await fleet.setFaults('subcloud3', { alarms: { critical: 0, major: 2, minor: 0, warnings: 1 } });
    await fleet.setFaults('subcloud4', { syncStatus: { platform: 'out-of-sync' } });
    const { summary, events } = await cycle();
    // Subclouds are audited concurrently: their events come in any order.
    expect(summary.sort()).toEqual(['subcloud-3 SubcloudAlarmSummaryChanged', 'subcloud-4 SubcloudEndpointSyncStatusChanged']);
    const of = (type: string) => dataOf(events.find((e) => e.type === type)!);
    expect(of('SubcloudAlarmSummaryChanged').alarmSummary).toEqual({ criticalAlarms: 0, majorAlarms: 2, minorAlarms: 0, warnings: 1, cloudStatus: 'degraded' });
    expect(of('SubcloudEndpointSyncStatusChanged').endpoints).toEqual({ platform: 'out-of-sync' });
    expect((await cycle()).events).toEqual([]);

    const r = await t.call('GET', '/v1.0/alarms');
    expect(r.status).toBe(200);
    expect(r.json.alarm_summary.map((a: any) => [a.region_name, a.critical_alarms, a.major_alarms, a.minor_alarms, a.warnings, a.cloud_status])).toEqual([
      ['subcloud1', 0, 0, 0, 0, 'OK'],
      ['subcloud2', 0, 0, 0, 0, 'OK'],
      ['subcloud3', 0, 2, 0, 1, 'degraded'],
      ['subcloud4', 0, 0, 0, 0, 'OK'],
      ['subcloud5', -1, -1, -1, -1, 'disabled'],
    ]);
    await fleet.clearFaults('subcloud3');
    await fleet.clearFaults('subcloud4');
    expect((await cycle()).report.changed).toBe(2);
  });

  it('minor alarms alone make a subcloud degraded, as dcmanager derives cloud_status from the counts', async () => {
    await fleet.setFaults('subcloud2', { alarms: { critical: 0, major: 0, minor: 1, warnings: 0 } });
    const { events } = await cycle();
    expect(events.map((e) => [e.streamId, dataOf(e).alarmSummary])).toEqual([
      ['subcloud-2', { criticalAlarms: 0, majorAlarms: 0, minorAlarms: 1, warnings: 0, cloudStatus: 'degraded' }],
    ]);
    await fleet.clearFaults('subcloud2');
    expect((await cycle()).report.changed).toBe(1);
  });

  it('a degraded subcloud is reachable: online, nothing recorded', async () => {
    await fleet.setFaults('subcloud1', { health: 'degraded' });
    const { report, events } = await cycle();
    expect(report).toMatchObject({ reachable: DEPLOYED, unreachable: 0 });
    expect(events).toEqual([]);
    await fleet.clearFaults('subcloud1');
  });

  it('respects the concurrency bound', async () => {
    for (let i = 1; i <= DEPLOYED; i++) await fleet.setFaults(`subcloud${i}`, { slowMs: 60 });
    try {
      for (const bound of [1, 3]) {
        inFlight.max = 0;
        const { report } = await cycle(auditWith(bound));
        expect(report.audited).toBe(DEPLOYED);
        expect(inFlight.max).toBe(bound);
      }
    } finally {
      for (let i = 1; i <= DEPLOYED; i++) await fleet.clearFaults(`subcloud${i}`);
    }
  });

  it('a slow subcloud costs its health timeout, not the others their audit', async () => {
    await fleet.setFaults('subcloud1', { slowMs: 10_000 });
    try {
      const { report, events } = await cycle(auditWith(2, { healthTimeoutMs: 300 }));
      expect(report).toMatchObject({ audited: DEPLOYED, reachable: DEPLOYED - 1, unreachable: 1 });
      expect(report.durationMs).toBeLessThan(1_500);
      expect(events).toEqual([]);
    } finally {
      await fleet.clearFaults('subcloud1');
    }
  });

  it('start() does not block; the first cycle runs in the background; stop() waits for it', async () => {
    const audit = auditWith();
    const before = healthCalls(1);
    await audit.start();
    const deadline = Date.now() + 5_000;
    while (healthCalls(1) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(healthCalls(1)).toBeGreaterThan(before);
    await audit.stop();
    const after = healthCalls(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(healthCalls(2)).toBe(after);
  });

  it('the read models equal a rebuild from the events', async () => {
    await expectReadModelsEqualRebuild(t);
  });
});
