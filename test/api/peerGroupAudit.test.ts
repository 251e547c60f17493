// PATCH /v1.0/subcloud-peer-groups/{ref}/audit between two peered sites: the request's checks, and an audit of A's
// primary group after B (with a lower-priority copy) completed a migration: B becomes the leader on A, alarm
// 280.005 is raised on A, and B's migration_status is reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerDcmanager } from '../../adapters/peer/peerDcmanager.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import { settle, startPeeredSites, type PeeredSites } from '../support/peeredSites.js';
import { systemPeerBody } from '../support/geo.js';
import { systemContext } from '../../commands/core/context.js';

let sites: PeeredSites;
let remote: Record<string, unknown>;

beforeAll(async () => {
  sites = await startPeeredSites();
  const { a, b } = sites;
  expect((await a.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg1' })).status).toBe(200);
  const peer = (await a.site.readStore.get<SystemPeerDoc>(COLLECTIONS.systemPeers, String(sites.peerIds.atA)))!;
  const atB = peerDcmanager(a.site.workflowDeps.geo!.directory.sessionFor(peer), { timeoutMs: 10_000 });
  const copy = await atB.addPeerGroup({ 'peer-group-name': 'pg1', 'group-priority': 2, 'system-leader-id': b.site.localSystem().uuid, 'system-leader-name': 'site-b' });
  await atB.updatePeerGroup('pg1', { migration_status: 'complete' });
  remote = {
    peer_uuid: b.site.localSystem().uuid,
    peer_group_name: 'pg1',
    group_priority: 2,
    group_state: 'enabled',
    system_leader_id: b.site.localSystem().uuid,
    system_leader_name: 'site-b',
    migration_status: 'complete',
    id: copy.id,
  };
  await settle(b);
}, 60_000);
afterAll(async () => sites?.stop());

describe('PATCH /v1.0/subcloud-peer-groups/{ref}/audit', () => {
  it('needs every key of the peer\'s group, a known peer and a known group', async () => {
    const { a } = sites;
    for (const key of ['peer_uuid', 'peer_group_name', 'group_priority', 'group_state', 'system_leader_id', 'system_leader_name', 'migration_status']) {
      const { [key]: _gone, ...body } = remote;
      const r = await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg1/audit', body);
      expect(r.status).toBe(400);
      expect(r.json.error.message).toBe(`Unable to audit peer group pg1, missing ${key}`);
    }
    expect((await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg1/audit', { ...remote, peer_uuid: '00000000-0000-4000-8000-000000000000' })).json.error.message).toBe('System Peer not found');
    expect((await a.call('PATCH', '/v1.0/subcloud-peer-groups/nope/audit', remote)).status).toBe(404);
  });

  it('a peer that led a completed migration: it leads here too, 280.005 is raised (our priority is higher), its status is reset', async () => {
    const { a, b } = sites;
    const r = await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg1/audit', remote);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ message: null });
    await settle(a);
    expect((await a.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json).toMatchObject({ system_leader_name: 'site-b', system_leader_id: b.site.localSystem().uuid });
    const alarms = (await a.call('GET', '/v1.0/alarms')).json.alarms;
    expect(alarms).toContainEqual(expect.objectContaining({
      alarm_id: '280.005',
      entity_instance_id: `peer_group=pg1,peer=${b.site.localSystem().uuid}`,
      severity: 'major',
      reason_text: `Subcloud peer group (peer_group_name=pg1) is managed by remote system (peer_uuid=${b.site.localSystem().uuid}) with a lower priority.`,
    }));
    await settle(b);
    expect((await b.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json.migration_status).toBe('none');
    // The same audit again changes nothing.
    const head = await a.site.eventStore.headPosition();
    expect((await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg1/audit', remote)).status).toBe(200);
    expect(await a.site.eventStore.headPosition()).toBe(head);
  });

  it('a group protected by two peers: the audit from one sets only its own association in-sync', async () => {
    const { a } = sites;
    const peerC = await a.call('POST', '/v1.0/system-peers', systemPeerBody({ peer_uuid: '7b1f2f5e-4a57-4f6b-9c4e-4d5d9f0b1c09', peer_name: 'site-c', manager_endpoint: 'http://127.0.0.3:9/v3' }));
    expect(peerC.status, peerC.text).toBe(200);
    const withB = await a.call('POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: sites.peerIds.atA, peer_group_priority: 2 });
    const withC = await a.call('POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: peerC.json.id, peer_group_priority: 3 });
    expect([withB.status, withC.status]).toEqual([200, 200]);
    for (const id of [withB.json.id, withC.json.id]) {
      await a.site.commands.associations.setSyncStatus(id, 'out-of-sync', 'None', systemContext(a.clock.now(), 'test'));
    }
    expect((await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg1/audit', remote)).status).toBe(200);
    await settle(a);
    expect((await a.call('GET', `/v1.0/peer-group-associations/${withB.json.id}`)).json['sync-status']).toBe('in-sync');
    expect((await a.call('GET', `/v1.0/peer-group-associations/${withC.json.id}`)).json['sync-status']).toBe('out-of-sync');
  });
});
