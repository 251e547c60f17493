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
  geo = await startGeoScenario({ subclouds: 4, baseAddress: '127.0.61.1' });
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

  it('on the primary leader: an unmanaged subcloud cannot join, a member cannot be managed or unmanaged, but can be updated', async () => {
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
    expect(atB['association-type']).toBe('non-primary');
    const groupAtB = (await site('b').call('GET', '/v1.0/subcloud-peer-groups/pg1')).json;
    expect(groupAtB).toMatchObject({ group_priority: 2, system_leader_name: 'site-a' });
    const copy = await subcloud('b', sim(0).name);
    expect(copy).toMatchObject({ 'deploy-status': 'secondary', peer_group_id: groupAtB.id });
  });
});
