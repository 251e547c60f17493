// Issue 6, item 9: the geo-redundancy scenarios between two real fleetledger processes (A and B) and the fleet
// simulator, on loopback. A site goes "down" by stopping its process and comes back on the same data. Every step
// asserts what the API of each site shows; the history API shows why.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startGeoScenario, type GeoScenario, type SiteName } from '../support/geoScenario.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

let geo: GeoScenario;
let peers: Awaited<ReturnType<GeoScenario['peer']>>;
/** An address where no subcloud agent listens: a migration through it fails. */
const WRONG_ADDRESS = '127.0.99.1';

beforeAll(async () => {
  geo = await startGeoScenario({ subclouds: 5, baseAddress: '127.0.61.1' });
  peers = await geo.peer();
}, 120_000);
afterAll(async () => geo?.stop());

const site = (name: SiteName) => geo.sites[name];
const sim = (i: number) => geo.sim.subclouds[i]!;
const bootstrapValues = (i: number) => readFileSync(sim(i).bootstrapValuesPath!, 'utf8');

/** The site's only association (the scenario has one group and one peer). */
async function association(name: SiteName) {
  const r = await site(name).call('GET', '/v1.0/peer-group-associations');
  return (r.json.peer_group_associations as Record<string, unknown>[])[0];
}

async function associationOf(name: SiteName, groupId: number) {
  const r = await site(name).call('GET', '/v1.0/peer-group-associations');
  return (r.json.peer_group_associations as Record<string, unknown>[]).find((a) => a['peer-group-id'] === groupId);
}

async function group(name: SiteName, ref: string) {
  const r = await site(name).call('GET', `/v1.0/subcloud-peer-groups/${ref}`);
  expect(r.status, r.text).toBe(200);
  return r.json as Record<string, unknown>;
}

/** The site's system peer (the other site). */
async function systemPeer(name: SiteName) {
  const r = await site(name).call('GET', '/v1.0/system-peers');
  return (r.json.system_peers as Record<string, unknown>[])[0]!;
}

const peerAvailable = (name: SiteName) => eventually(() => systemPeer(name), (p) => p['availability-state'] === 'available', `${name} sees its peer available`);

/** PATCH /migrate on `name`, with a correlation id the history can be searched by. */
async function migrate(name: SiteName, ref: string, correlationId: string) {
  const r = await site(name).call('PATCH', `/v1.0/subcloud-peer-groups/${ref}/migrate`, { sysadmin_password: SYSADMIN_B64 }, { 'x-correlation-id': correlationId });
  expect(r.status, r.text).toBe(200);
  return r;
}

async function subcloud(name: SiteName, ref: string | number) {
  const r = await site(name).call('GET', `/v1.0/subclouds/${ref}`);
  return r.status === 200 ? (r.json as Record<string, unknown>) : undefined;
}

/** A subcloud already running (the simulator's subcloud i) brought under site `name`: added with migrate=true,
 *  rehomed, online, then managed. */
async function adoptSubcloud(name: SiteName, i: number) {
  const r = await site(name).form(
    'POST',
    '/v1.0/subclouds',
    { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': sim(i).address, migrate: 'true' },
    { bootstrap_values: bootstrapValues(i) },
  );
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  await eventually(() => subcloud(name, sim(i).name), (s) => s?.['deploy-status'] === 'complete' && s['availability-status'] === 'online', `${sim(i).name} complete and online on ${name}`);
  const managed = await site(name).form('PATCH', `/v1.0/subclouds/${sim(i).name}`, { 'management-state': 'managed' });
  expect(managed.status, JSON.stringify(managed.json)).toBe(200);
  return r.json as { id: number; 'region-name': string };
}

describe('geo-redundancy between two site processes', () => {
  it('pre-steps: a peer group on A with a subcloud whose rehome data has a wrong bootstrap address', async () => {
    await adoptSubcloud('a', 0);
    const group = await site('a').call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg1' });
    expect(group.status, group.text).toBe(200);
    const joined = await site('a').form(
      'PATCH',
      `/v1.0/subclouds/${sim(0).name}`,
      { peer_group: 'pg1', bootstrap_address: WRONG_ADDRESS },
      { bootstrap_values: bootstrapValues(0) },
    );
    expect(joined.status, JSON.stringify(joined.json)).toBe(200);
    expect(joined.json).toMatchObject({ peer_group_id: group.json.id });
    // Still reached where it runs: the wrong address is only where a migration would go.
    await eventually(() => subcloud('a', sim(0).name), (s) => s?.['availability-status'] === 'online', 'still online on A');
  });

  it('on the primary leader: an unmanaged or offline subcloud cannot join, a member cannot be managed or unmanaged, but can be updated', async () => {
    const r = await site('a').form(
      'POST',
      '/v1.0/subclouds',
      { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': sim(1).address, migrate: 'true' },
      { bootstrap_values: bootstrapValues(1) },
    );
    expect(r.status).toBe(200);
    await eventually(() => subcloud('a', sim(1).name), (s) => s?.['deploy-status'] === 'complete', `${sim(1).name} complete on A`);
    const unmanagedJoin = await site('a').form('PATCH', `/v1.0/subclouds/${sim(1).name}`, { peer_group: 'pg1', bootstrap_address: sim(1).address }, { bootstrap_values: bootstrapValues(1) });
    expect(unmanagedJoin.status).toBe(400);
    expect(unmanagedJoin.json.error.message).toBe('Only subclouds that are managed and online can be added to a peer group.');

    // Managed but offline (its agent stops answering): still refused.
    await eventually(() => subcloud('a', sim(1).name), (x) => x?.['availability-status'] === 'online', `${sim(1).name} online on A`);
    expect((await site('a').form('PATCH', `/v1.0/subclouds/${sim(1).name}`, { 'management-state': 'managed' })).status).toBe(200);
    await geo.sim.setFaults(sim(1).name, { unreachable: true });
    await eventually(() => subcloud('a', sim(1).name), (x) => x?.['availability-status'] === 'offline', `${sim(1).name} offline on A`);
    const offlineJoin = await site('a').form('PATCH', `/v1.0/subclouds/${sim(1).name}`, { peer_group: 'pg1', bootstrap_address: sim(1).address }, { bootstrap_values: bootstrapValues(1) });
    expect(offlineJoin.status).toBe(400);
    expect(offlineJoin.json.error.message).toBe('Only subclouds that are managed and online can be added to a peer group.');

    const unmanage = await site('a').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { 'management-state': 'unmanaged' });
    expect(unmanage.status).toBe(400);
    expect(unmanage.json.error.message).toBe('Cannot update the management state of a subcloud that is associated with a peer group.');

    const described = await site('a').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { description: 'edge site 0' });
    expect(described.status, JSON.stringify(described.json)).toBe(200);
    expect(described.json.description).toBe('edge site 0');
  });

  it('pre-steps: an association on A syncs the group to B; both sites in-sync', async () => {
    const r = await site('a').call('POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: peers.atA.id, peer_group_priority: 2 });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ 'association-type': 'primary', 'sync-status': 'syncing' });
    await eventually(() => association('a'), (x) => x?.['sync-status'] === 'in-sync', 'A in-sync');
    const atB = await eventually(() => association('b'), (x) => x?.['sync-status'] === 'in-sync', 'B in-sync');
    expect(atB!['association-type']).toBe('non-primary');
    const groupAtB = (await site('b').call('GET', '/v1.0/subcloud-peer-groups/pg1')).json;
    expect(groupAtB).toMatchObject({ group_priority: 2, system_leader_name: 'site-a' });
    const copy = await subcloud('b', sim(0).name);
    expect(copy).toMatchObject({ 'deploy-status': 'secondary', peer_group_id: groupAtB.id });
  });

  it('on the secondary site a member cannot be updated', async () => {
    const r = await site('b').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { description: 'from b' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('Subcloud update is only allowed when its peer group priority value is 0.');
  });

  it('migrating the group to B with a wrong bootstrap address: rehome-failed on both sites, and both record B as the leader', async () => {
    await peerAvailable('b');
    const m = await migrate('b', 'pg1', 'migrate-pg1-to-b-1');
    expect(m.json.subclouds.map((x: { name: string }) => x.name)).toEqual([sim(0).name]);
    // The migration ends with B leading; its `complete` status lasts until A's audit resets it (to `none`).
    await eventually(() => group('b', 'pg1'), (g) => g.migration_status !== 'migrating' && g.system_leader_name === 'site-b', 'B: migration over, B leads');
    expect(await subcloud('b', sim(0).name)).toMatchObject({ 'deploy-status': 'rehome-failed' });
    await eventually(() => subcloud('a', sim(0).name), (x) => x?.['deploy-status'] === 'rehome-failed', 'A mirrors rehome-failed');
    expect(await subcloud('a', sim(0).name)).toMatchObject({ 'management-state': 'unmanaged' });
    await eventually(() => group('a', 'pg1'), (g) => g.system_leader_name === 'site-b', 'A records B as the leader');
    // Why: the leader change on B carries the migration request's correlation id.
    const history = await site('b').call('GET', '/history/audit?type=PeerGroupLeaderChanged&correlationId=migrate-pg1-to-b-1');
    expect(history.json.entries).toHaveLength(1);
    // On A, the audit B asked for recorded the new leader and the mirrored failure.
    const atA = await site('a').call('GET', '/history/audit?type=PeerGroupLeaderChanged&actor=peer-group-audit');
    expect(atA.json.entries.length).toBeGreaterThanOrEqual(1);
    const mirrored = await site('a').call('GET', `/history/audit?stream=subcloud-1&type=SubcloudDeployStatusChanged&actor=peer-group-audit`);
    expect(mirrored.json.entries.length).toBeGreaterThanOrEqual(1);
  });

  it('with A up, B cannot correct the bootstrap address', async () => {
    const r = await site('b').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { bootstrap_address: sim(0).address });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(
      'Subcloud bootstrap values or address update in the non-primary site is only allowed when rehome failed and the primary site is unavailable.',
    );
  });

  it('A migrates the group back (failing again at the wrong address), corrects the address as primary leader, and then migrates successfully', async () => {
    await migrate('a', 'pg1', 'migrate-pg1-to-a-1');
    await eventually(() => group('a', 'pg1'), (g) => g.migration_status !== 'migrating' && g.system_leader_name === 'site-a', 'A leads again');
    expect(await subcloud('a', sim(0).name)).toMatchObject({ 'deploy-status': 'rehome-failed' });
    const fixed = await site('a').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { bootstrap_address: sim(0).address });
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    await migrate('a', 'pg1', 'migrate-pg1-to-a-2');
    await eventually(
      () => subcloud('a', sim(0).name),
      (x) => x?.['deploy-status'] === 'complete' && x['management-state'] === 'managed' && x['availability-status'] === 'online',
      'A: complete, managed, online',
    );
    await eventually(() => subcloud('b', sim(0).name), (x) => x?.['deploy-status'] === 'secondary', 'B: secondary again');
  });

  it('with A down, B may correct only the bootstrap values and address of a subcloud whose rehome failed; its association goes out-of-sync', async () => {
    // An operator puts a wrong address back on A and syncs it: B's copy has it too, and a migration to B fails.
    expect((await site('a').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { bootstrap_address: WRONG_ADDRESS })).status).toBe(200);
    const associationId = (await association('a'))!.id as number;
    expect((await site('a').call('PATCH', `/v1.0/peer-group-associations/${associationId}/sync`)).status).toBe(200);
    await eventually(() => association('a'), (x) => x?.['sync-status'] === 'in-sync', 'A in-sync after the sync');
    await eventually(
      () => subcloud('b', sim(0).name),
      (x) => JSON.parse(String(x?.['rehome_data'])).saved_payload['bootstrap-address'] === WRONG_ADDRESS,
      'the wrong address on B',
    );
    await migrate('b', 'pg1', 'migrate-pg1-to-b-2');
    await eventually(() => subcloud('b', sim(0).name), (x) => x?.['deploy-status'] === 'rehome-failed', 'B: rehome-failed');
    await geo.down('a');
    await eventually(() => systemPeer('b'), (p) => p['availability-state'] === 'unavailable', 'B sees A unavailable');

    const mixed = await site('b').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { description: 'x', bootstrap_address: sim(0).address });
    expect(mixed.status).toBe(400);
    expect(mixed.json.error.message).toBe('Only bootstrap values and address can be updated in the non-primary site');
    const other = await site('b').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { description: 'x' });
    expect(other.status).toBe(400);
    expect(other.json.error.message).toBe('Subcloud update is only allowed when its peer group priority value is 0.');

    const fixed = await site('b').form('PATCH', `/v1.0/subclouds/${sim(0).name}`, { bootstrap_address: sim(0).address });
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    expect((await association('b'))!['sync-status']).toBe('out-of-sync');
  });

  it('A is back; a corrected migration to B succeeds, the audit copies the rehome data to A and the associations return to in-sync', async () => {
    await geo.up('a');
    await peerAvailable('b');
    await migrate('b', 'pg1', 'migrate-pg1-to-b-3');
    await eventually(
      () => subcloud('b', sim(0).name),
      (x) => x?.['deploy-status'] === 'complete' && x['management-state'] === 'managed' && x['availability-status'] === 'online',
      'B: complete, managed, online',
    );
    const atA = await eventually(() => subcloud('a', sim(0).name), (x) => x?.['deploy-status'] === 'secondary', 'A: secondary');
    expect(JSON.parse(atA!['rehome_data'] as string).saved_payload['bootstrap-address']).toBe(sim(0).address);
    await eventually(() => association('a'), (x) => x?.['sync-status'] === 'in-sync', 'A in-sync');
    await eventually(() => association('b'), (x) => x?.['sync-status'] === 'in-sync', 'B in-sync');
  });
});

describe('a second group: A shut down while B takes it over', () => {
  it('pre-steps: pg2 on A with three subclouds (the primary leader may remove one and add it back), synced to B', async () => {
    for (const i of [2, 3, 4]) await adoptSubcloud('a', i);
    expect((await site('a').call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg2' })).status).toBe(200);
    for (const i of [2, 3, 4]) {
      const r = await site('a').form('PATCH', `/v1.0/subclouds/${sim(i).name}`, { peer_group: 'pg2', bootstrap_address: sim(i).address }, { bootstrap_values: bootstrapValues(i) });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    const removed = await site('a').form('PATCH', `/v1.0/subclouds/${sim(4).name}`, { peer_group: 'none' });
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(removed.json.peer_group_id).toBeNull();
    expect((await site('a').form('PATCH', `/v1.0/subclouds/${sim(4).name}`, { peer_group: 'pg2' })).status).toBe(200);
    const pg2 = await group('a', 'pg2');
    const r = await site('a').call('POST', '/v1.0/peer-group-associations', { peer_group_id: pg2.id, system_peer_id: peers.atA.id, peer_group_priority: 2 });
    expect(r.status, r.text).toBe(200);
    await eventually(() => associationOf('a', pg2.id as number), (x) => x?.['sync-status'] === 'in-sync', 'pg2 in-sync on A');
    for (const i of [2, 3, 4]) expect(await subcloud('b', sim(i).name)).toMatchObject({ 'deploy-status': 'secondary' });
  });

  it('A shut down; B migrates pg2 and, A being unavailable, removes one subcloud from it and removes and deletes another', async () => {
    await geo.down('a');
    await eventually(() => systemPeer('b'), (p) => p['availability-state'] === 'unavailable', 'B sees A unavailable');
    await migrate('b', 'pg2', 'migrate-pg2-to-b');
    for (const i of [2, 3, 4]) {
      await eventually(() => subcloud('b', sim(i).name), (x) => x?.['management-state'] === 'managed' && x['deploy-status'] === 'complete', `${sim(i).name} managed on B`);
    }
    for (const i of [3, 4]) {
      const r = await site('b').form('PATCH', `/v1.0/subclouds/${sim(i).name}`, { peer_group: 'none' });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    expect((await site('b').form('PATCH', `/v1.0/subclouds/${sim(4).name}`, { 'management-state': 'unmanaged' })).status).toBe(200);
    expect((await site('b').call('DELETE', `/v1.0/subclouds/${sim(4).name}`)).status).toBe(200);
  });

  it('when A recovers, its subcloud managed on B becomes secondary and the two no longer in B\'s group are deleted on A', async () => {
    await geo.up('a');
    await eventually(() => subcloud('a', sim(2).name), (x) => x?.['deploy-status'] === 'secondary', `${sim(2).name} secondary on A`);
    await eventually(() => subcloud('a', sim(3).name), (x) => x === undefined, `${sim(3).name} deleted on A`);
    await eventually(() => subcloud('a', sim(4).name), (x) => x === undefined, `${sim(4).name} deleted on A`);
    expect(await group('a', 'pg2')).toMatchObject({ system_leader_name: 'site-b' });
    // Why they are gone: A's audit deleted them, after B's migration (whose leader change carries its correlation id).
    const deleted = await site('a').call('GET', '/history/audit?type=SubcloudDeleted&actor=peer-group-audit');
    expect(deleted.json.entries).toHaveLength(2);
    const led = await site('b').call('GET', '/history/audit?type=PeerGroupLeaderChanged&correlationId=migrate-pg2-to-b');
    expect(led.json.entries).toHaveLength(1);
  });

  it('with A online, B cannot remove a subcloud from the group it now leads', async () => {
    await peerAvailable('b');
    const r = await site('b').form('PATCH', `/v1.0/subclouds/${sim(2).name}`, { peer_group: 'none' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('Removing subcloud from a peer group associated with an available system peer is prohibited.');
  });
});
