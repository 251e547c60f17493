// How a site talks to its peer site's dcmanager, as dcmanager's peer_site client does (spec §3.6): Keystone
// password authentication at the peer's `manager_endpoint` (its /v3) with manager_username and manager_password,
// project admin, domain Default; the dcmanager URL from the token's catalog (service type dcmanager, region
// SystemController, interface public). The token is kept until shortly before it expires, and renewed once when
// the peer answers 401. Requests carry `User-Agent: dcmanager/1.0` where dcmanager's do.
import { Agent, FormData, request, type Dispatcher } from 'undici';
import type { Clock } from '../../domain/core/clock.js';
import { jsonOrUndefined } from '../http/json.js';

export interface PeerCredentials {
  /** The peer's Keystone URL (`manager_endpoint`), e.g. https://peer:8119/v3. */
  authUrl: string;
  username: string;
  /** Plain text (dcmanager keeps it base64-encoded; the caller decodes). */
  password: string;
  projectName?: string;
  region?: string;
}

export interface PeerSessionOptions {
  clock: Clock;
  dispatcher?: Dispatcher;
  /** Renew this long before the token expires (default 60 s). */
  renewBeforeMs?: number;
  /** Per request (dcmanager's default is 600 s; a heartbeat wants less). */
  timeoutMs?: number;
}

export interface PeerAnswer {
  status: number;
  json: unknown;
}

export class PeerAuthError extends Error {}
export class PeerUnreachableError extends Error {}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string; region_id?: string; url: string }[];
}

export function peerSession(creds: PeerCredentials, o: PeerSessionOptions) {
  const dispatcher = o.dispatcher ?? new Agent({ connections: 16, keepAliveTimeout: 30_000 });
  const renewBefore = o.renewBeforeMs ?? 60_000;
  const timeout = o.timeoutMs ?? 600_000;
  const region = creds.region ?? 'SystemController';
  let cached: { token: string; expiresAt: number; dcmanagerUrl: string; platformUrl: string | undefined } | undefined;
  let pending: Promise<NonNullable<typeof cached>> | undefined;
  /** How many times this session authenticated (for tests and logs). */
  let logins = 0;

  async function send(method: Dispatcher.HttpMethod, url: string, headers: Record<string, string>, body: unknown, timeoutMs: number) {
    // A FormData body goes as multipart/form-data (undici sets the boundary), anything else as JSON.
    const form = body instanceof FormData;
    try {
      const res = await request(url, {
        method,
        dispatcher,
        headers: { accept: 'application/json', ...(body !== undefined && !form ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: form ? body : JSON.stringify(body) } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await res.body.text();
      const json = jsonOrUndefined(text);
      return { status: res.statusCode, headers: res.headers, json };
    } catch (e) {
      throw new PeerUnreachableError(`peer site at ${new URL(url).origin} is unreachable: ${(e as Error).message}`);
    }
  }

  async function authenticate(timeoutMs: number) {
    const base = creds.authUrl.replace(/\/+$/, '');
    const r = await send('POST', `${base}/auth/tokens`, {}, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: creds.username, domain: { name: 'Default' }, password: creds.password } } },
        scope: { project: { name: creds.projectName ?? 'admin', domain: { name: 'Default' } } },
      },
    }, timeoutMs);
    if (r.status !== 201) throw new PeerAuthError(`peer site refused the credentials of ${creds.username} (HTTP ${r.status})`);
    const token = r.headers['x-subject-token'];
    const body = r.json as { token?: { expires_at?: string; catalog?: CatalogEntry[] } } | undefined;
    const service = body?.token?.catalog?.find((s) => s.type === 'dcmanager');
    const endpoint = service?.endpoints.find((e) => e.interface === 'public' && (e.region_id ?? e.region) === region);
    if (typeof token !== 'string' || !endpoint || !body?.token?.expires_at) {
      throw new PeerAuthError(`peer site's token has no dcmanager public endpoint in region ${region}`);
    }
    // sysinv (service type platform, region RegionOne): where the peer's system UUID is read (spec §3.6 step 1).
    const platform = body.token.catalog
      ?.find((s) => s.type === 'platform')
      ?.endpoints.find((e) => e.interface === 'public' && (e.region_id ?? e.region) === 'RegionOne');
    logins++;
    return {
      token,
      expiresAt: Date.parse(body.token.expires_at),
      dcmanagerUrl: endpoint.url.replace(/\/+$/, ''),
      platformUrl: platform?.url.replace(/\/+$/, ''),
    };
  }

  /** A token good for at least `renewBefore` more; concurrent callers share one login. */
  async function session(timeoutMs: number) {
    if (cached && cached.expiresAt - renewBefore > o.clock.now().getTime()) return cached;
    pending ??= authenticate(timeoutMs).finally(() => (pending = undefined));
    cached = await pending;
    return cached;
  }

  return {
    /**
     * One dcmanager call on the peer: `path` below its dcmanager endpoint (e.g. `/subcloud-peer-groups`). `timeoutMs`
     * bounds this call's waits (and a login it needs) instead of the session's. A FormData body is sent as
     * multipart/form-data (dcmanager's subcloud add and update), any other body as JSON.
     */
    async call(
      method: Dispatcher.HttpMethod,
      path: string,
      body?: unknown,
      opts: { asPeer?: boolean; timeoutMs?: number; service?: 'dcmanager' | 'platform' } = {},
    ): Promise<PeerAnswer> {
      const timeoutMs = opts.timeoutMs ?? timeout;
      for (let attempt = 0; ; attempt++) {
        const s = await session(timeoutMs);
        const root = opts.service === 'platform' ? s.platformUrl : s.dcmanagerUrl;
        if (!root) throw new PeerAuthError(`peer site's token has no ${opts.service} public endpoint in region RegionOne`);
        const r = await send(method, `${root}${path}`, { 'x-auth-token': s.token, ...(opts.asPeer ? { 'user-agent': 'dcmanager/1.0' } : {}) }, body, timeoutMs);
        // A token the peer no longer takes (revoked, or its keys changed): log in again, once.
        if (r.status === 401 && attempt === 0) {
          cached = undefined;
          continue;
        }
        return { status: r.status, json: r.json };
      }
    },
    logins: () => logins,
    async close() {
      if (!o.dispatcher) await dispatcher.close();
    },
  };
}

export type PeerSession = ReturnType<typeof peerSession>;
