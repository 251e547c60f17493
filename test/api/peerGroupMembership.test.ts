// PATCH and DELETE /v1.0/subclouds for a subcloud of a subcloud peer group, over HTTP: joining (and the association
// going out of sync, with dcmanager's info_message), the checks a member is held to, leaving, and the group's deletion
// releasing its members.
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { systemPeerBody } from '../support/geo.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { bootstrap, SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

let t: TestSite;
let subcloudId = 0;
beforeAll(async () => {
  t = await startTestSite({ env: { SYSTEM_NAME: 'site-a' } });
  const ok = (r: { status: number; json: unknown }) => expect(r.status, JSON.stringify(r.json)).toBe(200);
  ok(await t.call('POST', '/v1.0/system-peers', systemPeerBody()));
  ok(await t.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg1' }));
  ok(await t.call('POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: 1, peer_group_priority: 2 }));
  // The association's first sync is the workflow's; here it is taken as done.
  await t.site.commands.associations.setSyncStatus(1, 'in-sync', 'None', systemContext(t.clock.now(), 'test'));

  const added = await t.form('POST', '/v1.0/subclouds/', { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': '10.10.10.12' }, { bootstrap_values: stringify(bootstrap()) });
  ok(added);
  subcloudId = added.json.id;
  const ctx = () => systemContext(t.clock.now(), 'test');
  const at = t.clock.now().toISOString();
  const record = t.site.commands.subclouds.record;
  await record(subcloudId, { type: 'StartDeployPhase', operationId: 'op-1', phase: 'bootstrap', at }, ctx());
  await record(subcloudId, { type: 'CompleteDeployPhase', operationId: 'op-1', deployComplete: true, at }, ctx());
  await record(subcloudId, { type: 'RecordAvailability', reachable: true, consecutiveFailures: 0, at }, ctx());
  ok(await t.form('PATCH', `/v1.0/subclouds/${subcloudId}`, { 'management-state': 'managed' }));
});
afterAll(async () => t.stop());

const patch = (fields: Record<string, string>, files: Record<string, string> = {}) => t.form('PATCH', `/v1.0/subclouds/${subcloudId}`, fields, files);
const association = async () => (await t.call('GET', '/v1.0/peer-group-associations/1')).json;

describe('a subcloud in a subcloud peer group', () => {
  it('joins the primary group this site leads, with its rehome data; the association goes out of sync', async () => {
    const r = await patch({ peer_group: 'pg1', bootstrap_address: '10.10.10.12' }, { bootstrap_values: stringify(bootstrap()) });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.peer_group_id).toBe(1);
    expect(r.json.info_message).toBe(
      'The operation has caused the SPG to be out-of-sync. Please run peer-group-association sync command to push the subcloud peer group changes to the peer site:\n$ dcmanager peer-group-association sync 1\n',
    );
    expect((await association())['sync-status']).toBe('out-of-sync');
    const members = (await t.call('GET', '/v1.0/subcloud-peer-groups/pg1/subclouds')).json.subclouds;
    expect(members.map((s: { id: number }) => s.id)).toEqual([subcloudId]);
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/pg1/status')).json).toMatchObject({ total_subclouds: 1, complete: 1, managed: 1 });
  });

  it('a member can be neither managed/unmanaged nor deleted here', async () => {
    const unmanage = await patch({ 'management-state': 'unmanaged' });
    expect(unmanage.status).toBe(400);
    expect(unmanage.json.error.message).toBe('Cannot update the management state of a subcloud that is associated with a peer group.');
    const del = await t.call('DELETE', `/v1.0/subclouds/${subcloudId}`);
    expect(del.status).toBe(400);
  });

  it('an unknown group is refused; a group led by another site is refused', async () => {
    const unknown = await patch({ peer_group: 'nope' });
    expect(unknown.json.error.message).toBe('Invalid peer group');
    expect(
      (await t.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'led-elsewhere', 'system-leader-id': '8a1f2f5e-4a57-4f6b-9c4e-4d5d9f0b1c01' })).status,
    ).toBe(200);
    const elsewhere = await patch({ peer_group: 'led-elsewhere' });
    expect(elsewhere.json.error.message).toBe('Update subcloud to a peer group that is not led by the current site is prohibited.');
  });

  it('the leader site updates a member; leaves the group; deleting a group releases its members', async () => {
    await t.site.commands.associations.setSyncStatus(1, 'in-sync', 'None', systemContext(t.clock.now(), 'test'));
    const described = await patch({ description: 'edge site 12' });
    expect(described.status).toBe(200);
    expect(described.json.info_message).toContain('$ dcmanager peer-group-association sync 1');
    const left = await patch({ peer_group: 'none' });
    expect(left.status).toBe(200);
    expect(left.json.peer_group_id).toBeNull();
    expect((await patch({ peer_group: '1' })).json.peer_group_id).toBe(1);
    // The peer (127.0.0.2) never answers, so the API cannot delete the primary association (500): the command can.
    expect((await t.call('DELETE', '/v1.0/peer-group-associations/1')).status).toBe(500);
    await t.site.commands.associations.remove(1, systemContext(t.clock.now(), 'test'));
    await t.site.runner.waitFor(await t.site.eventStore.headPosition(), 10_000);
    expect((await t.call('DELETE', '/v1.0/subcloud-peer-groups/pg1')).status).toBe(200);
    expect((await t.call('GET', `/v1.0/subclouds/${subcloudId}`)).json.peer_group_id).toBeNull();
  });
});
