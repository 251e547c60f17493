// The HTTP surface: identity and logging first, public probes, then who the caller is and what the policy table
// lets them do, then the routers.
import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import { errorHandler, HttpError } from './errors.js';
import { requestIdentity } from './context.js';
import { authenticate, type Authenticator } from './auth.js';
import { enforcePolicy } from './policy.js';

export interface AppDeps {
  logger: Logger;
  authenticator: Authenticator;
  /** Largest JSON body accepted (413 beyond it). */
  jsonLimitBytes?: number;
  /** Whether the site serves requests yet (projections caught up, stores reachable). */
  readiness(): Promise<{ ready: boolean; detail: Record<string, unknown> }>;
  /** Routers by path; the policy table (policy.ts) says which need a token and which roles. */
  routes: Record<string, Router>;
}

const isMultipart = (req: { headers: Record<string, unknown> }) =>
  String(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/');

export function createApp(d: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestIdentity(d.logger));

  app
    .route('/')
    .get((req, res) => {
      const base = `${req.protocol}://${req.get('host')}`;
      res.json({
        versions: [{ status: 'CURRENT', links: [{ rel: 'self', href: `${base}/v1.0/` }], id: 'v1.0', updated: '2017-10-2' }],
      });
    })
    .all((_req, _res, next) => next(new HttpError(405, 'The method is not allowed for this resource.')));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    const r = await d.readiness();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'not ready', ...r.detail });
  });

  // Who, and whether the policy lets them, before any body is read: an anonymous request gets its 401 first.
  app.use(authenticate(d.authenticator));
  app.use(enforcePolicy());
  // dcmanager reads JSON bodies whatever the Content-Type says; multipart is left to the routes that take it.
  app.use(express.json({ limit: d.jsonLimitBytes ?? 2 * 1024 * 1024, strict: false, type: (req) => !isMultipart(req) }));
  for (const [path, router] of Object.entries(d.routes)) app.use(path, router);
  app.use((_req, _res, next) => next(new HttpError(404, 'The resource could not be found.')));
  app.use(errorHandler);
  return app;
}
