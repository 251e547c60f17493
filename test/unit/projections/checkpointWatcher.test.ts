// Read-your-writes for ROLE=api: how far the projector got, as its checkpoints in the shared read store say.
import { describe, expect, it } from 'vitest';
import { positionToString } from '../../../adapters/eventstore/port.js';
import { memoryReadStore } from '../../../adapters/readstore/memory.js';
import type { ReadStore } from '../../../adapters/readstore/port.js';
import { checkpointWatcher } from '../../../projections/core/checkpointWatcher.js';
import type { AnyProjection } from '../../../projections/core/projection.js';

const projections = [{ name: 'a' }, { name: 'b' }] as unknown as AnyProjection[];
const checkpoint = (store: ReadStore, name: string, p: bigint) => store.bulkWrite([], { name, position: positionToString(p) });

describe('checkpointWatcher', () => {
  it('is caught up to a position only when every projection has passed it', async () => {
    const store = memoryReadStore();
    const w = checkpointWatcher({ readStore: store, projections, pollMs: 5 });
    await w.start();
    expect(w.position()).toBe(0n);
    await checkpoint(store, 'a', 100n);
    expect(await w.waitFor(50n, 30)).toBe(false); // b has not started
    await checkpoint(store, 'b', 60n);
    expect(await w.waitFor(50n, 30)).toBe(true);
    expect(await w.waitFor(70n, 30)).toBe(false);
    expect(w.position()).toBe(60n);
  });

  it('sees the projector move while it waits', async () => {
    const store = memoryReadStore();
    const w = checkpointWatcher({ readStore: store, projections, pollMs: 5 });
    const waiting = w.waitFor(500n, 2_000);
    setTimeout(() => void checkpoint(store, 'a', 500n).then(() => checkpoint(store, 'b', 800n)), 20);
    expect(await waiting).toBe(true);
  });

  it('is not caught up after the read models were reset (a rebuild while API processes run)', async () => {
    const store = memoryReadStore();
    const w = checkpointWatcher({ readStore: store, projections, pollMs: 5 });
    await checkpoint(store, 'a', 1_000n);
    await checkpoint(store, 'b', 1_000n);
    expect(await w.waitFor(900n, 30)).toBe(true);
    await store.reset([], 'a');
    await checkpoint(store, 'b', 10n);
    expect(await w.waitFor(900n, 30)).toBe(false);
    expect(w.position()).toBe(0n);
  });

  it('a read store that fails answers "not caught up" at once instead of throwing', async () => {
    const store = memoryReadStore();
    const failing: ReadStore = { ...store, getCheckpoint: () => Promise.reject(new Error('down')) };
    const w = checkpointWatcher({ readStore: failing, projections, pollMs: 5 });
    expect(await w.waitFor(1n, 1_000)).toBe(false);
  });
});
