// MongoDB (the read store) going away and coming back, on the wire emulator: reads and readiness answer 503 naming
// the read store while it is down; the projector keeps its place and, once MongoDB is back, the read models catch up
// to equal a rebuild from zero, with no restart of fleetledger.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectReadModelsEqualRebuild } from '../support/readModels.js';
import { startTestSite, type TestSite } from '../support/site.js';

/** Clients reconnect on their own schedule: poll every 50 ms, for at most 20 s. */
const WAIT = { timeout: 20_000, interval: 50 };

let t: TestSite | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});



const group = (name: string) => ({ name, description: 'd', update_apply_type: 'parallel', max_parallel_subclouds: 2 });

describe('MongoDB outage (wire emulator)', () => {
  it('503 on reads while down; the projector resumes and the read models equal a rebuild', async () => {
    t = await startTestSite({ stores: 'production', env: { READ_YOUR_WRITES_TIMEOUT_MS: '300' } });
    const site = t;
    const mongo = site.stores.mongo!;
    for (let i = 0; i < 5; i++) expect((await site.call('POST', '/v1.0/subcloud-groups', group(`m-${i}`))).status).toBe(200);

    await mongo.stop();
    const list = await site.call('GET', '/v1.0/subcloud-groups');
    expect(list.status, list.text).toBe(503);
    expect(list.json.error.message).toBe('The read store is unavailable; nothing was changed. Try again later.');
    const ready = await site.call('GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.json.readStore).toBe('unavailable');

    await mongo.restart();
    await vi.waitFor(async () => expect((await site.call('GET', '/ready')).status).toBe(200), WAIT);
    for (let i = 5; i < 10; i++) expect((await site.call('POST', '/v1.0/subcloud-groups', group(`m-${i}`))).status).toBe(200);
    await expectReadModelsEqualRebuild(site);
    const names = ((await site.call('GET', '/v1.0/subcloud-groups')).json.subcloud_groups as { name: string }[]).map((g) => g.name);
    expect(names.filter((n) => n.startsWith('m-'))).toHaveLength(10);
  });
});
