// Shared helpers of the benchmarks: realistic events, timing, percentiles, child processes.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { EventMetadata, EventToAppend } from '../adapters/eventstore/port.js';

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
