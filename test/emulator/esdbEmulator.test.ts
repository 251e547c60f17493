/**
 * The EventStoreDB gRPC emulator against the REAL @eventstore/db-client: appends on both RPCs (BatchAppend via
 * ServerFeatures, classic Append when ServerFeatures is absent), reads, subscriptions with filters and
 * checkpoints, idempotency, and the fault hooks (stop/restart, dropSubscriptions, failNextAppends).
 */
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  ANY, BACKWARDS, END, EventStoreDBClient, FORWARDS, NO_STREAM, START, STREAM_EXISTS,
  CancelledError, StreamNotFoundError, TimeoutError, UnavailableError, WrongExpectedVersionError,
  eventTypeFilter, excludeSystemEvents, jsonEvent, streamNameFilter,
} from '@eventstore/db-client';
import type { AppendExpectedRevision, ResolvedEvent, Position } from '@eventstore/db-client';
import { startEsdbEmulator, CONSUMER_TOO_SLOW_MESSAGE } from '../support/esdbEmulator/index.js';
import type { EsdbEmulator } from '../support/esdbEmulator/index.js';

const ev = (type: string, data: Record<string, unknown> = {}, id?: string) =>
  jsonEvent({ type, data, ...(id ? { id } : {}) });

async function waitFor(what: string, pred: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function collect(iter: AsyncIterable<ResolvedEvent>): Promise<ResolvedEvent[]> {
  const out: ResolvedEvent[] = [];
  for await (const e of iter) out.push(e);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Collects a subscription's events and lifecycle signals through listeners. */
function watch(sub: any) {
  const w = { events: [] as ResolvedEvent[], confirmed: false, caughtUp: false, error: undefined as any, checkpoints: [] as Position[] };
  sub.on('data', (e: ResolvedEvent) => w.events.push(e));
  sub.on('confirmation', () => { w.confirmed = true; });
  sub.on('caughtUp', () => { w.caughtUp = true; });
  sub.on('error', (e: unknown) => { w.error = e; });
  return w;
}

for (const batchAppend of [true, false]) {
  describe(`appends (${batchAppend ? 'BatchAppend via ServerFeatures' : 'classic Append, no ServerFeatures'})`, () => {
    let emu: EsdbEmulator;
    let client: EventStoreDBClient;
    beforeAll(async () => {
      emu = await startEsdbEmulator({ batchAppend });
      client = EventStoreDBClient.connectionString(emu.connectionString);
    });
    afterAll(async () => {
      await client.dispose();
      await emu.stop();
    });

    it('uses the expected RPC', async () => {
      await client.appendToStream(`rpc-${randomUUID()}`, ev('Probe'));
      if (batchAppend) {
        expect(emu.stats.batchAppendRequests).toBeGreaterThan(0);
        expect(emu.stats.appendCalls).toBe(0);
      } else {
        expect(emu.stats.appendCalls).toBeGreaterThan(0);
        expect(emu.stats.batchAppendRequests).toBe(0);
      }
    });

    it('checks every expected revision kind and reports WrongExpectedVersionError fields', async () => {
      const s = `order-${randomUUID()}`;
      const wev = async (expectedRevision: AppendExpectedRevision) => {
        const e = await rejection(client.appendToStream(s, ev('X'), { expectedRevision }));
        expect(e).toBeInstanceOf(WrongExpectedVersionError);
        expect(e.streamName).toBe(s);
        return e as WrongExpectedVersionError;
      };
      // missing stream
      let e = await wev(STREAM_EXISTS);
      expect([e.expectedVersion, e.actualVersion]).toEqual(['stream_exists', 'no_stream']);
      e = await wev(3n);
      expect([e.expectedVersion, e.actualVersion]).toEqual([3n, 'no_stream']);

      const first = await client.appendToStream(s, [ev('A'), ev('B')], { expectedRevision: NO_STREAM });
      expect(first.success).toBe(true);
      expect(first.nextExpectedRevision).toBe(1n);
      expect(first.position!.commit).toBeGreaterThan(0n);

      e = await wev(NO_STREAM);
      expect([e.expectedVersion, e.actualVersion]).toEqual(['no_stream', 1n]);
      e = await wev(0n);
      expect([e.expectedVersion, e.actualVersion]).toEqual([0n, 1n]);
      e = await wev(7n);
      expect([e.expectedVersion, e.actualVersion]).toEqual([7n, 1n]);

      const second = await client.appendToStream(s, ev('C'), { expectedRevision: 1n });
      expect(second.nextExpectedRevision).toBe(2n);
      expect(second.position!.commit).toBeGreaterThan(first.position!.commit);
      const third = await client.appendToStream(s, ev('D'), { expectedRevision: STREAM_EXISTS });
      expect(third.nextExpectedRevision).toBe(3n);
      const fourth = await client.appendToStream(s, ev('E'), { expectedRevision: ANY });
      expect(fourth.nextExpectedRevision).toBe(4n);

      const revs = emu.recorded().filter((r) => r.streamId === s);
      expect(revs.map((r) => [r.type, r.revision])).toEqual([['A', 0n], ['B', 1n], ['C', 2n], ['D', 3n], ['E', 4n]]);
      // positions increase but are not contiguous
      const positions = revs.map((r) => r.position);
      for (let i = 1; i < positions.length; i++) expect(positions[i]! - positions[i - 1]!).toBeGreaterThan(1n);
    });

    it('treats a repeat of the same event ids as idempotent, and a partial repeat as a conflict', async () => {
      const s = `idem-${randomUUID()}`;
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const original = await client.appendToStream(s, [ev('A', {}, a), ev('B', {}, b)], { expectedRevision: NO_STREAM });
      const count = emu.recorded().length;

      const again = await client.appendToStream(s, [ev('A', {}, a), ev('B', {}, b)], { expectedRevision: NO_STREAM });
      expect(again.nextExpectedRevision).toBe(1n);
      expect(again.position).toEqual(original.position);
      const anyAgain = await client.appendToStream(s, [ev('A', {}, a), ev('B', {}, b)], { expectedRevision: ANY });
      expect(anyAgain.nextExpectedRevision).toBe(1n);
      const tail = await client.appendToStream(s, ev('B', {}, b), { expectedRevision: 0n });
      expect(tail.nextExpectedRevision).toBe(1n);
      expect(emu.recorded().length).toBe(count);

      const partial = await rejection(client.appendToStream(s, [ev('A', {}, a), ev('C', {}, c)], { expectedRevision: NO_STREAM }));
      expect(partial).toBeInstanceOf(WrongExpectedVersionError);
      const partialAny = await rejection(client.appendToStream(s, [ev('A', {}, a), ev('C', {}, c)], { expectedRevision: ANY }));
      expect(partialAny).toBeInstanceOf(WrongExpectedVersionError);
      expect(emu.recorded().length).toBe(count);
    });

    it('appends zero events as a pure expected-revision check', async () => {
      const s = `empty-${randomUUID()}`;
      await client.appendToStream(s, [], { expectedRevision: NO_STREAM });
      await client.appendToStream(s, ev('A'), { expectedRevision: NO_STREAM });
      const ok = await client.appendToStream(s, [], { expectedRevision: 0n });
      expect(ok.nextExpectedRevision).toBe(0n);
      expect(await rejection(client.appendToStream(s, [], { expectedRevision: 5n }))).toBeInstanceOf(WrongExpectedVersionError);
    });

    it('failNextAppends fails the next append with UNAVAILABLE and writes nothing', async () => {
      const s = `fault-${randomUUID()}`;
      const before = emu.recorded().length;
      emu.failNextAppends(1);
      const e = await rejection(client.appendToStream(s, ev('A'), { deadline: 2000 }));
      expect(e instanceof UnavailableError || e?.code === 14).toBe(true);
      expect(emu.recorded().length).toBe(before);
      const ok = await client.appendToStream(s, ev('A'), { expectedRevision: NO_STREAM });
      expect(ok.nextExpectedRevision).toBe(0n);
    });
  });
}

describe('reads', () => {
  let emu: EsdbEmulator;
  let client: EventStoreDBClient;
  const s = `reads-${randomUUID()}`;
  beforeAll(async () => {
    emu = await startEsdbEmulator();
    client = EventStoreDBClient.connectionString(emu.connectionString);
    await client.appendToStream(s, [0, 1, 2, 3, 4].map((n) => jsonEvent({ type: `E${n}`, data: { n }, metadata: { m: n } })));
    await client.appendToStream(`other-${randomUUID()}`, ev('Other'));
  });
  afterAll(async () => {
    await client.dispose();
    await emu.stop();
  });

  it('readStream forwards, backwards, fromRevision and maxCount', async () => {
    const all = await collect(client.readStream(s));
    expect(all.map((e) => e.event!.type)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']);
    const e0 = all[0]!.event!;
    expect(e0.data).toEqual({ n: 0 });
    expect(e0.metadata).toEqual({ m: 0 });
    expect(e0.streamId).toBe(s);
    expect(e0.isJson).toBe(true);
    expect(Math.abs(e0.created.getTime() - Date.now())).toBeLessThan(60_000);
    expect(e0.position!.commit).toBe(e0.position!.prepare);

    const back = await collect(client.readStream(s, { direction: BACKWARDS, fromRevision: END }));
    expect(back.map((e) => e.event!.revision)).toEqual([4n, 3n, 2n, 1n, 0n]);
    const from2 = await collect(client.readStream(s, { fromRevision: 2n, maxCount: 2 }));
    expect(from2.map((e) => e.event!.revision)).toEqual([2n, 3n]);
    const back2 = await collect(client.readStream(s, { direction: BACKWARDS, fromRevision: 2n }));
    expect(back2.map((e) => e.event!.revision)).toEqual([2n, 1n, 0n]);
    const fromEnd = await collect(client.readStream(s, { direction: FORWARDS, fromRevision: END }));
    expect(fromEnd).toEqual([]);
    expect(emu.stats.readCalls).toBeGreaterThanOrEqual(5);
  });

  it('throws StreamNotFoundError for a missing stream', async () => {
    const e = await rejection(collect(client.readStream(`missing-${randomUUID()}`)));
    expect(e).toBeInstanceOf(StreamNotFoundError);
  });

  it('readAll both directions and from a position (forwards inclusive, backwards exclusive)', async () => {
    const all = await collect(client.readAll());
    expect(all[0]!.event!.type).toBe('$statsCollected');
    expect(all[0]!.event!.streamId.startsWith('$stats-')).toBe(true);
    for (const e of all) expect(e.commitPosition).toBe(e.event!.position!.commit);
    const back = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END }));
    expect(back.map((e) => e.event!.id)).toEqual(all.map((e) => e.event!.id).reverse());

    const third = all[2]!.event!.position!;
    const fwd = await collect(client.readAll({ fromPosition: third, maxCount: 2 }));
    expect(fwd.map((e) => e.event!.id)).toEqual([all[2]!.event!.id, all[3]!.event!.id]);
    const bwd = await collect(client.readAll({ fromPosition: third, direction: BACKWARDS }));
    expect(bwd.map((e) => e.event!.id)).toEqual([all[1]!.event!.id, all[0]!.event!.id]);
  });
});

describe('subscriptions', () => {
  let emu: EsdbEmulator;
  let client: EventStoreDBClient;
  beforeAll(async () => {
    emu = await startEsdbEmulator();
    client = EventStoreDBClient.connectionString(emu.connectionString);
    await client.appendToStream('cart-1', [ev('CartOpened'), ev('ItemAdded')]);
    await client.appendToStream('user-1', [ev('UserRegistered')]);
  });
  afterAll(async () => {
    await client.dispose();
    await emu.stop();
  });

  it('subscribeToAll with excludeSystemEvents: confirmation, history, caughtUp, then live', async () => {
    const sub = client.subscribeToAll({ filter: excludeSystemEvents() });
    const w = watch(sub);
    await waitFor('caughtUp', () => w.caughtUp);
    expect(w.confirmed).toBe(true);
    expect(w.events.map((e) => e.event!.type)).toEqual(['CartOpened', 'ItemAdded', 'UserRegistered']);
    expect(emu.stats.openSubscriptions).toBe(1);
    await client.appendToStream('cart-2', ev('CartOpened'));
    await waitFor('live event', () => w.events.length === 4);
    expect(w.events[3]!.event!.streamId).toBe('cart-2');
    expect(w.events.every((e) => !e.event!.type.startsWith('$'))).toBe(true);
    await sub.unsubscribe();
    await waitFor('subscription closed', () => emu.stats.openSubscriptions === 0);
  });

  it('filters by stream-name prefixes and by event-type regex', async () => {
    const carts = client.subscribeToAll({ filter: streamNameFilter({ prefixes: ['cart-'] }) });
    const types = client.subscribeToAll({ filter: eventTypeFilter({ regex: '^(User|Item)' }) });
    const wc = watch(carts);
    const wt = watch(types);
    await waitFor('both caught up', () => wc.caughtUp && wt.caughtUp);
    expect(wc.events.every((e) => e.event!.streamId.startsWith('cart-'))).toBe(true);
    expect(wc.events.length).toBeGreaterThanOrEqual(2);
    expect(wt.events.map((e) => e.event!.type)).toEqual(['ItemAdded', 'UserRegistered']);
    await Promise.all([carts.unsubscribe(), types.unsubscribe()]);
  });

  it('sends checkpoints while a filter skips events (window × multiplier)', async () => {
    for (let i = 0; i < 4; i++) await client.appendToStream(`noise-${i}`, [ev('Noise'), ev('Noise'), ev('Noise'), ev('Noise'), ev('Noise')]);
    const checkpoints: Position[] = [];
    const sub = client.subscribeToAll({
      filter: streamNameFilter({ prefixes: ['nothing-matches-'], maxSearchWindow: 4, checkpointInterval: 2, checkpointReached: async (_s, p) => { checkpoints.push(p); } }),
    });
    const w = watch(sub);
    await waitFor('caughtUp', () => w.caughtUp);
    expect(w.events).toEqual([]);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < checkpoints.length; i++) expect(checkpoints[i]!.commit).toBeGreaterThan(checkpoints[i - 1]!.commit);
    // live: every 8 scanned events
    const before = checkpoints.length;
    await client.appendToStream('noise-live', Array.from({ length: 8 }, () => ev('Noise')));
    await waitFor('live checkpoint', () => checkpoints.length > before);
    await sub.unsubscribe();
  });

  it('fans live events out to two subscribers in log order, and starts after (exclusive) a given position', async () => {
    const existing = await collect(client.readAll());
    const pivot = existing[existing.length - 2]!.event!.position!;
    const a = client.subscribeToAll({ fromPosition: pivot });
    const b = client.subscribeToAll({ fromPosition: END });
    const wa = watch(a);
    const wb = watch(b);
    await waitFor('caught up', () => wa.caughtUp && wb.caughtUp);
    expect(wa.events.map((e) => e.event!.id)).toEqual([existing[existing.length - 1]!.event!.id]);
    expect(wb.events).toEqual([]);
    const s = `fan-${randomUUID()}`;
    for (let i = 0; i < 5; i++) await client.appendToStream(s, ev(`F${i}`));
    await waitFor('fan-out', () => wa.events.length === 6 && wb.events.length === 5);
    expect(wb.events.map((e) => e.event!.type)).toEqual(['F0', 'F1', 'F2', 'F3', 'F4']);
    expect(wa.events.slice(1).map((e) => e.event!.id)).toEqual(wb.events.map((e) => e.event!.id));
    expect(emu.stats.openSubscriptions).toBe(2);
    await Promise.all([a.unsubscribe(), b.unsubscribe()]);
  });

  it('subscribeToStream from start and from a revision (exclusive), then live', async () => {
    const s = `stream-sub-${randomUUID()}`;
    await client.appendToStream(s, [ev('S0'), ev('S1'), ev('S2')]);
    const fromStart = client.subscribeToStream(s, { fromRevision: START });
    const fromRev = client.subscribeToStream(s, { fromRevision: 1n });
    const w1 = watch(fromStart);
    const w2 = watch(fromRev);
    await waitFor('caught up', () => w1.caughtUp && w2.caughtUp);
    expect(w1.events.map((e) => e.event!.type)).toEqual(['S0', 'S1', 'S2']);
    expect(w2.events.map((e) => e.event!.type)).toEqual(['S2']);
    await client.appendToStream(s, ev('S3'));
    await client.appendToStream(`unrelated-${randomUUID()}`, ev('U'));
    await waitFor('live', () => w1.events.length === 4 && w2.events.length === 2);
    expect(w2.events[1]!.event!.revision).toBe(3n);
    await Promise.all([fromStart.unsubscribe(), fromRev.unsubscribe()]);
  });

  it('for await works and a long catch-up is paged (3,000 events)', async () => {
    const s = `bulk-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await client.appendToStream(s, Array.from({ length: 1000 }, (_, n) => ev('Bulk', { n: i * 1000 + n })));
    const sub = client.subscribeToAll({ filter: streamNameFilter({ prefixes: [s] }) });
    let n = 0;
    for await (const e of sub) {
      expect((e.event!.data as any).n).toBe(n);
      if (++n === 3000) break;
    }
    expect(n).toBe(3000);
    // leaving `for await` destroys the client-side stream only; the gRPC call ends with unsubscribe()
    await sub.unsubscribe();
    await waitFor('closed', () => emu.stats.openSubscriptions === 0);
  });

  it('dropSubscriptions ends subscriptions with the chosen fault', async () => {
    const expectations = [
      ['unavailable', UnavailableError],
      ['cancelled', CancelledError],
      ['consumer-too-slow', TimeoutError],
    ] as const;
    for (const [fault, ErrorClass] of expectations) {
      const sub = client.subscribeToAll({ fromPosition: END });
      const w = watch(sub);
      await waitFor('caught up', () => w.caughtUp);
      expect(emu.dropSubscriptions(fault)).toBe(1);
      await waitFor(`${fault} error`, () => w.error !== undefined);
      expect(w.error).toBeInstanceOf(ErrorClass);
      if (fault === 'consumer-too-slow') expect(w.error.message).toContain(CONSUMER_TOO_SLOW_MESSAGE);
      await waitFor('closed', () => emu.stats.openSubscriptions === 0);
    }
    expect(emu.dropSubscriptions()).toBe(0);
    // the same client keeps working after the drops
    await client.appendToStream(`after-drop-${randomUUID()}`, ev('Ok'));
  });
});

describe('stop and restart', () => {
  for (const batchAppend of [true, false]) {
    it(`stops with UNAVAILABLE, refuses while stopped, and serves the same client again after restart (batchAppend=${batchAppend})`, async () => {
      const emu = await startEsdbEmulator({ batchAppend });
      const port = emu.port;
      const client = EventStoreDBClient.connectionString(emu.connectionString);
      try {
        const s = `restart-${randomUUID()}`;
        await client.appendToStream(s, ev('Before'), { expectedRevision: NO_STREAM });
        const sub = client.subscribeToAll({ filter: excludeSystemEvents() });
        const w = watch(sub);
        await waitFor('caught up', () => w.caughtUp);

        await emu.stop();
        await waitFor('subscription error', () => w.error !== undefined);
        expect(w.error instanceof UnavailableError || w.error instanceof CancelledError).toBe(true);
        expect(emu.stats.openSubscriptions).toBe(0);

        const e = await rejection(client.appendToStream(s, ev('While stopped'), { deadline: 1000 }));
        expect(e instanceof UnavailableError || e?.code === 14).toBe(true);

        await emu.restart();
        expect(emu.port).toBe(port);
        const systemEvents = emu.recorded().filter((r) => r.type === '$statsCollected');
        expect(systemEvents.length).toBe(2);

        const after = await client.appendToStream(s, ev('After'), { expectedRevision: 0n });
        expect(after.nextExpectedRevision).toBe(1n);
        const read = await collect(client.readStream(s));
        expect(read.map((r) => r.event!.type)).toEqual(['Before', 'After']);

        // resubscribe from the last seen position: exclusive start → only the new event
        const resumed = client.subscribeToAll({ fromPosition: w.events[w.events.length - 1]!.event!.position!, filter: excludeSystemEvents() });
        const wr = watch(resumed);
        await waitFor('resumed', () => wr.caughtUp);
        expect(wr.events.map((r) => r.event!.type)).toEqual(['After']);
        await resumed.unsubscribe();
      } finally {
        await client.dispose();
        await emu.stop();
      }
    });
  }
});
