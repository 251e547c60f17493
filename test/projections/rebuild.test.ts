// Projections have no side effects: read models built live equal those rebuilt from zero.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryReadStore } from '../../adapters/readstore/memory.js';
import { upcasterRegistry } from '../../domain/core/upcasting.js';
import { projectionRunner } from '../../projections/core/runner.js';
import { PROJECTIONS } from '../../site.js';
import { readModelSnapshot } from '../support/readModels.js';
import { startTestSite, type TestSite } from '../support/site.js';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(async () => t.stop());



describe('projections', () => {
  it('live read models equal a rebuild from zero after a mixed, concurrent workload', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `g${i}`);
    await Promise.all(
      names.map((name) =>
        t.call('POST', '/v1.0/subcloud-groups', { name, description: 'd', update_apply_type: 'serial', max_parallel_subclouds: 2 }),
      ),
    );
    await Promise.all(names.map((name, i) => t.call('PATCH', `/v1.0/subcloud-groups/${name}`, { description: `d${i}`, name: `${name}x` })));
    await Promise.all(names.slice(0, 5).map((name) => t.call('DELETE', `/v1.0/subcloud-groups/${name}x`)));
    await Promise.all(names.slice(0, 5).map((name) => t.call('POST', '/v1.0/subcloud-groups', { name, description: 'again', update_apply_type: 'parallel', max_parallel_subclouds: 9 })));

    const rebuilt = memoryReadStore();
    const runner = projectionRunner({ eventStore: t.site.eventStore, readStore: rebuilt, projections: PROJECTIONS, upcasters: upcasterRegistry([]), batchSize: 7 });
    const progress: number[] = [];
    const done = await runner.rebuild((p) => progress.push(p.events));
    expect(done.events).toBe((await t.site.eventStore.readAll()).length);
    expect(progress.length).toBeGreaterThan(1);

    const live = await readModelSnapshot(t.site.readStore);
    const fresh = await readModelSnapshot(rebuilt);
    expect(fresh).toEqual(live);
    expect((live.subcloud_groups as unknown[]).length).toBe(21);
  });

  it('a projection that is re-applied after a lost checkpoint changes nothing', async () => {
    const store = memoryReadStore();
    const opts = { eventStore: t.site.eventStore, readStore: store, projections: PROJECTIONS, upcasters: upcasterRegistry([]) };
    await projectionRunner(opts).rebuild();
    const once = await readModelSnapshot(store);
    // Forget only the checkpoints (as if a crash hit between the bulk write and the checkpoint), then catch up again.
    for (const p of PROJECTIONS) await store.bulkWrite([], { name: p.name, position: '0'.padStart(20, '0') });
    const again = projectionRunner(opts);
    await again.start();
    await again.stop();
    expect(await readModelSnapshot(store)).toEqual(once);
  });
});
