// The batch migration workflow on site B against the fleet simulator: B's replica group holds secondary subclouds
// (created by A, its peer, as a sync would), PATCH /migrate rehomes them through their agents at most
// max_subcloud_rehoming at a time, manages the ones that come online, and B leads the group afterwards, whatever
// became of each subcloud. Refused requests append nothing; the password never shows.
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerDcmanager, type PeerDcmanager } from '../../adapters/peer/peerDcmanager.js';
import { subcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { createPeerGroupMigration } from '../../workflows/peerGroupMigration.js';
import { freePort } from '../support/geoScenario.js';
import { settle, startPeeredSites, type PeeredSites } from '../support/peeredSites.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

const COUNT = 6;
let fleet: FleetSimulator;
let sites: PeeredSites;
let atB: PeerDcmanager;
let outputDir: string;
let agentPort: number;

beforeAll(async () => {
  outputDir = await mkdtemp(join(tmpdir(), 'fleetledger-migrate-sim-'));
  agentPort = await freePort();
  // Rehomes take 300 ms of real time: long enough to overlap, short enough not to wait.
  fleet = await startFleetSimulator({ subclouds: COUNT + 1, baseAddress: '127.0.71.1', port: agentPort, adminPort: 0, opDurationMs: 300, initialState: 'configured', outputDir });
  const agent = () => subcloudAgentClient({ port: agentPort, timeouts: { connectMs: 500, headersMs: 12_000, bodyMs: 2_000 }, retries: 1 });
  sites = await startPeeredSites({ a: { agent: agent() }, b: { agent: agent() } });
  const peer = (await sites.a.site.readStore.get<SystemPeerDoc>(COLLECTIONS.systemPeers, String(sites.peerIds.atA)))!;
  atB = peerDcmanager(sites.a.site.workflowDeps.geo!.directory.sessionFor(peer), { timeoutMs: 10_000 });
  // B's replica group (priority 1, led by A) with secondary copies, as A's sync makes them; the last one's rehome
  // data has an address where no agent listens.
  const group = await atB.addPeerGroup({ 'peer-group-name': 'pg1', 'group-priority': 1, 'max-subcloud-rehoming': 2, 'system-leader-id': sites.a.site.localSystem().uuid, 'system-leader-name': 'site-a' });
  for (let i = 0; i < COUNT; i++) {
    const sim = fleet.subclouds[i]!;
    const region = `${'a'.repeat(31)}${i}`;
    await atB.addSubcloud({
      fields: { secondary: 'true', region_name: region, 'bootstrap-address': i === COUNT - 1 ? '127.0.99.2' : sim.address },
      files: { bootstrap_values: readFileSync(sim.bootstrapValuesPath!, 'utf8') },
    });
    await atB.updateSubcloud(region, { fields: { peer_group: String(group.id) } });
  }
  await settle(sites.b);
}, 60_000);
afterAll(async () => {
  await sites?.stop();
  await fleet?.stop();
  rmSync(outputDir, { recursive: true, force: true });
});

const b = () => sites.b;
const subclouds = async () => (await b().call('GET', '/v1.0/subcloud-peer-groups/pg1/subclouds')).json.subclouds as Record<string, unknown>[];

describe('PATCH /v1.0/subcloud-peer-groups/{ref}/migrate', () => {
  it('refuses a bad request with dcmanager\'s message and appends nothing', async () => {
    const head = await b().site.eventStore.headPosition();
    const cases: [unknown, number, string][] = [
      [{}, 400, 'Body required'],
      [{ other: 'x' }, 400, 'Unable to migrate subcloud peer group: pg1 need sysadmin_password'],
      [{ sysadmin_password: 'not base64!' }, 400, 'Failed to decode subcloud sysadmin_password, verify the password is base64 encoded'],
    ];
    for (const [body, status, message] of cases) {
      const r = await b().call('PATCH', '/v1.0/subcloud-peer-groups/pg1/migrate', body);
      expect(r.status, r.text).toBe(status);
      expect(r.json.error.message).toBe(message);
    }
    expect((await b().call('PATCH', '/v1.0/subcloud-peer-groups/nope/migrate', { sysadmin_password: SYSADMIN_B64 })).status).toBe(404);
    expect(await b().site.eventStore.headPosition()).toBe(head);
  });

  it('rehomes the secondary subclouds, at most max_subcloud_rehoming at once; the one at a wrong address fails; B leads afterwards', async () => {
    const migration = createPeerGroupMigration(b().site.workflowDeps, { longPollMs: 2_000 });
    const r = await b().call('PATCH', '/v1.0/subcloud-peer-groups/pg1/migrate', { sysadmin_password: SYSADMIN_B64 }, { 'x-correlation-id': 'migrate-pg1' });
    expect(r.status, r.text).toBe(200);
    expect(r.json.subclouds).toHaveLength(COUNT);
    expect(JSON.stringify(r.json)).not.toContain(SYSADMIN_B64);
    const group = (await b().call('GET', '/v1.0/subcloud-peer-groups/pg1')).json;
    expect(group.migration_status).toBe('migrating');
    // A second request while it runs.
    const again = await b().call('PATCH', '/v1.0/subcloud-peer-groups/pg1/migrate', { sysadmin_password: SYSADMIN_B64 });
    expect(again.status).toBe(409);

    const { state } = await b().site.commands.peerGroups.load(group.id);
    const report = await migration.run(group.id, (state as { migrationId: string }).migrationId);
    await settle(b());
    expect(Object.values(report.subclouds).filter((s) => s === 'complete')).toHaveLength(COUNT - 1);

    const members = await subclouds();
    for (const m of members.slice(0, COUNT - 1)) {
      expect(m).toMatchObject({ 'deploy-status': 'complete', 'management-state': 'managed', 'availability-status': 'online' });
    }
    expect(members[COUNT - 1]).toMatchObject({ 'deploy-status': 'rehome-failed', 'management-state': 'unmanaged' });
    expect(String(members[COUNT - 1]!['error-description'])).toContain('could not be reached at bootstrap address 127.0.99.2');
    expect((await b().call('GET', '/v1.0/subcloud-peer-groups/pg1')).json).toMatchObject({ migration_status: 'complete', system_leader_name: 'site-b', system_leader_id: b().site.localSystem().uuid });

    // Each subcloud now answers to B; never more than 2 rehomes ran at once.
    const windows = fleet.subclouds.slice(0, COUNT - 1).map((s) => {
      const op = [...fleet.subcloud(s.name)!.operations.values()].find((o) => o.kind === 'rehome')!;
      expect(fleet.subcloud(s.name)!.systemController).toMatchObject({ name: 'site-b', uuid: b().site.localSystem().uuid });
      return [op.createdAt, op.finishedAt!] as const;
    });
    const overlapping = Math.max(...windows.map(([start]) => windows.filter(([s, e]) => s <= start && start < e).length));
    expect(overlapping).toBeLessThanOrEqual(2);
    expect(overlapping).toBe(2);

    // Why B leads: the leader change carries the migration request's correlation id.
    const history = await b().call('GET', '/history/audit?type=PeerGroupLeaderChanged&correlationId=migrate-pg1');
    expect(history.json.entries).toHaveLength(1);
    const events = JSON.stringify(await b().site.eventStore.readAll(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(events).not.toContain(SYSADMIN_B64);
  });

  it('nothing left to migrate: 400', async () => {
    const r = await b().call('PATCH', '/v1.0/subcloud-peer-groups/pg1/migrate', { sysadmin_password: SYSADMIN_B64 });
    // The failed one is still eligible: it is migrated again (and fails again at the same address).
    expect(r.status, r.text).toBe(200);
    expect(r.json.subclouds).toHaveLength(1);
  });
});
