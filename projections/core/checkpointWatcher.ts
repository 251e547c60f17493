// Read-your-writes for an API process that does not run the projections itself (ROLE=api): it learns how far the
// projector got from the checkpoints in the shared read store, polling only while a write is waiting.
import type { ReadStore } from '../../adapters/readstore/port.js';
import { positionFromString } from '../../adapters/eventstore/port.js';
import type { AnyProjection } from './projection.js';

export interface ProjectionProgress {
  /** True once every projection has applied the event at `position`; false if that took longer than the timeout. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean>;
  /** Position up to which every projection has applied every event, as far as this process knows. */
  position(): bigint;
}

export function checkpointWatcher(o: { readStore: ReadStore; projections: AnyProjection[]; pollMs?: number }) {
  const pollMs = o.pollMs ?? 20;
  let reached = 0n;
  let refreshing: Promise<bigint> | undefined;

  /** The lowest checkpoint over the projections; concurrent callers share one round of reads. */
  function refresh(): Promise<bigint> {
    refreshing ??= (async () => {
      try {
        const stored = await Promise.all(o.projections.map((p) => o.readStore.getCheckpoint(p.name)));
        const lowest = stored.reduce<bigint | undefined>((m, c) => {
          const p = c === null ? 0n : positionFromString(c);
          return m === undefined || p < m ? p : m;
        }, undefined);
        // It may go down: a rebuild empties the read models and their checkpoints while API processes keep running.
        if (lowest !== undefined) reached = lowest;
        return reached;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  return {
    start: () => refresh().then(() => undefined),
    position: () => reached,
    async waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // Always a fresh read: the cached figure may predate a reset of the read models.
        // A read store that is down is not "caught up": answer as a timeout would (the write itself stands).
        const lowest = await refresh().catch(() => undefined);
        if (lowest === undefined) return false;
        if (lowest >= position) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise((r) => setTimeout(r, Math.min(pollMs, left)));
      }
    },
  } satisfies ProjectionProgress & { start(): Promise<void> };
}
