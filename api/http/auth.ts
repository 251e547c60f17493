// Who a request speaks for. A user's token (identity service, /v3/auth/tokens) in X-Auth-Token, validated on
// every request: signature, expiry, revocation, and the user's current state. ADMIN_TOKEN, only when the operator
// set it, stands for the admin user (a development convenience). No token: anonymous, which only the public
// routes (/, /health, /ready, /v3 discovery and login) serve.
import { hash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { TokenIdentity } from '../../commands/identity/identity.js';
import { effectiveRoles } from '../../domain/identity/catalog.js';

// One-shot hashing: no Hash object per request.
const digest = (s: string) => hash('sha256', s, 'buffer');

export interface Authenticator {
  /** The static development token, when ADMIN_TOKEN is set. */
  adminToken?: string | undefined;
  validate(token: string): Promise<TokenIdentity | undefined>;
}

/** dcmanager's AuthHook texts (it also echoes the token after "invalid:"; fleetledger never repeats a token). */
export const AUTHENTICATION_REQUIRED = 'Failed to validate access token: Authentication required';
export const TOKEN_INVALID = 'Failed to validate access token: Auth token is invalid';

/** Sets req.actor (and req.identity for a user's token); a token that does not validate leaves req.authFailure,
 *  and policy.ts refuses the request unless its route is public. */
export function authenticate(a: Authenticator): RequestHandler {
  const admin = a.adminToken ? digest(a.adminToken) : undefined;
  return (req, _res, next) => {
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || token.length === 0) return next();
    if (admin && timingSafeEqual(digest(token), admin)) {
      req.actor = { kind: 'user', name: 'admin', roles: effectiveRoles(['admin']), project: 'admin' };
      return next();
    }
    a.validate(token).then((identity) => {
      // A public route (login, discovery) still answers; any other refuses it (policy.ts).
      if (!identity) {
        req.authFailure = TOKEN_INVALID;
        return next();
      }
      req.identity = identity;
      req.actor = { kind: 'user', name: identity.user.name, id: identity.user.id, roles: identity.roles, ...(identity.project ? { project: identity.project.name } : {}) };
      next();
    }, next);
  };
}

