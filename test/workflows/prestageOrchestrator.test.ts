// The prestage strategy orchestrator against the fleet simulator: 20 subclouds prestaged through the API at max
// parallel 1, 5 and 20 (the steps start in order and never exceed the limit), a subcloud failing its packages, the
// shared preparation (once, and its failure ending the later steps at once), abort mid-way, a subcloud unmanaged
// before its step, stop-on-failure and the pre-check's skips. Operations take 40 ms of real time in the simulator;
// nothing sleeps: each test waits for the strategy's run to end.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import { createPrestageOrchestrator, type PrestageOrchestrator } from '../../workflows/prestageOrchestrator.js';
import { startPrestageFleet, type PrestageFleet } from '../support/prestageFleet.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

const COUNT = 20;
let f: PrestageFleet;
let orchestrator: PrestageOrchestrator;

beforeAll(async () => {
  f = await startPrestageFleet({ count: COUNT, baseAddress: '127.0.81.1' });
  orchestrator = createPrestageOrchestrator(f.site.site.workflowDeps, { longPollMs: 2_000 });
  await orchestrator.start();
}, 60_000);
afterAll(async () => {
  await orchestrator?.stop();
  await f?.stop();
});
afterEach(async () => {
  // Every test leaves no strategy behind and no fault on any subcloud.
  await f.site.call('DELETE', '/v1.0/sw-update-strategy');
  for (const s of f.fleet.subclouds) await f.fleet.clearFaults(s.name);
});

const call = (method: string, path: string, body?: unknown) => f.site.call(method, path, body);

/** Creates (all subclouds unless the body names some), applies, and waits for the end of the run. */
async function applyStrategy(body: Record<string, unknown> = {}) {
  const created = await call('POST', '/v1.0/sw-update-strategy', { type: 'prestage', sysadmin_password: SYSADMIN_B64, ...body });
  expect(created.status, created.text).toBe(200);
  const applied = await call('POST', '/v1.0/sw-update-strategy/actions', { action: 'apply' });
  expect(applied.status, applied.text).toBe(200);
  const report = await orchestrator.run(created.json.id as number);
  return { id: created.json.id as number, report };
}

const steps = async () => (await call('GET', '/v1.0/sw-update-strategy/steps')).json['strategy-steps'] as Record<string, unknown>[];
const strategy = async () => (await call('GET', '/v1.0/sw-update-strategy')).json as Record<string, unknown>;

/** Every step event of the strategy, in the order the store took them. */
async function stepEvents(strategyId: number): Promise<RecordedEvent[]> {
  const all = await f.site.site.eventStore.readAll();
  return all.filter((e) => e.streamId.startsWith(`strategyStep-${strategyId}.`));
}

/** How many steps ran at once, at most, and the order they started in (subcloud ids). */
function concurrency(events: RecordedEvent[]) {
  const started = new Set<string>();
  const order: number[] = [];
  let running = 0;
  let peak = 0;
  for (const e of events) {
    if (e.type === 'StrategyStepStateChanged' && !started.has(e.streamId)) {
      started.add(e.streamId);
      order.push(Number(e.streamId.split('.')[1]));
      peak = Math.max(peak, ++running);
    }
    if ((e.type === 'StrategyStepCompleted' || e.type === 'StrategyStepFailed') && started.has(e.streamId)) running--;
  }
  return { peak, order };
}

describe('a group of 20 subclouds', () => {
  for (const max of [1, 5, 20]) {
    it(`at max parallel ${max}: every step runs the four states in order, never more than ${max} at once`, async () => {
      const { id, report } = await applyStrategy({ 'max-parallel-subclouds': String(max) });
      expect(report.state).toBe('complete');
      expect((await strategy()).state).toBe('complete');
      const list = await steps();
      expect(list).toHaveLength(COUNT);
      for (const s of list) expect(s).toMatchObject({ state: 'complete', stage: 3, details: '' });

      const events = await stepEvents(id);
      const { peak, order } = concurrency(events);
      expect(peak).toBe(max);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      // The four states, in order, once each, per step.
      const first = f.subclouds[0]!;
      const own = events.filter((e) => e.streamId === `strategyStep-${id}.${first.id}`);
      expect(own.map((e) => (e.type === 'StrategyStepStateChanged' ? (e.data as { state: string }).state : e.type))).toEqual([
        'prestage-precheck',
        'prestage-prepare',
        'prestaging-packages',
        'prestaging-images',
        'StrategyStepCompleted',
      ]);
      // The subclouds say so too; their releases are the system controller's, so nothing was prepared.
      const sc = (await call('GET', `/v1.0/subclouds/${first.id}`)).json;
      expect(sc['prestage-status']).toBe('complete');
      expect(sc['prestage-versions']).toBe('24.03');
      expect(f.operationsOf(f.controller)).not.toContain('prestage-prepare');
      expect(f.fleet.subcloud(first.name)!.system(Date.now()).prestaged_versions).toContain('24.03');
      await call('DELETE', '/v1.0/sw-update-strategy');
    });
  }
});

describe('failures', () => {
  it('a subcloud failing its packages fails its step with the state and the reason; the others complete; the strategy fails', async () => {
    const bad = f.subclouds[3]!;
    await f.fleet.setFaults(bad.name, { failOperation: 'prestage-packages' });
    const { report } = await applyStrategy({ 'max-parallel-subclouds': '5' });
    expect(report.state).toBe('failed');
    const list = await steps();
    const failed = list.filter((s) => s.state === 'failed');
    expect(failed.map((s) => s.cloud)).toEqual([bad.name]);
    expect(String(failed[0]!.details)).toMatch(/^prestaging-packages: /);
    expect(list.filter((s) => s.state === 'complete')).toHaveLength(COUNT - 1);
    expect((await call('GET', `/v1.0/subclouds/${bad.id}`)).json['prestage-status']).toBe('failed');
  });

  it('stop-on-failure: no step starts after the first failure; the strategy fails, the rest stay initial', async () => {
    const bad = f.subclouds[1]!;
    await f.fleet.setFaults(bad.name, { failOperation: 'prestage-images' });
    const { report } = await applyStrategy({ 'max-parallel-subclouds': '1', 'stop-on-failure': 'true' });
    expect(report.state).toBe('failed');
    const list = await steps();
    expect(list.map((s) => s.state)).toEqual(['complete', 'failed', ...Array(COUNT - 2).fill('initial')]);
    expect(list[1]!.details).toMatch(/^prestaging-images: /);
  });

  it('a subcloud unmanaged before its step starts fails it with "Subcloud <n> is unmanaged."', async () => {
    const created = await call('POST', '/v1.0/sw-update-strategy', { type: 'prestage', sysadmin_password: SYSADMIN_B64, 'max-parallel-subclouds': '1' });
    expect(created.status, created.text).toBe(200);
    const target = f.subclouds[2]!;
    const before = f.operationsOf(target.name).length;
    expect((await f.site.form('PATCH', `/v1.0/subclouds/${target.id}`, { 'management-state': 'unmanaged' })).status).toBe(200);
    await call('POST', '/v1.0/sw-update-strategy/actions', { action: 'apply' });
    const report = await orchestrator.run(created.json.id as number);
    expect(report.state).toBe('failed');
    const step = (await call('GET', `/v1.0/sw-update-strategy/steps/${target.name}`)).json;
    expect(step).toMatchObject({ state: 'failed', details: `Subcloud ${target.name} is unmanaged.` });
    expect(f.operationsOf(target.name).slice(before)).toEqual([]);
    await f.site.form('PATCH', `/v1.0/subclouds/${target.id}`, { 'management-state': 'managed' });
  });

  it('the pre-check: a subcloud with management-affecting alarms fails, unless forced', async () => {
    const alarmed = f.subclouds[0]!;
    await f.fleet.setFaults(alarmed.name, { alarms: { critical: 0, major: 2, minor: 0, warnings: 0 } });
    const { report } = await applyStrategy({ cloud_name: alarmed.name });
    expect(report.state).toBe('failed');
    const step = (await steps())[0]!;
    expect(step.details).toBe(
      `prestage-precheck: Prestage failed '${alarmed.name}': Subcloud has management affecting alarm(s). Please resolve the alarm condition(s) or use --force option and try again.`,
    );
    await call('DELETE', '/v1.0/sw-update-strategy');
    const forced = await applyStrategy({ cloud_name: alarmed.name, force: true });
    expect(forced.report.state).toBe('complete');
  });
});

describe('abort', () => {
  it('abort mid-way: steps not started are aborted, running ones finish, the strategy ends aborted', async () => {
    const created = await call('POST', '/v1.0/sw-update-strategy', { type: 'prestage', sysadmin_password: SYSADMIN_B64, 'max-parallel-subclouds': '2' });
    const id = created.json.id as number;
    await call('POST', '/v1.0/sw-update-strategy/actions', { action: 'apply' });
    const run = orchestrator.run(id);
    // Wait (on the store, not the clock) until the fourth step has started.
    for (;;) {
      const started = new Set((await stepEvents(id)).filter((e) => e.type === 'StrategyStepStateChanged').map((e) => e.streamId));
      if (started.size >= 4) break;
      await new Promise((r) => setImmediate(r));
    }
    const aborted = await call('POST', '/v1.0/sw-update-strategy/actions', { action: 'abort' });
    expect(aborted.status, aborted.text).toBe(200);
    expect(aborted.json.state).toBe('abort requested');
    const report = await run;
    expect(report.state).toBe('aborted');
    const list = await steps();
    const byState = (st: string) => list.filter((s) => s.state === st).length;
    expect(byState('complete')).toBeGreaterThanOrEqual(4);
    expect(byState('complete') + byState('aborted'), JSON.stringify(list.map((s) => [s.cloud, s.state, s.details]))).toBe(COUNT);
    expect(byState('aborted')).toBeGreaterThan(0);
    // Every started step ran to its end; none is left mid-way.
    expect(list.every((s) => ['complete', 'aborted'].includes(String(s.state)))).toBe(true);
    expect((await strategy()).state).toBe('aborted');
    // A second abort is refused: the strategy is no longer applying.
    expect((await call('POST', '/v1.0/sw-update-strategy/actions', { action: 'abort' })).status).toBe(422);
  });
});
