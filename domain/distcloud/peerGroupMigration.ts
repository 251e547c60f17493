// What PATCH /v1.0/subcloud-peer-groups/{ref}/migrate accepts (spec §1.4, §3.7): the body, every member's rehome
// data, no member already rehoming, and at least one member to migrate. Pure: the command handler passes the group and
// its members as the read model has them, and seals the password after these checks pass.
import { requireBody } from '../core/body.js';
import { ManagerError, ValidationError } from '../core/errors.js';
import { DEPLOY_STATUS as D } from './subcloud.js';
import type { RehomeData } from './subcloudValidation.js';

/** Deploy statuses a migration takes a subcloud from. */
export const MIGRATABLE_STATES: readonly string[] = [D.secondary, D.rehomeFailed, D.rehomePrepFailed];
const REHOMING_STATES: readonly string[] = [D.preRehome, D.rehoming];

export interface MigrationMember {
  id: number;
  name: string;
  deployStatus: string;
  rehomeData: RehomeData | null;
}

export const SYSADMIN_PASSWORD_NOT_BASE64 = 'Failed to decode subcloud sysadmin_password, verify the password is base64 encoded';

/** A Python list of strings as str() prints it, the form dcmanager's messages embed. */
export const pythonList = (items: string[]) => `[${items.map((s) => (s.includes("'") ? `"${s}"` : `'${s}'`)).join(', ')}]`;

const isBase64 = (v: string) => v.length > 0 && v.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(v);

/** Why a member cannot take part, if it cannot (dcmanager's messages). */
function memberProblem(group: string, m: MigrationMember): string | undefined {
  if (!m.rehomeData) return `Unable to migrate subcloud: ${m.name} required rehoming data is missing`;
  const saved = (m.rehomeData as { saved_payload?: Record<string, unknown> }).saved_payload;
  if (saved === undefined || saved === null) return `Unable to migrate subcloud: ${m.name} saved_payload is missing in rehoming data`;
  if (Object.keys(saved).length === 0) return `Unable to migrate subcloud: ${m.name} saved_payload is empty`;
  if (!saved['bootstrap-address']) return `Unable to migrate subcloud: ${m.name}, bootstrap-address is missing in rehoming data`;
  if (REHOMING_STATES.includes(m.deployStatus)) return `Unable to migrate subcloud peer group ${group}, subcloud ${m.name} already in rehoming process`;
  return undefined;
}

/** The checks in dcmanager's order; returns the password as given and the members to migrate. */
export function planMigration(
  input: { sysadmin_password?: unknown } | undefined,
  group: { peerGroupName: string },
  members: MigrationMember[],
): { sysadminPassword: string; eligible: MigrationMember[] } {
  const body = requireBody(input);
  const password = body.sysadmin_password;
  if (typeof password !== 'string' || password === '') {
    throw new ValidationError(`Unable to migrate subcloud peer group: ${group.peerGroupName} need sysadmin_password`, 'sysadmin_password');
  }
  if (!isBase64(password)) throw new ValidationError(SYSADMIN_PASSWORD_NOT_BASE64, 'sysadmin_password');
  const problems = members.map((m) => memberProblem(group.peerGroupName, m)).filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new ManagerError(`Batch migrate subclouds error: ${pythonList(problems)}`);
  const eligible = members.filter((m) => MIGRATABLE_STATES.includes(m.deployStatus));
  if (eligible.length === 0) {
    throw new ValidationError(`Nothing to migrate, no secondary, rehome-failed or rehome-prep-failed subcloud in peer group ${group.peerGroupName}`);
  }
  return { sysadminPassword: password, eligible };
}
