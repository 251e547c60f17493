// End to end, as an operator lives it: a site with its deploy workflow and availability audit, a fleet simulator
// serving the subclouds, and nothing but the dcmanager API in between. Add three subclouds, watch them deploy and
// come online, manage them, rename one and delete another (each after an unmanage), add one at a wrong address,
// restart fleetledger in the middle of a bootstrap, then audit the history and rebuild the read models.
//
// Operations run on the gated agent clock (nothing waits for their durations); audit cycles are run by the test
// (nothing waits for the audit interval).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import { TRANSITORY_STATES } from '../../domain/distcloud/subcloud.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { createAvailabilityAudit } from '../../workflows/availabilityAudit.js';
import { subcloudDeployWorkflow } from '../../workflows/subcloudDeploy.js';
import { gatedAgentClock } from '../support/agentClock.js';
import { expectReadModelsEqualRebuild, readModelSnapshot } from '../support/readModels.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';
import { passwordLogin } from '../support/identity.js';

const PORT = 18130;
const { clock: simClock, sleep, closeGate, openGate } = gatedAgentClock();

let fleet: FleetSimulator;
let outputDir: string;
/** The site under test; replaced by a second process-alike on the same data dir in the restart step. */
let t: TestSite;
let firstDataDir: string;

/** Every log line of both site runs, at the most verbose level, for the secret scan. */
const logLines: string[] = [];
/** Every answer the API gave, for the secret scan. */
const answers: string[] = [];
const BMC_B64 = Buffer.from('bmc-Secret-42').toString('base64');
const USER_PASSWORD = 'Us3r-Secret-77';

const startSite = (env: Record<string, string> = {}) =>
  startTestSite({
    logger: pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) }),
    stores: 'embedded',
    workflows: [subcloudDeployWorkflow({ pollMs: 1_000 })],
    agent: subcloudAgentClient({ port: PORT, timeouts: { connectMs: 500, headersMs: 2_000, bodyMs: 2_000 }, sleep }),
    env,
  });

beforeAll(async () => {
  outputDir = await mkdtemp(join(tmpdir(), 'fleetledger-e2e-sim-'));
  fleet = await startFleetSimulator({
    subclouds: 5, baseAddress: '127.0.60.1', port: PORT, adminPort: 0, opDurationMs: 5_000, clock: simClock, outputDir,
  });
  t = await startSite();
  firstDataDir = t.dataDir;
});

/** The site's API, every answer kept for the secret scan. */
const api = {
  call: async (...args: Parameters<TestSite['call']>) => {
    const r = await t.call(...args);
    answers.push(r.text);
    return r;
  },
  form: async (...args: Parameters<TestSite['form']>) => {
    const r = await t.form(...args);
    answers.push(JSON.stringify(r.json));
    return r;
  },
};

afterAll(async () => {
  openGate();
  await t?.stop();
  await fleet?.stop();
  rmSync(firstDataDir, { recursive: true, force: true });
  rmSync(outputDir, { recursive: true, force: true });
});

const sim = (i: number) => fleet.subclouds[i]!;
const ids: number[] = [];

/** `dcmanager subcloud add --bootstrap-address … --bootstrap-values …` for simulated subcloud i. */
async function add(i: number, address = sim(i).address, o: { install?: boolean } = {}) {
  const r = await api.form(
    'POST',
    '/v1.0/subclouds',
    { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': address, ...(o.install ? { bmc_password: BMC_B64 } : {}) },
    {
      bootstrap_values: readFileSync(sim(i).bootstrapValuesPath!, 'utf8'),
      ...(o.install ? { install_values: readFileSync(sim(i).installValuesPath!, 'utf8') } : {}),
    },
  );
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect(r.json).toMatchObject({ name: sim(i).name, 'deploy-status': 'not-deployed', 'management-state': 'unmanaged', 'availability-status': 'offline' });
  return r.json.id as number;
}

const show = async (ref: number | string) => (await api.call('GET', `/v1.0/subclouds/${ref}`)).json as Record<string, any>;

/** Waits until the deployment settles: complete, or a failed state that is not transitory. */
const settled = (id: number, pass: (status: string) => boolean = (s) => s === 'complete' || (s.endsWith('-failed') && !(s in TRANSITORY_STATES))) =>
  vi.waitFor(
    async () => {
      const s = await show(id);
      expect(pass(s['deploy-status']), `deploy-status ${s['deploy-status']}`).toBe(true);
      return s;
    },
    { timeout: 10_000, interval: 20 },
  );

/** One availability audit cycle with the site's own parts, then the read models caught up. */
async function auditCycle() {
  const report = await createAvailabilityAudit(t.site.workflowDeps).runCycle();
  expect(await t.site.runner.waitFor(await t.site.eventStore.headPosition(), 5_000)).toBe(true);
  return report;
}

const manage = (ref: number | string, state: 'managed' | 'unmanaged') => api.form('PATCH', `/v1.0/subclouds/${ref}`, { 'management-state': state });

describe('subcloud lifecycle, end to end with the fleet simulator', () => {
  it('three added subclouds deploy, come online at the next audit, and can be managed', async () => {
    ids.push(await add(0, undefined, { install: true }), await add(1), await add(2));
    for (const id of ids) expect((await settled(id))['deploy-status']).toBe('complete');

    // Deployed but not audited yet: offline, and manage is refused with the manager side's 422.
    const early = await manage(ids[0]!, 'managed');
    expect(early.status).toBe(422);
    expect(early.json.error.message).toBe("Subcloud is not online.");

    expect(await auditCycle()).toMatchObject({ audited: 3, reachable: 3, changed: 3 });
    for (const id of ids) expect((await show(id))['availability-status']).toBe('online');

    for (const id of ids) {
      const r = await manage(id, 'managed');
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json['management-state']).toBe('managed');
    }
    await auditCycle(); // managed and online: endpoint statuses and alarms are audited too

    const list = (await api.call('GET', '/v1.0/subclouds')).json.subclouds as Record<string, any>[];
    expect(list.map((s) => [s.name, s['deploy-status'], s['management-state'], s['availability-status'], s.sync_status])).toEqual(
      [0, 1, 2].map((i) => [sim(i).name, 'complete', 'managed', 'online', 'in-sync']),
    );
    expect(list[0]!.endpoint_sync_status.length).toBeGreaterThan(0);
    expect(list[0]!.endpoint_sync_status.every((e: any) => e.sync_status === 'in-sync')).toBe(true);
    const alarms = (await api.call('GET', '/v1.0/alarms')).json.alarm_summary as Record<string, any>[];
    expect(alarms.map((a) => [a.region_name, a.cloud_status])).toEqual([0, 1, 2].map((i) => [sim(i).name, 'OK']));

    // A second audit with nothing changed writes nothing.
    const head = await t.site.eventStore.headPosition();
    expect(await auditCycle()).toMatchObject({ audited: 3, changed: 0 });
    expect(await t.site.eventStore.headPosition()).toBe(head);
  });

  it('renames a subcloud once it is unmanaged; the region name stays', async () => {
    const id = ids[1]!;
    const region = (await api.call('GET', `/v1.0/subclouds/${id}/detail`)).json.region_name as string;
    const refused = await api.form('PATCH', `/v1.0/subclouds/${id}`, { name: 'edge-west-1' });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toBe(
      `Subcloud ${sim(1).name} must be deployed, unmanaged and no ongoing prestage for the subcloud rename operation.`,
    );

    expect((await manage(id, 'unmanaged')).status).toBe(200);
    const renamed = await api.form('PATCH', `/v1.0/subclouds/${id}`, { name: 'edge-west-1' });
    expect(renamed.status, JSON.stringify(renamed.json)).toBe(200);
    expect(renamed.json.name).toBe('edge-west-1');

    expect((await api.call('GET', `/v1.0/subclouds/${sim(1).name}`)).status).toBe(404);
    const detail = (await api.call('GET', '/v1.0/subclouds/edge-west-1/detail')).json;
    expect(detail).toMatchObject({ id, name: 'edge-west-1', region_name: region, 'management-state': 'unmanaged' });
  });

  it('deletes a subcloud once it is unmanaged', async () => {
    const id = ids[2]!;
    const refused = await api.call('DELETE', `/v1.0/subclouds/${id}`);
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toBe('Cannot delete a subcloud that is "managed" status');
    expect((await show(id))['management-state']).toBe('managed');

    expect((await manage(id, 'unmanaged')).status).toBe(200);
    expect((await api.call('DELETE', `/v1.0/subclouds/${id}`)).status).toBe(200);
    expect((await api.call('GET', `/v1.0/subclouds/${id}`)).status).toBe(404);
    const names = ((await api.call('GET', '/v1.0/subclouds')).json.subclouds as { name: string }[]).map((s) => s.name);
    expect(names).toEqual([sim(0).name, 'edge-west-1']);
    // A deleted subcloud is no longer audited.
    expect(await auditCycle()).toMatchObject({ audited: 2 });
  });

  it('a subcloud added at an address where nothing listens ends in bootstrap-failed and is never audited', async () => {
    const id = await add(3, '127.0.61.1');
    const s = await settled(id);
    expect(s['deploy-status']).toBe('bootstrap-failed');
    expect(s['error-description']).toMatch(/could not be reached at bootstrap address 127\.0\.61\.1/);
    expect(fleet.subcloud(sim(3).name)!.requests.byRoute['POST /v1/operations']).toBeUndefined();
    expect(await auditCycle()).toMatchObject({ audited: 2 });
    expect((await show(id))['availability-status']).toBe('offline');
  });

  it('a restart of fleetledger during a bootstrap resumes it; everything recorded before is intact', async () => {
    closeGate();
    let id: number;
    try {
      id = await add(4);
      await settled(id, (s) => s === 'bootstrapping');
      await vi.waitFor(() => expect(fleet.subcloud(sim(4).name)!.running?.kind).toBe('bootstrap'), { timeout: 5_000, interval: 10 });
      await t.site.stop(); // the data dir stays; the bootstrap keeps running on the subcloud
      t = await startSite({ DATA_DIR: firstDataDir });
    } finally {
      openGate();
    }
    expect((await settled(id))['deploy-status']).toBe('complete');
    expect(fleet.subcloud(sim(4).name)!.requests.byRoute['POST /v1/operations']).toBe(1);
    expect(await auditCycle()).toMatchObject({ audited: 3, changed: 1 });
    expect((await manage(id, 'managed')).status).toBe(200);

    const list = ((await api.call('GET', '/v1.0/subclouds')).json.subclouds as Record<string, any>[]).map((s) => [
      s.name, s['deploy-status'], s['management-state'], s['availability-status'],
    ]);
    expect(list).toEqual([
      [sim(0).name, 'complete', 'managed', 'online'],
      ['edge-west-1', 'complete', 'unmanaged', 'online'],
      [sim(3).name, 'bootstrap-failed', 'unmanaged', 'offline'],
      [sim(4).name, 'complete', 'managed', 'online'],
    ]);
  });

  it('history replays each subcloud: its events, its state at any revision, who changed it', async () => {
    const id = ids[1]!;
    const stream = (await api.call('GET', `/history/streams/subcloud-${id}?limit=100`)).json.events as { type: string; revision: number }[];
    const types = stream.map((e) => e.type);
    expect(types[0]).toBe('SubcloudAdded');
    expect(types).toEqual(expect.arrayContaining(['SubcloudDeployPhaseStarted', 'SubcloudAvailabilityChanged', 'SubcloudManagementStateChanged', 'SubcloudRenamed']));
    expect(types.indexOf('SubcloudRenamed')).toBeGreaterThan(types.lastIndexOf('SubcloudManagementStateChanged'));

    // Just before the rename: the old name, unmanaged.
    const beforeRename = stream[types.indexOf('SubcloudRenamed') - 1]!.revision;
    const then = (await api.call('GET', `/history/subcloud/${id}/state?atRevision=${beforeRename}`)).json;
    expect(then.state).toMatchObject({ name: sim(1).name, managementState: 'unmanaged', deployStatus: 'complete', availabilityStatus: 'online' });
    // Before it was ever managed.
    const managedAt = stream[types.indexOf('SubcloudManagementStateChanged')]!.revision;
    expect((await api.call('GET', `/history/subcloud/${id}/state?atRevision=${managedAt - 1}`)).json.state).toMatchObject({ managementState: 'unmanaged' });

    const deleted = (await api.call('GET', `/history/subcloud/${ids[2]}/state`)).json;
    expect(deleted.state).toMatchObject({ status: 'deleted', name: sim(2).name });

    const audit = (await api.call('GET', `/history/audit?stream=subcloud-${id}&type=SubcloudRenamed`)).json.entries as Record<string, any>[];
    expect(audit).toHaveLength(1);
  });

  it('no secret shows in any API answer, log line, read model or stored event byte', async () => {
    // An operator account too: created, logged in with, its token revoked.
    const created = await api.call('POST', '/v3/users', { user: { name: 'ops-e2e', password: USER_PASSWORD } });
    expect(created.status).toBe(201);
    await api.call('PUT', `/v3/projects/services/users/${created.json.user.id}/roles/operator`);
    const login = await api.call(
      'POST',
      '/v3/auth/tokens',
      passwordLogin('ops-e2e', USER_PASSWORD, 'services'),
      { 'x-auth-token': '' },
    );
    expect(login.status).toBe(201);
    const token = login.headers['x-subject-token'] as string;
    expect((await api.call('DELETE', '/v3/auth/tokens', undefined, { 'x-subject-token': token })).status).toBe(204);
    for (const ref of [...ids, 'edge-west-1']) {
      await api.call('GET', `/v1.0/subclouds/${ref}/detail`);
      await api.call('GET', `/history/streams/subcloud-${typeof ref === 'number' ? ref : ids[1]}?limit=1000`);
      await api.call('GET', `/history/subcloud/${typeof ref === 'number' ? ref : ids[1]}/state`);
    }
    await api.call('GET', '/history/audit?limit=1000');
    await api.call('GET', '/v1.0/subclouds');
    const secrets = ['St8rlingX*', SYSADMIN_B64, 'bmc-Secret-42', BMC_B64, USER_PASSWORD, token];
    const stored = readdirSync(firstDataDir).map((f) => readFileSync(join(firstDataDir, f)).toString('latin1')).join('');
    const readModels = JSON.stringify(await readModelSnapshot(t.site.readStore));
    expect(answers.length).toBeGreaterThan(40);
    expect(logLines.length).toBeGreaterThan(10);
    expect(stored.length).toBeGreaterThan(10_000);
    for (const secret of secrets) {
      expect(answers.filter((a) => a.includes(secret)), secret).toEqual([]);
      expect(logLines.filter((l) => l.includes(secret)), secret).toEqual([]);
      expect(readModels.includes(secret), secret).toBe(false);
      expect(stored.includes(secret), secret).toBe(false);
    }
    // ...while the subcloud did get its BMC password.
    expect([...fleet.subcloud(sim(0).name)!.operations.values()].find((op) => op.kind === 'install')?.params.bmc_password).toBe(BMC_B64);
  });

  it('the read models equal a rebuild from the events', async () => {
    await expectReadModelsEqualRebuild(t);
  });
});
