// Read models as plain data for comparisons, and the check every fault test ends with: the live read models equal a
// rebuild from zero of the same events (no gap, no duplicate, no side effect).
import { expect } from 'vitest';
import { memoryReadStore } from '../../adapters/readstore/memory.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { upcasterRegistry } from '../../domain/core/upcasting.js';
import { projectionRunner } from '../../projections/core/runner.js';
import { PROJECTIONS } from '../../site.js';
import type { TestSite } from './site.js';

/** Every projection's collection, sorted by _id (stores need not agree on natural order). */
export const readModelSnapshot = async (store: ReadStore) =>
  Object.fromEntries(
    await Promise.all(PROJECTIONS.map(async (p) => [p.collection, await store.find(p.collection, {}, { sort: { _id: 1 } })] as const)),
  );

/** Waits for the site's projections to reach the store's head, then compares them with a fresh rebuild. */
export async function expectReadModelsEqualRebuild(site: TestSite, timeoutMs = 15_000) {
  const head = await site.site.eventStore.headPosition();
  expect(await site.site.runner.waitFor(head, timeoutMs)).toBe(true);
  const rebuilt = memoryReadStore();
  await projectionRunner({ eventStore: site.site.eventStore, readStore: rebuilt, projections: PROJECTIONS, upcasters: upcasterRegistry([]) }).rebuild();
  expect(await readModelSnapshot(site.site.readStore)).toEqual(await readModelSnapshot(rebuilt));
}
