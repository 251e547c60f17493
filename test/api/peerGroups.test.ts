// dcmanager's subcloud-peer-groups and peer-group-associations APIs, over HTTP, against a whole site: keys,
// defaults (this site as leader), every validation message, and the rules between a group, a peer and their
// association.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { systemPeerBody } from '../support/geo.js';
import { startTestSite, type TestSite } from '../support/site.js';

let t: TestSite;
let local: { uuid: string; name: string };
/** The replica group's id, once created. */
let replicaId = 0;
beforeAll(async () => {
  t = await startTestSite({ env: { SYSTEM_NAME: 'site-a' } });
  local = t.site.localSystem();
  const peer = await t.call('POST', '/v1.0/system-peers', systemPeerBody());
  expect(peer.status).toBe(200);
});
afterAll(async () => t.stop());

const headPosition = () => t.site.eventStore.headPosition();

describe('subcloud-peer-groups', () => {
  it('creates a group led by this site, priority 0, keys as dcmanager renders them', async () => {
    t.clock.set('2026-03-01T11:00:00.000Z');
    const r = await t.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg-east' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      id: 1,
      peer_group_name: 'pg-east',
      group_priority: 0,
      group_state: 'enabled',
      max_subcloud_rehoming: 10,
      system_leader_id: local.uuid,
      system_leader_name: 'site-a',
      migration_status: null,
      'created-at': '2026-03-01 11:00:00',
      'updated-at': null,
    });
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/pg-east')).json).toEqual(r.json);
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/1')).json).toEqual(r.json);
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/')).json).toEqual({ subcloud_peer_groups: [r.json] });
  });

  it('the site keeps its UUID across restarts of the same data', async () => {
    expect(local.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const events = await t.site.eventStore.readStream('system-local');
    expect(events.map((e) => e.type)).toEqual(['SystemIdentified']);
  });

  it('lists its subclouds (none yet) and its migration status counts; another verb is 400', async () => {
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/pg-east/subclouds')).json).toEqual({ subclouds: [] });
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/pg-east/status')).json).toEqual({
      peer_group_id: 1,
      peer_group_name: 'pg-east',
      total_subclouds: 0,
      complete: 0,
      waiting_for_migrate: 0,
      rehoming: 0,
      rehome_failed: 0,
      managed: 0,
      unmanaged: 0,
    });
    const bad = await t.call('GET', '/v1.0/subcloud-peer-groups/pg-east/other');
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('Invalid request');
    expect((await t.call('GET', '/v1.0/subcloud-peer-groups/nope')).json.error.message).toBe('Subcloud Peer Group not found');
  });

  it.each([
    [{}, 'Body required'],
    [{ 'peer-group-name': 'none' }, 'Invalid peer-group-name'],
    [{ 'peer-group-name': '123' }, 'Invalid peer-group-name'],
    [{ 'peer-group-name': 'g', 'system-leader-id': 'abc' }, 'Invalid system-leader-id [abc]'],
    [{ 'peer-group-name': 'g', 'system-leader-name': 'n'.repeat(256) }, 'Invalid system-leader-name'],
    [{ 'peer-group-name': 'g', 'group-priority': 65_537 }, 'Invalid group-priority'],
    [{ 'peer-group-name': 'g', 'group-state': 'on' }, 'Invalid group-state'],
    [{ 'peer-group-name': 'g', 'max-subcloud-rehoming': 251 }, 'Invalid max-subcloud-rehoming'],
  ])('refuses %j with 400 %s, appending nothing', async (body, message) => {
    const before = await headPosition();
    const r = await t.call('POST', '/v1.0/subcloud-peer-groups', body);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(message);
    expect(await headPosition()).toBe(before);
  });

  it('refuses a duplicate name with 409', async () => {
    const r = await t.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg-east' });
    expect(r.status).toBe(409);
    expect(r.json.error.message).toBe('A subcloud peer group with this name already exists');
  });

  it('updates a primary group; migration_status null is recorded as none; no change records nothing', async () => {
    const r = await t.call('PATCH', '/v1.0/subcloud-peer-groups/pg-east', { 'max-subcloud-rehoming': '20', migration_status: null });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ max_subcloud_rehoming: 20, migration_status: 'none' });
    const before = await headPosition();
    expect((await t.call('PATCH', '/v1.0/subcloud-peer-groups/1', { 'max-subcloud-rehoming': 20 })).status).toBe(200);
    expect(await headPosition()).toBe(before);
    expect((await t.call('PATCH', '/v1.0/subcloud-peer-groups/1', { 'group-state': '' })).json.error.message).toBe('nothing to update');
    expect((await t.call('PATCH', '/v1.0/subcloud-peer-groups/1', { migration_status: 'done' })).json.error.message).toBe('Invalid migration_status');
  });

  it('a replica (priority > 0) changes only at its peer site\'s request', async () => {
    const replica = await t.call('POST', '/v1.0/subcloud-peer-groups', {
      'peer-group-name': 'pg-replica',
      'group-priority': 1,
      'system-leader-id': '8a1f2f5e-4a57-4f6b-9c4e-4d5d9f0b1c01',
      'system-leader-name': 'site-b',
    });
    expect(replica.json).toMatchObject({ group_priority: 1, system_leader_name: 'site-b' });
    replicaId = replica.json.id;
    const r = await t.call('PATCH', '/v1.0/subcloud-peer-groups/pg-replica', { 'group-state': 'disabled' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('Cannot update a peer group from a non-primary site.');
    // The dcmanager User-Agent alone (without a peer's token) is not a peer site.
    const spoofed = await t.call('PATCH', '/v1.0/subcloud-peer-groups/pg-replica', { 'group-state': 'disabled' }, { 'user-agent': 'dcmanager/1.0' });
    expect(spoofed.status).toBe(400);
  });
});

describe('peer-group-associations', () => {
  it('associates the primary group with the peer: primary, syncing, priority kept', async () => {
    t.clock.set('2026-03-01T12:00:00.000Z');
    const r = await t.call('POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: 1, peer_group_priority: 2 });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      id: 1,
      'peer-group-id': 1,
      'system-peer-id': 1,
      'peer-group-priority': 2,
      'association-type': 'primary',
      'sync-status': 'syncing',
      'sync-message': 'None',
      'created-at': '2026-03-01 12:00:00',
      'updated-at': null,
    });
    const list = (await t.call('GET', '/v1.0/peer-group-associations')).json.peer_group_associations;
    expect(list).toHaveLength(1);
    expect(list[0]).not.toHaveProperty('sync-message');
    expect((await t.call('GET', '/v1.0/system-peers/site-b/subcloud-peer-groups')).json.subcloud_peer_groups.map((g: { id: number }) => g.id)).toEqual([1]);
  });

  it.each([
    [{}, 'Body required'],
    [{ peer_group_id: 99, system_peer_id: 1, peer_group_priority: 2 }, 'Invalid peer_group_id'],
    [{ peer_group_id: 1, system_peer_id: 99, peer_group_priority: 2 }, 'Invalid system_peer_id'],
    [{ peer_group_id: 1, system_peer_id: 1, peer_group_priority: 0 }, 'Invalid peer_group_priority'],
    [
      { peer_group_id: 1, system_peer_id: 1 },
      'Peer Group Association create is not allowed when the subcloud peer group priority is greater than 0 and it is required when the subcloud peer group priority is 0.',
    ],
    [
      () => ({ peer_group_id: replicaId, system_peer_id: 1, peer_group_priority: 3 }),
      'Peer Group Association create is not allowed when the subcloud peer group priority is greater than 0 and it is required when the subcloud peer group priority is 0.',
    ],
    [{ peer_group_id: 1, system_peer_id: 1, peer_group_priority: 3 }, 'A Peer group association with same peer_group_id, system_peer_id already exists'],
  ])('refuses %j with 400 %s', async (body, message) => {
    const before = await headPosition();
    const r = await t.call('POST', '/v1.0/peer-group-associations', typeof body === 'function' ? body() : body);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(message);
    expect(await headPosition()).toBe(before);
  });

  it('a replica group gets a non-primary association, whose status its primary pushes', async () => {
    const r = await t.call('POST', '/v1.0/peer-group-associations', { peer_group_id: replicaId, system_peer_id: 1 });
    expect(r.json).toMatchObject({ id: 2, 'association-type': 'non-primary', 'peer-group-priority': null });
    const failed = await t.call('PATCH', '/v1.0/peer-group-associations/2', { sync_status: 'failed' });
    expect(failed.json).toMatchObject({ 'sync-status': 'failed', 'sync-message': 'Primary association sync to current site failed.' });
    const inSync = await t.call('PATCH', '/v1.0/peer-group-associations/2', { sync_status: 'in-sync' });
    expect(inSync.json).toMatchObject({ 'sync-status': 'in-sync', 'sync-message': 'None' });
    const sync = await t.call('PATCH', '/v1.0/peer-group-associations/2/sync', {});
    expect(sync.json.error.message).toBe(
      'Peer Group Association sync is not allowed when the association type is non-primary. But the peer monitor notify was triggered.',
    );
    const priority = await t.call('PATCH', '/v1.0/peer-group-associations/2', { peer_group_priority: 4 });
    expect(priority.json.error.message).toBe('Peer Group Association peer_group_priority is not allowed to update when the association type is non-primary.');
  });

  it('answers PATCH refusals with dcmanager messages', async () => {
    const m = async (path: string, body: unknown) => (await t.call('PATCH', path, body)).json.error.message;
    expect(await m('/v1.0/peer-group-associations/1', {})).toBe('Body required');
    expect(await m('/v1.0/peer-group-associations/1', { other: 1 })).toBe('nothing to update');
    expect(await m('/v1.0/peer-group-associations/1', { peer_group_priority: 2, sync_status: 'in-sync' })).toBe(
      'peer_group_priority and sync_status cannot be updated at the same time.',
    );
    expect(await m('/v1.0/peer-group-associations/1', { sync_status: 'bad' })).toBe('Invalid sync_status');
    expect(await m('/v1.0/peer-group-associations/1', { sync_status: 'in-sync' })).toBe(
      'Peer Group Association sync_status is not allowed to update when the association type is primary.',
    );
    expect(await m('/v1.0/peer-group-associations/x', { sync_status: 'in-sync' })).toBe('Peer Group Association ID must be an integer');
    expect((await t.call('GET', '/v1.0/peer-group-associations/99')).json.error.message).toBe('Peer Group Association not found');
  });

  it('a primary association syncs on request and after a priority change', async () => {
    const sync = await t.call('PATCH', '/v1.0/peer-group-associations/1/sync', {});
    expect(sync.status).toBe(200);
    expect(sync.json).toMatchObject({ 'sync-status': 'syncing', 'sync-message': 'None' });
    const priority = await t.call('PATCH', '/v1.0/peer-group-associations/1', { peer_group_priority: '5' });
    expect(priority.json).toMatchObject({ 'peer-group-priority': 5, 'sync-status': 'syncing' });
    const types = (await t.site.eventStore.readStream('peerGroupAssociation-1')).map((e) => e.type);
    expect(types).toEqual([
      'PeerGroupAssociationAdded',
      'PeerGroupAssociationSyncRequested',
      'PeerGroupAssociationPriorityChanged',
      'PeerGroupAssociationSyncRequested',
    ]);
  });

  it('neither the peer nor the group can be deleted while associated; after the association goes, both can', async () => {
    expect((await t.call('DELETE', '/v1.0/system-peers/site-b')).json.error.message).toBe('Cannot delete a system peer which is associated with peer group.');
    expect((await t.call('DELETE', '/v1.0/subcloud-peer-groups/pg-east')).json.error.message).toBe(
      'Cannot delete a peer group which is associated with a system peer.',
    );
    // The primary one is deleted on the peer first, and this peer (127.0.0.2) never answers: 500, and it stays.
    const primary = await t.call('DELETE', '/v1.0/peer-group-associations/1');
    expect(primary.status).toBe(500);
    expect(primary.json.error.message).toBe('Unable to delete peer group association');
    expect((await t.call('GET', '/v1.0/peer-group-associations/1')).status).toBe(200);
    await t.site.commands.associations.remove(1, systemContext(t.clock.now(), 'test'));
    await t.site.runner.waitFor(await headPosition(), 10_000);
    expect((await t.call('DELETE', '/v1.0/peer-group-associations/2')).status).toBe(200);
    expect((await t.call('DELETE', '/v1.0/subcloud-peer-groups/pg-east')).status).toBe(200);
    expect((await t.call('DELETE', '/v1.0/system-peers/site-b')).status).toBe(200);
    // the pair is free again
    expect((await t.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg-east' })).status).toBe(200);
  });
});

describe('the site itself', () => {
  it('shows its UUID and name as sysinv does, and lists sysinv in the token catalog', async () => {
    const r = await t.call('GET', '/v1/isystems');
    expect(r.status).toBe(200);
    expect(r.json.isystems[0]).toMatchObject({ uuid: local.uuid, name: 'site-a', distributed_cloud_role: 'systemcontroller' });
    expect((await t.call('GET', '/v1/isystems', undefined, { 'x-auth-token': '' })).status).toBe(401);
  });
});
