// The agent contract over node:http for one simulated subcloud (one listener per loopback address).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { MAX_WAIT_MS, type OperationKind } from '../adapters/subcloudAgent/contract.js';
import type { Clock } from '../domain/core/clock.js';
import { errorAnswer, type Answer, type SimSubcloud } from './subcloud.js';

export interface SimContext {
  clock: Clock;
  durationMs(kind: OperationKind): number;
}

export const MAX_BODY_BYTES = 64 * 1024;

export function sendJson(res: ServerResponse, answer: Answer) {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...answer.headers,
  });
  res.end(text);
}

/** The JSON body, or an Answer to send instead. */
export async function readJson(req: IncomingMessage): Promise<{ body: unknown } | Answer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return errorAnswer(413, 'too_large', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return { body: undefined };
  try {
    return { body: JSON.parse(text) as unknown };
  } catch {
    return errorAnswer(400, 'bad_request', 'body is not valid JSON');
  }
}

const now = (ctx: SimContext) => ctx.clock.now().getTime();

function route(method: string, path: string): { name: string; id?: string } | { notAllowed: string } | null {
  const fixed: Record<string, string> = {
    '/v1/system': 'GET', '/v1/health': 'GET', '/v1/endpoints': 'GET', '/v1/alarms': 'GET',
  };
  const allowed = fixed[path];
  if (allowed) return method === allowed ? { name: `GET ${path}` } : { notAllowed: allowed };
  if (path === '/v1/operations') {
    if (method === 'GET' || method === 'POST') return { name: `${method} /v1/operations` };
    return { notAllowed: 'GET, POST' };
  }
  const m = /^\/v1\/operations\/([^/]+)$/.exec(path);
  if (m?.[1]) {
    return method === 'GET' ? { name: 'GET /v1/operations/{id}', id: decodeURIComponent(m[1]) } : { notAllowed: 'GET' };
  }
  return null;
}

async function answer(ctx: SimContext, sub: SimSubcloud, req: IncomingMessage, url: URL, r: { name: string; id?: string },
  closed: AbortSignal): Promise<Answer> {
  sub.settle(now(ctx));
  switch (r.name) {
    case 'GET /v1/system': return { status: 200, body: sub.system(now(ctx)) };
    case 'GET /v1/health': return { status: 200, body: sub.health(now(ctx)) };
    case 'GET /v1/endpoints': return { status: 200, body: sub.endpoints() };
    case 'GET /v1/alarms': return { status: 200, body: sub.alarms() };
    case 'GET /v1/operations':
      return { status: 200, body: { operations: [...sub.operations.values()].reverse().map((op) => sub.view(op)) } };
    case 'POST /v1/operations': {
      const read = await readJson(req);
      if (!('body' in read)) return read;
      const kind = (read.body as { kind?: unknown } | undefined)?.kind;
      const duration = typeof kind === 'string' ? ctx.durationMs(kind as OperationKind) : 0;
      return sub.startOperation(read.body, now(ctx), duration);
    }
    default: {
      const id = r.id ?? '';
      let op = sub.operations.get(id);
      if (!op) return errorAnswer(404, 'not_found', `no operation ${id}`);
      const wait = Math.min(MAX_WAIT_MS, Math.max(0, Number(url.searchParams.get('wait') ?? 0) || 0));
      if (wait > 0 && op.state === 'running') {
        // Long poll: hold until the state or step changes, re-checking at the next step boundary.
        const seen = `${op.state}|${op.stepIndex}`;
        const until = performance.now() + wait;
        while (op.state === 'running' && `${op.state}|${op.stepIndex}` === seen && !closed.aborted) {
          const left = until - performance.now();
          if (left <= 0) break;
          const stepMs = op.durationMs / Math.max(1, sub.view(op).progress.step_count);
          const nextBoundary = op.createdAt + (op.stepIndex + 1) * stepMs - now(ctx);
          await delay(Math.max(5, Math.min(left, nextBoundary, 1_000)), undefined, { signal: closed }).catch(() => undefined);
          sub.settle(now(ctx));
          op = sub.operations.get(id) ?? op;
        }
      }
      return { status: 200, body: sub.view(op) };
    }
  }
}

async function handle(ctx: SimContext, sub: SimSubcloud, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://agent');
  const method = req.method ?? 'GET';
  const r = route(method, url.pathname);
  sub.countRequest(r && 'name' in r ? r.name : `${method} ${url.pathname}`);
  const closed = new AbortController();
  res.on('close', () => closed.abort());
  const f = sub.faults;
  if (f.errorResponses && f.errorResponses.count > 0) {
    const { status } = f.errorResponses;
    if (--f.errorResponses.count === 0) delete f.errorResponses;
    req.resume();
    return sendJson(res, {
      ...errorAnswer(status, status === 503 ? 'unavailable' : 'injected', `injected ${status}`),
      ...(status === 503 ? { headers: { 'retry-after': '1' } } : {}),
    });
  }
  if (f.slowMs) await delay(f.slowMs, undefined, { signal: closed.signal }).catch(() => undefined);
  if (closed.signal.aborted) return;
  let out: Answer;
  if (!r) out = errorAnswer(404, 'not_found', `no route ${method} ${url.pathname}`);
  else if ('notAllowed' in r) {
    out = { ...errorAnswer(405, 'method_not_allowed', `${method} not allowed on ${url.pathname}`), headers: { allow: r.notAllowed } };
  } else out = await answer(ctx, sub, req, url, r, closed.signal);
  if (sub.faults.dropResponses) {
    sub.faults.dropResponses--;
    req.socket.destroy();
    return;
  }
  if (!res.destroyed) sendJson(res, out);
}

export function agentServer(ctx: SimContext, sub: SimSubcloud): Server {
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    handle(ctx, sub, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, errorAnswer(500, 'internal', String(err)));
      else res.destroy();
    });
  });
  return server;
}

/** Opens the subcloud's listener on its address and port. */
export function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host: address, port, backlog: 64 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Closes the listener and every open connection: new connections are refused from now on. */
export function shut(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
