// Appends: one writer awaiting each single-event append, against 64 writers on their own streams whose appends
// the SQLite adapter group-commits. A real file in a temp dir, with the adapter's own pragmas (WAL, synchronous=FULL).
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteEventStore } from '../adapters/eventstore/sqlite.js';
import { groupEvent, groupStream, seconds } from './lib.js';

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

export interface AppendResults {
  durationSeconds: number;
  sequential: AppendRun;
  concurrent: AppendRun;
  ratio: number;
  dataDir: string;
  /**
   * Mean time of one 4 KiB write + fdatasync in the same directory: what a commit must wait for. Group commit pays
   * it once per group, so the gain over one writer is large only where it is large against an append's CPU cost.
   */
  fdatasyncMicros: number;
}

function measureFdatasync(samples = 300): number {
  const dir = mkdtempSync(join(tmpdir(), 'fleetledger-bench-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  try {
    const block = Buffer.alloc(4096, 1);
    const started = performance.now();
    for (let i = 0; i < samples; i++) {
      writeSync(fd, block, 0, block.length, (i % 16) * block.length);
      fdatasyncSync(fd);
    }
    return ((performance.now() - started) * 1000) / samples;
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(writers: number, durationSeconds: number): Promise<AppendRun> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetledger-bench-appends-'));
  const store = sqliteEventStore({ file: join(dir, 'events.sqlite') });
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
    await store.close();
    rmSync(dir, { recursive: true, force: true });
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

export async function benchAppends(o: { durationSeconds: number; writers: number }): Promise<AppendResults> {
  const sequential = await run(1, o.durationSeconds);
  const concurrent = await run(o.writers, o.durationSeconds);
  return {
    durationSeconds: o.durationSeconds,
    sequential,
    concurrent,
    ratio: concurrent.appendsPerSecond / sequential.appendsPerSecond,
    dataDir: tmpdir(),
    fdatasyncMicros: measureFdatasync(),
  };
}
