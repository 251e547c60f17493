// HTTP writes: PATCH /v1.0/subcloud-groups/<id> through the whole write path (token, zod, command handler, append
// with group commit, read-your-writes wait for the projections) with 32 clients, each looping request -> await,
// against a bare express PATCH route in the same server process, measured with the same client in the same run.
// The server runs in a child process (server.ts), so the load generator here does not share its CPU thread.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { BENCH_TOKEN, forkTs, percentile, Samples, seconds } from './lib.js';
import type { ServerMessage } from './server.js';

export interface HttpRun {
  name: string;
  clients: number;
  /** Distinct groups written to (0 for the bare route). */
  groups: number;
  seconds: number;
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** Non-2xx answers other than conflicts, and requests that failed on the network. */
  errors: number;
  /** 409 answers: a command that lost its expected-revision race five times (only where clients share groups). */
  conflicts: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  /** Writes answered before the read models caught up (Fleetledger-Consistency: pending). */
  pending: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** CPU the server process spent per request (user + system), and its event-loop utilisation. */
  server: { cpuMsPerRequest: number; eventLoopUtilization: number; rssMB: number };
  /** The load generator's own event-loop utilisation: near 1 means the client, not the server, set the pace. */
  clientEventLoopUtilization: number;
}

export interface HttpResults {
  durationSeconds: number;
  warmupSeconds: number;
  clients: number;
  bare: HttpRun;
  site: HttpRun;
  contended?: HttpRun;
  /** site writes/s over bare route requests/s. */
  ratio: number;
  /** After the runs: every group holds the last description its client wrote (read back through GET). */
  verified: boolean;
  serverProfileDir?: string;
}

export interface HttpOptions {
  durationSeconds: number;
  warmupSeconds: number;
  clients: number;
  /** Groups per client in the main run (each client patches only its own). */
  groupsPerClient: number;
  /** Groups all clients share in the contended run; 0 skips it. */
  contendedGroups: number;
  contendedSeconds: number;
  /** Write a CPU profile of the server process here (node --cpu-prof). */
  profileDir?: string;
  logLevel?: string;
  say?: (line: string) => void;
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

const headers = {
  'content-type': 'application/json',
  accept: 'application/json',
  'x-auth-token': BENCH_TOKEN,
};

interface LoadPlan {
  name: string;
  clients: number;
  seconds: number;
  /** The group id client `c` writes on its `n`th request. */
  target(c: number, n: number): number;
  groups: number;
}

/** The description a client writes: unique per request, so every PATCH is a real change (and records an event). */
const description = (c: number, n: number, run: string) => `bench ${run} client ${c} request ${n}`;

async function load(
  pool: Pool,
  plan: LoadPlan,
  usage: () => Promise<Extract<ServerMessage, { type: 'usage' }>>,
  /** Filled with the description of the last successful write to each group. */
  written?: Map<number, string>,
): Promise<HttpRun> {
  const samples = new Samples();
  const statuses = new Map<string, number>();
  const errorSamples: string[] = [];
  let ok = 0;
  let errors = 0;
  let conflicts = 0;
  let pending = 0;
  let sum = 0;
  await usage(); // resets the server's counters
  const eluStart = performance.eventLoopUtilization();
  const started = performance.now();
  const until = started + plan.seconds * 1000;
  await Promise.all(
    Array.from({ length: plan.clients }, async (_, c) => {
      for (let n = 0; performance.now() < until; n++) {
        const id = plan.target(c, n);
        const text = description(c, n, plan.name);
        const body = JSON.stringify({ description: text });
        const t = performance.now();
        let status: string;
        try {
          const res = await pool.request({ path: `/v1.0/subcloud-groups/${id}`, method: 'PATCH', headers, body });
          const answer = await res.body.text();
          status = String(res.statusCode);
          if (res.statusCode >= 200 && res.statusCode < 300) {
            ok += 1;
            written?.set(id, text);
            if (res.headers['fleetledger-consistency'] === 'pending') pending += 1;
          } else if (res.statusCode === 409) {
            conflicts += 1;
          } else {
            errors += 1;
            if (errorSamples.length < 5) errorSamples.push(`${res.statusCode} ${answer.slice(0, 300)}`);
          }
        } catch (error) {
          status = 'network';
          errors += 1;
          if (errorSamples.length < 5) errorSamples.push(String(error));
        }
        const ms = performance.now() - t;
        samples.push(ms);
        sum += ms;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const elapsed = seconds(started);
  const clientElu = performance.eventLoopUtilization(eluStart).utilization;
  const server = await usage();
  const sorted = samples.sorted();
  const requests = samples.length;
  return {
    name: plan.name,
    clients: plan.clients,
    groups: plan.groups,
    seconds: elapsed,
    requests,
    ok,
    errors,
    conflicts,
    statuses: Object.fromEntries(statuses),
    errorSamples,
    pending,
    requestsPerSecond: ok / elapsed,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
      mean: requests > 0 ? sum / requests : NaN,
    },
    server: {
      cpuMsPerRequest: requests > 0 ? server.cpuMicros / 1000 / requests : NaN,
      eventLoopUtilization: server.elu,
      rssMB: server.rssMB,
    },
    clientEventLoopUtilization: clientElu,
  };
}

async function call(pool: Pool, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await pool.request({
    path,
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as any;
}

export async function benchHttp(o: HttpOptions): Promise<HttpResults> {
  const say = o.say ?? (() => undefined);
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const server = forkTs<ServerMessage>(
    SERVER,
    [o.logLevel ?? 'warn'],
    o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [],
  );
  let site: Pool | undefined;
  let bare: Pool | undefined;
  try {
    const ready = await Promise.race([
      server.next((m): m is Extract<ServerMessage, { type: 'ready' | 'failed' }> => m.type === 'ready' || m.type === 'failed'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the bench server did not start in 60 s')), 60_000).unref()),
    ]);
    if (ready.type === 'failed') throw new Error(`the bench server failed: ${ready.error}`);
    const usage = async () => {
      server.send({ type: 'usage' });
      return server.next((m): m is Extract<ServerMessage, { type: 'usage' }> => m.type === 'usage');
    };
    site = new Pool(`http://127.0.0.1:${ready.sitePort}`, { connections: o.clients, pipelining: 1 });
    bare = new Pool(`http://127.0.0.1:${ready.barePort}`, { connections: o.clients, pipelining: 1 });

    // The groups: each client owns groupsPerClient of them (round robin), the contended run shares the first few.
    const groupCount = Math.max(o.clients * o.groupsPerClient, o.contendedGroups);
    say(`creating ${groupCount} subcloud groups`);
    const ids: number[] = new Array(groupCount);
    for (let i = 0; i < groupCount; i += o.clients) {
      await Promise.all(
        Array.from({ length: Math.min(o.clients, groupCount - i) }, async (_, k) => {
          const g = await call(site!, 'POST', '/v1.0/subcloud-groups', {
            name: `bench-${i + k}`,
            description: `bench group ${i + k}`,
            update_apply_type: 'parallel',
            max_parallel_subclouds: 2,
          });
          ids[i + k] = g.id as number;
        }),
      );
    }
    const own = (c: number, n: number) => ids[c + o.clients * (n % o.groupsPerClient)]!;
    const plans = {
      bare: { name: 'bare', clients: o.clients, seconds: o.durationSeconds, target: own, groups: 0 },
      site: { name: 'site', clients: o.clients, seconds: o.durationSeconds, target: own, groups: o.clients * o.groupsPerClient },
      contended: {
        name: 'contended',
        clients: o.clients,
        seconds: o.contendedSeconds,
        target: (c: number, n: number) => ids[(c + n) % o.contendedGroups]!,
        groups: o.contendedGroups,
      },
    } satisfies Record<string, LoadPlan>;

    say(`warming up ${o.warmupSeconds}s per route`);
    await load(bare, { ...plans.bare, name: 'warmup', seconds: o.warmupSeconds }, usage);
    await load(site, { ...plans.site, name: 'warmup', seconds: o.warmupSeconds }, usage);

    say(`bare express route, ${o.durationSeconds}s`);
    const bareRun = await load(bare, plans.bare, usage);
    say(`site PATCH, ${o.durationSeconds}s`);
    const written = new Map<number, string>();
    const siteRun = await load(site, plans.site, usage, written);
    let contended: HttpRun | undefined;
    if (o.contendedGroups > 0 && o.contendedSeconds > 0) {
      say(`site PATCH, ${o.clients} clients on ${o.contendedGroups} groups, ${o.contendedSeconds}s`);
      contended = await load(site, plans.contended, usage);
    }

    // Read back: every group the contended run left alone holds the last description written to it.
    let verified = written.size > 0;
    const shared = new Set(ids.slice(0, contended ? o.contendedGroups : 0));
    for (const [id, text] of written) {
      if (shared.has(id)) continue;
      const g = await call(site, 'GET', `/v1.0/subcloud-groups/${id}`);
      if (g.description !== text) verified = false;
    }

    return {
      durationSeconds: o.durationSeconds,
      warmupSeconds: o.warmupSeconds,
      clients: o.clients,
      bare: bareRun,
      site: siteRun,
      ...(contended ? { contended } : {}),
      ratio: siteRun.requestsPerSecond / bareRun.requestsPerSecond,
      verified,
      ...(o.profileDir ? { serverProfileDir: o.profileDir } : {}),
    };
  } finally {
    await site?.close();
    await bare?.close();
    if (server.child.connected) {
      server.send({ type: 'stop' });
      await Promise.race([
        server.next((m): m is Extract<ServerMessage, { type: 'stopped' | 'failed' }> => m.type === 'stopped' || m.type === 'failed').catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 15_000).unref()),
      ]);
    }
    await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
}
