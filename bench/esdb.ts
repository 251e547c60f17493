// EventStoreDB: the production adapter (adapters/eventstore/esdb, the real @eventstore/db-client) over the in-process
// gRPC emulator of test/support/esdbEmulator. Appends as in appends.ts (1 writer, then 64 writers on their own
// streams), once on each append RPC (BatchAppend, classic Append), checked against the emulator's counters; then the
// replay history of replay.ts written into the emulator and read back three ways: readAll pages, a projection rebuild
// into memory read models, and a subscribeToAll catch-up from the start to the head.
// The emulator shares this process (event loop, CPU) with the client and keeps its log in memory without fsync: these
// are harness figures for the client side of the adapter, not figures of an EventStoreDB server.
import { esdbEventStore } from '../adapters/eventstore/esdb/store.js';
import type { EventStore } from '../adapters/eventstore/port.js';
import { startEsdbEmulator, type EsdbEmulator } from '../test/support/esdbEmulator/index.js';
import { groupEvent, readAllPages, rebuildReadModels, seconds, timedAppends, type AppendRun, type RebuildResults } from './lib.js';
import { generate, type ReplayResults } from './replay.js';

export const ESDB_NOTE =
  'harness figures: the EventStoreDB gRPC emulator (test/support/esdbEmulator) runs in the same process as the client ' +
  '(one event loop, the same CPU, an in-memory log without fsync); they measure the adapter, @eventstore/db-client and ' +
  'gRPC on both ends, not an EventStoreDB server';

export type EsdbRpc = 'BatchAppend' | 'Append';

export interface EsdbAppendRun extends AppendRun {
  /** What the emulator counted over the timed loop: classic Append calls and completed BatchAppend requests. */
  rpc: { appendCalls: number; batchAppendRequests: number };
}

export interface EsdbAppendPath {
  rpc: EsdbRpc;
  sequential: EsdbAppendRun;
  concurrent: EsdbAppendRun;
  /** concurrent / sequential appends per second. */
  ratio: number;
}

export interface EsdbReplay extends RebuildResults {
  events: number;
  streams: number;
  groups: ReplayResults['groups'];
  /** Writing the history through the adapter (BatchAppend, the generator's rounds of concurrent appends); not a measured figure. */
  generate: { seconds: number; eventsPerSecond: number };
  /** readAll forwards in pages of 1,000 (the runner's page size), decode only; Read calls the emulator served for it. */
  readOnly: { seconds: number; eventsPerSecond: number; cpuMicrosPerEvent: number; readCalls: number };
  /** Process CPU per event over the rebuild (client, emulator and projections). */
  rebuildCpuMicrosPerEvent: number;
  /** subscribeToAll from the start until the head position (as the runner's catch-up does), chunks of up to 1,000. */
  catchUp: { seconds: number; eventsPerSecond: number; cpuMicrosPerEvent: number; chunks: number };
}

/** esdb / sqlite, from the same run, where the SQLite section ran. */
export interface EsdbVsSqlite {
  sequential?: Record<EsdbRpc, number>;
  concurrent?: Record<EsdbRpc, number>;
  /** Rebuild and read-only rates; the SQLite replay may have replayed more events (sqliteEvents). */
  rebuild?: number;
  readOnly?: number;
  sqliteEvents?: number;
}

export interface EsdbResults {
  note: string;
  appends: { durationSeconds: number; writers: number; batchAppend: EsdbAppendPath; append: EsdbAppendPath };
  replay: EsdbReplay;
  vsSqlite: EsdbVsSqlite;
}

export interface SqliteBaseline {
  appends?: { sequential: AppendRun; concurrent: AppendRun };
  replay?: ReplayResults;
}

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

/** One append loop on a fresh emulator serving only the wanted append RPC; fails unless that RPC served every append. */
async function appendRun(rpc: EsdbRpc, writers: number, durationSeconds: number): Promise<EsdbAppendRun> {
  const emulator = await startEsdbEmulator({ batchAppend: rpc === 'BatchAppend' });
  try {
    const store = esdbEventStore({ url: emulator.connectionString });
    // Connect, and let the client settle its append RPC (ServerFeatures), before the clock starts.
    try {
      await store.appendToStream('bench-warmup', [groupEvent(0, 0, 0)], { expectedRevision: 'any' });
    } catch (error) {
      await store.close();
      throw error;
    }
    const before = { ...emulator.stats };
    const run = await timedAppends(store, writers, durationSeconds, () => store.close());
    const counted = {
      appendCalls: emulator.stats.appendCalls - before.appendCalls,
      batchAppendRequests: emulator.stats.batchAppendRequests - before.batchAppendRequests,
    };
    const [intended, other] =
      rpc === 'BatchAppend' ? [counted.batchAppendRequests, counted.appendCalls] : [counted.appendCalls, counted.batchAppendRequests];
    if (intended !== run.appends || other !== 0) {
      throw new Error(
        `${rpc} run, ${writers} writer(s): ${run.appends} appends, but the emulator counted ${counted.appendCalls} Append calls ` +
          `and ${counted.batchAppendRequests} BatchAppend requests`,
      );
    }
    return { ...run, rpc: counted };
  } finally {
    await emulator.stop();
  }
}

async function appendPath(rpc: EsdbRpc, writers: number, durationSeconds: number): Promise<EsdbAppendPath> {
  const sequential = await appendRun(rpc, 1, durationSeconds);
  const concurrent = await appendRun(rpc, writers, durationSeconds);
  return { rpc, sequential, concurrent, ratio: concurrent.appendsPerSecond / sequential.appendsPerSecond };
}

/** subscribeToAll from the start; ends at the event at `head`. Gives up (and fails) after `timeoutMs`. */
async function catchUp(store: EventStore, head: bigint, events: number, timeoutMs: number) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const subscription = store.subscribeToAll({ from: 'start', maxBatch: 1000 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    subscription.close();
  }, timeoutMs);
  let received = 0;
  let chunks = 0;
  try {
    for await (const chunk of subscription) {
      received += chunk.length;
      chunks += 1;
      if (chunk[chunk.length - 1]!.position >= head) break;
    }
  } finally {
    clearTimeout(timer);
    subscription.close();
  }
  const elapsed = seconds(started);
  const used = cpuMicros(process.cpuUsage(cpu));
  if (timedOut) throw new Error(`subscribeToAll caught up with ${received} of ${events} events in ${timeoutMs / 1000} s`);
  if (received !== events) throw new Error(`subscribeToAll delivered ${received} events up to the head, expected ${events}`);
  return { seconds: elapsed, eventsPerSecond: events / elapsed, cpuMicrosPerEvent: used / events, chunks };
}

async function replay(events: number, say: (line: string) => void): Promise<EsdbReplay> {
  const emulator: EsdbEmulator = await startEsdbEmulator({ batchAppend: true });
  const store = esdbEventStore({ url: emulator.connectionString });
  try {
    say(`replay: writing ${events.toLocaleString('en')} events (BatchAppend)`);
    const groups = { started: 0, deleted: 0, renamed: 0 };
    let started = performance.now();
    const streams = await generate(store, events, groups);
    const generateSeconds = seconds(started);

    say('replay: readAll pages (decode only)');
    const readCallsBefore = emulator.stats.readCalls;
    let cpu = process.cpuUsage();
    started = performance.now();
    const read = await readAllPages(store);
    const readOnlySeconds = seconds(started);
    const readOnlyCpu = cpuMicros(process.cpuUsage(cpu));
    const readCalls = emulator.stats.readCalls - readCallsBefore;
    if (read !== events) throw new Error(`readAll read ${read} events, expected ${events}`);

    say('replay: rebuilding the read models');
    cpu = process.cpuUsage();
    const rebuilt = await rebuildReadModels(store, events);
    const rebuildCpu = cpuMicros(process.cpuUsage(cpu));

    say('replay: subscribeToAll catch-up');
    const head = await store.headPosition();
    const caughtUp = await catchUp(store, head, events, Math.max(60_000, events));

    return {
      events,
      streams,
      groups,
      generate: { seconds: generateSeconds, eventsPerSecond: events / generateSeconds },
      readOnly: { seconds: readOnlySeconds, eventsPerSecond: events / readOnlySeconds, cpuMicrosPerEvent: readOnlyCpu / events, readCalls },
      ...rebuilt,
      rebuildCpuMicrosPerEvent: rebuildCpu / events,
      catchUp: caughtUp,
    };
  } finally {
    await store.close();
    await emulator.stop();
  }
}

export async function benchEsdb(o: {
  durationSeconds: number;
  writers: number;
  replayEvents: number;
  sqlite?: SqliteBaseline;
  say?: (line: string) => void;
}): Promise<EsdbResults> {
  const say = o.say ?? (() => undefined);
  say(`appends on BatchAppend: 1 writer, then ${o.writers} writers, ${o.durationSeconds}s each`);
  const batchAppend = await appendPath('BatchAppend', o.writers, o.durationSeconds);
  say(`appends on Append: 1 writer, then ${o.writers} writers, ${o.durationSeconds}s each`);
  const append = await appendPath('Append', o.writers, o.durationSeconds);
  const replayed = await replay(o.replayEvents, say);

  const vsSqlite: EsdbVsSqlite = {};
  const a = o.sqlite?.appends;
  if (a) {
    vsSqlite.sequential = {
      BatchAppend: batchAppend.sequential.appendsPerSecond / a.sequential.appendsPerSecond,
      Append: append.sequential.appendsPerSecond / a.sequential.appendsPerSecond,
    };
    vsSqlite.concurrent = {
      BatchAppend: batchAppend.concurrent.appendsPerSecond / a.concurrent.appendsPerSecond,
      Append: append.concurrent.appendsPerSecond / a.concurrent.appendsPerSecond,
    };
  }
  const r = o.sqlite?.replay;
  if (r) {
    vsSqlite.rebuild = replayed.rebuild.eventsPerSecond / r.rebuild.eventsPerSecond;
    vsSqlite.readOnly = replayed.readOnly.eventsPerSecond / r.readOnly.eventsPerSecond;
    vsSqlite.sqliteEvents = r.events;
  }
  return {
    note: ESDB_NOTE,
    appends: { durationSeconds: o.durationSeconds, writers: o.writers, batchAppend, append },
    replay: replayed,
    vsSqlite,
  };
}
