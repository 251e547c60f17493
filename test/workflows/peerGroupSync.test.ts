// The association sync workflow between two real sites on loopback: A's primary association of its peer group pg1
// with B is synced to B (B's replica group, its non-primary association, secondary copies of A's subclouds), as seen
// through both sites' APIs. Failures: B has no system peer for A, B unreachable. A second sync updates and deletes
// copies; a trigger seen again does nothing; a restart fails an association left syncing; at most 10 subclouds are
// pushed at once. runOnce() drives the workflow without a subscription; the started workflow is waited for with
// settled().
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positionToString } from '../../adapters/eventstore/port.js';
import type { PeerDirectory } from '../../adapters/peer/peerDirectory.js';
import type { PeerSession } from '../../adapters/peer/peerSession.js';
import { peerGroupAssociationStream } from '../../domain/distcloud/peerGroupAssociation.js';
import { createPeerGroupSync, PEER_GROUP_SYNC_CHECKPOINT, peerGroupSync, type PeerGroupSync } from '../../workflows/peerGroupSync.js';
import type { WorkflowDeps } from '../../workflows/workflow.js';
import { systemPeerBody } from '../support/geo.js';
import { addPeerGroupMember, PEER_PASSWORDS, settle, startPeeredSites, type PeeredSites } from '../support/peeredSites.js';
import { startTestSite, type TestSite } from '../support/site.js';

const PEER_GATEWAY = '192.168.204.102';
let sites: PeeredSites;
let a: TestSite;
let b: TestSite;
let peerAtB: number;

beforeAll(async () => {
  sites = await startPeeredSites({ peerFields: { peer_controller_gateway_address: PEER_GATEWAY } });
  ({ a, b } = sites);
  peerAtB = sites.peerIds.atB;
}, 60_000);
afterAll(async () => sites?.stop());

const ok = (r: { status: number; json?: unknown }) => expect(r.status, JSON.stringify(r.json)).toBe(200);

/** Subcloud `n` on A, a member of `group` (test/support/peeredSites.ts). */
const addMember = (n: number, group: string) => addPeerGroupMember(a, n, group, { location: `rack ${n}` });

/** A's peer group (primary: priority 0). */
async function addGroup(name: string) {
  const group = await a.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': name });
  ok(group);
  return group.json.id as number;
}

/** A's primary association of the group with B, and the priority B's replica gets. */
async function associate(groupId: number, priority: number) {
  const r = await a.call('POST', '/v1.0/peer-group-associations', { peer_group_id: groupId, system_peer_id: sites.peerIds.atA, peer_group_priority: priority });
  ok(r);
  expect(r.json['sync-status']).toBe('syncing');
  return r.json.id as number;
}

const associationAtA = async (id: number) => (await a.call('GET', `/v1.0/peer-group-associations/${id}`)).json;
const requestSync = async (id: number) => ok(await a.call('PATCH', `/v1.0/peer-group-associations/${id}/sync`));
const associationStreamLength = async (id: number) => (await a.site.eventStore.readStream(peerGroupAssociationStream(id))).length;
const bAssociations = async () => (await b.call('GET', '/v1.0/peer-group-associations')).json.peer_group_associations;
const bMembers = async (group: string) => {
  const r = await b.call('GET', `/v1.0/subcloud-peer-groups/${group}/subclouds`);
  return r.status === 200 ? (r.json.subclouds as Record<string, unknown>[]) : [];
};

let sync: PeerGroupSync;
let pg1: number;
let association: number;
let members: Awaited<ReturnType<typeof addMember>>[];

describe('association sync', () => {
  it('B has no system peer for A: only A\'s association fails, naming A\'s UUID; nothing is created on B', async () => {
    ok(await b.call('DELETE', `/v1.0/system-peers/${peerAtB}`));
    pg1 = await addGroup('pg1');
    members = [await addMember(1, 'pg1'), await addMember(2, 'pg1'), await addMember(3, 'pg1')];
    association = await associate(pg1, 2);
    sync = createPeerGroupSync(a.site.workflowDeps, { requestTimeoutMs: 10_000 });

    const reports = await sync.runOnce();
    expect(reports).toMatchObject([{ associationId: association, ran: true, outcome: { syncStatus: 'failed' } }]);
    await settle(a);
    expect(await associationAtA(association)).toMatchObject({
      'sync-status': 'failed',
      'sync-message': `System Peer ${a.site.localSystem().uuid} does not exist on peer site.`,
    });
    expect((await b.call('GET', '/v1.0/subcloud-peer-groups/pg1')).status).toBe(404);

    // B knows A again.
    const back = await b.call(
      'POST',
      '/v1.0/system-peers',
      systemPeerBody(
        { peer_uuid: a.site.localSystem().uuid, peer_name: 'site-a', manager_endpoint: `${sites.gateToA.url}/v3`, manager_username: 'site-b', peer_controller_gateway_address: PEER_GATEWAY },
        PEER_PASSWORDS.bAtA,
      ),
    );
    ok(back);
    peerAtB = back.json.id;
  });

  it('B unreachable: A\'s association fails with the error\'s text', async () => {
    await sites.gateToB.shut();
    try {
      await requestSync(association);
      expect((await associationAtA(association))['sync-status']).toBe('syncing');
      const [report] = await sync.runOnce();
      expect(report).toMatchObject({ ran: true, outcome: { syncStatus: 'failed' } });
      await settle(a);
      const doc = await associationAtA(association);
      expect(doc['sync-status']).toBe('failed');
      expect(doc['sync-message']).toBe(report!.outcome!.syncMessage);
      expect(doc['sync-message']).toMatch(/^peer site at http:\/\/127\.0\.0\.1:\d+ is unreachable: /);
    } finally {
      await sites.gateToB.open();
    }
  });

  it('syncs the group, the association and the subclouds to B; both associations end in-sync', async () => {
    await requestSync(association);
    const [report] = await sync.runOnce();
    expect(report).toMatchObject({ ran: true, outcome: { syncStatus: 'in-sync', syncMessage: 'None' } });
    await settle(a);
    expect(await associationAtA(association)).toMatchObject({ 'sync-status': 'in-sync', 'sync-message': 'None' });

    const group = (await b.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json;
    expect(group).toMatchObject({
      peer_group_name: 'pg1',
      group_priority: 2,
      group_state: 'enabled',
      max_subcloud_rehoming: 10,
      system_leader_id: a.site.localSystem().uuid,
      system_leader_name: 'site-a',
    });
    const replicaAssociations = (await bAssociations()).filter((x: Record<string, unknown>) => x['peer-group-id'] === group.id);
    expect(replicaAssociations).toMatchObject([{ 'system-peer-id': peerAtB, 'association-type': 'non-primary', 'sync-status': 'in-sync', 'peer-group-priority': null }]);

    const copies = await bMembers('pg1');
    expect(copies.map((s) => s.name)).toEqual(['sc1', 'sc2', 'sc3']);
    for (const [i, m] of members.entries()) {
      const copy = copies[i]!;
      expect(copy).toMatchObject({ 'deploy-status': 'secondary', 'region-name': m.region, location: `rack ${i + 1}`, peer_group_id: group.id });
      const saved = JSON.parse(copy.rehome_data as string).saved_payload;
      expect(saved).toMatchObject({ name: `sc${i + 1}`, 'bootstrap-address': m.address, systemcontroller_gateway_address: PEER_GATEWAY });
    }
    // A's own records keep A's gateway.
    const local = (await a.call('GET', `/v1.0/subclouds/${members[0]!.id}`)).json;
    expect(JSON.parse(local.rehome_data).saved_payload.systemcontroller_gateway_address).toBe('192.168.204.101');
  });

  it('a second sync updates the copies and deletes the one no longer in A\'s group', async () => {
    ok(await a.form('PATCH', `/v1.0/subclouds/${members[0]!.id}`, { description: 'edge site 1' }));
    ok(await a.form('PATCH', `/v1.0/subclouds/${members[2]!.id}`, { peer_group: 'none' }));
    expect((await associationAtA(association))['sync-status']).toBe('out-of-sync');
    await requestSync(association);
    const [report] = await sync.runOnce();
    expect(report).toMatchObject({ ran: true, outcome: { syncStatus: 'in-sync' } });
    await settle(a);
    expect(await associationAtA(association)).toMatchObject({ 'sync-status': 'in-sync', 'sync-message': 'None' });
    const copies = await bMembers('pg1');
    expect(copies.map((s) => s.name)).toEqual(['sc1', 'sc2']);
    expect(copies[0]).toMatchObject({ description: 'edge site 1', 'deploy-status': 'secondary' });
    expect((await b.call('GET', '/v1.0/subclouds/sc3')).status).toBe(404);
  });

  it('a priority change pushes the group only, not the subclouds', async () => {
    ok(await a.form('PATCH', `/v1.0/subclouds/${members[1]!.id}`, { location: 'moved' }));
    const changed = await a.call('PATCH', `/v1.0/peer-group-associations/${association}`, { peer_group_priority: 5 });
    ok(changed);
    const [report] = await sync.runOnce();
    expect(report).toMatchObject({ ran: true, outcome: { syncStatus: 'in-sync' } });
    expect((await b.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json.group_priority).toBe(5);
    const copies = await bMembers('pg1');
    expect(copies.map((s) => [s.name, s.location])).toEqual([
      ['sc1', 'rack 1'],
      ['sc2', 'rack 2'],
    ]);
  });

  it('a trigger delivered again (the checkpoint lost) does not run a finished sync again', async () => {
    const before = await associationStreamLength(association);
    const bBefore = await bAssociations();
    await a.site.readStore.bulkWrite([], { name: PEER_GROUP_SYNC_CHECKPOINT, position: positionToString(0n) });
    const reports = await sync.runOnce();
    expect(reports.length).toBeGreaterThanOrEqual(4);
    expect(reports.every((r) => !r.ran)).toBe(true);
    expect(await associationStreamLength(association)).toBe(before);
    expect(await bAssociations()).toEqual(bBefore);
  });

  it('restart during syncing: the started workflow fails the association, and its trigger does not run; a new request does', async () => {
    await requestSync(association);
    const bBefore = await bAssociations();
    const started = createPeerGroupSync(a.site.workflowDeps, { requestTimeoutMs: 10_000 });
    await started.start();
    try {
      await started.settled();
      await settle(a);
      expect(await associationAtA(association)).toMatchObject({ 'sync-status': 'failed', 'sync-message': 'Service restart during syncing' });
      expect(await bAssociations()).toEqual(bBefore);

      // Followed live: the next request is carried out.
      await requestSync(association);
      await started.settled();
      await settle(a);
      expect(await associationAtA(association)).toMatchObject({ 'sync-status': 'in-sync', 'sync-message': 'None' });
    } finally {
      await started.stop();
    }
  });

  it('B\'s group of the same name is primary there (priority 0): the sync fails with dcmanager\'s message', async () => {
    ok(await b.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg3' }));
    const id = await associate(await addGroup('pg3'), 2);
    const reports = await sync.runOnce();
    expect(reports.filter((r) => r.ran)).toMatchObject([{ associationId: id, outcome: { syncStatus: 'failed' } }]);
    await settle(a);
    expect(await associationAtA(id)).toMatchObject({ 'sync-status': 'failed', 'sync-message': 'Subcloud Peer group of peer site has wrong priority 0.' });
    expect((await b.call('GET', '/v1.0/subcloud-peer-groups/pg3')).json.group_priority).toBe(0);
  });
});

/** The directory with each session's calls counted, and POST /subclouds held until `cap` are waiting (or the rest). */
function gatedDirectory(inner: PeerDirectory, total: number, cap: number) {
  const held: (() => void)[] = [];
  let released = 0;
  let inFlight = 0;
  const stats = { maxHeld: 0, maxSubcloudCalls: 0 };
  const release = () => {
    while (held.length > 0 && (held.length >= cap || held.length + released >= total)) {
      released++;
      held.shift()!();
    }
  };
  const wrap = (session: PeerSession): PeerSession => ({
    ...session,
    async call(method, path, body, opts) {
      const subcloudCall = path.startsWith('/subclouds');
      if (subcloudCall) stats.maxSubcloudCalls = Math.max(stats.maxSubcloudCalls, ++inFlight);
      try {
        if (method === 'POST' && path === '/subclouds') {
          await new Promise<void>((resolve) => {
            held.push(resolve);
            stats.maxHeld = Math.max(stats.maxHeld, held.length);
            release();
          });
        }
        return await session.call(method, path, body, opts);
      } finally {
        if (subcloudCall) inFlight--;
      }
    },
  });
  return { directory: { ...inner, sessionFor: (peer: Parameters<PeerDirectory['sessionFor']>[0]) => wrap(inner.sessionFor(peer)) }, stats };
}

describe('subclouds pushed at once', () => {
  it('never more than 10, and 10 when there are more', async () => {
    const group = await addGroup('pg2');
    const twelve = [];
    for (let n = 11; n <= 22; n++) twelve.push(await addMember(n, 'pg2'));
    const id = await associate(group, 3);
    const deps: WorkflowDeps = a.site.workflowDeps;
    const gated = gatedDirectory(deps.geo!.directory, twelve.length, 10);
    const counted = createPeerGroupSync({ ...deps, geo: { ...deps.geo!, directory: gated.directory } }, { requestTimeoutMs: 10_000 });
    const reports = await counted.runOnce();
    expect(reports.filter((r) => r.ran)).toMatchObject([{ associationId: id, outcome: { syncStatus: 'in-sync' } }]);
    expect(gated.stats.maxHeld).toBe(10);
    expect(gated.stats.maxSubcloudCalls).toBe(10);
    expect((await bMembers('pg2')).length).toBe(12);
  }, 60_000);
});

describe('a site restarted while an association was syncing', () => {
  it('fails it at start, and the trigger delivered again (the in-memory checkpoint is gone) does not run', async () => {
    // The first run appends the trigger but never takes it (as a process that died at once).
    const first = await startTestSite({ stores: 'embedded', env: { SYSTEM_NAME: 'site-a' } });
    let second: TestSite | undefined;
    try {
      ok(await first.call('POST', '/v1.0/system-peers', systemPeerBody()));
      ok(await first.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg1' }));
      ok(await first.call('POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: 1, peer_group_priority: 2 }));
      await first.site.stop();
      second = await startTestSite({ stores: 'embedded', workflows: [peerGroupSync], env: { DATA_DIR: first.dataDir, SYSTEM_NAME: 'site-a' } });
      await (second.site.workflows[0] as PeerGroupSync).settled();
      await settle(second);
      const doc = (await second.call('GET', '/v1.0/peer-group-associations/1')).json;
      expect(doc).toMatchObject({ 'sync-status': 'failed', 'sync-message': 'Service restart during syncing' });
    } finally {
      await second?.stop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
