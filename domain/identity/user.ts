// A user of the site's identity service (Keystone v3 subset): name, password hash, enabled, and role assignments
// on projects. Stream: user-<id>, the id 32 hex digits as Keystone's. Passwords arrive here already hashed (the
// command handler hashes: scrypt needs a random salt); the decider only records what it is given.
import type { Decider, DomainEvent } from '../core/decider.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { PROJECTS, ROLES, type RoleName } from './catalog.js';

export const userStream = (id: string) => `user-${id}`;

/** scrypt$<N>$<r>$<p>$<salt b64>$<key b64> (commands/identity/passwords.ts). */
export type PasswordHash = string;

export interface RoleAssignment {
  projectId: string;
  role: RoleName;
}

// ---- events ----
export type UserEvent =
  | DomainEvent<'UserCreated', { id: string; name: string; domainId: string; passwordHash: PasswordHash; enabled: boolean; email: string | null; at: string }>
  | DomainEvent<'UserPasswordChanged', { passwordHash: PasswordHash; at: string }>
  | DomainEvent<'UserEnabledChanged', { enabled: boolean; at: string }>
  | DomainEvent<'UserRoleGranted', RoleAssignment & { at: string }>
  | DomainEvent<'UserRoleRevoked', RoleAssignment & { at: string }>
  | DomainEvent<'UserDeleted', { at: string }>;

// ---- commands ----
export type UserCommand =
  | { type: 'CreateUser'; id: string; name: string; passwordHash: PasswordHash; enabled: boolean; email: string | null; at: string }
  | { type: 'ChangePassword'; passwordHash: PasswordHash; at: string }
  | { type: 'SetEnabled'; enabled: boolean; at: string }
  | { type: 'GrantRole'; projectId: string; role: string; at: string }
  | { type: 'RevokeRole'; projectId: string; role: string; at: string }
  | { type: 'DeleteUser'; at: string };

// ---- state ----
export interface UserFields {
  id: string;
  name: string;
  domainId: string;
  passwordHash: PasswordHash;
  enabled: boolean;
  email: string | null;
  roles: RoleAssignment[];
  createdAt: string;
  /** A token issued before this moment no longer validates. */
  passwordChangedAt: string;
}

export type UserState = { status: 'absent' } | ({ status: 'active' | 'deleted' } & UserFields);

export const initialState = (): UserState => ({ status: 'absent' });

export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

// ---- input rules (Keystone's wording) ----
export const USER_NAME_MAX_LENGTH = 255;

export function userNotFound(ref: string) {
  return new NotFoundError(`Could not find user: ${ref}.`);
}

export const duplicateUserMessage = (name: string) =>
  `Conflict occurred attempting to store user - Duplicate entry found with name ${name} at domain ID ${DEFAULT_DOMAIN.id}.`;

export function validateUserName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new ValidationError("Invalid input for field 'name': a non-empty string is required", 'name');
  if (name.length > USER_NAME_MAX_LENGTH) {
    throw new ValidationError(`Invalid input for field 'name': longer than ${USER_NAME_MAX_LENGTH} characters`, 'name');
  }
  return name;
}

function requireRole(role: string): RoleName {
  if (!(ROLES as readonly string[]).includes(role)) throw new NotFoundError(`Could not find role: ${role}.`);
  return role as RoleName;
}

function requireProject(projectId: string) {
  if (!PROJECTS.some((p) => p.id === projectId)) throw new NotFoundError(`Could not find project: ${projectId}.`);
}

const sameAssignment = (a: RoleAssignment, projectId: string, role: string) => a.projectId === projectId && a.role === role;

// ---- decide ----
function decide(command: UserCommand, state: UserState): UserEvent[] {
  if (command.type === 'CreateUser') {
    if (state.status !== 'absent') throw new ConflictError(duplicateUserMessage(command.name));
    const name = validateUserName(command.name);
    return [
      {
        type: 'UserCreated',
        data: { id: command.id, name, domainId: DEFAULT_DOMAIN.id, passwordHash: command.passwordHash, enabled: command.enabled, email: command.email, at: command.at },
      },
    ];
  }
  if (state.status !== 'active') throw userNotFound(state.status === 'absent' ? '(unknown)' : state.id);
  const at = command.at;
  switch (command.type) {
    case 'ChangePassword':
      return [{ type: 'UserPasswordChanged', data: { passwordHash: command.passwordHash, at } }];
    case 'SetEnabled':
      return state.enabled === command.enabled ? [] : [{ type: 'UserEnabledChanged', data: { enabled: command.enabled, at } }];
    case 'GrantRole': {
      const role = requireRole(command.role);
      requireProject(command.projectId);
      // Keystone's grant is idempotent: granting what is held changes nothing.
      if (state.roles.some((a) => sameAssignment(a, command.projectId, role))) return [];
      return [{ type: 'UserRoleGranted', data: { projectId: command.projectId, role, at } }];
    }
    case 'RevokeRole': {
      const role = requireRole(command.role);
      requireProject(command.projectId);
      if (!state.roles.some((a) => sameAssignment(a, command.projectId, role))) {
        throw new NotFoundError(`Could not find role assignment with role: ${role}, user or group: ${state.id}, project, domain, or system: ${command.projectId}.`);
      }
      return [{ type: 'UserRoleRevoked', data: { projectId: command.projectId, role, at } }];
    }
    case 'DeleteUser':
      return [{ type: 'UserDeleted', data: { at } }];
  }
}

// ---- evolve ----
export function evolve(state: UserState, event: UserEvent): UserState {
  if (event.type === 'UserCreated') {
    const d = event.data;
    return {
      status: 'active',
      id: d.id,
      name: d.name,
      domainId: d.domainId,
      passwordHash: d.passwordHash,
      enabled: d.enabled,
      email: d.email,
      roles: [],
      createdAt: d.at,
      passwordChangedAt: d.at,
    };
  }
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'UserPasswordChanged':
      return { ...state, passwordHash: event.data.passwordHash, passwordChangedAt: event.data.at };
    case 'UserEnabledChanged':
      return { ...state, enabled: event.data.enabled };
    case 'UserRoleGranted':
      return { ...state, roles: [...state.roles, { projectId: event.data.projectId, role: event.data.role }] };
    case 'UserRoleRevoked':
      return { ...state, roles: state.roles.filter((a) => !sameAssignment(a, event.data.projectId, event.data.role)) };
    case 'UserDeleted':
      return { ...state, status: 'deleted' };
  }
}

export const userDecider: Decider<UserState, UserCommand, UserEvent> = { decide, evolve, initialState };
