// Who may call what: dcmanager's oslo.policy rules (spec §0, dcm/api/policies/*.py) and the identity service's,
// in one table of routes. Every request is matched against it before any router runs: a public route passes, any
// other needs a valid token (401) and the rule's roles on the admin or services project (403).
import type { Request, RequestHandler } from 'express';
import type { Actor } from '../../adapters/eventstore/port.js';
import { AUTHENTICATION_REQUIRED } from './auth.js';
import { HttpError } from './errors.js';

/** dcmanager's base rules (policies/base.py), plus the identity service's and fleetledger's own. */
export const RULES = {
  admin_or_configurator: { roles: ['admin', 'configurator'], projects: ['admin', 'services'] },
  admin_or_operator_or_configurator: { roles: ['admin', 'operator', 'configurator'], projects: ['admin', 'services'] },
  reader_or_operator_or_configurator: { roles: ['reader', 'operator', 'configurator'], projects: ['admin', 'services'] },
  /** Keystone's admin_required, for user and role administration. */
  identity_admin: { roles: ['admin'], projects: ['admin'] },
  /** Any valid token (a token's own validation and revocation; the handler checks whose token it is). */
  authenticated: { roles: [], projects: [] },
  public: { roles: [], projects: [] },
} as const satisfies Record<string, { roles: readonly string[]; projects: readonly string[] }>;
export type RuleName = keyof typeof RULES;

export interface RoutePolicy {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Express-style path: `:name` matches one segment, a trailing slash is optional. */
  path: string;
  /** dcmanager's rule name (dc_api:<resource>:<action>) or fleetledger's, for logs and the matrix test. */
  name: string;
  rule: RuleName;
}

const dc = (method: RoutePolicy['method'], path: string, name: string, rule: RuleName): RoutePolicy => ({ method, path, name: `dc_api:${name}`, rule });
const R = 'reader_or_operator_or_configurator' as const;
const W = 'admin_or_configurator' as const;
const O = 'admin_or_operator_or_configurator' as const;

export const ROUTE_POLICIES: RoutePolicy[] = [
  // public
  { method: 'GET', path: '/v3', name: 'identity:discovery', rule: 'public' },
  { method: 'POST', path: '/v3/auth/tokens', name: 'identity:authenticate', rule: 'public' },
  // tokens: the caller's own (an admin's: any)
  { method: 'GET', path: '/v3/auth/tokens', name: 'identity:validate_token', rule: 'authenticated' },
  { method: 'HEAD', path: '/v3/auth/tokens', name: 'identity:check_token', rule: 'authenticated' },
  { method: 'DELETE', path: '/v3/auth/tokens', name: 'identity:revoke_token', rule: 'authenticated' },
  // identity administration
  { method: 'GET', path: '/v3/users', name: 'identity:list_users', rule: 'identity_admin' },
  { method: 'POST', path: '/v3/users', name: 'identity:create_user', rule: 'identity_admin' },
  { method: 'GET', path: '/v3/users/:id', name: 'identity:get_user', rule: 'identity_admin' },
  { method: 'PATCH', path: '/v3/users/:id', name: 'identity:update_user', rule: 'identity_admin' },
  { method: 'DELETE', path: '/v3/users/:id', name: 'identity:delete_user', rule: 'identity_admin' },
  { method: 'GET', path: '/v3/users/:id/roles', name: 'identity:list_role_assignments', rule: 'identity_admin' },
  { method: 'GET', path: '/v3/projects', name: 'identity:list_projects', rule: 'identity_admin' },
  { method: 'GET', path: '/v3/roles', name: 'identity:list_roles', rule: 'identity_admin' },
  { method: 'PUT', path: '/v3/projects/:project/users/:user/roles/:role', name: 'identity:create_grant', rule: 'identity_admin' },
  { method: 'DELETE', path: '/v3/projects/:project/users/:user/roles/:role', name: 'identity:revoke_grant', rule: 'identity_admin' },
  // dcmanager: subclouds
  dc('GET', '/v1.0/subclouds', 'subclouds:get', R),
  dc('GET', '/v1.0/subclouds/:ref', 'subclouds:get', R),
  dc('GET', '/v1.0/subclouds/:ref/detail', 'subclouds:get', R),
  dc('POST', '/v1.0/subclouds', 'subclouds:create', W),
  // PATCH: manage_unmanage when the body has a management-state, else modify (subclouds.ts checks the finer rule
  // once the multipart body is read; this entry lets both through to it).
  dc('PATCH', '/v1.0/subclouds/:ref', 'subclouds:modify|manage_unmanage', O),
  dc('DELETE', '/v1.0/subclouds/:ref', 'subclouds:delete', W),
  dc('PATCH', '/v1.0/subclouds/:ref/prestage', 'subclouds:modify', W),
  // dcmanager: subcloud groups
  dc('GET', '/v1.0/subcloud-groups', 'subcloud_groups:get', R),
  dc('GET', '/v1.0/subcloud-groups/:ref', 'subcloud_groups:get', R),
  dc('GET', '/v1.0/subcloud-groups/:ref/subclouds', 'subcloud_groups:get', R),
  dc('POST', '/v1.0/subcloud-groups', 'subcloud_groups:create', W),
  dc('PATCH', '/v1.0/subcloud-groups/:ref', 'subcloud_groups:modify', W),
  dc('DELETE', '/v1.0/subcloud-groups/:ref', 'subcloud_groups:delete', W),
  // dcmanager: system peers
  dc('GET', '/v1.0/system-peers', 'system_peers:get', R),
  dc('GET', '/v1.0/system-peers/:ref', 'system_peers:get', R),
  dc('GET', '/v1.0/system-peers/:ref/subcloud-peer-groups', 'system_peers:get', R),
  dc('POST', '/v1.0/system-peers', 'system_peers:create', W),
  dc('PATCH', '/v1.0/system-peers/:ref', 'system_peers:modify', W),
  dc('DELETE', '/v1.0/system-peers/:ref', 'system_peers:delete', W),
  // dcmanager: subcloud peer groups (its "get" is admin_or_configurator, not the reader rule)
  dc('GET', '/v1.0/subcloud-peer-groups', 'subcloud_peer_groups:get', W),
  dc('GET', '/v1.0/subcloud-peer-groups/:ref', 'subcloud_peer_groups:get', W),
  dc('GET', '/v1.0/subcloud-peer-groups/:ref/subclouds', 'subcloud_peer_groups:get', W),
  dc('GET', '/v1.0/subcloud-peer-groups/:ref/status', 'subcloud_peer_groups:get', W),
  dc('POST', '/v1.0/subcloud-peer-groups', 'subcloud_peer_groups:create', W),
  dc('PATCH', '/v1.0/subcloud-peer-groups/:ref', 'subcloud_peer_groups:modify', W),
  dc('PATCH', '/v1.0/subcloud-peer-groups/:ref/migrate', 'subcloud_peer_groups:modify', W),
  dc('PATCH', '/v1.0/subcloud-peer-groups/:ref/audit', 'subcloud_peer_groups:modify', W),
  dc('DELETE', '/v1.0/subcloud-peer-groups/:ref', 'subcloud_peer_groups:delete', W),
  // dcmanager: peer group associations
  dc('GET', '/v1.0/peer-group-associations', 'peer_group_associations:get', R),
  dc('GET', '/v1.0/peer-group-associations/:id', 'peer_group_associations:get', R),
  dc('POST', '/v1.0/peer-group-associations', 'peer_group_associations:create', W),
  dc('PATCH', '/v1.0/peer-group-associations/:id', 'peer_group_associations:modify', W),
  dc('PATCH', '/v1.0/peer-group-associations/:id/sync', 'peer_group_associations:modify', W),
  dc('DELETE', '/v1.0/peer-group-associations/:id', 'peer_group_associations:delete', W),
  // dcmanager: software update strategy (prestage)
  dc('GET', '/v1.0/sw-update-strategy', 'sw_update_strategy:get', R),
  dc('GET', '/v1.0/sw-update-strategy/steps', 'sw_update_strategy:get', R),
  dc('GET', '/v1.0/sw-update-strategy/steps/:cloud', 'sw_update_strategy:get', R),
  dc('POST', '/v1.0/sw-update-strategy', 'sw_update_strategy:create', W),
  dc('POST', '/v1.0/sw-update-strategy/actions', 'sw_update_strategy:apply|abort', W),
  dc('DELETE', '/v1.0/sw-update-strategy', 'sw_update_strategy:delete', W),
  // dcmanager: alarm summary
  dc('GET', '/v1.0/alarms', 'alarm_manager:get', R),
  // sysinv's system (a peer site checks the UUID there)
  { method: 'GET', path: '/v1/isystems', name: 'sysinv:system:get', rule: R },
  // Valence: pod managers (Valence itself has no policy; fleetledger reads with the reader rule, writes as admin/configurator)
  { method: 'GET', path: '/v1/pod_managers', name: 'valence:pod_managers:get', rule: R },
  { method: 'GET', path: '/v1/pod_managers/:uuid', name: 'valence:pod_managers:get', rule: R },
  { method: 'POST', path: '/v1/pod_managers', name: 'valence:pod_managers:create', rule: W },
  { method: 'PATCH', path: '/v1/pod_managers/:uuid', name: 'valence:pod_managers:modify', rule: W },
  { method: 'DELETE', path: '/v1/pod_managers/:uuid', name: 'valence:pod_managers:delete', rule: W },
  // fleetledger: history (read-only, as any dcmanager "get")
  { method: 'GET', path: '/history/streams/:stream', name: 'history:get', rule: R },
  { method: 'GET', path: '/history/audit', name: 'history:get', rule: R },
  { method: 'GET', path: '/history/:aggregate/:id/state', name: 'history:get', rule: R },
];

/** Whether the actor's roles and project satisfy the rule (dcmanager: `(role:a or role:b) and (project_name:x or …)`). */
export function allows(rule: RuleName, actor: Actor | undefined): boolean {
  if (rule === 'public') return true;
  if (!actor) return false;
  if (rule === 'authenticated') return true;
  const r = RULES[rule];
  return r.roles.some((role) => actor.roles?.includes(role)) && (r.projects as readonly string[]).includes(actor.project ?? '');
}

const compile = (p: RoutePolicy) => {
  const pattern = p.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+');
  return { ...p, re: new RegExp(`^${pattern}/?$`) };
};

export function routePolicy(table: RoutePolicy[] = ROUTE_POLICIES) {
  const compiled = table.map(compile);
  return (method: string, path: string) => compiled.find((p) => p.method === method && p.re.test(path));
}

/** 401 without a token (except on public routes), 403 when the route's rule refuses the caller. */
export function enforcePolicy(table: RoutePolicy[] = ROUTE_POLICIES): RequestHandler {
  const find = routePolicy(table);
  return (req, _res, next) => {
    const entry = find(req.method, req.path) ?? (req.method === 'HEAD' ? find('GET', req.path) : undefined);
    if (entry?.rule === 'public') return next();
    if (!req.actor) return next(new HttpError(401, req.authFailure ?? AUTHENTICATION_REQUIRED, undefined, { 'WWW-Authenticate': 'Keystone uri="/v3"' }));
    // A route outside the table: nothing to refuse here; the routers answer 404 (or 405) for it.
    if (!entry || allows(entry.rule, req.actor)) return next();
    req.log.info({ rule: entry.name, actor: req.actor.name, roles: req.actor.roles, project: req.actor.project }, 'denied by policy');
    next(new HttpError(403, `Policy doesn't allow ${entry.name} to be performed.`));
  };
}

/** For a route whose rule depends on its body (PATCH /subclouds): check the finer rule once the body is read. */
export function authorize(req: Request, name: string, rule: RuleName): void {
  if (!allows(rule, req.actor)) throw new HttpError(403, `Policy doesn't allow dc_api:${name} to be performed.`);
}
