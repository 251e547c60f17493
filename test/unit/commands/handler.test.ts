import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteEventStore } from '../../../adapters/eventstore/sqlite.js';
import type { EventStore } from '../../../adapters/eventstore/port.js';
import { type CommandContext } from '../../../commands/core/context.js';
import { commandHandler } from '../../../commands/core/handler.js';
import { lruStateCache } from '../../../commands/core/stateCache.js';
import { RESERVATION_GRACE_MS, uniqueness } from '../../../commands/core/uniqueness.js';
import { manualClock } from '../../../domain/core/clock.js';
import type { Decider, DomainEvent } from '../../../domain/core/decider.js';
import { ConflictError, PreconditionFailedError, UnprocessableError, ValidationError } from '../../../domain/core/errors.js';
import { upcasterRegistry } from '../../../domain/core/upcasting.js';

type CounterEvent = DomainEvent<'Incremented', { by: number }>;
type CounterCommand = { type: 'Increment'; by: number; max: number };
const counter: Decider<{ total: number }, CounterCommand, CounterEvent> = {
  initialState: () => ({ total: 0 }),
  decide: (c, s) => {
    if (s.total + c.by > c.max) throw new ValidationError(`would exceed ${c.max}`);
    return [{ type: 'Incremented', data: { by: c.by } }];
  },
  evolve: (s, e) => ({ total: s.total + e.data.by }),
};

const clock = manualClock('2026-03-01T10:00:00.000Z');
const ctx = (over: Partial<CommandContext> = {}): CommandContext => ({
  correlationId: 'corr-1',
  causationId: 'req-1',
  actor: { kind: 'user', name: 'admin', roles: ['admin'] },
  now: clock.now(),
  ...over,
});
const keyed = (key: string, requestHash = 'h1') => ctx({ idempotency: { key, scope: 'POST /counters', requestHash } });

let store: EventStore;
const upcasters = upcasterRegistry([]);
beforeEach(() => {
  store = sqliteEventStore({ file: ':memory:', clock });
});
afterEach(async () => store.close());

describe('command handler', () => {
  it('reads, folds, decides and appends with the metadata envelope', async () => {
    const handle = commandHandler({ store, upcasters });
    await handle({ streamId: 'counter-1', decider: counter, command: { type: 'Increment', by: 2, max: 10 }, context: ctx() });
    const r = await handle({ streamId: 'counter-1', decider: counter, command: { type: 'Increment', by: 3, max: 10 }, context: ctx() });
    expect(r.state).toEqual({ total: 5 });
    expect(r.revision).toBe(1n);
    const [first] = await store.readStream('counter-1');
    expect(first!.metadata).toEqual({
      correlationId: 'corr-1',
      causationId: 'req-1',
      actor: { kind: 'user', name: 'admin', roles: ['admin'] },
      occurredAt: '2026-03-01T10:00:00.000Z',
      schemaVersion: 1,
    });
  });

  it('re-reads and re-decides when another writer got there first', async () => {
    let interfered = false;
    const racing: EventStore = {
      ...store,
      async appendToStream(id, events, opts) {
        if (!interfered) {
          interfered = true; // a concurrent request appends between our read and our append
          await store.appendToStream(id, [{ ...events[0]!, id: crypto.randomUUID(), data: { by: 8 } }], { expectedRevision: 'any' });
        }
        return store.appendToStream(id, events, opts);
      },
    };
    const handle = commandHandler({ store: racing, upcasters, cache: lruStateCache() });
    // With the competitor's 8 in, adding 3 breaks the limit: the retry must decide on fresh state.
    await expect(
      handle({ streamId: 'counter-2', decider: counter, command: { type: 'Increment', by: 3, max: 10 }, context: ctx() }),
    ).rejects.toThrow('would exceed 10');
    const r = await handle({ streamId: 'counter-2', decider: counter, command: { type: 'Increment', by: 2, max: 10 }, context: ctx() });
    expect(r.state.total).toBe(10);
  });

  it('after a lost race, the retry reads only the events after its cached fold', async () => {
    const reads: (bigint | undefined)[] = [];
    let interfered = false;
    const watched: EventStore = {
      ...store,
      async readStream(id, o) {
        reads.push(o?.fromRevision);
        return store.readStream(id, o);
      },
      async appendToStream(id, events, opts) {
        if (!interfered && opts?.expectedRevision === 4n) {
          interfered = true;
          await store.appendToStream(id, [{ ...events[0]!, id: crypto.randomUUID() }], { expectedRevision: 'any' });
        }
        return store.appendToStream(id, events, opts);
      },
    };
    const handle = commandHandler({ store: watched, upcasters, cache: lruStateCache() });
    const inc = () => handle({ streamId: 'counter-9', decider: counter, command: { type: 'Increment', by: 1, max: 100 }, context: ctx() });
    for (let i = 0; i < 5; i++) await inc();
    reads.length = 0;
    const r = await inc();
    // first attempt reads after revision 4; the retry after the competitor's event 5, never from 0
    expect(reads).toEqual([5n, 5n]);
    expect(r).toMatchObject({ revision: 6n, state: { total: 7 } });
  });

  it('queues concurrent commands on one stream in this process instead of answering 409', async () => {
    const handle = commandHandler({ store, upcasters, cache: lruStateCache() });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        handle({ streamId: 'counter-hot', decider: counter, command: { type: 'Increment', by: 1, max: 1000 }, context: ctx() }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const revisions = results.map((r) => (r.status === 'fulfilled' ? r.value.revision : -1n));
    expect(revisions).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
    expect((await store.readStream('counter-hot')).length).toBe(50);
  });

  it('answers 409 after a bounded number of lost races', async () => {
    let appends = 0;
    const alwaysLosing: EventStore = {
      ...store,
      async appendToStream(id, events, opts) {
        appends += 1;
        await store.appendToStream(id, [{ ...events[0]!, id: crypto.randomUUID() }], { expectedRevision: 'any' });
        return store.appendToStream(id, events, opts);
      },
    };
    const handle = commandHandler({ store: alwaysLosing, upcasters });
    const err = await handle({
      streamId: 'counter-3', decider: counter, command: { type: 'Increment', by: 1, max: 1000 }, context: ctx(), maxAttempts: 4,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.status).toBe(409);
    expect(appends).toBe(4);
  });

  it('gives 412 when If-Match names another revision', async () => {
    const handle = commandHandler({ store, upcasters });
    await handle({ streamId: 'counter-4', decider: counter, command: { type: 'Increment', by: 1, max: 9 }, context: ctx() });
    await expect(
      handle({ streamId: 'counter-4', decider: counter, command: { type: 'Increment', by: 1, max: 9 }, context: ctx(), ifMatch: 5n }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    const ok = await handle({ streamId: 'counter-4', decider: counter, command: { type: 'Increment', by: 1, max: 9 }, context: ctx(), ifMatch: 0n });
    expect(ok.revision).toBe(1n);
  });

  it('a retried request with the same Idempotency-Key changes nothing and answers as before', async () => {
    const handle = commandHandler({ store, upcasters, cache: lruStateCache() });
    const first = await handle({ streamId: 'counter-5', decider: counter, command: { type: 'Increment', by: 4, max: 9 }, context: keyed('k1') });
    await handle({ streamId: 'counter-5', decider: counter, command: { type: 'Increment', by: 1, max: 9 }, context: ctx() });
    const again = await handle({ streamId: 'counter-5', decider: counter, command: { type: 'Increment', by: 4, max: 9 }, context: keyed('k1') });
    expect(again.repeated).toBe(true);
    expect(again.state).toEqual(first.state);
    expect(again.position).toBe(first.position);
    expect(await store.readStream('counter-5')).toHaveLength(2);
  });

  it('refuses a key reused for a different request', async () => {
    const handle = commandHandler({ store, upcasters });
    await handle({ streamId: 'counter-6', decider: counter, command: { type: 'Increment', by: 4, max: 9 }, context: keyed('k2', 'h1') });
    await expect(
      handle({ streamId: 'counter-6', decider: counter, command: { type: 'Increment', by: 5, max: 9 }, context: keyed('k2', 'h2') }),
    ).rejects.toBeInstanceOf(UnprocessableError);
  });

  it('upcasts old event versions while folding', async () => {
    const v2 = upcasterRegistry([{ type: 'Incremented', from: 1, upcast: (d) => ({ type: 'Incremented', data: { by: (d as { by: number }).by * 10 } }) }]);
    await commandHandler({ store, upcasters })({ streamId: 'counter-7', decider: counter, command: { type: 'Increment', by: 1, max: 99 }, context: ctx() });
    const r = await commandHandler({ store, upcasters: v2 })({
      streamId: 'counter-7', decider: counter, command: { type: 'Increment', by: 1, max: 99 }, context: ctx(),
    });
    // The stored v1 event reads as 10; the new one is written as v2 and not upcast again.
    expect(r.state.total).toBe(11);
    const [, second] = await store.readStream('counter-7');
    expect(second!.metadata.schemaVersion).toBe(2);
  });
});

describe('uniqueness under concurrent requests', () => {
  it('exactly one of many concurrent requests reserves a name', async () => {
    const u = uniqueness(commandHandler({ store, upcasters }));
    const outcomes = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        u.reserve({ scope: 'name', value: 'edge', holder: `h${i}`, context: ctx(), stillHeld: async () => true }),
      ),
    );
    expect(outcomes.filter((o) => o.reserved)).toHaveLength(1);
  });

  it('hands out every integer id once under concurrency', async () => {
    const u = uniqueness(commandHandler({ store, upcasters, cache: lruStateCache() }));
    const ids = await Promise.all(Array.from({ length: 40 }, () => u.allocateId('thing', 2, ctx())));
    expect(new Set(ids).size).toBe(40);
    expect(Math.min(...ids)).toBe(2);
    expect(Math.max(...ids)).toBe(41);
  });

  it('takes over a reservation its holder abandoned, after the grace period only', async () => {
    const u = uniqueness(commandHandler({ store, upcasters }));
    const reserve = (holder: string, stillHeld: boolean) =>
      u.reserve({ scope: 'name', value: 'orphan', holder, context: ctx(), stillHeld: async () => stillHeld });
    expect((await reserve('crashed', true)).reserved).toBe(true);
    expect(await reserve('next', false)).toEqual({ reserved: false, holder: 'crashed' });
    clock.advance(RESERVATION_GRACE_MS + 1);
    expect((await reserve('next', true)).reserved).toBe(false); // still in use: never taken
    expect((await reserve('next', false)).reserved).toBe(true);
  });
});
