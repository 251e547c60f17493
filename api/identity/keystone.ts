// The identity service, a Keystone v3 subset in Keystone's shapes, so keystoneauth1 (the dcmanager CLI, the
// openstack CLI) and a peer site's client work against it unchanged: version discovery, password tokens with a
// service catalog, token validation and revocation, and the user, project and role calls an administrator needs.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Clock } from '../../domain/core/clock.js';
import { fixedId, PROJECTS, projectById, projectByName, roleByRef, roleId, ROLES, type RoleName } from '../../domain/identity/catalog.js';
import { DEFAULT_DOMAIN, type UserFields } from '../../domain/identity/user.js';
import { IDENTITY_COLLECTIONS } from '../../domain/identity/collections.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { IdentityCommands, TokenIdentity } from '../../commands/identity/identity.js';
import { LoginRefusedError } from '../../commands/identity/identity.js';
import type { UserDoc } from '../../projections/identity/users.js';
import { commandContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { allows } from '../http/policy.js';
import { parseWith } from '../http/validation.js';
import type { WriteResponder } from '../http/writes.js';
import type { LoginLimiter } from './loginLimiter.js';

export interface KeystoneDeps {
  identity: IdentityCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
  limiter: LoginLimiter;
  /** How clients reach this site (the catalog's URLs); default: the scheme and Host of the request. */
  publicUrl?: string;
  /** The region the catalog names (dcmanager's is SystemController). */
  region?: string;
}

const API_VERSION = { id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z' };
const MEDIA_TYPES = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];

const baseUrl = (d: KeystoneDeps, req: Request) => (d.publicUrl ?? `${req.protocol}://${req.get('host')}`).replace(/\/+$/, '');

const domainRef = z.strictObject({ id: z.string().optional(), name: z.string().optional() }).optional();
const authRequest = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()).min(1),
      password: z
        .object({
          user: z.object({
            id: z.string().optional(),
            name: z.string().optional(),
            domain: domainRef,
            password: z.string(),
          }),
        })
        .optional(),
    }),
    scope: z
      .object({
        project: z.object({ id: z.string().optional(), name: z.string().optional(), domain: domainRef }).optional(),
      })
      .optional(),
  }),
});

const inDefaultDomain = (d: { id?: string | undefined; name?: string | undefined } | undefined) =>
  !d || d.id === DEFAULT_DOMAIN.id || d.name === DEFAULT_DOMAIN.name || (d.id === undefined && d.name === undefined);

const unauthorized = () => new HttpError(401, 'The request you have made requires authentication.');

/** A token's body (POST and GET /v3/auth/tokens). */
function tokenBody(d: KeystoneDeps, req: Request, who: TokenIdentity) {
  const base = baseUrl(d, req);
  const region = d.region ?? 'SystemController';
  const endpoint = (service: string, url: string, inRegion = region) =>
    (['public', 'internal', 'admin'] as const).map((iface) => ({ id: fixedId('endpoint', `${service}:${iface}`), interface: iface, region_id: inRegion, region: inRegion, url }));
  return {
    token: {
      methods: ['password'],
      user: { domain: { ...DEFAULT_DOMAIN }, id: who.user.id, name: who.user.name, password_expires_at: null },
      audit_ids: [who.claims.tid],
      expires_at: new Date(who.claims.exp).toISOString(),
      issued_at: new Date(who.claims.iat).toISOString(),
      ...(who.project
        ? {
            project: { domain: { ...DEFAULT_DOMAIN }, id: who.project.id, name: who.project.name },
            is_domain: false,
            roles: who.roles.map((r) => ({ id: roleId(r), name: r })),
            catalog: [
              { id: fixedId('service', 'dcmanager'), type: 'dcmanager', name: 'dcmanager', endpoints: endpoint('dcmanager', `${base}/v1.0`) },
              { id: fixedId('service', 'keystone'), type: 'identity', name: 'keystone', endpoints: endpoint('keystone', `${base}/v3`) },
              // sysinv's place in StarlingX's catalog: a peer site reads this site's UUID there (GET /v1/isystems).
              { id: fixedId('service', 'sysinv'), type: 'platform', name: 'sysinv', endpoints: endpoint('sysinv', `${base}/v1`, 'RegionOne') },
            ],
          }
        : {}),
    },
  };
}

const presentUser = (u: UserFields, base: string) => ({
  id: u.id,
  name: u.name,
  domain_id: u.domainId,
  enabled: u.enabled,
  email: u.email,
  password_expires_at: null,
  options: {},
  links: { self: `${base}/v3/users/${u.id}` },
});
const presentProject = (p: { id: string; name: string }, base: string) => ({
  id: p.id, name: p.name, domain_id: DEFAULT_DOMAIN.id, description: '', enabled: true, is_domain: false, parent_id: DEFAULT_DOMAIN.id, tags: [], options: {}, links: { self: `${base}/v3/projects/${p.id}` },
});
const presentRole = (r: RoleName, base: string) => ({ id: roleId(r), name: r, domain_id: null, description: null, options: {}, links: { self: `${base}/v3/roles/${roleId(r)}` } });

const newUser = z.object({
  user: z.object({ name: z.unknown(), password: z.unknown(), enabled: z.unknown().optional(), email: z.unknown().optional(), domain_id: z.string().optional(), default_project_id: z.string().optional() }),
});
const userUpdate = z.object({ user: z.object({ password: z.unknown().optional(), enabled: z.unknown().optional() }) });

export function keystoneRouter(d: KeystoneDeps): Router {
  const router = Router();

  router.get(['/', ''], (req, res) => {
    res.json({ version: { ...API_VERSION, links: [{ rel: 'self', href: `${baseUrl(d, req)}/v3/` }], 'media-types': MEDIA_TYPES } });
  });

  router.post('/auth/tokens', async (req, res) => {
    const body = parseWith(authRequest, req.body, 'body');
    const { identity, scope } = body.auth;
    if (!identity.methods.includes('password') || !identity.password) throw new HttpError(400, 'Expecting to find password in identity - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    const user = identity.password.user;
    if (!user.id && !user.name) throw new HttpError(400, 'Expecting to find id or name in user.');
    if (user.name && !user.id && !user.domain) throw new HttpError(400, 'Expecting to find domain in user.');
    let projectId: string | undefined;
    if (scope?.project) {
      const p = scope.project.id ? projectById(scope.project.id) : scope.project.name && inDefaultDomain(scope.project.domain) ? projectByName(scope.project.name) : undefined;
      if (!p) throw unauthorized();
      projectId = p.id;
    }
    const who = user.name ?? user.id!;
    const address = req.socket.remoteAddress ?? 'unknown';
    d.limiter.check(who, address);
    try {
      if (!inDefaultDomain(user.domain)) throw new LoginRefusedError('unknown domain');
      const { token, identity: signedIn } = await d.identity.login({
        ...(user.id ? { userId: user.id } : { userName: user.name! }),
        password: user.password,
        ...(projectId ? { projectId } : {}),
      });
      d.limiter.succeeded(who, address);
      req.log.info({ user: signedIn.user.name, project: signedIn.project?.name, tokenId: signedIn.claims.tid }, 'token issued');
      res.status(201).setHeader('X-Subject-Token', token).json(tokenBody(d, req, signedIn));
    } catch (e) {
      if (!(e instanceof LoginRefusedError)) throw e;
      d.limiter.failed(who, address);
      req.log.warn({ user: who, address }, 'login refused');
      throw unauthorized();
    }
  });

  /** The token named by X-Subject-Token: the caller's own, or any for an admin. */
  async function subject(req: Request): Promise<TokenIdentity> {
    const raw = req.headers['x-subject-token'];
    const who = req.identity;
    if (typeof raw !== 'string' || raw === '') throw new HttpError(400, 'Expecting to find X-Subject-Token in headers.');
    // The caller's own token was validated a moment ago (auth.ts): not twice.
    const t = who && raw === req.headers['x-auth-token'] ? who : await d.identity.validate(raw);
    if (!t) throw new HttpError(404, `Could not find token: ${raw.slice(0, 12)}….`);
    if (!allows('identity_admin', req.actor) && who?.user.id !== t.user.id) throw new HttpError(403, 'You are not authorized to perform the requested action: identity:validate_token.');
    return t;
  }

  router.get('/auth/tokens', async (req, res) => {
    res.json(tokenBody(d, req, await subject(req)));
  });
  router.head('/auth/tokens', async (req, res) => {
    await subject(req);
    res.status(200).end();
  });
  router.delete('/auth/tokens', async (req, res) => {
    const t = await subject(req);
    const r = await d.identity.revokeToken(t.claims, commandContext(req, d.clock));
    // Answered once the revocation is in the read model every request checks.
    await d.writes.send(res, r.position, undefined, 204);
  });

  // ---- administration (policy: identity_admin) ----
  router.get('/users', async (req, res) => {
    const name = typeof req.query.name === 'string' ? req.query.name : undefined;
    const docs = await d.readStore.find<UserDoc>(IDENTITY_COLLECTIONS.users, name ? { name } : {}, { sort: { name: 1 } });
    res.json({ users: docs.map((u) => presentUser(u, baseUrl(d, req))), links: { self: `${baseUrl(d, req)}/v3/users`, next: null, previous: null } });
  });
  router.post('/users', async (req, res) => {
    const { user } = parseWith(newUser, req.body, 'body');
    if (user.domain_id !== undefined && user.domain_id !== DEFAULT_DOMAIN.id) throw new HttpError(400, `Could not find domain: ${user.domain_id}.`, 'domain_id');
    const r = await d.identity.createUser(user, commandContext(req, d.clock));
    await d.writes.send(res, r.position, { user: presentUser(r.state as UserFields, baseUrl(d, req)) }, 201);
  });
  router.get('/users/:id', async (req, res) => {
    res.json({ user: presentUser(await d.identity.requireUser(String(req.params.id)), baseUrl(d, req)) });
  });
  router.patch('/users/:id', async (req, res) => {
    const { user } = parseWith(userUpdate, req.body, 'body');
    await d.identity.requireUser(String(req.params.id));
    const r = await d.identity.updateUser(String(req.params.id), user, commandContext(req, d.clock));
    const after = r?.state.status === 'active' ? (r.state as UserFields) : await d.identity.requireUser(String(req.params.id));
    await d.writes.send(res, r?.position, { user: presentUser(after, baseUrl(d, req)) });
  });
  router.delete('/users/:id', async (req, res) => {
    await d.identity.requireUser(String(req.params.id));
    const r = await d.identity.deleteUser(String(req.params.id), commandContext(req, d.clock));
    await d.writes.send(res, r.position, undefined, 204);
  });
  router.get('/projects', (req, res) => {
    const name = typeof req.query.name === 'string' ? req.query.name : undefined;
    res.json({ projects: PROJECTS.filter((p) => !name || p.name === name).map((p) => presentProject(p, baseUrl(d, req))), links: { self: `${baseUrl(d, req)}/v3/projects`, next: null, previous: null } });
  });
  router.get('/roles', (req, res) => {
    const name = typeof req.query.name === 'string' ? req.query.name : undefined;
    res.json({ roles: ROLES.filter((r) => !name || r === name).map((r) => presentRole(r, baseUrl(d, req))), links: { self: `${baseUrl(d, req)}/v3/roles`, next: null, previous: null } });
  });
  router.get('/users/:id/roles', async (req, res) => {
    // Not Keystone's path for this; kept simple: every assignment of the user, as role_assignments shows them.
    const u = await d.identity.requireUser(String(req.params.id));
    res.json({ role_assignments: u.roles.map((a) => ({ role: { id: roleId(a.role), name: a.role }, scope: { project: { id: a.projectId, name: projectById(a.projectId)?.name } }, user: { id: u.id, name: u.name } })) });
  });
  const assignment = async (req: Request) => {
    const role = roleByRef(String(req.params.role));
    if (!role) throw new HttpError(404, `Could not find role: ${req.params.role}.`);
    const project = projectById(String(req.params.project)) ?? projectByName(String(req.params.project));
    if (!project) throw new HttpError(404, `Could not find project: ${req.params.project}.`);
    await d.identity.requireUser(String(req.params.user));
    return { role, project };
  };
  router.put('/projects/:project/users/:user/roles/:role', async (req, res) => {
    const { role, project } = await assignment(req);
    const r = await d.identity.grantRole(String(req.params.user), project.id, role, commandContext(req, d.clock));
    await d.writes.send(res, r.position, undefined, 204);
  });
  router.delete('/projects/:project/users/:user/roles/:role', async (req, res) => {
    const { role, project } = await assignment(req);
    const r = await d.identity.revokeRole(String(req.params.user), project.id, role, commandContext(req, d.clock));
    await d.writes.send(res, r.position, undefined, 204);
  });

  return router;
}
