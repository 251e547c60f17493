// The controller-side client of the subcloud agent contract (docs/subcloud-agent.md), on undici.
// One Agent (keep-alive pool, bounded connections per origin) for every subcloud; per-call timeouts;
// retries with bounded back-off only where safe (every call here is: GETs, and POST /v1/operations which is
// idempotent by id); answers validated with zod; failures typed as AgentUnreachableError vs AgentError.
import { isIPv6 } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { z } from 'zod';
import {
  alarmSummarySchema, DEFAULT_AGENT_PORT, endpointsSchema, errorBodySchema, healthSchema, MAX_WAIT_MS,
  operationListSchema, operationRequestSchema, operationSchema, systemInfoSchema,
  type AlarmSummary, type EndpointStatus, type Health, type Operation, type OperationRequest, type SystemInfo,
} from './contract.js';
import { AgentError, AgentUnreachableError, unreachableReason } from './errors.js';
import { jsonOrUndefined } from '../http/json.js';

export interface AgentTimeouts {
  /** TCP connect (default 3 s). */
  connectMs: number;
  /** Until the response headers (default 5 s); a long poll adds its wait. */
  headersMs: number;
  /** Between body chunks (default 5 s). */
  bodyMs: number;
}

export interface SubcloudAgentClientOptions {
  port?: number;
  timeouts?: Partial<AgentTimeouts>;
  /** Connections per subcloud (origin); default 2. */
  connectionsPerOrigin?: number;
  /** Idle keep-alive before a pooled connection is closed (default 4 s; the agent's own limit wins if lower). */
  keepAliveMs?: number;
  /** Retries after the first attempt on a retryable failure (default 2). */
  retries?: number;
  /** Back-off before retry n (0-based): min(maxMs, baseMs × 2ⁿ). Defaults 200 ms and 2 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Where the client waits (back-off, polling). Tests inject one that does not really wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's retries for this call (0: one attempt, e.g. for an audit that must be quick). */
  retries?: number;
}

export interface WaitOptions {
  /** Called with the operation whenever its state, step or percent changed since the last call. */
  onProgress?: (op: Operation) => void;
  /** Pause between polls (default 2 s; at least 10 ms). */
  pollMs?: number;
  /** Ask the agent to hold each poll up to this long for a change (`?wait=`); agents may ignore it. */
  longPollMs?: number;
  /** Abort the wait (and the call in flight), e.g. AbortSignal.timeout(…) for an overall deadline. */
  signal?: AbortSignal;
  /** Consecutive failed polls (unreachable or 502/503/504, each after its own retries) tolerated; default 5. */
  maxConsecutiveFailures?: number;
}

export interface SubcloudAgentClient {
  system(address: string, opts?: CallOptions): Promise<SystemInfo>;
  health(address: string, opts?: CallOptions): Promise<Health>;
  endpoints(address: string, opts?: CallOptions): Promise<EndpointStatus[]>;
  alarms(address: string, opts?: CallOptions): Promise<AlarmSummary>;
  /** Starts (or, for a repeated id, returns) an operation. `created` is false for a repeat. */
  startOperation(address: string, op: OperationRequest, opts?: CallOptions): Promise<Operation & { created: boolean }>;
  operation(address: string, id: string, opts?: CallOptions & { waitMs?: number }): Promise<Operation>;
  operations(address: string, opts?: CallOptions): Promise<Operation[]>;
  /** Polls until the operation is final; resolves with it (succeeded or failed), never throws for `failed`. */
  waitForOperation(address: string, id: string, opts?: WaitOptions): Promise<Operation>;
  close(): Promise<void>;
}

const defaultSleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : undefined);

/** `http://<address>:<port>`; IPv6 literals in brackets. */
export function agentOrigin(address: string, port: number): string {
  const a = address.trim();
  if (!a || /[/\s@?#]/.test(a)) throw new TypeError(`invalid subcloud address: ${JSON.stringify(address)}`);
  const bare = a.startsWith('[') && a.endsWith(']') ? a.slice(1, -1) : a;
  return isIPv6(bare) ? `http://[${bare}]:${port}` : `http://${bare}:${port}`;
}

export function subcloudAgentClient(options: SubcloudAgentClientOptions = {}): SubcloudAgentClient {
  const port = options.port ?? DEFAULT_AGENT_PORT;
  const timeouts: AgentTimeouts = { connectMs: 3_000, headersMs: 5_000, bodyMs: 5_000, ...options.timeouts };
  const retries = options.retries ?? 2;
  const baseMs = options.backoff?.baseMs ?? 200;
  const maxMs = options.backoff?.maxMs ?? 2_000;
  const sleep = options.sleep ?? defaultSleep;
  const userAgent = options.userAgent ?? 'fleetledger/0.1';
  const dispatcher = new Agent({
    connections: options.connectionsPerOrigin ?? 2,
    pipelining: 1,
    keepAliveTimeout: options.keepAliveMs ?? 4_000,
    keepAliveMaxTimeout: Math.max(options.keepAliveMs ?? 4_000, 10_000),
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
  });

  interface Answer { status: number; json: unknown }

  async function once(address: string, method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined,
    extraHeadersMs: number): Promise<Answer> {
    const res = await request(`${agentOrigin(address, port)}${path}`, {
      dispatcher,
      method,
      headers: {
        accept: 'application/json',
        'user-agent': userAgent,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
      headersTimeout: timeouts.headersMs + extraHeadersMs,
      bodyTimeout: timeouts.bodyMs,
    });
    const text = await res.body.text();
    const json = jsonOrUndefined(text);
    if (res.statusCode >= 400) {
      const parsed = errorBodySchema.safeParse(json);
      throw parsed.success
        ? new AgentError(address, res.statusCode, parsed.data.error.code, parsed.data.error.message, parsed.data.error.details)
        : new AgentError(address, res.statusCode, 'http_error', text.slice(0, 200) || `HTTP ${res.statusCode}`);
    }
    return { status: res.statusCode, json };
  }

  async function call(address: string, method: 'GET' | 'POST', path: string, body: unknown, opts: CallOptions = {},
    extraHeadersMs = 0): Promise<Answer> {
    const max = opts.retries ?? retries;
    for (let attempt = 0; ; attempt++) {
      let failure: AgentUnreachableError | AgentError;
      try {
        return await once(address, method, path, body, opts.signal, extraHeadersMs);
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? err;
        if (err instanceof AgentError) {
          if (!err.retryable) throw err;
          failure = err;
        } else {
          const reason = unreachableReason(err);
          if (!reason) throw err;
          failure = new AgentUnreachableError(address, reason, attempt + 1, { cause: err });
        }
      }
      if (attempt >= max) throw failure;
      await sleep(Math.min(maxMs, baseMs * 2 ** attempt), opts.signal);
    }
  }

  function parse<S extends z.ZodType>(address: string, schema: S, answer: Answer, what: string): z.infer<S> {
    const r = schema.safeParse(answer.json);
    if (!r.success) {
      const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new AgentError(address, answer.status, 'invalid_response', `${what}: ${issues}`);
    }
    return r.data;
  }

  const get = async <S extends z.ZodType>(address: string, path: string, schema: S, opts?: CallOptions) =>
    parse(address, schema, await call(address, 'GET', path, undefined, opts), `GET ${path}`);

  const client: SubcloudAgentClient = {
    system: (address, opts) => get(address, '/v1/system', systemInfoSchema, opts),
    health: (address, opts) => get(address, '/v1/health', healthSchema, opts),
    endpoints: async (address, opts) => (await get(address, '/v1/endpoints', endpointsSchema, opts)).endpoint_sync_status,
    alarms: (address, opts) => get(address, '/v1/alarms', alarmSummarySchema, opts),
    operations: async (address, opts) => (await get(address, '/v1/operations', operationListSchema, opts)).operations,

    async startOperation(address, op, opts) {
      const body = operationRequestSchema.parse(op);
      const answer = await call(address, 'POST', '/v1/operations', body, opts);
      return { ...parse(address, operationSchema, answer, 'POST /v1/operations'), created: answer.status === 202 };
    },

    async operation(address, id, opts = {}) {
      const waitMs = Math.max(0, Math.min(MAX_WAIT_MS, Math.floor(opts.waitMs ?? 0)));
      const path = `/v1/operations/${encodeURIComponent(id)}${waitMs > 0 ? `?wait=${waitMs}` : ''}`;
      return parse(address, operationSchema, await call(address, 'GET', path, undefined, opts, waitMs), `GET ${path}`);
    },

    async waitForOperation(address, id, opts = {}) {
      const pollMs = Math.max(10, opts.pollMs ?? 2_000);
      const maxFailures = opts.maxConsecutiveFailures ?? 5;
      let lastKey: string | undefined;
      let failures = 0;
      for (;;) {
        let op: Operation;
        try {
          op = await client.operation(address, id, {
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(opts.longPollMs ? { waitMs: opts.longPollMs } : {}),
          });
          failures = 0;
        } catch (err) {
          const transient = err instanceof AgentUnreachableError || (err instanceof AgentError && err.retryable);
          if (!transient || ++failures > maxFailures) throw err;
          await sleep(pollMs, opts.signal);
          continue;
        }
        const key = `${op.state}|${op.progress.step_index ?? op.progress.step}|${op.progress.percent}`;
        const changed = key !== lastKey;
        if (changed) {
          lastKey = key;
          opts.onProgress?.(op);
        }
        if (op.state !== 'running') return op;
        // A long poll that came back with news: ask again at once; otherwise keep the polling pace.
        if (!(opts.longPollMs && changed)) await sleep(pollMs, opts.signal);
      }
    },

    close: () => dispatcher.close(),
  };
  return client;
}
