// Section `prestage` of `npm run bench` (opt-in: --only=prestage): a prestage strategy over N simulated subclouds
// (5,000), max-parallel-subclouds 250, each agent operation taking 1 s in the simulator; the simulator and the site
// are two processes, real time.
// - setup (not measured): the site takes over N running subclouds (migrate=true: a rehome each), they come online
//   through the availability audit, and are managed; one more simulated host is the system controller's own agent;
// - create: POST /sw-update-strategy for all subclouds (one step each): wall time;
// - apply: from POST /actions apply until the strategy is `complete`: wall time against the ideal N / max x the
//   states' durations; the RSS of the site process, sampled every 250 ms (peak); the events written (the site's
//   projected position before and after: the embedded store numbers events consecutively) per step.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_TOKEN, seconds } from './lib.js';
import { siteClient } from './siteClient.js';
import { freePort, pool, rssMB, startProcess, type Proc } from './subclouds.js';

export interface PrestageOptions {
  subclouds: number;
  maxParallel: number;
  opSeconds: number;
  clientConcurrency: number;
  timeoutSeconds: number;
  say: (line: string) => void;
}

export interface PrestageResults {
  subclouds: number;
  maxParallel: number;
  opSeconds: number;
  setupSeconds: number;
  createSeconds: number;
  applySeconds: number;
  /** The issue's ideal: N / max x 4 states x opSeconds. */
  issueIdealSeconds: number;
  /** The ideal for the states that do take an operation here (pre-check, packages, images; prepare is not needed). */
  operationsIdealSeconds: number;
  complete: number;
  peakRssMB: number;
  eventsWritten: number;
  eventsPerStep: number;
  /** The events written during the apply, by type (read from the site's SQLite file afterwards). */
  eventsByType: Record<string, number>;
}

const PASSWORD_B64 = Buffer.from('St8rlingX*').toString('base64');

export async function benchPrestage(o: PrestageOptions): Promise<PrestageResults> {
  const n = o.subclouds;
  const work = mkdtempSync(join(tmpdir(), 'fleetledger-bench-prestage-'));
  const valuesDir = join(work, 'values');
  const [agentPort, adminPort, port] = [await freePort(), await freePort(), await freePort()];
  const procs: Proc[] = [];
  try {
    // N subclouds, and one more host: the system controller's agent.
    const sim = startProcess(
      'simulator',
      ['simulator/main.ts', '--subclouds', String(n + 1), '--op-seconds', String(o.opSeconds), '--output-dir', valuesDir,
        '--port', String(agentPort), '--admin-port', String(adminPort), '--initial-state', 'configured', '--quiet'],
      process.env,
      () => undefined,
    );
    procs.push(sim);
    await sim.waitFor((l) => l.startsWith('admin '), 300_000);
    const all = ((await (await fetch(`http://127.0.0.1:${adminPort}/subclouds`)).json()) as {
      subclouds: { name: string; address: string; bootstrap_values: string | null }[];
    }).subclouds;
    const controller = all[n]!;
    const fleet = all.slice(0, n);
    const site = startProcess('site', ['main.ts'], {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(work, 'site'),
      ADMIN_TOKEN: BENCH_TOKEN,
      SYSTEM_NAME: 'bench-site',
      LOG_LEVEL: 'info',
      SUBCLOUD_AGENT_PORT: String(agentPort),
      // dcmanager's default audit interval: the audit of 5,000 subclouds runs beside the strategy, as it would.
      SUBCLOUD_AUDIT_INTERVAL: '30',
      SYSTEM_CONTROLLER_AGENT_ADDRESS: controller.address,
    }, () => undefined);
    procs.push(site);
    await site.waitFor((l) => l.includes('listening'), 60_000);
    const S = `http://127.0.0.1:${port}`;
    const { json, form, until } = siteClient(o);
    const projected = async () => BigInt(((await (await fetch(`${S}/ready`)).json()) as { projectedPosition: string }).projectedPosition);

    // ---- setup ----
    let t = performance.now();
    o.say(`setup: the site takes over ${n} subclouds`);
    await pool(fleet, o.clientConcurrency, (s) =>
      form(S, 'POST', '/v1.0/subclouds', { 'bootstrap-address': s.address, migrate: 'true', sysadmin_password: PASSWORD_B64 }, { bootstrap_values: readFileSync(s.bootstrap_values!, 'utf8') }),
    );
    const list = async () => (await json(S, 'GET', '/v1.0/subclouds')).subclouds as Record<string, string>[];
    await until('all complete and online', async () => (await list()).filter((s) => s['deploy-status'] === 'complete' && s['availability-status'] === 'online').length === n, 2_000);
    await pool(fleet, o.clientConcurrency, (s) => form(S, 'PATCH', `/v1.0/subclouds/${s.name}`, { 'management-state': 'managed' }));
    const setupSeconds = seconds(t);
    o.say(`setup done in ${setupSeconds.toFixed(0)} s`);

    // ---- create ----
    t = performance.now();
    const created = await json(S, 'POST', '/v1.0/sw-update-strategy', {
      type: 'prestage',
      sysadmin_password: PASSWORD_B64,
      'max-parallel-subclouds': String(o.maxParallel),
    });
    const createSeconds = seconds(t);
    const steps = ((await json(S, 'GET', '/v1.0/sw-update-strategy/steps'))['strategy-steps'] as unknown[]).length;
    o.say(`strategy ${created.id} created with ${steps} steps in ${createSeconds.toFixed(1)} s`);

    // ---- apply ----
    await until('the read models caught up', async () => (await projected()) > 0n, 200);
    const before = await projected();
    let peakRssMB = rssMB(site.child.pid);
    const sampler = setInterval(() => {
      peakRssMB = Math.max(peakRssMB, rssMB(site.child.pid));
    }, 250);
    t = performance.now();
    await json(S, 'POST', '/v1.0/sw-update-strategy/actions', { action: 'apply' });
    let state = '';
    await until('the strategy to end', async () => {
      state = (await json(S, 'GET', '/v1.0/sw-update-strategy')).state as string;
      return ['complete', 'failed', 'aborted'].includes(state);
    }, 200);
    const applySeconds = seconds(t);
    clearInterval(sampler);
    if (state !== 'complete') throw new Error(`the strategy ended ${state}`);
    const finalSteps = (await json(S, 'GET', '/v1.0/sw-update-strategy/steps'))['strategy-steps'] as { state: string }[];
    const complete = finalSteps.filter((s) => s.state === 'complete').length;
    await new Promise((r) => setTimeout(r, 1_000));
    const eventsWritten = Number((await projected()) - before);
    const issueIdealSeconds = (n / o.maxParallel) * 4 * o.opSeconds;
    const operationsIdealSeconds = (n / o.maxParallel) * 3 * o.opSeconds;
    // What was written, by type: the site's event store file, read after the site stopped.
    await site.stop();
    const db = new Database(join(work, 'site', 'events.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT type, COUNT(*) AS n FROM events WHERE position > ? GROUP BY type ORDER BY n DESC').all(Number(before)) as { type: string; n: number }[];
    db.close();
    const eventsByType = Object.fromEntries(rows.map((r) => [r.type, r.n]));
    o.say(`apply: ${applySeconds.toFixed(1)} s (ideal ${issueIdealSeconds} s), ${complete} complete, peak RSS ${peakRssMB} MB, ${eventsWritten} events`);
    return {
      subclouds: n,
      maxParallel: o.maxParallel,
      opSeconds: o.opSeconds,
      setupSeconds,
      createSeconds,
      applySeconds,
      issueIdealSeconds,
      operationsIdealSeconds,
      complete,
      peakRssMB,
      eventsWritten,
      eventsPerStep: eventsWritten / steps,
      eventsByType,
    };
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
