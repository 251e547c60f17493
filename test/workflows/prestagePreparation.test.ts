// prestage-prepare: subclouds on another release than the system controller's need the shared packages, prepared
// once for the whole strategy on the system controller's own agent. When that fails, the step that ran it fails with
// the reason and every later step fails at once with `Aborted due to previous prestage-prepare failure`, without
// preparing again. Also the pre-check's skip of a subcloud that is not simplex.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPrestageOrchestrator, type PrestageOrchestrator } from '../../workflows/prestageOrchestrator.js';
import { startPrestageFleet, type PrestageFleet } from '../support/prestageFleet.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

const COUNT = 8;
let f: PrestageFleet;
let orchestrator: PrestageOrchestrator;

beforeAll(async () => {
  // Every fourth subcloud is duplex; all run 22.12 while the system controller runs 24.03.
  f = await startPrestageFleet({ count: COUNT, baseAddress: '127.0.82.1', systemMode: 'mixed', olderRelease: '22.12' });
  orchestrator = createPrestageOrchestrator(f.site.site.workflowDeps, { longPollMs: 2_000 });
  await orchestrator.start();
}, 60_000);
afterAll(async () => {
  await orchestrator?.stop();
  await f?.stop();
});
afterEach(async () => {
  await f.site.call('DELETE', '/v1.0/sw-update-strategy');
  await f.fleet.clearFaults(f.controller);
});

async function applyStrategy(maxParallel: number) {
  const created = await f.site.call('POST', '/v1.0/sw-update-strategy', { type: 'prestage', sysadmin_password: SYSADMIN_B64, 'max-parallel-subclouds': String(maxParallel) });
  expect(created.status, created.text).toBe(200);
  expect((await f.site.call('POST', '/v1.0/sw-update-strategy/actions', { action: 'apply' })).status).toBe(200);
  return orchestrator.run(created.json.id as number);
}
const steps = async () => (await f.site.call('GET', '/v1.0/sw-update-strategy/steps')).json['strategy-steps'] as Record<string, string>[];
const prepares = () => f.operationsOf(f.controller).filter((k) => k === 'prestage-prepare').length;
const isDuplex = (i: number) => i % 4 === 3;

describe('prestage-prepare', () => {
  it('a failed preparation fails the step that ran it with the reason, and every later one at once without preparing again', async () => {
    await f.fleet.setFaults(f.controller, { failOperation: 'prestage-prepare' });
    const before = prepares();
    const report = await applyStrategy(3);
    expect(report.state).toBe('failed');
    expect(prepares() - before).toBe(1);
    const list = await steps();
    const failed = list.filter((s) => s.state === 'failed');
    const reasons = failed.map((s) => s.details);
    expect(reasons.filter((d) => d === 'prestage-prepare: Aborted due to previous prestage-prepare failure')).toHaveLength(failed.length - 1);
    const first = reasons.find((d) => !String(d).includes('Aborted due to previous'));
    expect(first).toMatch(/^prestage-prepare: .+/);
    // The duplex subclouds were skipped at the pre-check, before any preparation.
    const skipped = list.filter((s) => s.state === 'complete');
    expect(skipped.map((s) => s.cloud)).toEqual(f.subclouds.filter((_, i) => isDuplex(i)).map((s) => s.name));
    for (const s of skipped) expect(s.details).toBe(`Prestage skipped '${s.cloud}': Prestage operation is only accepted for a simplex subcloud.`);
    expect(failed).toHaveLength(COUNT - skipped.length);
    // No subcloud prestaged anything after the failure.
    for (const s of f.subclouds) expect(f.operationsOf(s.name)).not.toContain('prestage-packages');
    const sc = (await f.site.call('GET', `/v1.0/subclouds/${f.subclouds[0]!.id}`)).json;
    expect(sc['prestage-status']).toBe('failed');
  });

  it('a successful preparation runs once for the whole strategy; then every simplex subcloud is prestaged', async () => {
    const before = prepares();
    const report = await applyStrategy(4);
    expect(report.state).toBe('complete');
    expect(prepares() - before).toBe(1);
    const list = await steps();
    for (const [i, s] of list.entries()) {
      expect(s.state).toBe('complete');
      expect(s.details === '').toBe(!isDuplex(i));
    }
    const history = (await f.site.call('GET', `/history/streams/swUpdateStrategy-${report.strategyId}`)).json;
    const types = (history.events as { type: string }[]).map((e) => e.type);
    expect(types.filter((t) => t.startsWith('PrestagePreparation'))).toEqual(['PrestagePreparationStarted', 'PrestagePreparationCompleted']);
  });
});
