// Identity commands: users (create, change, grant and revoke roles, delete), the built-in projects and the first
// admin, logins that issue signed tokens, token validation and revocation. Deciders rule on what may change;
// this file hashes passwords, signs tokens and reads the users read model.
import { randomBytes } from 'node:crypto';
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { TokenClaims, TokenSigner } from '../../adapters/secrets/tokenSigner.js';
import type { Clock } from '../../domain/core/clock.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { ConflictError, ValidationError } from '../../domain/core/errors.js';
import { effectiveRoles, PROJECTS, projectById, type RoleName } from '../../domain/identity/catalog.js';
import { IDENTITY_COLLECTIONS } from '../../domain/identity/collections.js';
import { projectDecider, projectStream } from '../../domain/identity/project.js';
import { tokenRevocationDecider, tokenRevocationStream } from '../../domain/identity/tokenRevocation.js';
import {
  duplicateUserMessage,
  userDecider,
  userNotFound,
  userStream,
  validateUserName,
  type UserCommand,
  type UserFields,
} from '../../domain/identity/user.js';
import type { RevokedTokenDoc } from '../../projections/identity/revokedTokens.js';
import type { UserDoc } from '../../projections/identity/users.js';
import { aggregateStream } from '../core/aggregateStream.js';
import { deterministicUuid, type CommandContext } from '../core/context.js';
import type { Handle } from '../core/handler.js';
import type { Uniqueness } from '../core/uniqueness.js';
import { hashPassword, MIN_PASSWORD_LENGTH, UNMATCHABLE_HASH, verifyPassword } from './passwords.js';

export const USER_NAME_SCOPE = 'userName';
export const DEFAULT_TOKEN_TTL_MS = 60 * 60 * 1000;

export interface IdentityCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  upcasters: UpcasterRegistry;
  readStore: ReadStore;
  signer: TokenSigner;
  clock: Clock;
  tokenTtlMs?: number;
}

export interface NewUser {
  name: unknown;
  password: unknown;
  enabled?: unknown;
  email?: unknown;
}

/** Who a valid token speaks for: the user, the project it is scoped to, and the roles held there now. */
export interface TokenIdentity {
  claims: TokenClaims;
  user: UserFields;
  project: { id: string; name: string } | undefined;
  roles: RoleName[];
}

export class LoginRefusedError extends Error {}

function requirePassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw new ValidationError(`Invalid input for field 'password': at least ${MIN_PASSWORD_LENGTH} characters are required`, 'password');
  }
  return password;
}

export function identityCommands(deps: IdentityCommandDeps) {
  const { handle, uniqueness, readStore, signer, clock } = deps;
  const ttl = deps.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;

  /** `step` names each of several commands one request sends to a stream, so their event ids differ. */
  const decideUser = (id: string, command: UserCommand, ctx: CommandContext, step?: string) =>
    handle({ streamId: userStream(id), decider: userDecider, command, context: ctx, ...(step ? { step } : {}) });

  const userByName = (name: string) => readStore.find<UserDoc>(IDENTITY_COLLECTIONS.users, { name }).then((d) => d[0]);
  const userById = (id: string) => readStore.get<UserDoc>(IDENTITY_COLLECTIONS.users, id);

  /** The built-in projects, recorded once (every start asks; a recorded one answers with no event). */
  async function seedProjects(ctx: CommandContext) {
    for (const p of PROJECTS) {
      await handle({ streamId: projectStream(p.id), decider: projectDecider, command: { type: 'SeedProject', id: p.id, at: ctx.now.toISOString() }, context: ctx });
    }
  }

  async function createUser(input: NewUser, ctx: CommandContext, roles: { projectId: string; role: RoleName }[] = []) {
    const name = validateUserName(input.name);
    const password = requirePassword(input.password);
    if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw new ValidationError("Invalid input for field 'enabled': a boolean is required", 'enabled');
    if (input.email !== undefined && input.email !== null && typeof input.email !== 'string') throw new ValidationError("Invalid input for field 'email': a string is required", 'email');
    if (!ctx.idempotency && (await userByName(name))) throw new ConflictError(duplicateUserMessage(name));
    // A repeat of one Idempotency-Key (or two processes seeding the same admin) must name the same user.
    const id = ctx.idempotency ? deterministicUuid(ctx.idempotency.scope, ctx.idempotency.key, 'user').replace(/-/g, '') : randomBytes(16).toString('hex');
    const reservation = await uniqueness.reserve({
      scope: USER_NAME_SCOPE,
      value: name,
      holder: id,
      context: ctx,
      // From the user's own stream, not the read model: a read model still replaying must not free the name.
      stillHeld: async (holder) => {
        const { state } = await aggregateStream(deps.eventStore, deps.upcasters, userStream(holder), userDecider);
        return state.status === 'active' && state.name === name;
      },
    });
    if (!reservation.reserved) throw new ConflictError(duplicateUserMessage(name));
    const at = ctx.now.toISOString();
    let r = await decideUser(id, { type: 'CreateUser', id, name, passwordHash: await hashPassword(password), enabled: input.enabled !== false, email: (input.email as string | null | undefined) ?? null, at }, ctx);
    for (const g of roles) r = await decideUser(id, { type: 'GrantRole', projectId: g.projectId, role: g.role, at }, ctx, `grant:${g.projectId}:${g.role}`);
    return r;
  }

  async function updateUser(id: string, changes: { password?: unknown; enabled?: unknown }, ctx: CommandContext) {
    const at = ctx.now.toISOString();
    let r;
    if (changes.password !== undefined) r = await decideUser(id, { type: 'ChangePassword', passwordHash: await hashPassword(requirePassword(changes.password)), at }, ctx, 'password');
    if (changes.enabled !== undefined) {
      if (typeof changes.enabled !== 'boolean') throw new ValidationError("Invalid input for field 'enabled': a boolean is required", 'enabled');
      r = await decideUser(id, { type: 'SetEnabled', enabled: changes.enabled, at }, ctx, 'enabled');
    }
    return r;
  }

  const grantRole = (id: string, projectId: string, role: string, ctx: CommandContext) =>
    decideUser(id, { type: 'GrantRole', projectId, role, at: ctx.now.toISOString() }, ctx);
  const revokeRole = (id: string, projectId: string, role: string, ctx: CommandContext) =>
    decideUser(id, { type: 'RevokeRole', projectId, role, at: ctx.now.toISOString() }, ctx);
  const deleteUser = (id: string, ctx: CommandContext) => decideUser(id, { type: 'DeleteUser', at: ctx.now.toISOString() }, ctx);

  /**
   * The first start's admin: user `admin` with the admin role on the admin project, unless a user of that name
   * exists. Returns whether this call created it.
   */
  async function bootstrapAdmin(password: string, ctx: CommandContext): Promise<boolean> {
    await seedProjects(ctx);
    if (await userByName('admin')) return false;
    try {
      const r = await createUser({ name: 'admin', password }, ctx, [{ projectId: PROJECTS[0].id, role: 'admin' }]);
      // Another process of the site may have seeded it first with its own password: ours is not the one kept.
      return r.state.status === 'active' && (await verifyPassword(password, r.state.passwordHash));
    } catch (e) {
      if (e instanceof ConflictError) return false; // another process of the site made it first
      throw e;
    }
  }

  /** Password login; a refusal never says whether the user exists. */
  async function login(o: { userId?: string; userName?: string; password: string; projectId?: string }): Promise<{ token: string; identity: TokenIdentity }> {
    const user = o.userId ? await userById(o.userId) : o.userName ? await userByName(o.userName) : undefined;
    // Hash even for an unknown user, so the answer takes as long either way.
    const ok = await verifyPassword(o.password, user?.passwordHash ?? UNMATCHABLE_HASH);
    if (!user || !ok || !user.enabled) throw new LoginRefusedError('The request you have made requires authentication.');
    const project = o.projectId ? projectById(o.projectId) : undefined;
    if (o.projectId && (!project || !user.roles.some((a) => a.projectId === o.projectId))) {
      throw new LoginRefusedError('The request you have made requires authentication.');
    }
    const now = clock.now().getTime();
    const { token, claims } = signer.sign({ uid: user.id, ...(project ? { pid: project.id } : {}), iat: now, exp: now + ttl });
    return { token, identity: identityOf(claims, user) };
  }

  function identityOf(claims: TokenClaims, user: UserFields): TokenIdentity {
    const project = claims.pid ? projectById(claims.pid) : undefined;
    const roles = project ? effectiveRoles(user.roles.filter((a) => a.projectId === project.id).map((a) => a.role)) : [];
    return { claims, user, project: project ? { id: project.id, name: project.name } : undefined, roles };
  }

  /** The identity a token speaks for now, or undefined: bad signature, expired, revoked, or its user gone, disabled, or re-passworded since. */
  async function validate(token: string): Promise<TokenIdentity | undefined> {
    const claims = signer.verify(token);
    if (!claims || claims.exp <= clock.now().getTime()) return undefined;
    const [user, revoked] = await Promise.all([
      userById(claims.uid),
      readStore.get<RevokedTokenDoc>(IDENTITY_COLLECTIONS.revokedTokens, claims.tid),
    ]);
    if (revoked || !user || !user.enabled || Date.parse(user.passwordChangedAt) > claims.iat) return undefined;
    return identityOf(claims, user);
  }

  async function revokeToken(claims: TokenClaims, ctx: CommandContext) {
    return handle({
      streamId: tokenRevocationStream(claims.tid),
      decider: tokenRevocationDecider,
      command: { type: 'RevokeToken', tokenId: claims.tid, userId: claims.uid, expiresAt: new Date(claims.exp).toISOString(), at: ctx.now.toISOString() },
      context: ctx,
    });
  }

  async function requireUser(id: string) {
    const user = await userById(id);
    if (!user) throw userNotFound(id);
    return user;
  }

  return { seedProjects, createUser, updateUser, grantRole, revokeRole, deleteUser, bootstrapAdmin, login, validate, revokeToken, userById, userByName, requireUser };
}

export type IdentityCommands = ReturnType<typeof identityCommands>;
