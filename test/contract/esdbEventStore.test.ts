// The EventStoreDB adapter: the shared event store contract through the real @eventstore/db-client, against our
// gRPC emulator on both append paths (BatchAppend, which real 21.10+ servers offer, and classic Append), and against
// a real server when ESDB_URL is set (each test in its own namespace of streams, the server being shared).
import { randomUUID } from 'node:crypto';
import { binaryEvent, jsonEvent } from '@eventstore/db-client';
import { afterEach, describe, expect, it } from 'vitest';
import { esdbEventStore } from '../../adapters/eventstore/esdb/store.js';
import { StoreUnavailableError, type EventToAppend } from '../../adapters/eventstore/port.js';
import { startEsdbEmulator, type EsdbEmulator } from '../support/esdbEmulator/index.js';
import { namespacedEventStore } from '../support/namespacedEventStore.js';
import { eventStoreContract } from './eventStore.contract.js';

for (const batchAppend of [true, false]) {
  eventStoreContract(
    `esdb over the emulator (${batchAppend ? 'BatchAppend' : 'classic Append'})`,
    async () => {
      const emulator = await startEsdbEmulator({ batchAppend });
      const store = esdbEventStore({ url: emulator.connectionString });
      return {
        store,
        async cleanup() {
          await store.close();
          await emulator.stop();
        },
      };
    },
    { idChecks: 'from-first-id' },
  );
}

const realServer = process.env.ESDB_URL;
if (realServer) {
  eventStoreContract(
    `esdb on a real server (${realServer})`,
    async () => {
      const inner = esdbEventStore({ url: realServer });
      const store = namespacedEventStore(inner, `contract-${randomUUID().slice(0, 8)}-`);
      return { store, cleanup: () => store.close() };
    },
    { idChecks: 'from-first-id' },
  );
} else {
  console.warn('[contract] event store suite against a real EventStoreDB SKIPPED: ESDB_URL is not set');
  describe.skip('event store contract: esdb on a real server', () => {
    it('needs ESDB_URL (e.g. esdb://127.0.0.1:2113?tls=false)', () => {});
  });
}

const ev = (i: number): EventToAppend => ({
  id: randomUUID(),
  type: 'Counted',
  data: { i },
  metadata: { correlationId: 'c', causationId: null, actor: { kind: 'system', name: 'test' }, occurredAt: '2026-03-01T10:00:00.000Z', schemaVersion: 1 },
});

describe('EventStoreDB adapter on the emulator: what only this adapter promises', () => {
  let emulator: EsdbEmulator;
  let store: ReturnType<typeof esdbEventStore>;
  afterEach(async () => {
    await store.close();
    await emulator.stop();
  });

  for (const batchAppend of [true, false]) {
    it(`an append to a stopped server is StoreUnavailableError and writes nothing; the same store works after a restart (${batchAppend ? 'BatchAppend' : 'Append'})`, async () => {
      emulator = await startEsdbEmulator({ batchAppend });
      store = esdbEventStore({ url: emulator.connectionString });
      await store.appendToStream('s', [ev(0)]);
      await emulator.stop();
      const error = await store.appendToStream('s', [ev(1)], { expectedRevision: 0n }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      await expect(store.readStream('s')).rejects.toBeInstanceOf(StoreUnavailableError);
      await emulator.restart();
      expect(await store.readStream('s')).toHaveLength(1);
      expect((await store.appendToStream('s', [ev(1)], { expectedRevision: 0n })).nextExpectedRevision).toBe(1n);
      expect(batchAppend ? emulator.stats.batchAppendRequests : emulator.stats.appendCalls).toBeGreaterThan(0);
    });

    it(`an append the server refuses as unavailable is StoreUnavailableError and writes nothing (${batchAppend ? 'BatchAppend' : 'Append'})`, async () => {
      emulator = await startEsdbEmulator({ batchAppend });
      store = esdbEventStore({ url: emulator.connectionString });
      await store.appendToStream('s', [ev(0)]);
      emulator.failNextAppends(1);
      await expect(store.appendToStream('s', [ev(1)])).rejects.toBeInstanceOf(StoreUnavailableError);
      expect((await store.readStream('s')).map((e) => (e.data as { i: number }).i)).toEqual([0]);
    });
  }

  it('a subscription dropped over and over during catch-up and live delivers every event once, in order', async () => {
    emulator = await startEsdbEmulator();
    store = esdbEventStore({ url: emulator.connectionString, resubscribe: { minDelayMs: 5, maxDelayMs: 20 } });
    const total = 3_000;
    for (let i = 0; i < total / 2; i += 100) {
      await store.appendToStream(`s-${i % 7}`, Array.from({ length: 100 }, (_, k) => ev(i + k)));
    }
    const sub = store.subscribeToAll({ from: 'start', maxBatch: 50 });
    const seen: number[] = [];
    const faults = ['unavailable', 'cancelled', 'consumer-too-slow'] as const;
    let drops = 0;
    const writer = (async () => {
      for (let i = total / 2; i < total; i += 100) {
        await store.appendToStream(`s-${i % 7}`, Array.from({ length: 100 }, (_, k) => ev(i + k)));
      }
    })();
    for await (const chunk of sub) {
      for (const e of chunk) seen.push((e.data as { i: number }).i);
      // Drop every ~400 events, while history is read and once live.
      if (seen.length >= (drops + 1) * 400 && drops < 6) {
        if (emulator.dropSubscriptions(faults[drops % 3]) > 0) drops += 1;
      }
      if (seen.length >= total) break;
    }
    await writer;
    expect(drops).toBeGreaterThanOrEqual(5);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('headPosition and readAll skip the server\'s own events (the emulator writes $statsCollected at every start)', async () => {
    emulator = await startEsdbEmulator({ systemEvents: true });
    store = esdbEventStore({ url: emulator.connectionString });
    expect(await store.headPosition()).toBe(0n);
    const r = await store.appendToStream('s', [ev(0)]);
    await emulator.stop();
    await emulator.restart(); // another system event after ours
    expect(emulator.recorded().at(-1)!.streamId.startsWith('$')).toBe(true);
    expect(await store.headPosition()).toBe(r.position);
    expect((await store.readAll()).map((e) => e.streamId)).toEqual(['s']);
    expect((await store.readAll({ direction: 'backwards', maxCount: 1 })).map((e) => e.position)).toEqual([r.position]);
  });
});

describe('EventStoreDB adapter on the emulator: events and streams it did not write', () => {
  let emulator: EsdbEmulator;
  let store: ReturnType<typeof esdbEventStore>;
  afterEach(async () => {
    await store.close();
    await emulator.stop();
  });

  it('an event another writer put in a user stream (binary, no metadata) reads, subscribes and closes cleanly', async () => {
    emulator = await startEsdbEmulator();
    store = esdbEventStore({ url: emulator.connectionString });
    const mine = await store.appendToStream('mine', [ev(0)]);
    await store.client.appendToStream('foreign-1', binaryEvent({ type: 'Blob', data: new Uint8Array([0xff, 0x00, 0x01]) }));
    const all = await store.readAll();
    expect(all.map((e) => e.streamId)).toEqual(['mine', 'foreign-1']);
    expect(all[1]!.data).toEqual({ binary: Buffer.from([0xff, 0x00, 0x01]).toString('base64') });
    expect(all[1]!.metadata.actor).toEqual({ kind: 'system', name: 'foreign-writer' });
    const sub = store.subscribeToAll({ from: mine.position });
    for await (const chunk of sub) {
      expect(chunk.map((e) => e.streamId)).toEqual(['foreign-1']);
      break;
    }
    // close() must not hang on a read left open
    await store.close();
  });

  it('headPosition stays one call when many system events follow the last user event', async () => {
    emulator = await startEsdbEmulator();
    store = esdbEventStore({ url: emulator.connectionString });
    const r = await store.appendToStream('mine', [ev(0)]);
    for (let i = 0; i < 50; i++) {
      await store.client.appendToStream('$stats-test', jsonEvent({ type: '$statsCollected', data: { i } }));
    }
    const before = emulator.stats.readCalls;
    expect(await store.headPosition()).toBe(r.position);
    expect(emulator.stats.readCalls - before).toBe(1);
  });
});
