// Appends: one writer awaiting each single-event append, against 64 writers on their own streams whose appends
// the SQLite adapter group-commits. A real file in a temp dir, with the adapter's own pragmas (WAL, synchronous=FULL).
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteEventStore } from '../adapters/eventstore/sqlite.js';
import { timedAppends, type AppendRun } from './lib.js';

export type { AppendRun };

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
  return timedAppends(store, writers, durationSeconds, async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
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
