// `npm run bench`: appends, replay and HTTP writes, each measured side by side with its baseline in one run, and the
// same appends and replay through the EventStoreDB adapter over the in-process emulator (section esdb, no targets).
// Prints a table with the issue's targets (PASS/MISS) and writes bench/results/<timestamp>.json and latest.json.
// Exit code: 0 when every benchmark ran (even if a target is missed), 1 when one failed or saw errors.
//
//   npm run bench                      full run (~2-3 minutes): 10 s append phases, 1,000,000 replayed events, 15 s HTTP phases
//   npm run bench -- --quick           a few seconds each, 100,000 replayed events
//   npm run bench -- --duration=5 --replay-events=250000 --only=replay,http --profile
//   npm run bench -- --only=appends,replay,esdb --esdb-replay-events=50000
//
// Environment equivalents: BENCH_DURATION (seconds per measured phase), BENCH_REPLAY_EVENTS, BENCH_ESDB_REPLAY_EVENTS
// (events replayed from EventStoreDB: 100,000, or 20,000 with --quick), BENCH_ONLY, BENCH_QUICK=1.
// --profile writes a CPU profile of the HTTP server process (node --cpu-prof) under bench/results/.
//
//   npm run bench -- --only=subclouds [--subclouds-count=5000]   opt-in, not in the default set (about 6 minutes at 5,000 on 2 cores)
//   npm run bench -- --only=prestage [--prestage-subclouds=5000]   opt-in: the simulator + a site (bench/prestage.ts): a prestage strategy over
//                                                                  5,000 subclouds, max parallel 250, 1 s per operation, against its ideal
//   npm run bench -- --only=geo [--geo-subclouds=1000]             opt-in: two sites + the simulator (bench/geo.ts): sync, a 1,000-subcloud
//                                                                  migration against its ideal, the time to detect a dead peer
// Section subclouds: the simulator (simulator/main.ts) and a site (main.ts) as two processes; adds N subclouds
// (5,000, or 500 with --quick; BENCH_SUBCLOUDS), waits for them to deploy and go online, manages them, and measures
// the availability audit's cycle and the events an idle cycle appends (see bench/subclouds.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchAppends, type AppendResults } from './appends.js';
import { benchEsdb, type EsdbAppendPath, type EsdbResults } from './esdb.js';
import { benchHttp, type HttpResults, type HttpRun } from './http.js';
import { benchReplay, type ReplayResults } from './replay.js';
import { benchSubclouds, type SubcloudsResults } from './subclouds.js';
import { benchGeo, type GeoResults } from './geo.js';
import { benchPrestage, type PrestageResults } from './prestage.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const SECTIONS = ['appends', 'replay', 'http', 'esdb', 'subclouds', 'geo', 'prestage'] as const;
/** Run when --only is not given: subclouds takes minutes, so it is asked for by name. */
const DEFAULT_SECTIONS: Section[] = ['appends', 'replay', 'http', 'esdb'];
type Section = (typeof SECTIONS)[number];

interface Options {
  quick: boolean;
  /** Seconds of each measured append and HTTP phase. */
  duration: number;
  replayEvents: number;
  esdbReplayEvents: number;
  only: Section[];
  profile: boolean;
  writers: number;
  clients: number;
  subclouds: number;
  /** Subclouds of the geo section's peer group. */
  geoSubclouds: number;
  /** Subclouds of the prestage section's strategy. */
  prestageSubclouds: number;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg} (see the top of bench/run.ts)`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const known = new Set(['quick', 'duration', 'replay-events', 'esdb-replay-events', 'only', 'profile', 'subclouds-count', 'geo-subclouds', 'prestage-subclouds', 'help']);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k} (see the top of bench/run.ts)`);
  if (flags.has('help')) {
    console.log(
      'usage: npm run bench -- [--quick] [--duration=SECONDS] [--replay-events=N] [--esdb-replay-events=N] [--only=appends,replay,http,esdb,subclouds] [--profile] [--subclouds-count=N]',
    );
    process.exit(0);
  }
  const quick = flags.has('quick') || env.BENCH_QUICK === '1';
  const number = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${raw}`);
    return n;
  };
  const duration = number('--duration', flags.get('duration') ?? env.BENCH_DURATION, quick ? 3 : 10);
  const replayEvents = Math.round(number('--replay-events', flags.get('replay-events') ?? env.BENCH_REPLAY_EVENTS, quick ? 100_000 : 1_000_000));
  const esdbReplayEvents = Math.round(
    number('--esdb-replay-events', flags.get('esdb-replay-events') ?? env.BENCH_ESDB_REPLAY_EVENTS, quick ? 20_000 : 100_000),
  );
  const onlyRaw = flags.get('only') ?? env.BENCH_ONLY;
  const only = onlyRaw ? onlyRaw.split(',').map((s) => s.trim()) : [...DEFAULT_SECTIONS];
  const subclouds = Math.round(number('--subclouds-count', flags.get('subclouds-count') ?? env.BENCH_SUBCLOUDS, quick ? 500 : 5_000));
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only takes ${SECTIONS.join(',')}, not ${s}`);
  const geoSubclouds = Math.round(number('--geo-subclouds', flags.get('geo-subclouds') ?? env.BENCH_GEO_SUBCLOUDS, quick ? 100 : 1_000));
  const prestageSubclouds = Math.round(number('--prestage-subclouds', flags.get('prestage-subclouds') ?? env.BENCH_PRESTAGE_SUBCLOUDS, quick ? 500 : 5_000));
  return { quick, duration, replayEvents, esdbReplayEvents, only: only as Section[], profile: flags.has('profile'), writers: 64, clients: 32, subclouds, geoSubclouds, prestageSubclouds };
}

interface Target {
  id: string;
  description: string;
  value: number;
  target: number;
  /** 'min': value must be at least target; 'max': at most. */
  kind: 'min' | 'max';
  unit: string;
  pass: boolean;
}

const target = (id: string, description: string, value: number, t: number, kind: 'min' | 'max', unit: string): Target => ({
  id,
  description,
  value,
  target: t,
  kind,
  unit,
  pass: Number.isFinite(value) && (kind === 'min' ? value >= t : value <= t),
});

function machine() {
  const cpus = os.cpus();
  let git: { commit: string; dirty: boolean } | undefined;
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    git = { commit, dirty };
  } catch {
    git = undefined;
  }
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryGB: os.totalmem() / 2 ** 30,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    /** Other work on the machine when the run started: figures from a busy machine are low. */
    loadAverage: os.loadavg(),
    tmpdir: os.tmpdir(),
    git,
  };
}

// ---- output ----

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

type Row = [benchmark: string, figure: string, value: string, target: string, result: string];

function table(rows: Row[]): string {
  const header: Row = ['benchmark', 'figure', 'value', 'target', 'result'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: Row) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const verdict = (t: Target | undefined) => (t ? (t.pass ? 'PASS' : 'MISS') : '');
const targetText = (t: Target) => `${t.kind === 'min' ? '>=' : '<='} ${fmt(t.target, t.target < 10 ? 1 : 0)}${t.unit}`;

function appendRows(a: AppendResults, targets: Map<string, Target>): Row[] {
  const t = targets.get('appends.ratio')!;
  return [
    ['appends', 'sequential, 1 writer (appends/s)', fmt(a.sequential.appendsPerSecond), '', ''],
    [
      'appends',
      `concurrent, ${a.concurrent.writers} writers (appends/s)`,
      fmt(a.concurrent.appendsPerSecond),
      '',
      '',
    ],
    ['appends', 'mean appends per group commit', fmt(a.concurrent.meanGroupSize, 1), '', ''],
    ['appends', `4 KiB write + fdatasync in ${a.dataDir} (µs)`, fmt(a.fdatasyncMicros), '', ''],
    ['appends', 'concurrent / sequential', `${fmt(a.ratio, 1)}x`, targetText(t), verdict(t)],
  ];
}

function replayRows(r: ReplayResults, targets: Map<string, Target>): Row[] {
  const t = targets.get('replay.eventsPerSecond')!;
  return [
    ['replay', `events (${fmt(r.streams)} streams, ${fmt(r.generate.fileMB)} MB file, generated in ${fmt(r.generate.seconds)} s)`, fmt(r.events), '', ''],
    ['replay', 'rebuild into memory read models (events/s)', fmt(r.rebuild.eventsPerSecond), targetText(t), verdict(t)],
    ['replay', 'rebuild time: total / reading / projecting (s)', `${fmt(r.rebuild.seconds, 2)} / ${fmt(r.rebuild.readSeconds, 2)} / ${fmt(r.rebuild.projectSeconds, 2)}`, '', ''],
    ['replay', 'read only, SQLite + decode (events/s)', fmt(r.readOnly.eventsPerSecond), '', ''],
    ['replay', 'heap after rebuild (MB)', fmt(r.rebuild.heapUsedMB), '', ''],
  ];
}

function httpRows(h: HttpResults, targets: Map<string, Target>): Row[] {
  const run = (label: string, x: HttpRun): Row[] => [
    ['http', `${label} (requests/s)`, fmt(x.requestsPerSecond), '', ''],
    ['http', `${label} p50 / p99 (ms)`, `${fmt(x.latencyMs.p50, 1)} / ${fmt(x.latencyMs.p99, 1)}`, '', ''],
  ];
  const rows: Row[] = [...run(`bare express PATCH, ${h.clients} clients`, h.bare)];
  const w = targets.get('http.writesPerSecond')!;
  const p99 = targets.get('http.p99')!;
  const ratio = targets.get('http.ratioToBare')!;
  const errors = targets.get('http.errors')!;
  rows.push(
    ['http', `site PATCH, ${h.clients} clients, ${h.site.groups} groups (writes/s)`, fmt(h.site.requestsPerSecond), targetText(w), verdict(w)],
    ['http', 'site PATCH p50 (ms)', fmt(h.site.latencyMs.p50, 1), '', ''],
    ['http', 'site PATCH p99 (ms)', fmt(h.site.latencyMs.p99, 1), targetText(p99), verdict(p99)],
    ['http', 'site writes/s / bare requests/s', fmt(h.ratio, 2), targetText(ratio), verdict(ratio)],
    ['http', 'site non-2xx or failed requests', fmt(h.site.errors), '= 0', verdict(errors)],
    ['http', 'server CPU per request: site / bare (ms)', `${fmt(h.site.server.cpuMsPerRequest, 3)} / ${fmt(h.bare.server.cpuMsPerRequest, 3)}`, '', ''],
    ['http', 'writes answered before read models caught up', fmt(h.site.pending), '', ''],
  );
  if (h.contended) {
    const c = h.contended;
    rows.push(
      ['http', `contended: ${c.clients} clients on ${c.groups} groups (writes/s)`, fmt(c.requestsPerSecond), '', ''],
      ['http', 'contended p50 / p99 (ms)', `${fmt(c.latencyMs.p50, 1)} / ${fmt(c.latencyMs.p99, 1)}`, '', ''],
      ['http', 'contended 409 after 5 attempts / other errors', `${fmt(c.conflicts)} / ${fmt(c.errors)}`, '', ''],
    );
  }
  return rows;
}

function esdbRows(e: EsdbResults): Row[] {
  // Marked with a *: harness figures, see the footnote.
  const B = 'esdb*';
  const path = (p: EsdbAppendPath): Row[] => [
    [B, `${p.rpc}: sequential, 1 writer (appends/s)`, fmt(p.sequential.appendsPerSecond), '', ''],
    [B, `${p.rpc}: concurrent, ${p.concurrent.writers} writers (appends/s)`, fmt(p.concurrent.appendsPerSecond), '', ''],
    [B, `${p.rpc}: concurrent / sequential`, `${fmt(p.ratio, 1)}x`, '', ''],
    [B, `${p.rpc}: CPU per append, sequential / concurrent (µs)`, `${fmt(p.sequential.cpuMicrosPerAppend)} / ${fmt(p.concurrent.cpuMicrosPerAppend)}`, '', ''],
  ];
  const x = (n: number) => `${fmt(n, n < 0.1 ? 3 : 2)}x`;
  const v = e.vsSqlite;
  const r = e.replay;
  const rows: Row[] = [...path(e.appends.batchAppend), ...path(e.appends.append)];
  if (v.sequential && v.concurrent) {
    rows.push(
      [B, 'esdb/sqlite sequential: BatchAppend / Append', `${x(v.sequential.BatchAppend)} / ${x(v.sequential.Append)}`, '', ''],
      [B, 'esdb/sqlite concurrent: BatchAppend / Append', `${x(v.concurrent.BatchAppend)} / ${x(v.concurrent.Append)}`, '', ''],
    );
  }
  rows.push(
    [B, `replay events (${fmt(r.streams)} streams, written in ${fmt(r.generate.seconds, 1)} s)`, fmt(r.events), '', ''],
    [B, `readAll, pages of 1,000 (events/s; ${fmt(r.readOnly.readCalls)} Read calls)`, fmt(r.readOnly.eventsPerSecond), '', ''],
    [B, 'rebuild into memory read models (events/s)', fmt(r.rebuild.eventsPerSecond), '', ''],
    [B, 'rebuild time: total / reading / projecting (s)', `${fmt(r.rebuild.seconds, 2)} / ${fmt(r.rebuild.readSeconds, 2)} / ${fmt(r.rebuild.projectSeconds, 2)}`, '', ''],
    [B, 'subscribeToAll catch-up, start to head (events/s)', fmt(r.catchUp.eventsPerSecond), '', ''],
    [B, 'CPU per event: readAll / rebuild / catch-up (µs)', `${fmt(r.readOnly.cpuMicrosPerEvent)} / ${fmt(r.rebuildCpuMicrosPerEvent)} / ${fmt(r.catchUp.cpuMicrosPerEvent)}`, '', ''],
  );
  if (v.rebuild !== undefined && v.readOnly !== undefined) {
    rows.push(
      [B, `esdb/sqlite rebuild (sqlite: ${fmt(v.sqliteEvents ?? NaN)} events)`, x(v.rebuild), '', ''],
      [B, 'esdb/sqlite readAll', x(v.readOnly), '', ''],
    );
  }
  return rows;
}

function subcloudRows(s: SubcloudsResults, targets: Map<string, Target>): Row[] {
  const B = 'subclouds';
  const cycle = targets.get('subclouds.auditCycle')!;
  const idle = targets.get('subclouds.idleEvents')!;
  return [
    [B, `add ${fmt(s.subclouds)} (multipart POST, ${s.clientConcurrency} in flight) (s)`, `${fmt(s.add.seconds, 1)} (${fmt(s.add.perSecond)}/s)`, '', ''],
    [B, `first POST to all complete and online, op ${s.opSeconds} s (s)`, fmt(s.completeOnlineSeconds, 1), '', ''],
    [B, `manage all (PATCH) / until all managed (s)`, `${fmt(s.manage.seconds, 1)} / ${fmt(s.managedSeconds, 1)}`, '', ''],
    [B, `audit cycle, ${fmt(s.subclouds)} managed, concurrency ${s.auditConcurrency} (s)`, fmt(s.auditCycleMs / 1000, 2), targetText(cycle), verdict(cycle)],
    [B, `events per idle audit cycle (${s.idleCycles.length} cycles)`, fmt(s.eventsPerIdleCycle, 1), '= 0', verdict(idle)],
    [B, 'RSS at the end: site / simulator (MB)', `${fmt(s.siteRssMB)} / ${fmt(s.simulatorRssMB)}`, '', ''],
    [B, 'site log lines at warn or above', fmt(s.siteWarnings), '', ''],
  ];
}

function geoRows(g: GeoResults, targets: Map<string, Target>): Row[] {
  const B = 'geo';
  const m = targets.get('geo.migration')!;
  const d = targets.get('geo.deadPeer')!;
  const methods = Object.entries(g.sync.byMethod).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    [B, `sync of the group to the peer (s)`, fmt(g.sync.seconds, 1), '', ''],
    [B, `requests the peer served during the sync (${methods})`, fmt(g.sync.requests), '', ''],
    [B, `migration wall time, ${fmt(g.subclouds)} subclouds (s)`, fmt(g.migration.seconds, 1), targetText(m), verdict(m)],
    [B, 'migration / ideal', `${fmt(g.migration.seconds / g.migration.idealSeconds, 2)}x`, '', ''],
    [B, 'subclouds complete / managed after the migration', `${fmt(g.migration.complete)} / ${fmt(g.migration.managed)}`, '', ''],
    [B, 'dead peer marked unavailable after (s)', fmt(g.deadPeer.seconds, 1), targetText(d), verdict(d)],
    [B, 'RSS of site B after the migration (MB)', fmt(g.migration.siteBRssMB), '', ''],
  ];
}

function prestageRows(p: PrestageResults, targets: Map<string, Target>): Row[] {
  const B = 'prestage';
  const a = targets.get('prestage.apply')!;
  return [
    [B, `strategy created with ${fmt(p.subclouds)} steps (s)`, fmt(p.createSeconds, 1), '', ''],
    [B, `apply, max parallel ${p.maxParallel}, ${p.opSeconds} s per operation (s)`, fmt(p.applySeconds, 1), targetText(a), verdict(a)],
    [B, `apply / the issue's ideal (${fmt(p.issueIdealSeconds)} s: 4 states)`, `${fmt(p.applySeconds / p.issueIdealSeconds, 2)}x`, '', ''],
    [B, `apply / the operations' ideal (${fmt(p.operationsIdealSeconds)} s: 3 operations, no preparation needed)`, `${fmt(p.applySeconds / p.operationsIdealSeconds, 2)}x`, '', ''],
    [B, 'steps complete', fmt(p.complete), '', ''],
    [B, 'peak RSS of the site during the apply (MB)', fmt(p.peakRssMB), '', ''],
    [B, `events written per step (${fmt(p.eventsWritten)} in all)`, fmt(p.eventsPerStep, 2), '', ''],
    ...Object.entries(p.eventsByType).map(([type, n]): Row => [B, `  of which ${type} (per step)`, fmt(n / p.subclouds, 2), '', '']),
  ];
}

// ---- main ----

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2), process.env);
  const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const startedAt = new Date();
  const started = performance.now();
  const info = machine();
  say(
    `${info.cpus} x ${info.cpuModel}, ${fmt(info.totalMemoryGB, 1)} GB, node ${info.node}, load ${info.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
  );
  if (info.loadAverage[0]! > info.cpus * 0.5) say('the machine is busy: expect low and noisy figures');

  const results: { appends?: AppendResults; replay?: ReplayResults; http?: HttpResults; esdb?: EsdbResults; subclouds?: SubcloudsResults; geo?: GeoResults; prestage?: PrestageResults } = {};
  const errors: { section: Section; message: string }[] = [];
  const targets = new Map<string, Target>();
  const fail = (section: Section, error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    errors.push({ section, message });
    say(`${section} FAILED: ${message}`);
  };

  if (o.only.includes('appends')) {
    say(`appends: 1 writer, then ${o.writers} writers, ${o.duration}s each`);
    try {
      const a = await benchAppends({ durationSeconds: o.duration, writers: o.writers });
      results.appends = a;
      targets.set('appends.ratio', target('appends.ratio', `${o.writers} concurrent writers vs 1 sequential writer`, a.ratio, 10, 'min', 'x'));
    } catch (error) {
      fail('appends', error);
    }
  }

  if (o.only.includes('replay')) {
    say(`replay: ${fmt(o.replayEvents)} events`);
    try {
      const r = await benchReplay({ events: o.replayEvents, onProgress: (line) => say(`replay: ${line}`) });
      results.replay = r;
      targets.set('replay.eventsPerSecond', target('replay.eventsPerSecond', 'rebuild of all read models from zero', r.rebuild.eventsPerSecond, 200_000, 'min', ' ev/s'));
    } catch (error) {
      fail('replay', error);
    }
  }

  if (o.only.includes('http')) {
    const profileDir = o.profile ? `${RESULTS_DIR}profile-${stamp(startedAt)}` : undefined;
    try {
      const h = await benchHttp({
        durationSeconds: o.duration * 1.5,
        warmupSeconds: o.quick ? 1 : 3,
        clients: o.clients,
        groupsPerClient: 4,
        contendedGroups: 4,
        contendedSeconds: Math.round(o.duration * 8) / 10,
        logLevel: 'warn',
        ...(profileDir ? { profileDir } : {}),
        say: (line) => say(`http: ${line}`),
      });
      results.http = h;
      targets.set('http.writesPerSecond', target('http.writesPerSecond', 'PATCH subcloud group, 32 clients', h.site.requestsPerSecond, 3_000, 'min', '/s'));
      targets.set('http.p99', target('http.p99', 'PATCH subcloud group p99 latency', h.site.latencyMs.p99, 25, 'max', ' ms'));
      targets.set('http.ratioToBare', target('http.ratioToBare', 'site writes/s over bare express route requests/s', h.ratio, 0.3, 'min', ''));
      targets.set('http.errors', target('http.errors', 'non-2xx or failed site PATCH requests', h.site.errors, 0, 'max', ''));
      if (h.site.errors > 0) errors.push({ section: 'http', message: `${h.site.errors} site PATCH requests failed: ${h.site.errorSamples.join(' | ')}` });
      if (h.contended && h.contended.errors > 0) {
        errors.push({ section: 'http', message: `${h.contended.errors} contended PATCH requests failed: ${h.contended.errorSamples.join(' | ')}` });
      }
      if (!h.verified) errors.push({ section: 'http', message: 'a group read back after the run does not hold the last description written to it' });
      if (profileDir) say(`http: server CPU profile in ${profileDir}`);
    } catch (error) {
      fail('http', error);
    }
  }

  // Last, so that nothing of it (a gRPC server and client in this process) touches the figures of the other sections.
  if (o.only.includes('esdb')) {
    say(`esdb: appends (1 and ${o.writers} writers on BatchAppend and Append, ${o.duration}s each), replay of ${fmt(o.esdbReplayEvents)} events`);
    try {
      results.esdb = await benchEsdb({
        durationSeconds: o.duration,
        writers: o.writers,
        replayEvents: o.esdbReplayEvents,
        sqlite: { ...(results.appends ? { appends: results.appends } : {}), ...(results.replay ? { replay: results.replay } : {}) },
        say: (line) => say(`esdb: ${line}`),
      });
    } catch (error) {
      fail('esdb', error);
    }
  }

  // In a process of its own with the simulator in another: after the others, so they do not share the machine.
  if (o.only.includes('subclouds')) {
    say(`subclouds: ${fmt(o.subclouds)} simulated subclouds, audit every 5 s`);
    try {
      const s = await benchSubclouds({
        subclouds: o.subclouds,
        opSeconds: 1,
        auditIntervalSeconds: 5,
        clientConcurrency: 16,
        idleCycles: 2,
        timeoutSeconds: 1_800,
        say: (line) => say(`subclouds: ${line}`),
      });
      results.subclouds = s;
      targets.set('subclouds.auditCycle', target('subclouds.auditCycle', `one full availability audit cycle, ${s.subclouds} managed subclouds, concurrency ${s.auditConcurrency}`, s.auditCycleMs / 1000, 10, 'max', ' s'));
      targets.set('subclouds.idleEvents', target('subclouds.idleEvents', 'events appended per idle audit cycle', s.eventsPerIdleCycle, 0, 'max', ''));
    } catch (error) {
      fail('subclouds', error);
    }
  }

  if (o.only.includes('geo')) {
    say(`geo: two sites, a peer group of ${fmt(o.geoSubclouds)} simulated subclouds, max_subcloud_rehoming 50, rehomes of 2 s`);
    try {
      const g = await benchGeo({
        subclouds: o.geoSubclouds,
        maxSubcloudRehoming: 50,
        rehomeSeconds: 2,
        heartbeatInterval: 10,
        heartbeatFailureThreshold: 2,
        clientConcurrency: 16,
        timeoutSeconds: 1_200,
        say: (line) => say(`geo: ${line}`),
      });
      results.geo = g;
      targets.set('geo.migration', target('geo.migration', `migration of ${g.subclouds} subclouds, ${g.maxSubcloudRehoming} at a time, ${g.rehomeSeconds} s rehomes (ideal ${g.migration.idealSeconds} s)`, g.migration.seconds, g.migration.idealSeconds * 1.1, 'max', ' s'));
      targets.set('geo.deadPeer', target('geo.deadPeer', 'time to mark a dead peer unavailable (threshold x interval + 1 s)', g.deadPeer.seconds, g.deadPeer.targetSeconds, 'max', ' s'));
    } catch (error) {
      fail('geo', error);
    }
  }

  if (o.only.includes('prestage')) {
    say(`prestage: a strategy over ${fmt(o.prestageSubclouds)} simulated subclouds, max parallel 250, 1 s per operation`);
    try {
      const p = await benchPrestage({
        subclouds: o.prestageSubclouds,
        maxParallel: 250,
        opSeconds: 1,
        clientConcurrency: 16,
        timeoutSeconds: 1_800,
        say: (line) => say(`prestage: ${line}`),
      });
      results.prestage = p;
      targets.set('prestage.apply', target('prestage.apply', `prestage of ${p.subclouds} subclouds, ${p.maxParallel} at a time (issue ideal ${p.issueIdealSeconds} s, target x 1.1)`, p.applySeconds, p.issueIdealSeconds * 1.1, 'max', ' s'));
    } catch (error) {
      fail('prestage', error);
    }
  }

  const finishedAt = new Date();
  const rows: Row[] = [
    ...(results.appends ? appendRows(results.appends, targets) : []),
    ...(results.replay ? replayRows(results.replay, targets) : []),
    // Beside the SQLite figures it compares with (it runs last).
    ...(results.esdb ? esdbRows(results.esdb) : []),
    ...(results.http ? httpRows(results.http, targets) : []),
    ...(results.subclouds ? subcloudRows(results.subclouds, targets) : []),
    ...(results.geo ? geoRows(results.geo, targets) : []),
    ...(results.prestage ? prestageRows(results.prestage, targets) : []),
  ];
  const report = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: (performance.now() - started) / 1000,
    options: o,
    machine: info,
    targets: [...targets.values()],
    results,
    errors,
  };

  console.log(
    `\nfleetledger bench, ${report.startedAt} (${fmt(report.seconds)} s${o.quick ? ', --quick' : ''})\n` +
      `machine: ${info.cpus} x ${info.cpuModel}, ${fmt(info.totalMemoryGB, 1)} GB RAM, node ${info.node}, ${info.platform}` +
      `, load at start ${info.loadAverage.map((l) => l.toFixed(2)).join(' ')}` +
      (info.git ? `, commit ${info.git.commit}${info.git.dirty ? ' + local changes' : ''}` : '') +
      `\n\n${table(rows)}\n` +
      (results.esdb ? `* esdb: ${results.esdb.note}; no targets.\n` : ''),
  );
  const passed = [...targets.values()].filter((t) => t.pass).length;
  console.log(`targets: ${passed} of ${targets.size} met${errors.length ? `; ${errors.length} error(s)` : ''}`);
  for (const e of errors) console.log(`error in ${e.section}: ${e.message.split('\n')[0]}`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
  const file = `${RESULTS_DIR}${stamp(startedAt)}.json`;
  writeFileSync(file, json);
  writeFileSync(`${RESULTS_DIR}latest.json`, json);
  console.log(`results: ${file} (and latest.json)`);
  return errors.length > 0 ? 1 : 0;
}

/** An ISO timestamp usable as a file name on every platform. */
const stamp = (d: Date) => d.toISOString().replace(/:/g, '-');

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
