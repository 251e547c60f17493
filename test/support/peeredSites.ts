// Two in-process sites, A and B, that know each other as system peers (A→B and B→A), each signing in at the other
// with a user the other created for it (roles admin + peer on the admin project), each reached through a TCP gate
// so a test can cut the network to one site. Workflows are off unless the caller passes them; the caller drives
// them with its own manual clocks.
import { stringify } from 'yaml';
import { expect } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { PROJECTS } from '../../domain/identity/catalog.js';
import { startTestSite, type TestSite } from './site.js';
import { systemPeerBody } from './geo.js';
import { tcpGate } from './tcpGate.js';
import { recordDeployedOnline } from './subcloudStates.js';
import { numberedBootstrap, SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';
import type { SiteOptions } from '../../site.js';

export const PEER_PASSWORDS = { aAtB: 'site-a-at-b-password', bAtA: 'site-b-at-a-password' } as const;

export interface PeeredSitesOptions {
  /** Site options for A and B (workflows, agent, env ...). */
  a?: Partial<SiteOptions> & { env?: Record<string, string> };
  b?: Partial<SiteOptions> & { env?: Record<string, string> };
  /** Extra fields of both system peers (heartbeat_failure_threshold, peer_controller_gateway_address ...). */
  peerFields?: Record<string, unknown>;
}

export type Gate = Awaited<ReturnType<typeof tcpGate>>;

async function createPeerUser(site: TestSite, name: string, password: string) {
  const admin = PROJECTS.find((p) => p.name === 'admin')!.id;
  await site.site.commands.identity.createUser({ name, password }, systemContext(site.clock.now(), 'test'), [
    { projectId: admin, role: 'admin' },
    { projectId: admin, role: 'peer' },
  ]);
}

/** Waits until the site's read models have caught up with everything written so far. */
export const settle = async (site: TestSite) => site.site.runner.waitFor(await site.site.eventStore.headPosition(), 10_000);

export async function startPeeredSites(o: PeeredSitesOptions = {}) {
  const [a, b] = await Promise.all([
    startTestSite({ ...o.a, env: { SYSTEM_NAME: 'site-a', ...o.a?.env } }),
    startTestSite({ ...o.b, env: { SYSTEM_NAME: 'site-b', ...o.b?.env } }),
  ]);
  await Promise.all([createPeerUser(b, 'site-a', PEER_PASSWORDS.aAtB), createPeerUser(a, 'site-b', PEER_PASSWORDS.bAtA)]);
  await Promise.all([settle(a), settle(b)]);
  // gateToB: how A reaches B; gateToA: how B reaches A.
  const gateToB = await tcpGate({ host: '127.0.0.1', port: Number(new URL(b.base).port) });
  const gateToA = await tcpGate({ host: '127.0.0.1', port: Number(new URL(a.base).port) });
  const peerAtA = await a.call(
    'POST',
    '/v1.0/system-peers',
    systemPeerBody(
      { peer_uuid: b.site.localSystem().uuid, peer_name: 'site-b', manager_endpoint: `${gateToB.url}/v3`, manager_username: 'site-a', ...o.peerFields },
      PEER_PASSWORDS.aAtB,
    ),
  );
  expect(peerAtA.status, peerAtA.text).toBe(200);
  const peerAtB = await b.call(
    'POST',
    '/v1.0/system-peers',
    systemPeerBody(
      { peer_uuid: a.site.localSystem().uuid, peer_name: 'site-a', manager_endpoint: `${gateToA.url}/v3`, manager_username: 'site-b', ...o.peerFields },
      PEER_PASSWORDS.bAtA,
    ),
  );
  expect(peerAtB.status, peerAtB.text).toBe(200);
  await Promise.all([settle(a), settle(b)]);
  return {
    a,
    b,
    gateToA,
    gateToB,
    /** A's system peer id for B, and B's for A. */
    peerIds: { atA: peerAtA.json.id as number, atB: peerAtB.json.id as number },
    async stop() {
      await Promise.all([gateToA.shut(), gateToB.shut()]);
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

export type PeeredSites = Awaited<ReturnType<typeof startPeeredSites>>;

/**
 * Subcloud `n` on `site` (the primary): added, deployed and online (recorded as the deploy workflow and the audit
 * would), managed, then a member of `group` with its rehome data. Networks and addresses derive from n.
 */
export async function addPeerGroupMember(site: TestSite, n: number, group: string, fields: Record<string, string> = {}) {
  const ok = (r: { status: number; json?: unknown }) => expect(r.status, JSON.stringify(r.json)).toBe(200);
  const { values, address } = numberedBootstrap(n, `sc${n}`, '10.10');
  const added = await site.form('POST', '/v1.0/subclouds/', { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': address, ...fields }, { bootstrap_values: stringify(values) });
  ok(added);
  const id = added.json.id as number;
  await recordDeployedOnline(site, id);
  ok(await site.form('PATCH', `/v1.0/subclouds/${id}`, { 'management-state': 'managed' }));
  ok(await site.form('PATCH', `/v1.0/subclouds/${id}`, { peer_group: group, bootstrap_address: address }, { bootstrap_values: stringify(values) }));
  return { id, region: added.json['region-name'] as string, address: address };
}
