// The identity service's fixed vocabulary: the two projects dcmanager's policy names (`admin`, `services`), the
// roles it knows (admin, configurator, operator, reader; member as Keystone's default roles have it) plus `peer`,
// which fleetledger gives the user a system peer signs in with. Ids are fixed 32-hex values, the same on every site, so a token's ids mean one thing.
import { createHash } from 'node:crypto';

/** A fixed 32-hex id for a built-in thing of the identity service (project, role, catalog entry). */
export const fixedId = (kind: string, name: string) => createHash('sha256').update(`fleetledger:${kind}:${name}`).digest('hex').slice(0, 32);

export const PROJECTS = [
  { id: fixedId('project', 'admin'), name: 'admin' },
  { id: fixedId('project', 'services'), name: 'services' },
] as const;
export type ProjectName = (typeof PROJECTS)[number]['name'];

export const ROLES = ['admin', 'member', 'reader', 'configurator', 'operator', 'peer'] as const;
export type RoleName = (typeof ROLES)[number];

/** Keystone's default implied roles: admin implies member, member implies reader (tokens list them too). */
const IMPLIES: Partial<Record<RoleName, RoleName[]>> = { admin: ['member'], member: ['reader'] };

/** The roles held, with every role they imply, each once, in ROLES order. */
export function effectiveRoles(held: readonly RoleName[]): RoleName[] {
  const all = new Set<RoleName>();
  const add = (r: RoleName) => {
    if (all.has(r)) return;
    all.add(r);
    for (const i of IMPLIES[r] ?? []) add(i);
  };
  held.forEach(add);
  return ROLES.filter((r) => all.has(r));
}

export const roleId = (role: RoleName) => fixedId('role', role);
export const projectByName = (name: string) => PROJECTS.find((p) => p.name === name);
export const projectById = (id: string) => PROJECTS.find((p) => p.id === id);
export const roleByRef = (ref: string): RoleName | undefined =>
  ROLES.find((r) => r === ref || roleId(r) === ref);
