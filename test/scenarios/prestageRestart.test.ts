// A prestage strategy survives fleetledger being killed mid-way: the site runs as its own process (main.ts) beside
// the fleet simulator; while packages are being prestaged it is SIGKILLed, started again on the same data, and
// resumes the strategy from its events. Every subcloud ran each prestage operation exactly once, and every step
// entered each state once. The only waits poll the API.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { eventually } from '../support/geoScenario.js';
import { freePort } from '../support/net.js';
import { killAllSiteProcesses, startSiteProcess, type SiteProcess } from '../support/process.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

const COUNT = 6;
let sim: FleetSimulator;
let site: SiteProcess;
let dataDir: string;
let simDir: string;
let env: Record<string, string>;

const start = () => startSiteProcess({ dataDir, env, startTimeoutMs: 30_000 });
const names = () => sim.subclouds.slice(0, COUNT).map((s) => s.name);
const prestageOps = (name: string) =>
  [...sim.subcloud(name)!.operations.values()].sort((a, b) => a.createdAt - b.createdAt).map((op) => op.kind).filter((k) => k.startsWith('prestage-'));

beforeAll(async () => {
  simDir = mkdtempSync(join(tmpdir(), 'fleetledger-prestage-restart-sim-'));
  dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-prestage-restart-'));
  const agentPort = await freePort();
  // Packages take long enough to kill the site in the middle of them.
  sim = await startFleetSimulator({
    subclouds: COUNT + 1,
    baseAddress: '127.0.84.1',
    port: agentPort,
    adminPort: 0,
    opDurationMs: { rehome: 200, 'prestage-precheck': 100, 'prestage-packages': 1_500, 'prestage-images': 300 },
    initialState: 'configured',
    outputDir: simDir,
  });
  env = {
    PORT: String(await freePort()),
    SUBCLOUD_AGENT_PORT: String(agentPort),
    SUBCLOUD_AUDIT_INTERVAL: '1',
    WORKFLOW_TIME_SCALE: '0.02',
    SYSTEM_CONTROLLER_AGENT_ADDRESS: sim.subclouds[COUNT]!.address,
  };
  site = await start();
  // The site takes over the running subclouds (a rehome each), which come online, and manages them.
  for (const s of sim.subclouds.slice(0, COUNT)) {
    const r = await site.form(
      'POST',
      '/v1.0/subclouds',
      { 'bootstrap-address': s.address, migrate: 'true', sysadmin_password: SYSADMIN_B64 },
      { bootstrap_values: readFileSync(s.bootstrapValuesPath!, 'utf8') },
    );
    expect(r.status, JSON.stringify(r.json)).toBe(200);
  }
  await eventually(
    async () => ((await site.call('GET', '/v1.0/subclouds')).json.subclouds as Record<string, string>[]).filter((s) => s['deploy-status'] === 'complete' && s['availability-status'] === 'online').length,
    (n) => n === COUNT,
    'every subcloud complete and online',
  );
  for (const name of names()) expect((await site.form('PATCH', `/v1.0/subclouds/${name}`, { 'management-state': 'managed' })).status).toBe(200);
}, 90_000);

afterAll(async () => {
  await killAllSiteProcesses();
  await sim?.stop();
  for (const dir of [dataDir, simDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetledger killed mid-strategy', () => {
  it('resumes after a restart on the same data; no operation runs twice, no step enters a state twice', async () => {
    const created = await site.call('POST', '/v1.0/sw-update-strategy', { type: 'prestage', sysadmin_password: SYSADMIN_B64, 'max-parallel-subclouds': '3' });
    expect(created.status, created.text).toBe(200);
    const id = created.json.id as number;
    expect((await site.call('POST', '/v1.0/sw-update-strategy/actions', { action: 'apply' })).status).toBe(200);
    await eventually(
      async () => ((await site.call('GET', '/v1.0/sw-update-strategy/steps')).json['strategy-steps'] as { state: string }[]).filter((s) => s.state === 'prestaging-packages').length,
      (n) => n >= 2,
      'two steps prestaging packages',
    );
    site.kill('SIGKILL');
    await site.exited;

    site = await start();
    const end = await eventually(
      async () => (await site.call('GET', '/v1.0/sw-update-strategy')).json.state as string,
      (state) => ['complete', 'failed', 'aborted'].includes(state),
      'the strategy to end',
      60_000,
    );
    expect(end).toBe('complete');
    for (const name of names()) expect(prestageOps(name)).toEqual(['prestage-precheck', 'prestage-packages', 'prestage-images']);
    const steps = (await site.call('GET', '/v1.0/sw-update-strategy/steps')).json['strategy-steps'] as { id: number; state: string }[];
    expect(steps.map((s) => s.state)).toEqual(Array(COUNT).fill('complete'));
    for (const step of steps) {
      const history = await site.call('GET', `/history/streams/strategyStep-${id}.${step.id}`);
      const states = (history.json.events as { type: string; data: { state?: string } }[])
        .filter((e) => e.type === 'StrategyStepStateChanged')
        .map((e) => e.data.state);
      expect(states).toEqual(['prestage-precheck', 'prestage-prepare', 'prestaging-packages', 'prestaging-images']);
    }
  }, 120_000);
});
