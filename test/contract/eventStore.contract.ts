// The event store contract: port-level behaviour every EventStore adapter must show (SQLite today; EventStoreDB
// through @eventstore/db-client against the emulator, and others, later). Nothing here may depend on one adapter's
// internals: positions are only "strictly increasing", event ids are UUIDs (EventStoreDB requires them), and
// `open()` must hand each test a fresh, empty store.
//
// Usage from a runner (a *.test.ts file):
//   eventStoreContract('sqlite file', async () => { const store = ...; return { store, cleanup: async () => ... } });
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EventIdConflictError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  type Subscription,
} from '../../adapters/eventstore/port.js';

export interface OpenedEventStore {
  store: EventStore;
  /** Closes the store (if the test has not) and removes whatever open() created. */
  cleanup(): Promise<void>;
}

const meta = (over: Partial<EventMetadata> = {}): EventMetadata => ({
  correlationId: 'corr-1',
  causationId: null,
  actor: { kind: 'user', name: 'admin', roles: ['admin', 'reader'] },
  occurredAt: '2026-03-01T10:00:00.000Z',
  schemaVersion: 1,
  ...over,
});

/** A new event with a fresh UUID id. */
export const ev = (type: string, data: unknown = {}, metadata: Partial<EventMetadata> = {}): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: meta(metadata),
});

const evs = (n: number, type = 'Counted') => Array.from({ length: n }, (_, i) => ev(type, { i }));

/** Settles a promise into its outcome, so concurrent appends can be counted. */
const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

async function expectWrongVersion(
  p: Promise<unknown>,
  streamId: string,
  expected: ExpectedRevision,
  actual: bigint | 'no_stream',
) {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `append to ${streamId} expecting ${String(expected)} should fail`).toBeInstanceOf(WrongExpectedVersionError);
  const wev = error as WrongExpectedVersionError;
  expect(wev.code).toBe('wrong-expected-version');
  expect(wev.streamId).toBe(streamId);
  expect(wev.expectedRevision).toBe(expected);
  expect(wev.actualRevision).toBe(actual);
}

/**
 * An append whose ids are partly already recorded must be refused. The port names EventIdConflictError; an adapter
 * over EventStoreDB may only learn of it as the server's wrong-expected-version ("corrupted idempotency"), so both
 * are accepted. What matters at the port: it fails and writes nothing.
 */
async function expectIdConflict(p: Promise<unknown>) {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'append reusing some recorded event ids should fail').toBeDefined();
  expect(error instanceof EventIdConflictError || error instanceof WrongExpectedVersionError, String(error)).toBe(true);
}

/** Pulls from one subscription with time limits, keeping events that arrived beyond what was asked for. */
function reader(sub: Subscription) {
  const it = sub[Symbol.asyncIterator]();
  const buffer: RecordedEvent[] = [];
  const chunkSizes: number[] = [];
  let pending: Promise<IteratorResult<RecordedEvent[]>> | undefined;
  let ended = false;

  /** One next() within the time: 'chunk', 'end' or 'timeout' (the next() stays pending for the next pull). */
  async function pull(timeoutMs: number): Promise<'chunk' | 'end' | 'timeout'> {
    if (ended) return 'end';
    pending ??= it.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
    });
    const res = await Promise.race([pending, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') return 'timeout';
    pending = undefined;
    if (res.done) {
      ended = true;
      return 'end';
    }
    chunkSizes.push(res.value.length);
    buffer.push(...res.value);
    return 'chunk';
  }

  return {
    chunkSizes,
    /** The next n events, in delivery order. */
    async take(n: number, timeoutMs = 5_000): Promise<RecordedEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (buffer.length < n) {
        const got = await pull(deadline - Date.now());
        if (got === 'end') throw new Error(`subscription ended after ${buffer.length} of ${n} events`);
        if (got === 'timeout') throw new Error(`timed out after ${buffer.length} of ${n} events`);
      }
      return buffer.splice(0, n);
    },
    /** Whether the iteration ends within the time (events still delivered meanwhile are kept). */
    async ends(timeoutMs = 2_000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await pull(deadline - Date.now());
        if (got === 'end') return true;
        if (got === 'timeout') return false;
      }
    },
    /** Events delivered within the time beyond those already taken. */
    async extra(withinMs: number): Promise<RecordedEvent[]> {
      const deadline = Date.now() + withinMs;
      while ((await pull(deadline - Date.now())) === 'chunk');
      return buffer.splice(0);
    },
  };
}

const positions = (events: RecordedEvent[]) => events.map((e) => e.position);
const ids = (events: RecordedEvent[]) => events.map((e) => e.id);

function expectStrictlyIncreasing(values: bigint[]) {
  for (let i = 1; i < values.length; i++) {
    if (!(values[i]! > values[i - 1]!)) {
      throw new Error(`positions not strictly increasing at ${i}: ${values[i - 1]} then ${values[i]}`);
    }
  }
}

export interface ContractOptions {
  /**
   * How an adapter recognises recorded event ids. 'every-id' (SQLite): ids are unique in the store, so an append
   * reusing any recorded id, in any stream, is a repeat or a conflict. 'from-first-id' (EventStoreDB): the server
   * looks the append's first id up in the target stream only; a repeat is recognised from it, and a first id that is
   * new makes the whole append new. Our handler's deterministic ids (key + stream + step + index) repeat as a whole
   * sequence in one stream, which both recognise.
   */
  idChecks?: 'every-id' | 'from-first-id';
}

export function eventStoreContract(name: string, open: () => Promise<OpenedEventStore>, options: ContractOptions = {}) {
  const everyId = (options.idChecks ?? 'every-id') === 'every-id';
  describe(`event store contract: ${name}`, () => {
    let opened: OpenedEventStore;
    let store: EventStore;
    let subs: Subscription[] = [];
    const subscribe = (...args: Parameters<EventStore['subscribeToAll']>) => {
      const sub = store.subscribeToAll(...args);
      subs.push(sub);
      return sub;
    };

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      for (const s of subs) s.close();
      subs = [];
      await opened.cleanup();
    });

    describe('append and read', () => {
      it('round-trips events with id, type, data, metadata and a created date', async () => {
        const before = Date.now();
        const first = ev(
          'SubcloudGroupCreated',
          { name: 'edge-ü-1', maxParallel: 2, tags: ['a', 'b'], nested: { on: true, none: null }, ratio: 0.25 },
          { causationId: 'req-7', idempotency: { key: 'k-1', requestHash: 'h-1' } },
        );
        const second = ev('SubcloudGroupRenamed', { name: 'edge-2' }, { actor: { kind: 'workflow', name: 'orchestrator' } });
        const result = await store.appendToStream('group-1', [first, second], { expectedRevision: 'no_stream' });
        const after = Date.now();

        expect(result.nextExpectedRevision).toBe(1n);
        expect(typeof result.position).toBe('bigint');

        const read = await store.readStream('group-1');
        expect(read).toHaveLength(2);
        const [r0, r1] = read as [RecordedEvent, RecordedEvent];
        expect(r0).toMatchObject({ streamId: 'group-1', id: first.id, type: first.type, revision: 0n, data: first.data });
        expect(r0.metadata).toEqual(first.metadata);
        expect(r1).toMatchObject({ streamId: 'group-1', id: second.id, type: second.type, revision: 1n, data: second.data });
        expect(r1.metadata).toEqual(second.metadata);
        expect(r1.metadata.actor.roles).toBeUndefined();
        expect(r1.position).toBe(result.position);
        expect(r0.position < r1.position).toBe(true);
        for (const r of read) {
          expect(r.created).toBeInstanceOf(Date);
          expect(Number.isNaN(r.created.getTime())).toBe(false);
          // the store's clock, not ours: allow for skew, but it is "now", not the event's occurredAt
          expect(r.created.getTime()).toBeGreaterThanOrEqual(before - 60_000);
          expect(r.created.getTime()).toBeLessThanOrEqual(after + 60_000);
        }
        // readAll gives the same records
        expect(await store.readAll()).toEqual(read);
      });

      it('keeps bigints at the boundary: revisions, positions, results, head and errors', async () => {
        const r = await store.appendToStream('s', evs(2));
        expect(typeof r.nextExpectedRevision).toBe('bigint');
        expect(typeof r.position).toBe('bigint');
        for (const e of [...(await store.readStream('s')), ...(await store.readAll())]) {
          expect(typeof e.revision).toBe('bigint');
          expect(typeof e.position).toBe('bigint');
        }
        expect(typeof (await store.headPosition())).toBe('bigint');
        const error = await store.appendToStream('s', evs(1), { expectedRevision: 0n }).catch((e: unknown) => e);
        expect(typeof (error as WrongExpectedVersionError).actualRevision).toBe('bigint');
        expect(typeof (error as WrongExpectedVersionError).expectedRevision).toBe('bigint');
      });

      it('reads a missing stream as empty, in both directions', async () => {
        expect(await store.readStream('nobody')).toEqual([]);
        expect(await store.readStream('nobody', { direction: 'backwards' })).toEqual([]);
        await store.appendToStream('somebody', evs(1));
        expect(await store.readStream('nobody', { fromRevision: 0n, maxCount: 5 })).toEqual([]);
      });

      it('reads a stream forwards and backwards with fromRevision (inclusive) and maxCount', async () => {
        const written = evs(6);
        await store.appendToStream('s', written.slice(0, 3));
        await store.appendToStream('other', evs(2));
        await store.appendToStream('s', written.slice(3));
        const revs = (events: RecordedEvent[]) => events.map((e) => e.revision);

        const all = await store.readStream('s');
        expect(ids(all)).toEqual(written.map((e) => e.id));
        expect(revs(all)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
        expectStrictlyIncreasing(positions(all));
        expect(all.every((e) => e.streamId === 's')).toBe(true);

        expect(revs(await store.readStream('s', { fromRevision: 2n }))).toEqual([2n, 3n, 4n, 5n]);
        expect(revs(await store.readStream('s', { fromRevision: 2n, maxCount: 2 }))).toEqual([2n, 3n]);
        expect(revs(await store.readStream('s', { maxCount: 1 }))).toEqual([0n]);
        expect(await store.readStream('s', { fromRevision: 6n })).toEqual([]);

        const back = await store.readStream('s', { direction: 'backwards' });
        expect(back).toEqual([...all].reverse());
        expect(revs(await store.readStream('s', { direction: 'backwards', maxCount: 2 }))).toEqual([5n, 4n]);
        expect(revs(await store.readStream('s', { direction: 'backwards', fromRevision: 3n }))).toEqual([3n, 2n, 1n, 0n]);
        expect(revs(await store.readStream('s', { direction: 'backwards', fromRevision: 3n, maxCount: 2 }))).toEqual([
          3n,
          2n,
        ]);
        expect(revs(await store.readStream('s', { direction: 'backwards', fromRevision: 0n }))).toEqual([0n]);
      });

      it('reads all forwards after a position and backwards before one (both exclusive), with maxCount', async () => {
        await store.appendToStream('a', evs(2));
        await store.appendToStream('b', evs(3));
        await store.appendToStream('a', evs(1));
        const all = await store.readAll();
        expect(all.map((e) => `${e.streamId}@${e.revision}`)).toEqual(['a@0', 'a@1', 'b@0', 'b@1', 'b@2', 'a@2']);
        expectStrictlyIncreasing(positions(all));
        const p = all.map((e) => e.position);

        expect(await store.readAll({ direction: 'forwards' })).toEqual(all);
        expect(await store.readAll({ after: p[1]! })).toEqual(all.slice(2));
        expect(await store.readAll({ after: p[1]!, maxCount: 2 })).toEqual(all.slice(2, 4));
        expect(await store.readAll({ maxCount: 3 })).toEqual(all.slice(0, 3));
        expect(await store.readAll({ after: p[5]! })).toEqual([]);

        const reversed = [...all].reverse();
        expect(await store.readAll({ direction: 'backwards' })).toEqual(reversed);
        expect(await store.readAll({ direction: 'backwards', maxCount: 2 })).toEqual(reversed.slice(0, 2));
        expect(await store.readAll({ direction: 'backwards', before: p[3]! })).toEqual([all[2], all[1], all[0]]);
        expect(await store.readAll({ direction: 'backwards', before: p[3]!, maxCount: 1 })).toEqual([all[2]]);
        expect(await store.readAll({ direction: 'backwards', before: p[0]! })).toEqual([]);
      });

      it('gives strictly increasing positions across streams; headPosition is the last one (0n when empty)', async () => {
        expect(await store.headPosition()).toBe(0n);
        expect(await store.readAll()).toEqual([]);
        const results: AppendResult[] = [];
        for (const s of ['x', 'y', 'x', 'z', 'y']) {
          results.push(await store.appendToStream(s, evs(2)));
          expect(await store.headPosition()).toBe(results[results.length - 1]!.position);
        }
        expectStrictlyIncreasing(results.map((r) => r.position));
        const all = await store.readAll();
        expect(all).toHaveLength(10);
        expectStrictlyIncreasing(positions(all));
        expect(all[all.length - 1]!.position).toBe(await store.headPosition());
        // each append's result is the position of its last event
        for (const r of results) expect(all.some((e) => e.position === r.position)).toBe(true);
      });
    });

    describe('expected revision', () => {
      it("'any' appends whether or not the stream exists", async () => {
        expect((await store.appendToStream('s', evs(1), { expectedRevision: 'any' })).nextExpectedRevision).toBe(0n);
        expect((await store.appendToStream('s', evs(2), { expectedRevision: 'any' })).nextExpectedRevision).toBe(2n);
        expect((await store.appendToStream('s', evs(1))).nextExpectedRevision).toBe(3n); // 'any' is the default
      });

      it("'no_stream' succeeds only on a missing stream", async () => {
        expect((await store.appendToStream('s', evs(2), { expectedRevision: 'no_stream' })).nextExpectedRevision).toBe(1n);
        await expectWrongVersion(store.appendToStream('s', evs(1), { expectedRevision: 'no_stream' }), 's', 'no_stream', 1n);
        expect(await store.readStream('s')).toHaveLength(2);
      });

      it("'stream_exists' succeeds only on an existing stream", async () => {
        await expectWrongVersion(
          store.appendToStream('s', evs(1), { expectedRevision: 'stream_exists' }),
          's',
          'stream_exists',
          'no_stream',
        );
        expect(await store.readStream('s')).toEqual([]);
        await store.appendToStream('s', evs(1));
        expect((await store.appendToStream('s', evs(1), { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(
          1n,
        );
      });

      it('a revision succeeds only when it is the revision of the last event', async () => {
        await expectWrongVersion(store.appendToStream('s', evs(1), { expectedRevision: 0n }), 's', 0n, 'no_stream');
        await store.appendToStream('s', evs(3)); // at 2n
        await expectWrongVersion(store.appendToStream('s', evs(1), { expectedRevision: 1n }), 's', 1n, 2n);
        await expectWrongVersion(store.appendToStream('s', evs(1), { expectedRevision: 3n }), 's', 3n, 2n);
        const ok = await store.appendToStream('s', evs(2), { expectedRevision: 2n });
        expect(ok.nextExpectedRevision).toBe(4n);
        expect((await store.appendToStream('s', evs(1), { expectedRevision: 4n })).nextExpectedRevision).toBe(5n);
        expect(await store.readStream('s')).toHaveLength(6);
      });

      it('a refused multi-event append writes none of its events', async () => {
        await store.appendToStream('s', evs(1));
        const head = await store.headPosition();
        const refused = evs(5);
        await expectWrongVersion(store.appendToStream('s', refused, { expectedRevision: 3n }), 's', 3n, 0n);
        expect(await store.readStream('s')).toHaveLength(1);
        expect(await store.headPosition()).toBe(head);
        // the same ids are still free: nothing of the refused append was recorded
        const ok = await store.appendToStream('s', refused, { expectedRevision: 0n });
        expect(ok.nextExpectedRevision).toBe(5n);
        expect(ids(await store.readStream('s', { fromRevision: 1n }))).toEqual(refused.map((e) => e.id));
      });
    });

    describe('idempotent appends by event id', () => {
      it('appending the same events again with the same expected revision appends nothing and answers as before', async () => {
        const batch = evs(3);
        const first = await store.appendToStream('s', batch, { expectedRevision: 'no_stream' });
        const again = await store.appendToStream('s', batch, { expectedRevision: 'no_stream' });
        expect(again).toEqual(first);
        expect(await store.readStream('s')).toHaveLength(3);
        expect(await store.headPosition()).toBe(first.position);

        const more = evs(2);
        const second = await store.appendToStream('s', more, { expectedRevision: 2n });
        await store.appendToStream('other', evs(1));
        const head = await store.headPosition();
        expect(await store.appendToStream('s', more, { expectedRevision: 2n })).toEqual(second);
        expect(await store.readStream('s')).toHaveLength(5);
        expect(await store.headPosition()).toBe(head);
      });

      it("appending the same events again with 'any' appends nothing and answers as before", async () => {
        const batch = evs(2);
        const first = await store.appendToStream('s', batch, { expectedRevision: 'any' });
        const again = await store.appendToStream('s', batch, { expectedRevision: 'any' });
        expect(again.position).toBe(first.position);
        expect(again.nextExpectedRevision).toBe(1n);
        const single = ev('One');
        const one = await store.appendToStream('s', [single]);
        expect(await store.appendToStream('s', [single])).toEqual(one);
        expect(await store.readAll()).toHaveLength(3);
      });

      it('refuses an append whose ids are partly new, and writes nothing of it', async () => {
        const batch = evs(2);
        await store.appendToStream('s', batch);
        const head = await store.headPosition();
        const mixed = [batch[1]!, ev('New'), ev('New')];
        await expectIdConflict(store.appendToStream('s', mixed));
        if (everyId) await expectIdConflict(store.appendToStream('s', [ev('New'), batch[0]!]));
        expect(await store.readStream('s')).toHaveLength(2);
        expect(await store.headPosition()).toBe(head);
        // the new ids of the refused append were not recorded
        const fresh = mixed.slice(1);
        expect((await store.appendToStream('s', fresh, { expectedRevision: 1n })).nextExpectedRevision).toBe(3n);
      });

      it(
        everyId
          ? 'refuses events whose ids are recorded in another stream (the port: "or in another stream")'
          : 'checks event ids per stream: the same ids in another stream are new events there',
        async () => {
          const batch = evs(2);
          await store.appendToStream('s', batch);
          if (everyId) {
            await expectIdConflict(store.appendToStream('t', batch));
            await expectIdConflict(store.appendToStream('t', [batch[0]!]));
            expect(await store.readStream('t')).toEqual([]);
            expect(await store.readAll()).toHaveLength(2);
          } else {
            const r = await store.appendToStream('t', batch, { expectedRevision: 'no_stream' });
            expect(r.nextExpectedRevision).toBe(1n);
            expect(ids(await store.readStream('t'))).toEqual(batch.map((e) => e.id));
            expect(await store.readAll()).toHaveLength(4);
          }
        },
      );
    });

    describe('subscribeToAll', () => {
      it("from 'start' delivers history, then live events, in position order", async () => {
        await store.appendToStream('a', evs(2));
        await store.appendToStream('b', evs(3));
        const r = reader(subscribe({ from: 'start' }));
        const history = await r.take(5);
        expect(history).toEqual(await store.readAll());

        const live1 = await store.appendToStream('a', evs(1));
        const live2 = await store.appendToStream('c', evs(2));
        const live = await r.take(3);
        expect(live.map((e) => `${e.streamId}@${e.revision}`)).toEqual(['a@2', 'c@0', 'c@1']);
        expect(live[0]!.position).toBe(live1.position);
        expect(live[2]!.position).toBe(live2.position);
        expectStrictlyIncreasing(positions([...history, ...live]));
        expect([...history, ...live]).toEqual(await store.readAll());
      });

      it('from a position is exclusive: the first event delivered is the one after it', async () => {
        await store.appendToStream('a', evs(4));
        const all = await store.readAll();
        const r = reader(subscribe({ from: all[1]!.position }));
        expect(await r.take(2)).toEqual(all.slice(2));
        const r2 = reader(subscribe({ from: all[3]!.position })); // from the head: only live events
        const next = ev('Later');
        await store.appendToStream('b', [next]);
        expect(ids(await r2.take(1))).toEqual([next.id]);
        expect(ids(await r.take(1))).toEqual([next.id]);
      });

      it('starts on an empty store and delivers the first events live', async () => {
        const r = reader(subscribe({ from: 'start' }));
        expect(await r.extra(50)).toEqual([]);
        const first = evs(2);
        await store.appendToStream('a', first);
        expect(ids(await r.take(2))).toEqual(first.map((e) => e.id));
      });

      it('two subscribers both see every event in the same order', async () => {
        await store.appendToStream('a', evs(3));
        const r1 = reader(subscribe({ from: 'start' }));
        const r2 = reader(subscribe({ from: 'start', maxBatch: 2 }));
        await r1.take(1);
        for (let i = 0; i < 5; i++) await store.appendToStream(`s-${i % 2}`, evs(2));
        const all = await store.readAll();
        const seen1 = await r1.take(12);
        const seen2 = await r2.take(13);
        expect(ids(seen2)).toEqual(ids(all));
        expect(ids([all[0]!, ...seen1])).toEqual(ids(all));
      });

      it('respects maxBatch: no chunk is empty or larger than it', async () => {
        await store.appendToStream('a', evs(10));
        await store.appendToStream('b', evs(3));
        const r = reader(subscribe({ from: 'start', maxBatch: 3 }));
        const seen = await r.take(13);
        await store.appendToStream('c', evs(7));
        seen.push(...(await r.take(7)));
        expect(ids(seen)).toEqual(ids(await store.readAll()));
        expect(r.chunkSizes.length).toBeGreaterThanOrEqual(Math.ceil(20 / 3));
        for (const size of r.chunkSizes) {
          expect(size).toBeGreaterThanOrEqual(1);
          expect(size).toBeLessThanOrEqual(3);
        }
      });

      it('close() ends the iteration, whether it is waiting for events or not yet started', async () => {
        await store.appendToStream('a', evs(2));
        const sub = subscribe({ from: 'start' });
        const r = reader(sub);
        await r.take(2);
        const ending = r.ends(2_000); // waiting for live events
        await new Promise((resolve) => setTimeout(resolve, 20));
        sub.close();
        expect(await ending).toBe(true);

        const unstarted = subscribe({ from: 'start' });
        unstarted.close();
        const seen: RecordedEvent[] = [];
        const done = (async () => {
          for await (const chunk of unstarted) seen.push(...chunk);
          return true;
        })();
        expect(await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve(false), 2_000))])).toBe(true);
        expect(seen.length).toBeLessThanOrEqual(2); // at most what it had ready; it must not hang

        // closing from inside a for-await loop ends the loop too
        const inner = subscribe({ from: 'start', maxBatch: 1 });
        let chunks = 0;
        for await (const _chunk of inner) {
          chunks += 1;
          inner.close();
        }
        expect(chunks).toBe(1);
      });

      it('breaking out of a for-await loop ends the subscription', async () => {
        await store.appendToStream('a', evs(3));
        const sub = subscribe({ from: 'start', maxBatch: 1 });
        for await (const chunk of sub) {
          expect(chunk).toHaveLength(1);
          break;
        }
        await store.appendToStream('a', evs(1));
        const r = reader(sub);
        expect(await r.ends(1_000)).toBe(true);
      });

      it('catches up without gaps or duplicates while 500 events are appended concurrently', async () => {
        // 300 events of history, in 30 appends of 10
        await Promise.all(Array.from({ length: 30 }, (_, i) => store.appendToStream(`hist-${i}`, evs(10))));
        const r = reader(subscribe({ from: 'start', maxBatch: 7 }));
        const writer = (async () => {
          for (let round = 0; round < 50; round++) {
            await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendToStream(`live-${i}`, evs(1))));
            if (round % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        const seen = await r.take(800, 10_000);
        await writer;
        expect(await r.extra(100)).toEqual([]);
        expectStrictlyIncreasing(positions(seen));
        expect(new Set(ids(seen)).size).toBe(800);
        expect(ids(seen)).toEqual(ids(await store.readAll()));
        // per stream, revisions arrive in order without gaps
        const lastRevision = new Map<string, bigint>();
        for (const e of seen) {
          expect(e.revision).toBe((lastRevision.get(e.streamId) ?? -1n) + 1n);
          lastRevision.set(e.streamId, e.revision);
        }
      });
    });

    describe('concurrency', () => {
      it('64 concurrent appends expecting the same revision of one stream: exactly one wins', async () => {
        await store.appendToStream('hot', evs(1)); // at 0n
        const attempts = await Promise.all(
          Array.from({ length: 64 }, () => settle(store.appendToStream('hot', evs(2), { expectedRevision: 0n }))),
        );
        const won = attempts.filter((a) => a.ok);
        expect(won).toHaveLength(1);
        expect(won[0]!.ok && won[0]!.value.nextExpectedRevision).toBe(2n);
        for (const a of attempts) {
          if (a.ok) continue;
          expect(a.error).toBeInstanceOf(WrongExpectedVersionError);
          const wev = a.error as WrongExpectedVersionError;
          expect([wev.streamId, wev.expectedRevision, wev.actualRevision]).toEqual(['hot', 0n, 2n]);
        }
        expect(await store.readStream('hot')).toHaveLength(3);
      });

      it("64 concurrent appends expecting 'no_stream' on one stream: exactly one creates it", async () => {
        const attempts = await Promise.all(
          Array.from({ length: 64 }, () => settle(store.appendToStream('new', evs(1), { expectedRevision: 'no_stream' }))),
        );
        expect(attempts.filter((a) => a.ok)).toHaveLength(1);
        for (const a of attempts) {
          if (!a.ok) {
            expect(a.error).toBeInstanceOf(WrongExpectedVersionError);
            expect((a.error as WrongExpectedVersionError).actualRevision).toBe(0n);
          }
        }
        expect(await store.readAll()).toHaveLength(1);
      });

      it("64 concurrent 'any' appends to one stream all land, with contiguous revisions", async () => {
        const results = await Promise.all(Array.from({ length: 64 }, () => store.appendToStream('busy', evs(1))));
        expect(new Set(results.map((r) => r.nextExpectedRevision)).size).toBe(64);
        const read = await store.readStream('busy');
        expect(read.map((e) => e.revision)).toEqual(Array.from({ length: 64 }, (_, i) => BigInt(i)));
        expectStrictlyIncreasing(positions(read));
      });

      it('64 concurrent writers on different streams all succeed with consistent revisions and positions', async () => {
        const batches = Array.from({ length: 64 }, () => evs(2));
        const results = await Promise.all(
          batches.map((b, i) => store.appendToStream(`w-${i}`, b, { expectedRevision: 'no_stream' })),
        );
        expect(results.every((r) => r.nextExpectedRevision === 1n)).toBe(true);
        expect(new Set(results.map((r) => r.position)).size).toBe(64);

        const all = await store.readAll();
        expect(all).toHaveLength(128);
        expectStrictlyIncreasing(positions(all));
        expect(await store.headPosition()).toBe(results.reduce((m, r) => (r.position > m ? r.position : m), 0n));
        for (const [i, b] of batches.entries()) {
          const read = await store.readStream(`w-${i}`);
          expect(ids(read)).toEqual(b.map((e) => e.id));
          expect(read.map((e) => e.revision)).toEqual([0n, 1n]);
          expect(read[1]!.position).toBe(results[i]!.position);
        }
      });
    });
  });
}
