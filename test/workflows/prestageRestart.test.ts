// A restart mid-strategy: the orchestrator stops while steps are mid-way (operations running on the agents); a new
// one resumes the applying strategy from the records, follows the operations already started (same ids) and
// completes it. No agent operation runs twice and no step enters a state twice. Then the single-subcloud prestage
// (PATCH /subclouds/{ref}/prestage) end to end, and its restart the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrestageOrchestrator } from '../../workflows/prestageOrchestrator.js';
import { createSubcloudPrestage } from '../../workflows/subcloudPrestage.js';
import { startPrestageFleet, type PrestageFleet } from '../support/prestageFleet.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

const COUNT = 8;
let f: PrestageFleet;

beforeAll(async () => {
  // Operations long enough to stop the workflow in the middle of them.
  f = await startPrestageFleet({ count: COUNT, baseAddress: '127.0.83.1', opDurationMs: 300 });
}, 60_000);
afterAll(async () => f?.stop());

/** Polls the store (never the clock) until `ok`. */
async function until(ok: () => Promise<boolean>) {
  for (let i = 0; i < 2_000; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not met');
}

const prestageOps = (name: string) => f.operationsOf(name).filter((k) => k.startsWith('prestage-'));

describe('restart mid-strategy', () => {
  it('a new orchestrator resumes the strategy where the records say, and runs no state or operation twice', async () => {
    const first = createPrestageOrchestrator(f.site.site.workflowDeps, { longPollMs: 2_000 });
    await first.start();
    const created = await f.site.call('POST', '/v1.0/sw-update-strategy', { type: 'prestage', sysadmin_password: SYSADMIN_B64, 'max-parallel-subclouds': '4' });
    const id = created.json.id as number;
    await f.site.call('POST', '/v1.0/sw-update-strategy/actions', { action: 'apply' });
    // Stop while packages are being prestaged on the first subclouds.
    await until(async () => f.subclouds.slice(0, 2).every((s) => prestageOps(s.name).includes('prestage-packages')));
    await first.stop();
    const mid = (await f.site.call('GET', '/v1.0/sw-update-strategy/steps')).json['strategy-steps'] as { state: string }[];
    expect(mid.some((s) => s.state === 'prestaging-packages')).toBe(true);
    expect((await f.site.call('GET', '/v1.0/sw-update-strategy')).json.state).toBe('applying');

    const second = createPrestageOrchestrator(f.site.site.workflowDeps, { longPollMs: 2_000 });
    await second.start();
    const report = await second.run(id);
    await second.stop();
    expect(report.state).toBe('complete');
    for (const s of f.subclouds) expect(prestageOps(s.name)).toEqual(['prestage-precheck', 'prestage-packages', 'prestage-images']);
    // Each step's states once each, in order.
    for (const s of f.subclouds) {
      const events = await f.site.site.eventStore.readStream(`strategyStep-${id}.${s.id}`);
      const states = events.filter((e) => e.type === 'StrategyStepStateChanged').map((e) => (e.data as { state: string }).state);
      expect(states).toEqual(['prestage-precheck', 'prestage-prepare', 'prestaging-packages', 'prestaging-images']);
    }
    expect((await f.site.call('DELETE', '/v1.0/sw-update-strategy')).status).toBe(200);
  });
});

describe('PATCH /v1.0/subclouds/{ref}/prestage', () => {
  it('prestages one subcloud: pre-checked in the request, then packages and images; prestage-status follows; a restart resumes it', async () => {
    const target = f.subclouds[5]!;
    const before = prestageOps(target.name).length;
    const workflow = createSubcloudPrestage(f.site.site.workflowDeps, { longPollMs: 2_000 });
    await workflow.start();
    const r = await f.site.call('PATCH', `/v1.0/subclouds/${target.name}/prestage`, { sysadmin_password: SYSADMIN_B64, force: 'false' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ name: target.name, 'prestage-status': 'prestage-prepare', 'prestage-software-version': '24.03' });
    // A second request while it runs is refused by the initial checks.
    const again = await f.site.call('PATCH', `/v1.0/subclouds/${target.name}/prestage`, { sysadmin_password: SYSADMIN_B64 });
    expect(again.status).toBe(400);
    expect(again.json.error.message).toMatch(/^Prestage skipped '.+': Prestage operation is only allowed while subcloud prestage status is one of: failed, complete\./);
    // Stop while the packages are being prestaged; a new workflow picks the request up.
    await until(async () => prestageOps(target.name).slice(before).includes('prestage-packages'));
    await workflow.stop();
    const resumed = createSubcloudPrestage(f.site.site.workflowDeps, { longPollMs: 2_000 });
    await resumed.start();
    await until(async () => (await f.site.call('GET', `/v1.0/subclouds/${target.id}`)).json['prestage-status'] === 'complete');
    await resumed.stop();
    expect(prestageOps(target.name).slice(before)).toEqual(['prestage-precheck', 'prestage-packages', 'prestage-images']);
    const sc = (await f.site.call('GET', `/v1.0/subclouds/${target.id}`)).json;
    expect(sc['prestage-versions']).toBe('24.03');
    // The history tells the whole story, and never holds the password in the clear.
    const history = await f.site.call('GET', `/history/streams/subcloud-${target.id}`);
    const statuses = (history.json.events as { type: string; data: { prestageStatus?: string } }[])
      .filter((e) => e.type === 'SubcloudPrestageStatusChanged')
      .map((e) => e.data.prestageStatus);
    expect(statuses.slice(-3)).toEqual(['prestaging-packages', 'prestaging-images', 'complete']);
    expect(history.text).not.toContain(SYSADMIN_B64);
  });
});
