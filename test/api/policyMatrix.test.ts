// Every route of the policy table, called by every role on each project and by nobody: 401 without a token
// (except the public routes), 403 where dcmanager's rule (or the identity service's) refuses, through otherwise.
// The expectations are written out here, not computed with policy.ts: the test checks the table, not itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_POLICIES, type RoutePolicy } from '../../api/http/policy.js';
import { systemContext } from '../../commands/core/context.js';
import { PROJECTS, type RoleName } from '../../domain/identity/catalog.js';
import { passwordLogin } from '../support/identity.js';
import { startTestSite, type TestSite } from '../support/site.js';

/** Who each rule lets through: roles (implied ones count: admin ⇒ member ⇒ reader) and projects. */
const EXPECTED: Record<string, { roles: RoleName[]; projects: string[] } | 'anyone' | 'any token'> = {
  public: 'anyone',
  authenticated: 'any token',
  reader_or_operator_or_configurator: { roles: ['admin', 'member', 'reader', 'operator', 'configurator'], projects: ['admin', 'services'] },
  admin_or_configurator: { roles: ['admin', 'configurator'], projects: ['admin', 'services'] },
  admin_or_operator_or_configurator: { roles: ['admin', 'operator', 'configurator'], projects: ['admin', 'services'] },
  identity_admin: { roles: ['admin'], projects: ['admin'] },
};

const ROLES_UNDER_TEST: RoleName[] = ['admin', 'member', 'reader', 'configurator', 'operator', 'peer'];
const PASSWORD = 'matrix-password-1';

let t: TestSite;
/** Tokens per caller: `<role>@<project>`, plus `unscoped`. */
const tokens = new Map<string, string>();

async function login(name: string, project?: string) {
  const r = await t.call('POST', '/v3/auth/tokens', passwordLogin(name, PASSWORD, project ?? null), { 'x-auth-token': '' });
  expect(r.status, `${name}@${project}`).toBe(201);
  return r.headers['x-subject-token'] as string;
}

beforeAll(async () => {
  t = await startTestSite();
  const ctx = () => systemContext(t.clock.now(), 'test');
  for (const project of PROJECTS) {
    for (const role of ROLES_UNDER_TEST) {
      await t.site.commands.identity.createUser({ name: `${role}-${project.name}`, password: PASSWORD }, ctx(), [{ projectId: project.id, role }]);
    }
  }
  await t.site.commands.identity.createUser({ name: 'nobody', password: PASSWORD }, ctx());
  await t.site.runner.waitFor(await t.site.eventStore.headPosition(), 10_000);
  for (const project of PROJECTS) for (const role of ROLES_UNDER_TEST) tokens.set(`${role}@${project.name}`, await login(`${role}-${project.name}`, project.name));
  tokens.set('unscoped', await login('nobody'));
}, 60_000);
afterAll(async () => t?.stop());

/** A concrete request for a route that the handler refuses after the policy (unknown ids, empty bodies): no side effects. */
function requestFor(p: RoutePolicy): { path: string; body?: unknown } {
  const path = p.path
    .replace(':stream', 'subcloud-999999')
    .replace(':aggregate', 'subcloud')
    .replace(/:(ref|id|user|project)\b/g, '999999')
    .replace(':role', 'reader');
  return { path, ...(['POST', 'PATCH', 'PUT'].includes(p.method) ? { body: {} } : {}) };
}

const allowed = (rule: string, role: RoleName | undefined, project: string | undefined) => {
  const e = EXPECTED[rule];
  if (e === undefined) throw new Error(`no expectation for rule ${rule}`);
  if (e === 'anyone' || e === 'any token') return true;
  return role !== undefined && project !== undefined && e.roles.includes(role) && e.projects.includes(project);
};

describe('policy matrix', () => {
  it('covers every rule in the table with an expectation', () => {
    for (const p of ROUTE_POLICIES) expect(EXPECTED[p.rule], p.rule).toBeDefined();
    expect(ROUTE_POLICIES.length).toBeGreaterThan(25);
  });

  it.each(ROUTE_POLICIES.map((p) => [`${p.method} ${p.path}`, p] as const))('%s', async (_label, p) => {
    const { path, body } = requestFor(p);
    const call = (token: string) => t.call(p.method, path, body, { 'x-auth-token': token, 'x-correlation-id': 'matrix' });

    const anonymous = await call('');
    if (p.rule === 'public') expect(anonymous.status, 'no token').not.toBe(401);
    else expect(anonymous.status, 'no token').toBe(401);
    expect((await call('fl1.forged.token')).status === 401 || p.rule === 'public', 'forged token').toBe(true);

    const outcomes: string[] = [];
    for (const project of ['admin', 'services']) {
      for (const role of ROLES_UNDER_TEST) {
        const r = await call(tokens.get(`${role}@${project}`)!);
        const expectAllowed = allowed(p.rule, role, project);
        const got = r.status === 403 ? 'denied' : r.status === 401 ? 'unauthenticated' : 'allowed';
        outcomes.push(`${role}@${project}: ${got}${got === (expectAllowed ? 'allowed' : 'denied') ? '' : ` (expected ${expectAllowed ? 'allowed' : 'denied'}, HTTP ${r.status})`}`);
        // Allowed means the route itself answered: not the catch-all 404 of a path nobody serves.
        if (got === 'allowed' && r.status === 404) expect(r.json?.error?.message, `${role}@${project}`).not.toBe('The resource could not be found.');
      }
    }
    const unscoped = await call(tokens.get('unscoped')!);
    outcomes.push(`unscoped: ${unscoped.status === 403 ? 'denied' : 'allowed'}${(unscoped.status === 403) === !allowed(p.rule, undefined, undefined) ? '' : ' (unexpected)'}`);
    expect(outcomes.filter((o) => o.includes('expected') || o.includes('unexpected')), outcomes.join('\n')).toEqual([]);
  });

  it('PATCH /v1.0/subclouds: a body with a management-state is manage_unmanage (operators too), any other is modify', async () => {
    const form = (token: string, fields: Record<string, string>) =>
      t.form('PATCH', '/v1.0/subclouds/999999', fields, {}, { 'x-auth-token': token });
    for (const project of ['admin', 'services']) {
      expect((await form(tokens.get(`operator@${project}`)!, { description: 'x' })).status).toBe(403);
      // As dcmanager decides it: the management-state makes it manage_unmanage, whatever else the body holds.
      expect((await form(tokens.get(`operator@${project}`)!, { 'management-state': 'managed', description: 'x' })).status).toBe(404);
      expect((await form(tokens.get(`operator@${project}`)!, { 'management-state': 'managed' })).status).toBe(404); // through the policy
      expect((await form(tokens.get(`configurator@${project}`)!, { description: 'x' })).status).toBe(404);
      expect((await form(tokens.get(`reader@${project}`)!, { 'management-state': 'managed' })).status).toBe(403);
    }
  });
});
