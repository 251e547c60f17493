// A peer site's relaxations (dcmanager's "request from another DC") need a peer's credentials: the User-Agent
// `dcmanager/1.0` alone, even with an admin's token, changes nothing.
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../domain/identity/catalog.js';
import { systemContext } from '../../commands/core/context.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { bootstrap, SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';
import { passwordLogin } from '../support/identity.js';

let t: TestSite;
let region: string;
let adminToken: string;
let peerToken: string;
const UA = { 'user-agent': 'dcmanager/1.0' };

async function login(name: string, password: string) {
  const r = await t.call(
    'POST',
    '/v3/auth/tokens',
    passwordLogin(name, password),
    { 'x-auth-token': '' },
  );
  expect(r.status).toBe(201);
  return r.headers['x-subject-token'] as string;
}

beforeAll(async () => {
  t = await startTestSite({ env: { ADMIN_PASSWORD: 'first-admin-pw' } });
  const r = await t.form('POST', '/v1.0/subclouds', { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': '10.10.10.12' }, { bootstrap_values: stringify(bootstrap()) });
  expect(r.status).toBe(200);
  region = r.json['region-name'];
  // The user a system peer signs in with: admin (dcmanager's manager_username) and the peer role.
  const ctx = systemContext(t.clock.now(), 'test');
  await t.site.commands.identity.createUser({ name: 'peer-site-b', password: 'peer-password-1' }, ctx, [
    { projectId: PROJECTS[0].id, role: 'admin' },
    { projectId: PROJECTS[0].id, role: 'peer' },
  ]);
  await t.site.runner.waitFor(await t.site.eventStore.headPosition(), 5_000);
  adminToken = await login('admin', 'first-admin-pw');
  peerToken = await login('peer-site-b', 'peer-password-1');
});
afterAll(async () => t.stop());

describe('peer relaxations need a peer credential', () => {
  it('a subcloud is looked up by region name only for a peer: the header alone is not enough', async () => {
    expect((await t.call('GET', `/v1.0/subclouds/${region}`, undefined, { 'x-auth-token': adminToken, ...UA })).status).toBe(404);
    expect((await t.call('GET', `/v1.0/subclouds/${region}`, undefined, { ...UA })).status).toBe(404); // development ADMIN_TOKEN
    expect((await t.call('GET', `/v1.0/subclouds/${region}`, undefined, { 'x-auth-token': peerToken })).status).toBe(404); // no header
    const asPeer = await t.call('GET', `/v1.0/subclouds/${region}`, undefined, { 'x-auth-token': peerToken, ...UA });
    expect(asPeer.status).toBe(200);
    expect(asPeer.json.name).toBe('subcloud1');
  });

  it('a secondary subcloud skips the install values check only when a peer sends it', async () => {
    const secondary = (token: string) =>
      t.form(
        'POST',
        '/v1.0/subclouds',
        { secondary: 'true', region_name: 'abcdefabcdefabcdefabcdefabcdef01', 'bootstrap-address': '10.10.30.12' },
        {
          bootstrap_values: stringify(bootstrap({ name: 'secondary1', management_subnet: '192.168.130.0/24', management_start_address: '192.168.130.2', management_end_address: '192.168.130.50', management_gateway_address: '192.168.130.1' })),
          install_values: stringify({ install_type: 9 }),
        },
        { 'x-auth-token': token, ...UA },
      );
    const header = await secondary(adminToken);
    expect(header.status).toBe(400);
    expect(header.json.error.message).toBe('subcloud bmc_password required');
    const peer = await secondary(peerToken);
    expect(peer.status, JSON.stringify(peer.json)).toBe(200);
    expect(peer.json).toMatchObject({ name: 'secondary1', 'deploy-status': 'secondary', 'region-name': 'abcdefabcdefabcdefabcdefabcdef01' });
  });
});
