// The peer monitor between two real sites on loopback: site A signs in at site B with the manager credentials of its
// system peer (a user B created for A, with the peer role), heartbeats B, and records what it finds: B available,
// then unreachable after the failure threshold (alarm 280.004, primary association `unknown` with dcmanager's
// message), then back (alarm cleared, association `in-sync`). Time is the test's: runCycle() is one heartbeat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { PROJECTS } from '../../domain/identity/catalog.js';
import { createPeerMonitor, type PeerMonitor } from '../../workflows/peerMonitor.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { systemPeerBody } from '../support/geo.js';
import { tcpGate } from '../support/tcpGate.js';

let a: TestSite;
let b: TestSite;
let gate: Awaited<ReturnType<typeof tcpGate>>;
let monitor: PeerMonitor;
const PEER_PASSWORD = 'site-a-at-b-password';

beforeAll(async () => {
  [a, b] = await Promise.all([startTestSite({ env: { SYSTEM_NAME: 'site-a' } }), startTestSite({ env: { SYSTEM_NAME: 'site-b' } })]);
  // B's user for A: admin and peer on B's admin project.
  const admin = PROJECTS.find((p) => p.name === 'admin')!.id;
  await b.site.commands.identity.createUser({ name: 'site-a', password: PEER_PASSWORD }, systemContext(b.clock.now(), 'test'), [
    { projectId: admin, role: 'admin' },
    { projectId: admin, role: 'peer' },
  ]);
  await b.site.runner.waitFor(await b.site.eventStore.headPosition(), 10_000);
  gate = await tcpGate({ host: '127.0.0.1', port: Number(new URL(b.base).port) });
  const peer = await a.call(
    'POST',
    '/v1.0/system-peers',
    systemPeerBody({ peer_uuid: b.site.localSystem().uuid, manager_endpoint: `${gate.url}/v3`, manager_username: 'site-a', heartbeat_failure_threshold: 2 }, PEER_PASSWORD),
  );
  expect(peer.status).toBe(200);
  expect((await a.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg1' })).status).toBe(200);
  expect((await a.call('POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: 1, peer_group_priority: 2 })).status).toBe(200);
  monitor = createPeerMonitor(a.site.workflowDeps, { heartbeatTimeoutMs: 2_000 });
}, 60_000);
afterAll(async () => {
  await monitor?.stop();
  await gate?.shut();
  await Promise.all([a?.stop(), b?.stop()]);
});

const peerState = async () => (await a.call('GET', '/v1.0/system-peers/site-b')).json['availability-state'];
const association = async () => (await a.call('GET', '/v1.0/peer-group-associations/1')).json;
const alarms = async () => (await a.call('GET', '/v1.0/alarms')).json.alarms;
const settle = async () => a.site.runner.waitFor(await a.site.eventStore.headPosition(), 10_000);

describe('peer monitor', () => {
  it('signs in at the peer with the system peer\'s credentials; the peer becomes available', async () => {
    expect(await peerState()).toBe('created');
    const [beat] = await monitor.runCycle();
    expect(beat).toMatchObject({ answered: true, failures: 0 });
    await settle();
    expect(await peerState()).toBe('available');
    // A first answer after creation leaves the association to the sync workflow.
    expect((await association())['sync-status']).toBe('syncing');
    expect(await alarms()).toEqual([]);
    // The password went over the wire only inside B's Keystone login, never into A's events.
    const events = JSON.stringify(await a.site.eventStore.readAll(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(events).not.toContain(PEER_PASSWORD);
  });

  it('after the threshold of failed heartbeats: unavailable, alarm 280.004, association unknown', async () => {
    await a.site.commands.associations.setSyncStatus(1, 'in-sync', 'None', systemContext(a.clock.now(), 'test'));
    await gate.shut();
    expect((await monitor.runCycle())[0]).toMatchObject({ answered: false, failures: 1 });
    await settle();
    expect(await peerState()).toBe('available');
    expect((await monitor.runCycle())[0]).toMatchObject({ answered: false, failures: 0 });
    await settle();
    expect(await peerState()).toBe('unavailable');
    expect(await association()).toMatchObject({ 'sync-status': 'unknown', 'sync-message': 'Peer site (site-b) is unreachable.' });
    expect(await alarms()).toEqual([
      {
        alarm_id: '280.004',
        entity_instance_id: `peer=${b.site.localSystem().uuid}`,
        severity: 'major',
        reason_text: `Peer site-b (peer_uuid=${b.site.localSystem().uuid}) connections in disconnected state.`,
        timestamp: '2026-03-01 10:00:00',
      },
    ]);
    // Still down: the next threshold of failures repeats the decisions, which change nothing and append nothing.
    const head = await a.site.eventStore.headPosition();
    await monitor.runCycle();
    await monitor.runCycle();
    expect(await a.site.eventStore.headPosition()).toBe(head);
  });

  it('the peer answers again: available, alarm cleared, association in-sync', async () => {
    await gate.open();
    expect((await monitor.runCycle())[0]).toMatchObject({ answered: true });
    await settle();
    expect(await peerState()).toBe('available');
    expect(await association()).toMatchObject({ 'sync-status': 'in-sync', 'sync-message': 'None' });
    expect(await alarms()).toEqual([]);
    const types = (await a.site.eventStore.readStream('systemPeer-1')).map((e) => e.type);
    expect(types).toEqual(['SystemPeerAdded', 'SystemPeerAvailabilityChanged', 'SystemPeerAvailabilityChanged', 'SystemPeerAvailabilityChanged']);
  });

  it('an alarm names the peer groups the lost peer leads (CRITICAL)', async () => {
    await a.call('POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'led-by-b', 'system-leader-id': b.site.localSystem().uuid, 'system-leader-name': 'site-b' });
    await gate.shut();
    await monitor.runCycle();
    await monitor.runCycle();
    await settle();
    const [alarm] = await alarms();
    expect(alarm).toMatchObject({
      severity: 'critical',
      reason_text: `Peer site-b (peer_uuid=${b.site.localSystem().uuid}) is in disconnected state. The following subcloud peer groups are impacted: led-by-b.`,
    });
    await gate.open();
  });
});
