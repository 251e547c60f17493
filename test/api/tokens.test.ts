// The identity service over HTTP: Keystone's token documents, refusals that do not tell whether a user exists,
// revocation, expiry, password changes, user administration, the failed-login limit and the body size limit.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../support/site.js';
import { passwordLogin } from '../support/identity.js';

let t: TestSite;
const NO_TOKEN = { 'x-auth-token': '' };
const REFUSED = 'The request you have made requires authentication.';

/** `project` null: an unscoped login. */
const login = (name: string, password: string, project: string | null = 'admin') => t.call('POST', '/v3/auth/tokens', passwordLogin(name, password, project), NO_TOKEN);
const tokenOf = (r: { headers: Record<string, unknown> }) => r.headers['x-subject-token'] as string;
const as = (token: string) => ({ 'x-auth-token': token });

async function newUser(name: string, password: string, role?: { project: string; role: string }) {
  const r = await t.call('POST', '/v3/users', { user: { name, password } });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  if (role) expect((await t.call('PUT', `/v3/projects/${role.project}/users/${r.json.user.id}/roles/${role.role}`)).status).toBe(204);
  return r.json.user.id as string;
}

beforeAll(async () => {
  t = await startTestSite({ env: { ADMIN_PASSWORD: 'first-admin-pw', MAX_BODY_BYTES: '4096' } });
});
afterAll(async () => t.stop());
// Every request comes from 127.0.0.1, and failed logins are limited per address too: each test starts after the
// previous one's failures have left the 5-minute window.
beforeEach(() => t.clock.advance(6 * 60_000));

describe('tokens', () => {
  it('GET /v3 answers Keystone\'s version document without a token', async () => {
    const r = await t.call('GET', '/v3', undefined, NO_TOKEN);
    expect(r.status).toBe(200);
    expect(r.json.version).toMatchObject({ id: expect.stringMatching(/^v3\./), status: 'stable', links: [{ rel: 'self', href: `${t.base}/v3/` }] });
  });

  it('a password login answers 201, the token in X-Subject-Token, and Keystone\'s token body with a catalog', async () => {
    const r = await login('admin', 'first-admin-pw');
    expect(r.status).toBe(201);
    expect(tokenOf(r)).toMatch(/^fl1\./);
    const tok = r.json.token;
    expect(tok).toMatchObject({ methods: ['password'], user: { name: 'admin', domain: { id: 'default', name: 'Default' } }, project: { name: 'admin' } });
    expect(tok.roles.map((x: any) => x.name)).toEqual(['admin', 'member', 'reader']);
    expect(Date.parse(tok.expires_at) - Date.parse(tok.issued_at)).toBe(3_600_000);
    const dcmanager = tok.catalog.find((s: any) => s.type === 'dcmanager');
    expect(dcmanager.endpoints.map((e: any) => [e.interface, e.region_id, e.url])).toEqual(
      ['public', 'internal', 'admin'].map((i) => [i, 'SystemController', `${t.base}/v1.0`]),
    );
    expect(tok.catalog.find((s: any) => s.type === 'identity').endpoints[0].url).toBe(`${t.base}/v3`);
    expect((await t.call('GET', '/v1.0/subcloud-groups', undefined, as(tokenOf(r)))).status).toBe(200);
    expect(JSON.stringify(r.json)).not.toContain('first-admin-pw');
  });

  it('a wrong password, an unknown user and a disabled user get the same 401', async () => {
    const id = await newUser('soon-disabled', 'disabled-pw-1', { project: 'admin', role: 'reader' });
    const before = await login('soon-disabled', 'disabled-pw-1');
    expect(before.status).toBe(201);
    expect((await t.call('PATCH', `/v3/users/${id}`, { user: { enabled: false } })).status).toBe(200);
    for (const r of [await login('admin', 'not-it-at-all'), await login('nobody-here', 'whatever-1'), await login('soon-disabled', 'disabled-pw-1')]) {
      expect(r.status).toBe(401);
      expect(r.json.error.message).toBe(REFUSED);
    }
    expect((await t.call('GET', '/v1.0/subcloud-groups', undefined, as(tokenOf(before)))).status).toBe(401); // its earlier token is void
  });

  it('an unscoped token has no catalog and no dcmanager role; a project the user has no role on refuses the login', async () => {
    await newUser('reader-svc', 'reader-svc-pw', { project: 'services', role: 'reader' });
    const unscoped = await login('reader-svc', 'reader-svc-pw', null);
    expect(unscoped.status).toBe(201);
    expect(unscoped.json.token.catalog).toBeUndefined();
    expect((await t.call('GET', '/v1.0/subcloud-groups', undefined, as(tokenOf(unscoped)))).status).toBe(403);
    expect((await login('reader-svc', 'reader-svc-pw', 'admin')).status).toBe(401);
    const scoped = await login('reader-svc', 'reader-svc-pw', 'services');
    expect((await t.call('GET', '/v1.0/subcloud-groups', undefined, as(tokenOf(scoped)))).status).toBe(200);
    expect((await t.call('POST', '/v1.0/subcloud-groups', { name: 'x' }, as(tokenOf(scoped)))).status).toBe(403);
    expect((await t.call('GET', '/v3/users', undefined, as(tokenOf(scoped)))).status).toBe(403);
  });

  it('validates a token for its owner or an admin, and revokes it for every later request', async () => {
    const mine = tokenOf(await login('reader-svc', 'reader-svc-pw', 'services'));
    const admin = tokenOf(await login('admin', 'first-admin-pw'));
    const other = tokenOf(await login('admin', 'first-admin-pw'));
    expect((await t.call('GET', '/v3/auth/tokens', undefined, { ...as(mine), 'x-subject-token': mine })).json.token.user.name).toBe('reader-svc');
    expect((await t.call('GET', '/v3/auth/tokens', undefined, { ...as(mine), 'x-subject-token': other })).status).toBe(403);
    expect((await t.call('GET', '/v3/auth/tokens', undefined, { ...as(admin), 'x-subject-token': mine })).status).toBe(200);
    expect((await t.call('GET', '/v3/auth/tokens', undefined, { ...as(admin), 'x-subject-token': 'fl1.x.y' })).status).toBe(404);
    expect((await t.call('DELETE', '/v3/auth/tokens', undefined, { ...as(admin), 'x-subject-token': mine })).status).toBe(204);
    const after = await t.call('GET', '/v1.0/subcloud-groups', undefined, as(mine));
    expect(after.status).toBe(401);
    expect(after.json.error.message).toBe('Failed to validate access token: Auth token is invalid');
  });

  it('a token expires after TOKEN_TTL; a password change voids earlier tokens and the new password works', async () => {
    const id = await newUser('rotator', 'rotator-pw-1', { project: 'admin', role: 'reader' });
    const early = tokenOf(await login('rotator', 'rotator-pw-1'));
    t.clock.advance(1_000);
    expect((await t.call('PATCH', `/v3/users/${id}`, { user: { password: 'rotator-pw-2' } })).status).toBe(200);
    expect((await t.call('GET', '/v1.0/subcloud-groups', undefined, as(early))).status).toBe(401);
    expect((await login('rotator', 'rotator-pw-1')).status).toBe(401);
    const fresh = tokenOf(await login('rotator', 'rotator-pw-2'));
    expect((await t.call('GET', '/v1.0/subcloud-groups', undefined, as(fresh))).status).toBe(200);
    t.clock.advance(3_600_000);
    expect((await t.call('GET', '/v1.0/subcloud-groups', undefined, as(fresh))).status).toBe(401);
  });

  it('users: created without echoing the password, duplicates 409, short passwords 400, gone after delete', async () => {
    const r = await t.call('POST', '/v3/users', { user: { name: 'echo-check', password: 'echo-check-pw' } });
    expect(r.status).toBe(201);
    expect(r.json.user).toMatchObject({ name: 'echo-check', domain_id: 'default', enabled: true });
    expect(JSON.stringify(r.json)).not.toMatch(/echo-check-pw|scrypt/);
    const dup = await t.call('POST', '/v3/users', { user: { name: 'echo-check', password: 'another-pw-1' } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.message).toBe('Conflict occurred attempting to store user - Duplicate entry found with name echo-check at domain ID default.');
    expect((await t.call('POST', '/v3/users', { user: { name: 'shorty', password: 'short' } })).status).toBe(400);
    expect((await t.call('DELETE', `/v3/users/${r.json.user.id}`)).status).toBe(204);
    expect((await t.call('GET', `/v3/users/${r.json.user.id}`)).status).toBe(404);
    expect((await login('echo-check', 'echo-check-pw')).status).toBe(401);
  });

  it('a body over MAX_BODY_BYTES is refused with 413 and changes nothing', async () => {
    const r = await t.call('POST', '/v1.0/subcloud-groups', { name: 'big', description: 'x'.repeat(5_000) });
    expect(r.status).toBe(413);
    expect((await t.call('GET', '/v1.0/subcloud-groups/big')).status).toBe(404);
  });

  it('after 5 failed logins the user is locked out (429, Retry-After) until the window has passed', async () => {
    await newUser('guessed', 'guessed-pw-1', { project: 'admin', role: 'reader' });
    for (let i = 0; i < 5; i++) expect((await login('guessed', `wrong-guess-${i}`)).status).toBe(401);
    const locked = await login('guessed', 'guessed-pw-1');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    t.clock.advance(5 * 60_000 + 1_000);
    expect((await login('guessed', 'guessed-pw-1')).status).toBe(201);
  });
});
