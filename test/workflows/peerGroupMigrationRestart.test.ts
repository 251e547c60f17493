// A restart in the middle of a batch migration: the workflow stops while the rehomes run on the agents; a new one
// resumes the open migration at start(), follows the same agent operations (none is started twice) and finishes.
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import { systemContext } from '../../commands/core/context.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { createPeerGroupMigration } from '../../workflows/peerGroupMigration.js';
import { freePort } from '../support/net.js';
import { settle } from '../support/peeredSites.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

let fleet: FleetSimulator;
let t: TestSite;
let outputDir: string;

beforeAll(async () => {
  outputDir = await mkdtemp(join(tmpdir(), 'fleetledger-migrate-restart-'));
  const port = await freePort();
  // Rehomes long enough to stop the workflow while they run.
  fleet = await startFleetSimulator({ subclouds: 2, baseAddress: '127.0.73.1', port, adminPort: 0, opDurationMs: 1_500, initialState: 'configured', outputDir });
  t = await startTestSite({ env: { SYSTEM_NAME: 'site-b' }, agent: subcloudAgentClient({ port, timeouts: { connectMs: 500, headersMs: 5_000, bodyMs: 2_000 }, retries: 1 }) });
  const ctx = () => systemContext(t.clock.now(), 'test');
  // A replica group (priority 1) with two secondary subclouds, as a peer's sync leaves them.
  const group = await t.site.commands.peerGroups.add({ 'peer-group-name': 'pg1', 'group-priority': 1 }, ctx());
  for (const [i, sim] of fleet.subclouds.entries()) {
    const values = parse(readFileSync(sim.bootstrapValuesPath!, 'utf8')) as Record<string, unknown>;
    const added = await t.site.commands.subclouds.add(
      { form: { secondary: 'true', region_name: `${'b'.repeat(31)}${i}`, 'bootstrap-address': sim.address }, bootstrapValues: values, hasDeployConfig: false },
      ctx(),
      true,
    );
    await settle(t);
    const doc = (await t.site.readStore.get<SubcloudDoc>('subclouds', String((added.state as { id: number }).id)))!;
    await t.site.commands.subclouds.update(doc, { peerGroup: String((group.state as { id: number }).id) }, ctx(), true);
  }
  await settle(t);
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fleet?.stop();
  rmSync(outputDir, { recursive: true, force: true });
});

const members = async () => (await t.call('GET', '/v1.0/subcloud-peer-groups/pg1/subclouds')).json.subclouds as Record<string, unknown>[];
const rehomes = () => fleet.subclouds.map((s) => [...fleet.subcloud(s.name)!.operations.values()].filter((o) => o.kind === 'rehome').length);

describe('a restart during a batch migration', () => {
  it('resumes the open migration, following the rehomes already running, and completes it', async () => {
    expect((await t.call('PATCH', '/v1.0/subcloud-peer-groups/pg1/migrate', { sysadmin_password: SYSADMIN_B64 })).status).toBe(200);
    const first = createPeerGroupMigration(t.site.workflowDeps, { longPollMs: 500 });
    await first.start();
    // Both rehomes are running on the agents when the workflow stops.
    for (let i = 0; i < 100 && rehomes().some((n) => n === 0); i++) await new Promise((r) => setTimeout(r, 20));
    expect(rehomes()).toEqual([1, 1]);
    await first.stop();
    await settle(t);
    expect((await members()).map((m) => m['deploy-status'])).toEqual(['rehoming', 'rehoming']);
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json.migration_status).toBe('migrating');

    const second = createPeerGroupMigration(t.site.workflowDeps, { longPollMs: 500 });
    await second.start();
    for (let i = 0; i < 250; i++) {
      await settle(t);
      if ((await t.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json.migration_status === 'complete') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await second.stop();
    await settle(t);
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json).toMatchObject({ migration_status: 'complete', system_leader_name: 'site-b' });
    for (const m of await members()) expect(m).toMatchObject({ 'deploy-status': 'complete', 'management-state': 'managed', 'availability-status': 'online' });
    // The same operation was followed after the restart: no rehome was started twice.
    expect(rehomes()).toEqual([1, 1]);
  });
});
