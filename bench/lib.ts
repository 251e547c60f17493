// Shared helpers of the benchmarks: realistic events, timed append loops, replay over any event store, timing,
// percentiles, child processes.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { EventMetadata, EventStore, EventToAppend } from '../adapters/eventstore/port.js';
import { memoryReadStore } from '../adapters/readstore/memory.js';
import { UPCASTERS } from '../domain/aggregates.js';
import { upcasterRegistry } from '../domain/core/upcasting.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import { projectionRunner } from '../projections/core/runner.js';
import { AUDIT_COLLECTION } from '../projections/history/auditLog.js';
import { PROJECTIONS } from '../site.js';

export const BENCH_TOKEN = 'bench-admin-token-0123456789abcdef';

/** Stream ids as the site names them: subcloudGroup-<id> (ids from 2, as id 1 is the seeded Default group). */
export const groupStream = (index: number) => `subcloudGroup-${index + 2}`;

const BASE_TIME = Date.parse('2026-03-01T10:00:00.000Z');

/** Metadata as a user request through the API gives it. */
export function userMetadata(at: string): EventMetadata {
  const requestId = `req-${randomUUID()}`;
  return {
    correlationId: requestId,
    causationId: requestId,
    actor: { kind: 'user', name: 'admin' },
    occurredAt: at,
    schemaVersion: 1,
  };
}

/**
 * The event at `revision` of subcloud group `index`: SubcloudGroupAdded first, then SubcloudGroupUpdated
 * changing one field at a time (mostly the description), in the data shapes of domain/distcloud/subcloudGroup.ts.
 */
export function groupEvent(index: number, revision: number, seq: number): EventToAppend {
  const at = new Date(BASE_TIME + seq).toISOString();
  const id = index + 2;
  if (revision === 0) {
    return {
      id: randomUUID(),
      type: 'SubcloudGroupAdded',
      data: {
        id,
        name: `group-${id}`,
        description: `Subcloud group ${id}`,
        updateApplyType: 'parallel',
        maxParallelSubclouds: 2,
        at,
      },
      metadata: userMetadata(at),
    };
  }
  const data =
    revision % 10 === 5
      ? { maxParallelSubclouds: 1 + (revision % 50), at }
      : revision % 10 === 7
        ? { updateApplyType: revision % 20 === 7 ? 'serial' : 'parallel', at }
        : { description: `Subcloud group ${id}, revision ${revision}`, at };
  return { id: randomUUID(), type: 'SubcloudGroupUpdated', data, metadata: userMetadata(at) };
}

export const seconds = (startMs: number) => (performance.now() - startMs) / 1000;

export interface AppendRun {
  writers: number;
  appends: number;
  seconds: number;
  appendsPerSecond: number;
  /** Group commits observed (appends answered in one turn of the event loop), and appends per commit. */
  commits: number;
  meanGroupSize: number;
  /**
   * Process CPU time (user + system) per append over the timed loop. On a shared machine wall-clock rates are noisy;
   * this figure is what a change to the append path moves.
   */
  cpuMicrosPerAppend: number;
}

/**
 * `writers` writers, each on its own stream (subcloudGroup-<w+2>, from revision 0), appending single events and
 * awaiting each, for `durationSeconds`. `dispose` runs when the writers have stopped (or one failed), after the CPU
 * figure is taken and before the elapsed time is.
 */
export async function timedAppends(
  store: Pick<EventStore, 'appendToStream'>,
  writers: number,
  durationSeconds: number,
  dispose: () => Promise<void> | void,
): Promise<AppendRun> {
  let appends = 0;
  let commits = 0;
  let marked = false;
  // An append's promise resolves in the turn of the event loop that committed its group: count turns.
  const noteCommit = () => {
    if (marked) return;
    marked = true;
    commits += 1;
    setImmediate(() => (marked = false));
  };
  let seq = 0;
  let cpuUsed: NodeJS.CpuUsage | undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const until = started + durationSeconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const stream = groupStream(w);
        for (let revision = 0; performance.now() < until; revision++) {
          await store.appendToStream(stream, [groupEvent(w, revision, seq++)], {
            expectedRevision: revision === 0 ? 'no_stream' : BigInt(revision - 1),
          });
          noteCommit();
          appends += 1;
        }
      }),
    );
  } finally {
    cpuUsed = process.cpuUsage(cpu);
    await dispose();
  }
  const elapsed = seconds(started);
  return {
    writers,
    appends,
    seconds: elapsed,
    appendsPerSecond: appends / elapsed,
    commits,
    meanGroupSize: commits === 0 ? 0 : appends / commits,
    cpuMicrosPerAppend: appends === 0 || !cpuUsed ? 0 : (cpuUsed.user + cpuUsed.system) / appends,
  };
}

/** Reads every event of the store forwards with readAll pages of `pageSize` (the runner's page size): the count. */
export async function readAllPages(store: Pick<EventStore, 'readAll'>, pageSize = 1000): Promise<number> {
  let read = 0;
  for (let after = 0n; ; ) {
    const page = await store.readAll({ after, maxCount: pageSize });
    if (page.length === 0) return read;
    read += page.length;
    after = page[page.length - 1]!.position;
  }
}

export interface RebuildResults {
  /** The measured figure: projectionRunner.rebuild() over all events. */
  rebuild: {
    seconds: number;
    eventsPerSecond: number;
    /** Of which: waiting on the store's readAll (read + decoding), and the rest (upcast, project, bulk writes). */
    readSeconds: number;
    projectSeconds: number;
    heapUsedMB: number;
  };
  readModels: { subcloudGroups: number; auditLog: number };
}

/**
 * Rebuilds the site's read models (PROJECTIONS) into a fresh memory read store from every event of `store`, through
 * the real projection runner; checks that all `events` were applied and each has its audit log entry.
 */
export async function rebuildReadModels(store: EventStore, events: number): Promise<RebuildResults> {
  let readSeconds = 0;
  const timed: EventStore = {
    ...store,
    async readAll(options) {
      const t = performance.now();
      const page = await store.readAll(options);
      readSeconds += seconds(t);
      return page;
    },
  };
  const readStore = memoryReadStore();
  const runner = projectionRunner({
    eventStore: timed,
    readStore,
    projections: PROJECTIONS,
    upcasters: upcasterRegistry(UPCASTERS),
  });
  const started = performance.now();
  const progress = await runner.rebuild();
  const rebuildSeconds = seconds(started);
  const heapUsedMB = process.memoryUsage().heapUsed / 1e6;
  if (progress.events !== events) throw new Error(`rebuild applied ${progress.events} events of ${events}`);
  const readModels = {
    subcloudGroups: await readStore.count(COLLECTIONS.subcloudGroups),
    auditLog: await readStore.count(AUDIT_COLLECTION),
  };
  if (readModels.auditLog !== events) throw new Error(`audit log holds ${readModels.auditLog} entries for ${events} events`);
  await readStore.close();
  return {
    rebuild: {
      seconds: rebuildSeconds,
      eventsPerSecond: events / rebuildSeconds,
      readSeconds,
      projectSeconds: rebuildSeconds - readSeconds,
      heapUsedMB,
    },
    readModels,
  };
}

/** Nearest-rank percentile of latencies in milliseconds. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** A growable array of latencies. */
export class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(v: number) {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

/** Node flags that run a TypeScript child the way this process runs (tsx), without inherited profiler flags. */
export function childExecArgv(extra: string[] = []): string[] {
  return ['--import', import.meta.resolve('tsx'), ...extra];
}

export interface ChildHandle<M> {
  child: ChildProcess;
  /** The next message satisfying `pick`; rejects if the child exits first. */
  next<T extends M>(pick: (m: M) => m is T): Promise<T>;
  send(message: unknown): void;
  exited: Promise<number | null>;
}

/** Forks a TypeScript module with an IPC channel. */
export function forkTs<M extends { type: string }>(file: string, args: string[], execArgv: string[]): ChildHandle<M> {
  const child = fork(file, args, { execArgv: childExecArgv(execArgv), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: M[] = [];
  const waiters: (() => void)[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      for (const w of waiters.splice(0)) w();
      resolve(code);
    }),
  );
  child.on('message', (m) => {
    inbox.push(m as M);
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    exited,
    send: (message) => child.send(message as never),
    async next<T extends M>(pick: (m: M) => m is T): Promise<T> {
      for (;;) {
        const i = inbox.findIndex(pick);
        if (i >= 0) return inbox.splice(i, 1)[0] as T;
        if (exitCode !== undefined) throw new Error(`${file} exited (code ${exitCode}) before answering`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}
