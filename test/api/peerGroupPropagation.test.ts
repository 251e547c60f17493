// What A's API does on its peer site B within a request, between two real sites on loopback: a peer group's rename,
// state and rehoming limit are pushed to B's replica (403 when no peer took it, A's change kept; an unavailable peer
// counts as failed), and deleting a primary association cleans B's side up first (its copies of the subclouds, its
// association, its group), or leaves A's association `failed` with dcmanager's message when B's side cannot be
// cleaned (422), or answers 500 when the peer cannot be reached (the association kept).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { createPeerGroupSync } from '../../workflows/peerGroupSync.js';
import { createPeerMonitor, type PeerMonitor } from '../../workflows/peerMonitor.js';
import { systemPeerBody } from '../support/geo.js';
import { addPeerGroupMember, settle, startPeeredSites, type PeeredSites } from '../support/peeredSites.js';
import type { TestSite } from '../support/site.js';

let sites: PeeredSites;
let a: TestSite;
let b: TestSite;
let monitor: PeerMonitor;

const ok = (r: { status: number; json?: unknown }) => expect(r.status, JSON.stringify(r.json)).toBe(200);

beforeAll(async () => {
  // One missed heartbeat loses the peer; the gateway B's copies get is one their bootstrap values accept.
  sites = await startPeeredSites({ peerFields: { heartbeat_failure_threshold: 1, peer_controller_gateway_address: '192.168.204.102' } });
  ({ a, b } = sites);
  monitor = createPeerMonitor(a.site.workflowDeps, { heartbeatTimeoutMs: 2_000 });
}, 60_000);
afterAll(async () => sites?.stop());

/** Subcloud `n` on A, a member of `group` (test/support/peeredSites.ts). */
const addMember = async (n: number, group: string) => (await addPeerGroupMember(a, n, group)).id;

/** A's group `name` with the members, associated with B (priority 2); synced to B when `sync`. */
async function protectedGroup(name: string, memberNumbers: number[], sync = true) {
  const group = await a.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': name });
  ok(group);
  for (const n of memberNumbers) await addMember(n, name);
  const created = await a.call('POST', '/v1.0/peer-group-associations', { peer_group_id: group.json.id, system_peer_id: sites.peerIds.atA, peer_group_priority: 2 });
  ok(created);
  if (sync) {
    const reports = await createPeerGroupSync(a.site.workflowDeps, { requestTimeoutMs: 10_000 }).runOnce();
    const mine = reports.find((r) => r.associationId === created.json.id);
    expect(mine, JSON.stringify(mine)).toMatchObject({ ran: true, outcome: { syncStatus: 'in-sync' } });
    await settle(a);
  }
  return { groupId: group.json.id as number, association: created.json.id as number };
}

const groupAt = async (site: TestSite, ref: string) => site.call('GET', `/v1.0/subcloud-peer-groups/${ref}`);
const associationAtA = async (id: number) => (await a.call('GET', `/v1.0/peer-group-associations/${id}`)).json;
const bAssociationsOf = async (groupId: number) =>
  ((await b.call('GET', '/v1.0/peer-group-associations')).json.peer_group_associations as Record<string, unknown>[]).filter((x) => x['peer-group-id'] === groupId);
const makePeerAvailable = async () => {
  await monitor.runCycle();
  await settle(a);
  expect((await a.call('GET', `/v1.0/system-peers/${sites.peerIds.atA}`)).json['availability-state']).toBe('available');
};

describe('a peer group update pushed to the peers', () => {
  beforeAll(async () => {
    await protectedGroup('pg1', [1]);
    await makePeerAvailable();
  }, 60_000);

  it("a rename, state and rehoming limit reach B's replica (found by the old name); its priority stays", async () => {
    const r = await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg1', { 'peer-group-name': 'pg-one', 'group-state': 'disabled', 'max-subcloud-rehoming': 20 });
    ok(r);
    expect(r.json).toMatchObject({ peer_group_name: 'pg-one', group_state: 'disabled', max_subcloud_rehoming: 20, group_priority: 0 });
    expect((await groupAt(b, 'pg1')).status).toBe(404);
    expect((await groupAt(b, 'pg-one')).json).toMatchObject({ group_state: 'disabled', max_subcloud_rehoming: 20, group_priority: 2 });
  });

  it('every peer failing: 403, and the change is kept here (dcmanager records it before pushing)', async () => {
    await sites.gateToB.shut();
    try {
      const r = await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg-one', { 'max-subcloud-rehoming': 30 });
      expect(r.status).toBe(403);
      expect(r.json.error.message).toBe('Unable to sync the update to the peer site(s)');
      await settle(a);
      expect((await groupAt(a, 'pg-one')).json.max_subcloud_rehoming).toBe(30);
    } finally {
      await sites.gateToB.open();
    }
    expect((await groupAt(b, 'pg-one')).json.max_subcloud_rehoming).toBe(20);
  });

  it('an unavailable peer counts as failed, without a call', async () => {
    await sites.gateToB.shut();
    try {
      await monitor.runCycle();
      await settle(a);
    } finally {
      await sites.gateToB.open();
    }
    const r = await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg-one', { 'max-subcloud-rehoming': 31 });
    expect(r.status).toBe(403);
    expect((await groupAt(b, 'pg-one')).json.max_subcloud_rehoming).toBe(20);
    await makePeerAvailable();
  });

  it('a change that needs no push (migration_status) answers 200 even with the peer failing', async () => {
    await sites.gateToB.shut();
    try {
      ok(await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg-one', { migration_status: 'complete' }));
    } finally {
      await sites.gateToB.open();
    }
  });

  it('one peer taking it is enough (the other failure is only logged); B gets the change', async () => {
    // A second peer, never heard from (`created`): it counts as failed.
    const c = await a.call('POST', '/v1.0/system-peers', systemPeerBody({ peer_uuid: '5b0c4c3e-7f1a-4d2e-8a7b-0c1d2e3f4a5b', peer_name: 'site-c' }));
    ok(c);
    const group = (await groupAt(a, 'pg-one')).json;
    ok(await a.call('POST', '/v1.0/peer-group-associations', { peer_group_id: group.id, system_peer_id: c.json.id, peer_group_priority: 3 }));
    const r = await a.call('PATCH', '/v1.0/subcloud-peer-groups/pg-one', { 'group-state': 'enabled', 'max-subcloud-rehoming': 25 });
    ok(r);
    expect((await groupAt(b, 'pg-one')).json).toMatchObject({ group_state: 'enabled', max_subcloud_rehoming: 25 });
  });
});

describe('deleting a primary association', () => {
  it("removes B's copies of the subclouds, B's association and B's group, then A's association", async () => {
    const { groupId, association } = await protectedGroup('pg2', [3, 4]);
    const replica = (await groupAt(b, 'pg2')).json;
    expect(await bAssociationsOf(replica.id)).toHaveLength(1);
    expect((await b.call('GET', '/v1.0/subclouds/sc3')).json['deploy-status']).toBe('secondary');

    ok(await a.call('DELETE', `/v1.0/peer-group-associations/${association}`));
    expect((await a.call('GET', `/v1.0/peer-group-associations/${association}`)).status).toBe(404);
    expect((await groupAt(b, 'pg2')).status).toBe(404);
    expect(await bAssociationsOf(replica.id)).toEqual([]);
    expect((await b.call('GET', '/v1.0/subclouds/sc3')).status).toBe(404);
    expect((await b.call('GET', '/v1.0/subclouds/sc4')).status).toBe(404);
    // A keeps its group and subclouds.
    expect((await a.call('GET', `/v1.0/subcloud-peer-groups/${groupId}/subclouds`)).json.subclouds).toHaveLength(2);
  });

  it("a copy B may not delete: A's association fails with dcmanager's message (422); the others' copies are gone", async () => {
    const { association } = await protectedGroup('pg3', [5, 6]);
    // B's copy of sc5 starts a migration: no longer deletable there.
    const copy = (await b.call('GET', '/v1.0/subclouds/sc5')).json;
    const bCtx = () => systemContext(b.clock.now(), 'test');
    await b.site.commands.subclouds.record(copy.id, { type: 'StartDeployPhase', operationId: 'mig-5', phase: 'rehome', at: b.clock.now().toISOString() }, bCtx());

    const r = await a.call('DELETE', `/v1.0/peer-group-associations/${association}`);
    expect(r.status).toBe(422);
    const message = "Deletion of ['sc5'] from the Subcloud Peer Group pg3 on the peer site failed.";
    expect(r.json.error.message).toBe(message);
    await settle(a);
    expect(await associationAtA(association)).toMatchObject({ 'sync-status': 'failed', 'sync-message': message });
    expect((await b.call('GET', '/v1.0/subclouds/sc6')).status).toBe(404);
    expect((await groupAt(b, 'pg3')).status).toBe(200);

    // The migration there fails (rehome-prep-failed may be deleted): the delete goes through.
    await b.site.commands.subclouds.record(copy.id, { type: 'FailDeployPhase', operationId: 'mig-5', errorDescription: 'x', at: b.clock.now().toISOString() }, bCtx());
    ok(await a.call('DELETE', `/v1.0/peer-group-associations/${association}`));
    expect((await groupAt(b, 'pg3')).status).toBe(404);
    expect((await b.call('GET', '/v1.0/subclouds/sc5')).status).toBe(404);
  });

  it("B's group held by another association there: A's association fails with B's answer (422); B's association for A is gone", async () => {
    const { association } = await protectedGroup('pg4', []);
    const replica = (await groupAt(b, 'pg4')).json;
    const d = await b.call('POST', '/v1.0/system-peers', systemPeerBody({ peer_uuid: '0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b', peer_name: 'site-d' }));
    ok(d);
    const other = await b.call('POST', '/v1.0/peer-group-associations', { peer_group_id: replica.id, system_peer_id: d.json.id });
    ok(other);

    const r = await a.call('DELETE', `/v1.0/peer-group-associations/${association}`);
    expect(r.status).toBe(422);
    expect(r.json.error.message).toContain('is associated');
    await settle(a);
    expect(await associationAtA(association)).toMatchObject({ 'sync-status': 'failed', 'sync-message': r.json.error.message });
    expect((await bAssociationsOf(replica.id)).map((x) => x.id)).toEqual([other.json.id]);

    ok(await b.call('DELETE', `/v1.0/peer-group-associations/${other.json.id}`));
    ok(await a.call('DELETE', `/v1.0/peer-group-associations/${association}`));
    expect((await groupAt(b, 'pg4')).status).toBe(404);
  });

  it('B has no group of that name (never synced): only A\'s association is deleted', async () => {
    const { association } = await protectedGroup('pg5', [], false);
    ok(await a.call('DELETE', `/v1.0/peer-group-associations/${association}`));
    expect((await a.call('GET', `/v1.0/peer-group-associations/${association}`)).status).toBe(404);
  });

  it("B's group of that name is primary there (priority 0): refused (422) with dcmanager's message, A's association unchanged", async () => {
    ok(await b.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg6' }));
    const { association } = await protectedGroup('pg6', [], false);
    const r = await a.call('DELETE', `/v1.0/peer-group-associations/${association}`);
    expect(r.status).toBe(422);
    expect(r.json.error.message).toBe('Subcloud Peer group of peer site has wrong priority 0.');
    expect((await associationAtA(association))['sync-status']).toBe('syncing');
    expect((await groupAt(b, 'pg6')).json.group_priority).toBe(0);
  });

  it('B unreachable: 500 "Unable to delete peer group association", A\'s association kept as it was', async () => {
    const { association } = await protectedGroup('pg7', []);
    await sites.gateToB.shut();
    try {
      const r = await a.call('DELETE', `/v1.0/peer-group-associations/${association}`);
      expect(r.status).toBe(500);
      expect(r.json.error.message).toBe('Unable to delete peer group association');
    } finally {
      await sites.gateToB.open();
    }
    expect(await associationAtA(association)).toMatchObject({ 'sync-status': 'in-sync' });
    expect((await groupAt(b, 'pg7')).status).toBe(200);
  });
});
