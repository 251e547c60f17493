// The association status push between two real sites on loopback: A's primary association of pg1 with B, synced to
// B by the sync workflow (B's replica group and non-primary association), then each status A records is pushed to B's
// association: once per association and chunk, with the status A has now; not while B is lost (the peer monitor says
// so), and the statuses the monitor sets when B is back are pushed; a push that fails leaves A's association failed
// with dcmanager's message, and that failure is not pushed. runOnce() drives the workflow; the started one is waited
// for with settled().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { createAssociationStatusPush, type AssociationStatusPush } from '../../workflows/associationStatusPush.js';
import { createPeerGroupSync } from '../../workflows/peerGroupSync.js';
import { createPeerMonitor, type PeerMonitor } from '../../workflows/peerMonitor.js';
import { settle, startPeeredSites, type PeeredSites } from '../support/peeredSites.js';
import type { TestSite } from '../support/site.js';

let sites: PeeredSites;
let a: TestSite;
let b: TestSite;
let push: AssociationStatusPush;
let monitor: PeerMonitor;
let association: number;
let groupId: number;

const ok = (r: { status: number; json?: unknown }) => expect(r.status, JSON.stringify(r.json)).toBe(200);
const ctx = () => systemContext(a.clock.now(), 'test');
const setAtA = (status: 'in-sync' | 'out-of-sync' | 'failed', message = 'None') => a.site.commands.associations.setSyncStatus(association, status, message, ctx());
const associationAtA = async () => (await a.call('GET', `/v1.0/peer-group-associations/${association}`)).json;
/** B's non-primary association of its replica of pg1. */
async function associationAtB() {
  const group = (await b.call('GET', '/v1.0/subcloud-peer-groups/pg1')).json;
  const all = (await b.call('GET', '/v1.0/peer-group-associations')).json.peer_group_associations as Record<string, unknown>[];
  return all.find((x) => x['peer-group-id'] === group.id)!;
}

beforeAll(async () => {
  // One missed heartbeat loses the peer, so a test loses it with one cycle.
  sites = await startPeeredSites({ peerFields: { heartbeat_failure_threshold: 1 } });
  ({ a, b } = sites);
  const group = await a.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg1' });
  ok(group);
  groupId = group.json.id;
  const created = await a.call('POST', '/v1.0/peer-group-associations', { peer_group_id: groupId, system_peer_id: sites.peerIds.atA, peer_group_priority: 2 });
  ok(created);
  association = created.json.id;
  expect(await createPeerGroupSync(a.site.workflowDeps, { requestTimeoutMs: 10_000 }).runOnce()).toMatchObject([{ ran: true, outcome: { syncStatus: 'in-sync' } }]);
  monitor = createPeerMonitor(a.site.workflowDeps, { heartbeatTimeoutMs: 2_000 });
  await monitor.runCycle();
  await settle(a);
  expect((await a.call('GET', `/v1.0/system-peers/${sites.peerIds.atA}`)).json['availability-state']).toBe('available');
  push = createAssociationStatusPush(a.site.workflowDeps, { requestTimeoutMs: 10_000 });
}, 60_000);
afterAll(async () => sites?.stop());

describe('association status push', () => {
  it("the sync workflow's own statuses are not pushed again (it set B's itself)", async () => {
    expect(await push.runOnce()).toEqual([]);
    expect((await associationAtB())['sync-status']).toBe('in-sync');
  });

  it("pushes A's status to B's association", async () => {
    await setAtA('out-of-sync');
    expect(await push.runOnce()).toEqual([expect.objectContaining({ associationId: association, outcome: 'pushed', syncStatus: 'out-of-sync' })]);
    expect(await associationAtB()).toMatchObject({ 'association-type': 'non-primary', 'sync-status': 'out-of-sync' });
    // Nothing new: nothing pushed.
    expect(await push.runOnce()).toEqual([]);
  });

  it('several changes in a row push once, the status A has now', async () => {
    await setAtA('failed', 'some failure');
    await setAtA('in-sync');
    expect(await push.runOnce()).toEqual([expect.objectContaining({ outcome: 'pushed', syncStatus: 'in-sync' })]);
    expect((await associationAtB())['sync-status']).toBe('in-sync');
  });

  it('a status B already has is not PATCHed', async () => {
    await setAtA('failed', 'x');
    await setAtA('in-sync', 'None');
    expect(await push.runOnce()).toEqual([expect.objectContaining({ outcome: 'unchanged', syncStatus: 'in-sync' })]);
  });

  it('nothing is pushed while B is lost; the statuses the monitor sets when B is back are', async () => {
    await sites.gateToB.shut();
    try {
      await monitor.runCycle();
      await settle(a);
      expect(await associationAtA()).toMatchObject({ 'sync-status': 'unknown', 'sync-message': 'Peer site (site-b) is unreachable.' });
      // A change of a member while B is lost: unknown fails.
      await a.site.commands.associations.markGroupSyncStatus(groupId, 'out-of-sync', ctx());
      expect((await a.site.commands.associations.load(association)).state).toMatchObject({ syncStatus: 'failed' });
      const reports = await push.runOnce();
      expect(reports.map((r) => r.outcome)).toEqual(['skipped']);
    } finally {
      await sites.gateToB.open();
    }
    await settle(a);
    expect((await associationAtA())['sync-status']).toBe('failed');
    expect((await associationAtB())['sync-status']).toBe('in-sync');

    await monitor.runCycle();
    await settle(a);
    expect((await associationAtA())['sync-status']).toBe('out-of-sync');
    expect(await push.runOnce()).toEqual([expect.objectContaining({ outcome: 'pushed', syncStatus: 'out-of-sync' })]);
    expect((await associationAtB())['sync-status']).toBe('out-of-sync');
  });

  it("a push that fails leaves A's association failed with dcmanager's message, which is not pushed in turn", async () => {
    // B stops answering before the monitor notices: A still takes it for available.
    await sites.gateToB.shut();
    try {
      await setAtA('in-sync');
      expect(await push.runOnce()).toEqual([expect.objectContaining({ outcome: 'failed', syncStatus: 'in-sync' })]);
      await settle(a);
      expect(await associationAtA()).toMatchObject({
        'sync-status': 'failed',
        'sync-message': `Failed to Update Peer Site (${b.site.localSystem().uuid}) Association sync_status to in-sync.`,
      });
      expect(await push.runOnce()).toEqual([]);
    } finally {
      await sites.gateToB.open();
    }
    expect((await associationAtB())['sync-status']).toBe('out-of-sync');
  });

  it('a push that fails on an association already failed records nothing more', async () => {
    await sites.gateToB.shut();
    try {
      await setAtA('failed', 'Failed to sync');
      const before = (await a.site.commands.associations.load(association)).revision;
      expect(await push.runOnce()).toEqual([expect.objectContaining({ outcome: 'failed', syncStatus: 'failed' })]);
      expect((await a.site.commands.associations.load(association)).revision).toBe(before);
    } finally {
      await sites.gateToB.open();
    }
  });

  it('the started workflow follows the log and pushes as statuses are recorded', async () => {
    const live = createAssociationStatusPush(a.site.workflowDeps, { requestTimeoutMs: 10_000 });
    await live.start();
    try {
      await live.settled();
      await setAtA('in-sync');
      await live.settled();
      expect((await associationAtB())['sync-status']).toBe('in-sync');
    } finally {
      await live.stop();
    }
  });

  it("B without the association (deleted there): nothing is pushed and nothing fails; the sync workflow's to create", async () => {
    const atB = await associationAtB();
    ok(await b.call('DELETE', `/v1.0/peer-group-associations/${atB.id}`));
    await setAtA('out-of-sync');
    expect(await push.runOnce()).toEqual([expect.objectContaining({ outcome: 'absent-on-peer' })]);
    await settle(a);
    expect((await associationAtA())['sync-status']).toBe('out-of-sync');
  });
});
