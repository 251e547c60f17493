// Per-request identity: request id, correlation id, actor, idempotency key, and the logger that carries them.
import { createHash, randomUUID } from 'node:crypto';
import { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { Actor } from '../../adapters/eventstore/port.js';
import type { CommandContext } from '../../commands/core/context.js';
import type { TokenIdentity } from '../../commands/identity/identity.js';
import type { Clock } from '../../domain/core/clock.js';
import { AUTHENTICATION_REQUIRED } from './auth.js';
import { HttpError } from './errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    correlationId: string;
    actor?: Actor;
    /** The token's identity, when the request carried a user's token (not the development ADMIN_TOKEN). */
    identity?: TokenIdentity;
    /** Why the token the request carried was refused, if it was. */
    authFailure?: string;
    log: Logger;
  }
}

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const SAFE_ID = /^[A-Za-z0-9._:@/+=-]{1,200}$/;

/** Request ids as oslo's request_id middleware gives them (x-openstack-request-id: req-<uuid>), plus a correlation id. */
export function requestIdentity(logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    req.id = `req-${randomUUID()}`;
    const incoming = headerValue(req.headers['x-correlation-id']);
    req.correlationId = incoming && SAFE_ID.test(incoming) ? incoming : req.id;
    res.setHeader('x-openstack-request-id', req.id);
    res.setHeader('x-correlation-id', req.correlationId);
    req.log = logger.child({ requestId: req.id, correlationId: req.correlationId });
    // The access log line is info: at a level that drops it, neither the timer nor the listener is worth having.
    if (logger.isLevelEnabled('info')) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        req.log.info(
          {
            method: req.method,
            url: req.originalUrl,
            status: res.statusCode,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            actor: req.actor?.name,
          },
          'request',
        );
      });
    }
    next();
  };
}

/** The command context of a request: who, why, when, and the Idempotency-Key if one was sent. */
export function commandContext(req: Request, clock: Clock): CommandContext {
  if (!req.actor) throw new HttpError(401, AUTHENTICATION_REQUIRED);
  const ctx: CommandContext = {
    correlationId: req.correlationId,
    causationId: req.id,
    actor: req.actor,
    now: clock.now(),
  };
  const key = headerValue(req.headers['idempotency-key']);
  if (key !== undefined) {
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new HttpError(400, 'Idempotency-Key must be 1 to 255 visible ASCII characters', 'Idempotency-Key');
    }
    const scope = `${req.method} ${req.baseUrl}${req.path}`;
    const requestHash = createHash('sha256')
      .update(scope)
      .update('\u0000')
      .update(JSON.stringify(req.body ?? null))
      .digest('hex');
    ctx.idempotency = { key, scope, requestHash };
  }
  return ctx;
}

/** Parses If-Match: W/"<revision>" (or a strong tag) into the stream revision the client last saw. */
export function ifMatchRevision(req: Request): bigint | undefined {
  const raw = headerValue(req.headers['if-match']);
  if (raw === undefined) return undefined;
  const m = /^(?:W\/)?"(\d+)"$/.exec(raw.trim());
  if (!m) throw new HttpError(400, 'If-Match must be an entity tag of the form W/"<revision>"', 'If-Match');
  return BigInt(m[1]!);
}

export const etag = (revision: bigint) => `W/"${revision}"`;
