// Section `subclouds` of `npm run bench` (opt-in: --only=subclouds): a fleet of N simulated subclouds driven through
// a real site, both as separate processes, as an operator would run them:
// - the simulator: `node --import tsx simulator/main.ts --subclouds N --op-seconds S --output-dir <tmp> --quiet`
//   (agents on 127.0.10.1… at a free port, admin API on a free port);
// - fleetledger: `node --import tsx main.ts` on the embedded stores (SQLite in a temp DATA_DIR, memory read models)
//   with SUBCLOUD_AUDIT_INTERVAL small, the default audit concurrency and LOG_LEVEL=debug, so that the audit's
//   per-cycle summary ('availability audit cycle done', durationMs) can be read from its stdout.
// Measured from the client: the time to add all N (multipart POST, bounded concurrency), until all are `complete`
// and `online` (GET /v1.0/subclouds every second), to manage all (PATCH) and until all show `managed`; then the
// audit cycles of the managed fleet (from the logs) and the events they append: the head (GET /ready's
// projectedPosition) before and after idle cycles (no change on any subcloud). RSS of the site process at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config.js';
import { BENCH_TOKEN, childExecArgv, seconds } from './lib.js';
import { freePort } from '../test/support/net.js';

export { freePort };

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface SubcloudsOptions {
  subclouds: number;
  /** Duration of a simulated operation (bootstrap). */
  opSeconds: number;
  auditIntervalSeconds: number;
  /** Requests in flight from the bench client. */
  clientConcurrency: number;
  /** Idle audit cycles over which the events appended are counted. */
  idleCycles: number;
  /** Give up waiting for a state after this long. */
  timeoutSeconds: number;
  say: (line: string) => void;
}

export interface AuditCycle {
  audited: number;
  reachable: number;
  unreachable: number;
  changed: number;
  durationMs: number;
  subclouds: number;
}

export interface SubcloudsResults {
  subclouds: number;
  opSeconds: number;
  auditIntervalSeconds: number;
  auditConcurrency: number;
  clientConcurrency: number;
  simulatorStartSeconds: number;
  add: { seconds: number; perSecond: number; errors: number; errorSamples: string[] };
  /** From the first POST until every subcloud is `complete` and `online`. */
  completeOnlineSeconds: number;
  manage: { seconds: number; perSecond: number; errors: number; errorSamples: string[] };
  /** From the first PATCH until every subcloud shows `managed`. */
  managedSeconds: number;
  /** Audit cycles of the whole managed fleet (audited = N) with nothing changed, from the site's debug log. */
  idleCycles: AuditCycle[];
  /** The slowest of idleCycles: the measured figure. */
  auditCycleMs: number;
  /** Events appended over idleCycles.length idle cycles (head before and after), and per cycle. */
  idleEvents: number;
  eventsPerIdleCycle: number;
  /** Every cycle the site logged during the run. */
  allCycles: AuditCycle[];
  siteRssMB: number;
  simulatorRssMB: number;
  /** Lines the site logged at warn or above (first few). */
  siteWarnings: number;
  warningSamples: string[];
}


export interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves with the first line matching; rejects if the process exits first or after timeoutMs. */
  waitFor(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Proc {
  const child = spawn(process.execPath, [...childExecArgv(), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let code: number | null | undefined;
  const watchers: { match: (l: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      for (const w of watchers.splice(0)) w.reject(new Error(`${name} exited (code ${c})`));
      resolve(c);
    }),
  );
  const handle = (line: string) => {
    onLine(line);
    for (let i = watchers.length - 1; i >= 0; i--) {
      if (watchers[i]!.match(line)) watchers.splice(i, 1)[0]!.resolve(line);
    }
  };
  createInterface({ input: child.stdout! }).on('line', handle);
  createInterface({ input: child.stderr! }).on('line', (l) => {
    process.stderr.write(`[${name}] ${l}\n`);
    handle(l);
  });
  return {
    child,
    exited,
    waitFor(match, timeoutMs) {
      if (code !== undefined) return Promise.reject(new Error(`${name} exited (code ${code})`));
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no expected line within ${timeoutMs} ms`)), timeoutMs);
        watchers.push({
          match,
          resolve: (l) => (clearTimeout(timer), resolve(l)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
      });
    },
    async stop() {
      if (code !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const rssMB = (pid: number | undefined) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(/(\d+)/.exec(line)![1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
};

/** Runs fn over items with `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

interface ListEntry {
  id: number;
  name: string;
  'deploy-status': string;
  'availability-status': string;
  'management-state': string;
}

export async function benchSubclouds(o: SubcloudsOptions): Promise<SubcloudsResults> {
  const n = o.subclouds;
  const work = mkdtempSync(join(tmpdir(), 'fleetledger-bench-subclouds-'));
  const valuesDir = join(work, 'values');
  const dataDir = join(work, 'data');
  const [agentPort, adminPort, sitePort] = [await freePort(), await freePort(), await freePort()];
  const procs: Proc[] = [];
  const allCycles: AuditCycle[] = [];
  const cycleWaiters: ((c: AuditCycle) => void)[] = [];
  let siteWarnings = 0;
  const warningSamples: string[] = [];

  try {
    // ---- the simulator ----
    let t = performance.now();
    o.say(`starting the simulator: ${n} subclouds, op ${o.opSeconds}s, agents on port ${agentPort}`);
    const sim = startProcess(
      'simulator',
      ['simulator/main.ts', '--subclouds', String(n), '--op-seconds', String(o.opSeconds), '--output-dir', valuesDir,
        '--port', String(agentPort), '--admin-port', String(adminPort), '--quiet'],
      process.env,
      () => undefined,
    );
    procs.push(sim);
    await sim.waitFor((l) => l.startsWith('admin '), 300_000);
    const simulatorStartSeconds = seconds(t);
    const fleet = (await (await fetch(`http://127.0.0.1:${adminPort}/subclouds`)).json()) as {
      subclouds: { name: string; address: string; bootstrap_values: string | null }[];
    };
    if (fleet.subclouds.length !== n) throw new Error(`the simulator serves ${fleet.subclouds.length} subclouds, not ${n}`);
    o.say(`simulator up in ${simulatorStartSeconds.toFixed(1)} s (rss ${rssMB(sim.child.pid).toFixed(0)} MB)`);

    // ---- the site ----
    const site = startProcess(
      'fleetledger',
      ['main.ts'],
      {
        ...process.env,
        PORT: String(sitePort),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        EVENT_STORE: 'sqlite',
        READ_STORE: 'memory',
        ROLE: 'all',
        ADMIN_TOKEN: BENCH_TOKEN,
        LOG_LEVEL: 'debug',
        SUBCLOUD_AGENT_PORT: String(agentPort),
        SUBCLOUD_AUDIT_INTERVAL: String(o.auditIntervalSeconds),
        SUBCLOUD_AUDIT_CONCURRENCY: '',
      },
      (line) => {
        if (!line.startsWith('{')) return;
        let rec: { level?: number; msg?: string } & Partial<AuditCycle>;
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          return;
        }
        if (rec.msg === 'availability audit cycle done') {
          const c: AuditCycle = {
            audited: rec.audited ?? 0,
            reachable: rec.reachable ?? 0,
            unreachable: rec.unreachable ?? 0,
            changed: rec.changed ?? 0,
            durationMs: rec.durationMs ?? NaN,
            subclouds: rec.subclouds ?? 0,
          };
          allCycles.push(c);
          for (const w of cycleWaiters.splice(0)) w(c);
        } else if ((rec.level ?? 0) >= 40) {
          siteWarnings++;
          if (warningSamples.length < 5) warningSamples.push(line.slice(0, 400));
        }
      },
    );
    procs.push(site);
    await site.waitFor((l) => l.includes('fleetledger listening on'), 60_000);
    const base = `http://127.0.0.1:${sitePort}`;
    const headers = { 'X-Auth-Token': BENCH_TOKEN, Accept: 'application/json' };
    const nextCycle = (timeoutMs: number) =>
      new Promise<AuditCycle>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no audit cycle within ${timeoutMs} ms`)), timeoutMs);
        cycleWaiters.push((c) => (clearTimeout(timer), resolve(c)));
      });
    const list = async () => {
      const res = await fetch(`${base}/v1.0/subclouds`, { headers });
      if (!res.ok) throw new Error(`GET /v1.0/subclouds: ${res.status}`);
      return ((await res.json()) as { subclouds: ListEntry[] }).subclouds;
    };
    const head = async () => {
      const ready = (await (await fetch(`${base}/ready`)).json()) as { projectedPosition: string };
      return BigInt(ready.projectedPosition);
    };
    /** Polls the list every second until `done` holds for all N; logs progress every 10 s. */
    const waitAll = async (what: string, done: (s: ListEntry) => boolean, since: number) => {
      let lastSay = performance.now();
      for (;;) {
        const all = await list();
        const count = all.filter(done).length;
        if (all.length === n && count === n) return seconds(since);
        if (performance.now() - lastSay > 10_000) {
          lastSay = performance.now();
          const failed = all.filter((s) => s['deploy-status'].endsWith('-failed')).length;
          o.say(`${what}: ${count} of ${n} after ${seconds(since).toFixed(0)} s${failed ? ` (${failed} failed)` : ''}`);
        }
        if (seconds(since) > o.timeoutSeconds) throw new Error(`${what}: only ${count} of ${n} after ${o.timeoutSeconds} s`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    };

    // ---- add ----
    o.say(`adding ${n} subclouds (${o.clientConcurrency} requests in flight)`);
    const password = Buffer.from('St8rlingX*').toString('base64');
    const add = { seconds: 0, perSecond: 0, errors: 0, errorSamples: [] as string[] };
    const fail = (r: typeof add, what: string) => {
      r.errors++;
      if (r.errorSamples.length < 5) r.errorSamples.push(what);
    };
    t = performance.now();
    const addStarted = t;
    await pool(fleet.subclouds, o.clientConcurrency, async (s) => {
      const form = new FormData();
      form.append('bootstrap_values', new Blob([readFileSync(s.bootstrap_values!)]), `${s.name}-bootstrap_values.yaml`);
      form.append('bootstrap-address', s.address);
      form.append('sysadmin_password', password);
      try {
        const res = await fetch(`${base}/v1.0/subclouds`, { method: 'POST', headers, body: form });
        const text = await res.text();
        if (!res.ok) fail(add, `${s.name}: ${res.status} ${text.slice(0, 200)}`);
      } catch (error) {
        fail(add, `${s.name}: ${String(error)}`);
      }
    });
    add.seconds = seconds(t);
    add.perSecond = n / add.seconds;
    o.say(`added in ${add.seconds.toFixed(1)} s (${add.perSecond.toFixed(0)}/s, ${add.errors} errors)`);
    if (add.errors) throw new Error(`${add.errors} POSTs failed: ${add.errorSamples.join(' | ')}`);

    const completeOnlineSeconds = await waitAll('complete and online', (s) => s['deploy-status'] === 'complete' && s['availability-status'] === 'online', addStarted);
    o.say(`all complete and online ${completeOnlineSeconds.toFixed(1)} s after the first POST`);

    // ---- manage ----
    const ids = (await list()).map((s) => s.id);
    const manage = { seconds: 0, perSecond: 0, errors: 0, errorSamples: [] as string[] };
    t = performance.now();
    await pool(ids, o.clientConcurrency, async (id) => {
      const form = new FormData();
      form.append('management-state', 'managed');
      try {
        const res = await fetch(`${base}/v1.0/subclouds/${id}`, { method: 'PATCH', headers, body: form });
        const text = await res.text();
        if (!res.ok) fail(manage, `${id}: ${res.status} ${text.slice(0, 200)}`);
      } catch (error) {
        fail(manage, `${id}: ${String(error)}`);
      }
    });
    manage.seconds = seconds(t);
    manage.perSecond = n / manage.seconds;
    if (manage.errors) throw new Error(`${manage.errors} PATCHes failed: ${manage.errorSamples.join(' | ')}`);
    const managedSeconds = await waitAll('managed', (s) => s['management-state'] === 'managed', t);
    o.say(`managed in ${manage.seconds.toFixed(1)} s of PATCHes; all managed after ${managedSeconds.toFixed(1)} s`);

    // ---- idle audit cycles ----
    // The first full cycle of the managed fleet records endpoint sync statuses and alarm summaries: wait for one
    // whole cycle that started after the last PATCH and changed nothing, then count the events of the next ones.
    const waitMs = (o.auditIntervalSeconds + 120) * 1_000;
    for (let settled = false, tries = 0; !settled; tries++) {
      if (tries > 20) throw new Error('the audit never settled: every cycle still changes something');
      const c = await nextCycle(waitMs);
      settled = c.audited === n && c.changed === 0 && c.unreachable === 0;
      o.say(`audit cycle: ${c.audited} audited, ${c.changed} changed, ${c.unreachable} unreachable, ${c.durationMs} ms`);
    }
    const before = await head();
    const idleCycles: AuditCycle[] = [];
    for (let i = 0; i < o.idleCycles; i++) {
      const c = await nextCycle(waitMs);
      idleCycles.push(c);
      o.say(`idle audit cycle: ${c.audited} audited, ${c.changed} changed, ${c.durationMs} ms`);
    }
    // The head as the read models see it; they are caught up within a moment of an append.
    await new Promise((r) => setTimeout(r, 500));
    const after = await head();
    const idleEvents = Number(after - before);
    const siteRss = rssMB(site.child.pid);
    const simRss = rssMB(sim.child.pid);

    return {
      subclouds: n,
      opSeconds: o.opSeconds,
      auditIntervalSeconds: o.auditIntervalSeconds,
      auditConcurrency: parseConfig({}).subcloudAuditConcurrency,
      clientConcurrency: o.clientConcurrency,
      simulatorStartSeconds,
      add,
      completeOnlineSeconds,
      manage,
      managedSeconds,
      idleCycles,
      auditCycleMs: Math.max(...idleCycles.map((c) => c.durationMs)),
      idleEvents,
      eventsPerIdleCycle: idleEvents / idleCycles.length,
      allCycles,
      siteRssMB: siteRss,
      simulatorRssMB: simRss,
      siteWarnings,
      warningSamples,
    };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
