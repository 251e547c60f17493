// EventStoreDB going away and coming back, on the emulator: the API answers 503 while the server is down (writes
// only; reads come from the read models), changes nothing it did not confirm, and recovers by itself, with no
// restart of fleetledger; the projections resubscribe and end equal to a rebuild from zero (no gap, no duplicate).
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




const group = (name: string) => ({ name, description: 'burst', update_apply_type: 'parallel', max_parallel_subclouds: 2 });

describe('EventStoreDB outage (emulator)', () => {
  it('a burst of creates across a server stop: each is confirmed or 503, a retry with its key completes it, nothing twice', async () => {
    t = await startTestSite({ stores: 'esdb' });
    const site = t;
    const emulator = site.stores.esdb!;
    const names = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    const send = (name: string) => site.call('POST', '/v1.0/subcloud-groups', group(name), { 'idempotency-key': `create-${name}` });

    // The server stops while the burst is in flight: once half of its appends (about three per create: the name
    // reservation, the id, the group) have landed.
    const before = emulator.recorded().length;
    const inFlight = names.map((name) => send(name));
    while (emulator.recorded().length - before < names.length * 1.5) await new Promise((r) => setImmediate(r));
    await emulator.stop();
    const first = await Promise.all(inFlight);
    for (const r of first) expect([200, 503], r.text).toContain(r.status);
    const refused = names.filter((_, i) => first[i]!.status === 503);
    expect(refused.length).toBeGreaterThan(0);

    // While it is down: writes 503 with a clear message and nothing appended; reads still answer from the read models.
    const down = await site.call('POST', '/v1.0/subcloud-groups', group('while-down'));
    expect(down.status).toBe(503);
    expect(JSON.stringify(down.json)).toMatch(/unavailable/i);
    expect((await site.call('GET', '/v1.0/subcloud-groups')).status).toBe(200);
    expect((await site.call('GET', '/ready')).status).toBe(503);

    // Back: the same site recovers by itself; retries with the same keys complete the refused creates exactly once.
    await emulator.restart();
    await vi.waitFor(async () => expect((await site.call('GET', '/ready')).status).toBe(200), WAIT);
    for (const name of refused) {
      const r = await vi.waitFor(async () => {
        const res = await send(name);
        expect(res.status).not.toBe(503);
        return res;
      }, WAIT);
      expect(r.status, r.text).toBe(200);
    }
    // Repeats of confirmed creates answer as before, with the same id.
    const again = await Promise.all(names.map((name) => send(name)));
    for (const [i, r] of again.entries()) {
      expect(r.status).toBe(200);
      if (first[i]!.status === 200) expect(r.json.id).toBe(first[i]!.json.id);
    }
    const list = (await site.call('GET', '/v1.0/subcloud-groups')).json.subcloud_groups as { name: string; id: number }[];
    const listed = list.map((g) => g.name).filter((n) => n.startsWith('burst-'));
    expect(listed.sort()).toEqual([...names].sort());
    expect(new Set(list.map((g) => g.id)).size).toBe(list.length);
    expect(list.some((g) => g.name === 'while-down')).toBe(false);
    await expectReadModelsEqualRebuild(site);
  });

  it('a subscription dropped by a server stop resumes where it was: no gap, no duplicate', async () => {
    t = await startTestSite({ stores: 'esdb' });
    const site = t;
    const emulator = site.stores.esdb!;
    for (let i = 0; i < 10; i++) expect((await site.call('POST', '/v1.0/subcloud-groups', group(`before-${i}`))).status).toBe(200);

    await emulator.stop();
    await emulator.restart();
    // Written after the restart: reach the read model only through the projector's new subscription.
    for (let i = 0; i < 10; i++) {
      const r = await vi.waitFor(async () => {
        const res = await site.call('POST', '/v1.0/subcloud-groups', group(`after-${i}`));
        expect(res.status).not.toBe(503);
        return res;
      }, WAIT);
      expect(r.status).toBe(200);
    }
    await expectReadModelsEqualRebuild(site);
    const names = ((await site.call('GET', '/v1.0/subcloud-groups')).json.subcloud_groups as { name: string }[]).map((g) => g.name);
    for (let i = 0; i < 10; i++) expect(names).toContain(`after-${i}`);
  });

  it('subscriptions dropped as too slow, cancelled or unavailable are resumed without a gap', async () => {
    t = await startTestSite({ stores: 'esdb' });
    const site = t;
    const emulator = site.stores.esdb!;
    for (const fault of ['consumer-too-slow', 'cancelled', 'unavailable'] as const) {
      expect(emulator.dropSubscriptions(fault)).toBeGreaterThan(0);
      const r = await site.call('POST', '/v1.0/subcloud-groups', group(`after-${fault}`));
      expect(r.status).toBe(200);
      // Read-your-writes held: the projector resubscribed and applied it before the answer.
      expect(r.headers['fleetledger-consistency']).toBeUndefined();
      await vi.waitFor(() => expect(emulator.stats.openSubscriptions).toBeGreaterThan(0), WAIT);
    }
    await expectReadModelsEqualRebuild(site);
  });
});
