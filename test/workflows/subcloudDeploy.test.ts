// The deploy workflow against the in-process fleet simulator, on the gated agent clock (test/support/agentClock.ts):
// nothing waits for an operation's duration; a test that needs an operation to stay running closes the gate.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { secretBox } from '../../adapters/secrets/secretBox.js';
import { subcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import { TRANSITORY_STATES } from '../../domain/distcloud/subcloud.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { subcloudDeployWorkflow } from '../../workflows/subcloudDeploy.js';
import { gatedAgentClock } from '../support/agentClock.js';
import { expectReadModelsEqualRebuild } from '../support/readModels.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

const PORT = 18120;
const workflow = subcloudDeployWorkflow({ pollMs: 1_000 });
const { clock: simClock, sleep, closeGate, openGate } = gatedAgentClock();

const newAgent = () => subcloudAgentClient({ port: PORT, timeouts: { connectMs: 500, headersMs: 2_000, bodyMs: 2_000 }, sleep });

let fleet: FleetSimulator;
let t: TestSite;
let outputDir: string;

beforeAll(async () => {
  outputDir = await mkdtemp(join(tmpdir(), 'fleetledger-deploy-sim-'));
  fleet = await startFleetSimulator({
    subclouds: 10, baseAddress: '127.0.52.1', port: PORT, adminPort: 0, opDurationMs: 5_000, clock: simClock, outputDir,
    // Subcloud 8 is deployed already (under another system controller): it is the one that migrates here.
    initialState: (i) => (i === 8 ? 'configured' : 'installed'),
  });
  t = await startTestSite({ workflows: [workflow], agent: newAgent() });
});

afterAll(async () => {
  openGate();
  await t?.stop();
  await fleet?.stop();
  rmSync(outputDir, { recursive: true, force: true });
});

const sim = (i: number) => fleet.subclouds[i]!;
const simState = (i: number) => fleet.subcloud(sim(i).name)!;

/** `dcmanager subcloud add` with the simulator's values files for subcloud i. */
async function add(site: TestSite, i: number, o: { install?: boolean; deployConfig?: boolean; address?: string; migrate?: boolean } = {}) {
  const r = await postAdd(site, i, o);
  expect(r.status).toBe(200);
  return (r.json as { id: number }).id;
}

function postAdd(site: TestSite, i: number, o: { install?: boolean; deployConfig?: boolean; address?: string; migrate?: boolean } = {}) {
  const fields: Record<string, string> = { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': o.address ?? sim(i).address };
  if (o.migrate) fields.migrate = 'true';
  if (o.install) fields.bmc_password = Buffer.from('bmc-secret').toString('base64');
  const files: Record<string, string> = { bootstrap_values: readFileSync(sim(i).bootstrapValuesPath!, 'utf8') };
  if (o.install) files.install_values = readFileSync(sim(i).installValuesPath!, 'utf8');
  if (o.deployConfig) files.deploy_config = 'applications: []\n';
  return site.form('POST', '/v1.0/subclouds', fields, files);
}

/** Where a deployment ends: complete or a failed state (the `*-complete` of a phase is a step on the way). */
const settled = (status: string) => status === 'complete' || (status.endsWith('-failed') && !(status in TRANSITORY_STATES));

/** Waits (real time, briefly: the clock is the simulator's) until the subcloud's deploy-status satisfies `done`. */
async function waitForStatus(site: TestSite, id: number, done: (status: string) => boolean = settled) {
  return vi.waitFor(
    async () => {
      const r = await site.call('GET', `/v1.0/subclouds/${id}`);
      expect(done(r.json['deploy-status'] as string), `deploy-status ${String(r.json['deploy-status'])}`).toBe(true);
      return r.json as Record<string, string>;
    },
    { timeout: 10_000, interval: 20 },
  );
}

/** The subcloud's events. */
async function events(site: TestSite, id: number) {
  return (await site.site.eventStore.readStream(`subcloud-${id}`)).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> }));
}

/** The deploy statuses the subcloud went through, in order (repeats of one status folded). */
async function statuses(site: TestSite, id: number) {
  const out: string[] = [];
  for (const e of await events(site, id)) {
    const s = e.data.deployStatus;
    if (typeof s === 'string' && out[out.length - 1] !== s) out.push(s);
  }
  return out;
}

const kinds = (i: number) => [...simState(i).operations.values()].map((op) => op.kind);

describe('subcloud deploy workflow', () => {
  it('deploys added subclouds to complete: install only with install values, config only with a deploy config', async () => {
    const [full, plain, config] = await Promise.all([
      add(t, 0, { install: true, deployConfig: true }),
      add(t, 1),
      add(t, 2, { deployConfig: true }),
    ]);
    for (const id of [full, plain, config]) expect((await waitForStatus(t, id))['deploy-status']).toBe('complete');

    expect(await statuses(t, full)).toEqual([
      'not-deployed', 'creating', 'create-complete',
      'pre-install', 'installing', 'install-complete',
      'pre-bootstrap', 'bootstrapping', 'bootstrap-complete',
      'pre-config', 'configuring', 'complete',
    ]);
    expect(await statuses(t, plain)).toEqual(['not-deployed', 'creating', 'create-complete', 'pre-bootstrap', 'bootstrapping', 'complete']);
    expect(await statuses(t, config)).toEqual([
      'not-deployed', 'creating', 'create-complete', 'pre-bootstrap', 'bootstrapping', 'bootstrap-complete', 'pre-config', 'configuring', 'complete',
    ]);
    expect(kinds(0)).toEqual(['install', 'bootstrap', 'config']);
    // The secrets reach the subcloud (opened from the events that keep them sealed).
    const sent = Object.fromEntries([...simState(0).operations.values()].map((op) => [op.kind, op.params]));
    expect(sent.install).toMatchObject({ bmc_password: Buffer.from('bmc-secret').toString('base64'), software_version: '24.03' });
    expect(sent.bootstrap).toMatchObject({ sysadmin_password: SYSADMIN_B64 });
    expect(sent.config).toEqual({ deploy_config: 'applications: []\n' });
    expect(kinds(1)).toEqual(['bootstrap']);
    expect(kinds(2)).toEqual(['bootstrap', 'config']);
    expect(simState(0).deployState).toBe('configured');
    expect(simState(1)).toMatchObject({ deployState: 'bootstrapped', systemName: sim(1).name, systemController: { name: 'SystemController' } });

    // Progress notes from the agent, one per step/percent bucket, never two alike in a row.
    const notes = (await events(t, full)).filter((e) => e.type === 'SubcloudDeployPhaseProgressed' && e.data.detail !== null).map((e) => e.data.detail as string);
    expect(notes).toEqual(expect.arrayContaining([
      'step 1/5: validating install values (0%)', 'step 1/5: validating bootstrap values (0%)', 'step 1/3: validating the deploy config (0%)',
    ]));
    expect(notes.length).toBeGreaterThan(3);
    expect(notes.every((n, i) => n !== notes[i - 1])).toBe(true);
    const full2 = (await t.call('GET', `/v1.0/subclouds/${full}`)).json;
    expect(full2).toMatchObject({ 'error-description': 'No errors present', 'software-version': '24.03' });
  });

  it('a bootstrap address where nothing listens ends in bootstrap-failed, saying the subcloud could not be reached', async () => {
    const id = await add(t, 3, { address: '127.0.99.1' });
    const s = await waitForStatus(t, id);
    expect(s['deploy-status']).toBe('bootstrap-failed');
    expect(s['error-description']).toBe(
      `Subcloud ${sim(3).name} could not be reached at bootstrap address 127.0.99.1 to start the bootstrap operation: refused after 3 attempt(s)`,
    );
    expect(kinds(3)).toEqual([]);
  });

  it('an operation the agent fails gives the phase\'s failed state with the agent\'s error', async () => {
    await fleet.setFaults(sim(4).name, { failOperation: 'install' });
    const id = await add(t, 4, { install: true });
    const s = await waitForStatus(t, id);
    expect(s['deploy-status']).toBe('install-failed');
    expect(s['error-description']).toBe('install failed at step "mounting the install image" (injected fault)');
    expect(kinds(4)).toEqual(['install']);
    await fleet.clearFaults(sim(4).name);
  });

  it('an agent restart during bootstrap fails the phase (interrupted), it does not hang', async () => {
    closeGate();
    try {
      const id = await add(t, 5);
      await waitForStatus(t, id, (s) => s === 'bootstrapping');
      await vi.waitFor(() => expect(simState(5).running?.kind).toBe('bootstrap'), { timeout: 5_000, interval: 10 });
      await fleet.restart(sim(5).name);
      openGate();
      const s = await waitForStatus(t, id);
      expect(s['deploy-status']).toBe('bootstrap-failed');
      expect(s['error-description']).toMatch(/^the agent restarted during step ".+" \(interrupted\)$/);
    } finally {
      openGate();
    }
  });

  it('migrate: the region is the live subcloud\'s, and only the rehome runs, naming this system controller', async () => {
    const unreachable = await postAdd(t, 8, { migrate: true, address: '127.0.99.2' });
    expect(unreachable.status).toBe(400);
    expect(unreachable.json.error.message).toBe(
      `Unable to retrieve subcloud region while trying to connect to the subcloud ${sim(8).name} with bootstrap address 127.0.99.2`,
    );
    const before = simState(8).regionName;
    expect(before).toMatch(/^[0-9a-f]{32}$/);
    const id = await add(t, 8, { migrate: true });
    const s = await waitForStatus(t, id);
    expect(s).toMatchObject({ 'deploy-status': 'complete', 'region-name': before });
    expect(await statuses(t, id)).toEqual(['not-deployed', 'pre-rehome', 'rehoming', 'complete']);
    expect(kinds(8)).toEqual(['rehome']);
    expect(simState(8).systemController).toMatchObject({ name: 'SystemController' });
  });

  it('a restart of fleetledger during bootstrap resumes the same operation: one POST, no phase twice', async () => {
    const first = await startTestSite({ workflows: [workflow], agent: newAgent(), stores: 'embedded' });
    let second: TestSite | undefined;
    closeGate();
    try {
      const id = await add(first, 6, { deployConfig: true });
      await waitForStatus(first, id, (s) => s === 'bootstrapping');
      await vi.waitFor(() => expect(simState(6).running?.kind).toBe('bootstrap'), { timeout: 5_000, interval: 10 });
      await first.site.stop(); // the workflow stops while the operation runs on the agent (the data dir stays)
      expect(simState(6).running?.kind).toBe('bootstrap');

      second = await startTestSite({ workflows: [workflow], agent: newAgent(), stores: 'embedded', env: { DATA_DIR: first.dataDir } });
      openGate();
      expect((await waitForStatus(second, id))['deploy-status']).toBe('complete');
      expect(await statuses(second, id)).toEqual([
        'not-deployed', 'creating', 'create-complete', 'pre-bootstrap', 'bootstrapping', 'bootstrap-complete', 'pre-config', 'configuring', 'complete',
      ]);
      expect(kinds(6)).toEqual(['bootstrap', 'config']);
      expect(simState(6).requests.byRoute['POST /v1/operations']).toBe(2);
      const started = (await events(second, id)).filter((e) => e.type === 'SubcloudDeployPhaseStarted').map((e) => e.data.phase);
      expect(started).toEqual(['create', 'bootstrap', 'config']);
    } finally {
      openGate();
      await second?.stop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
  it('a site without the key that sealed the BMC password fails the install preparation, naming the key; all else replays', async () => {
    const first = await startTestSite({ stores: 'embedded', secrets: secretBox([randomBytes(32)]) });
    let second: TestSite | undefined;
    try {
      const id = await add(first, 9, { install: true });
      const kid = (await events(first, id))[0]!.data.secrets as { bmcPassword: { kid: string } };
      await first.site.stop();
      // The key is gone: the site restarts with another one.
      second = await startTestSite({ workflows: [workflow], agent: newAgent(), stores: 'embedded', env: { DATA_DIR: first.dataDir }, secrets: secretBox([randomBytes(32)]) });
      const s = await waitForStatus(second, id);
      expect(s['deploy-status']).toBe('pre-install-failed');
      expect(s['error-description']).toBe(
        `Subcloud ${sim(9).name}: cannot start the install operation: the secret was sealed with key ${kid.bmcPassword.kid}, which this site does not have (SECRET_KEY / SECRET_KEY_FILE)`,
      );
      expect(kinds(9)).toEqual([]);
      expect(s).toMatchObject({ name: sim(9).name, 'management-start-ip': expect.any(String) });
      await expectReadModelsEqualRebuild(second);
    } finally {
      await second?.stop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });

  it('a restart that finds the agent unreachable marks the deploy interrupted (TRANSITORY_STATES)', async () => {
    const first = await startTestSite({ workflows: [workflow], agent: newAgent(), stores: 'embedded' });
    let second: TestSite | undefined;
    closeGate();
    try {
      const id = await add(first, 7);
      await waitForStatus(first, id, (s) => s === 'bootstrapping');
      await vi.waitFor(() => expect(simState(7).running?.kind).toBe('bootstrap'), { timeout: 5_000, interval: 10 });
      await first.site.stop();
      await fleet.setFaults(sim(7).name, { unreachable: true });
      openGate();
      second = await startTestSite({ workflows: [workflow], agent: newAgent(), stores: 'embedded', env: { DATA_DIR: first.dataDir } });
      expect((await waitForStatus(second, id))['deploy-status']).toBe('bootstrap-failed');
      const last = (await events(second, id)).at(-1)!;
      expect(last).toMatchObject({ type: 'SubcloudDeployInterrupted', data: { previousStatus: 'bootstrapping', deployStatus: 'bootstrap-failed' } });
      expect(simState(7).requests.byRoute['POST /v1/operations']).toBe(1);
    } finally {
      openGate();
      await fleet.clearFaults(sim(7).name);
      await second?.stop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});
