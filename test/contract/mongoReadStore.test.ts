// The MongoDB read store against the shared read store contract: always over the wire emulator (real driver, fake
// server), and against a real server when MONGO_URL is set. Then what only the MongoDB adapter does: indexes,
// unique violations, the checkpoints collection, BigInt refusal, and StoreUnavailableError when the server goes away.
import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { positionToString, StoreUnavailableError } from '../../adapters/eventstore/port.js';
import { mongoReadStore } from '../../adapters/readstore/mongo.js';
import type { IndexSpec, ReadStore } from '../../adapters/readstore/port.js';
import { startMongoEmulator, type MongoEmulator } from '../support/mongoEmulator/index.js';
import { readStoreContract, type OpenedReadStore } from './readStore.contract.js';

/** A store on a fresh database; cleanup closes it and drops the database. */
async function openOn(url: () => string): Promise<OpenedReadStore> {
  const database = `fl_contract_${randomUUID().slice(0, 8)}`;
  const store = await mongoReadStore({ url: url(), database, appName: 'fleetledger-contract', serverSelectionTimeoutMS: 5_000 });
  return {
    store,
    async cleanup() {
      await store.close();
      const client = new MongoClient(url(), { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

let emulator: MongoEmulator;
beforeAll(async () => {
  emulator = await startMongoEmulator();
});
afterAll(async () => {
  await emulator?.stop();
});

readStoreContract('mongo (emulator)', () => openOn(() => emulator.url));

const realUrl = process.env.MONGO_URL;
if (realUrl) {
  readStoreContract('mongo (MONGO_URL)', () => openOn(() => realUrl));
} else {
  console.warn('[contract] MongoDB read store suite against a real server SKIPPED: MONGO_URL is not set');
  describe.skip('read store contract: mongo (MONGO_URL) — SKIPPED, MONGO_URL is not set', () => {
    it('runs the read store contract against a real MongoDB server', () => {});
  });
}

describe('mongo read store adapter (emulator)', () => {
  let store: ReadStore;
  let database: string;
  let client: MongoClient;

  beforeEach(async () => {
    database = `fl_adapter_${randomUUID().slice(0, 8)}`;
    store = await mongoReadStore({ url: emulator.url, database, serverSelectionTimeoutMS: 300 });
    client = new MongoClient(emulator.url, { serverSelectionTimeoutMS: 2_000 });
  });
  afterEach(async () => {
    await store.close();
    await client.db(database).dropDatabase().catch(() => {});
    await client.close();
  });

  it('creates the declared indexes, idempotently', async () => {
    const specs: IndexSpec[] = [
      { collection: 'subclouds', keys: { name: 1 }, unique: true },
      { collection: 'subclouds', keys: { region: 1, cpu: -1 } },
      { collection: 'groups', keys: { owner: 1 } },
    ];
    await store.ensureIndexes(specs);
    await store.ensureIndexes(specs);
    const indexes = await client.db(database).collection('subclouds').listIndexes().toArray();
    expect(indexes.map((i) => ({ key: i.key, unique: i.unique ?? false }))).toEqual([
      { key: { _id: 1 }, unique: false },
      { key: { name: 1 }, unique: true },
      { key: { region: 1, cpu: -1 }, unique: false },
    ]);
    const groupIndexes = await client.db(database).collection('groups').listIndexes().toArray();
    expect(groupIndexes.map((i) => i.key)).toEqual([{ _id: 1 }, { owner: 1 }]);
  });

  it('surfaces a unique index violation as the driver error (E11000), not as unavailability', async () => {
    await store.ensureIndexes([{ collection: 'subclouds', keys: { name: 1 }, unique: true }]);
    await store.bulkWrite([{ kind: 'upsert', collection: 'subclouds', doc: { _id: 'a', name: 'edge' } }]);
    const err = await store
      .bulkWrite([{ kind: 'upsert', collection: 'subclouds', doc: { _id: 'b', name: 'edge' } }], { name: 'subclouds', position: positionToString(2n) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    expect((err as MongoServerError).code).toBe(11000);
    expect(await store.get('subclouds', 'b')).toBeNull();
    expect(await store.getCheckpoint('subclouds')).toBeNull(); // the checkpoint is not written after a failed batch
  });

  it('keeps unique indexes across reset (the collection is dropped, its ensured indexes recreated)', async () => {
    await store.ensureIndexes([{ collection: 'subclouds', keys: { name: 1 }, unique: true }]);
    await store.bulkWrite([{ kind: 'upsert', collection: 'subclouds', doc: { _id: 'a', name: 'edge' } }]);
    await store.reset(['subclouds'], 'subclouds');
    expect(await store.count('subclouds')).toBe(0);
    const indexes = await client.db(database).collection('subclouds').listIndexes().toArray();
    expect(indexes.map((i) => i.name)).toEqual(['_id_', 'name_1']);
  });

  it('stores checkpoints in the checkpoints collection as { _id, position } with a string position', async () => {
    await store.bulkWrite([{ kind: 'upsert', collection: 'groups', doc: { _id: 'g1' } }], { name: 'groups', position: positionToString(42n) });
    const raw = await client.db(database).collection('checkpoints').find().toArray();
    expect(raw).toEqual([{ _id: 'groups', position: '00000000000000000042' }]);
    expect(typeof raw[0]!.position).toBe('string');
  });

  it('refuses a document holding a BigInt, writing nothing', async () => {
    const bad = { _id: 'x', nested: { position: 7n } } as any;
    await expect(store.bulkWrite([{ kind: 'upsert', collection: 'events', doc: { _id: 'ok' } }, { kind: 'upsert', collection: 'events', doc: bad }])).rejects.toThrow(
      /BigInt \(at events\/x\.nested\.position\)/,
    );
    await expect(store.bulkWrite([{ kind: 'upsert', collection: 'events', doc: { _id: 'y', list: [1, 2n] } as any }])).rejects.toThrow(/BigInt/);
    expect(await store.count('events')).toBe(0);
  });

  it('fails with StoreUnavailableError while the server is down, and works again on the same instance after it returns', async () => {
    await store.bulkWrite([{ kind: 'upsert', collection: 'groups', doc: { _id: 'g1', v: 1 } }]);
    await emulator.stop();
    try {
      await expect(store.get('groups', 'g1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.find('groups', { v: 1 })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.bulkWrite([{ kind: 'upsert', collection: 'groups', doc: { _id: 'g2' } }])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.count('groups')).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await emulator.restart();
    }
    // the driver notices the server is back on its next check: allow a few seconds
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        expect(await store.get('groups', 'g1')).toEqual({ _id: 'g1', v: 1 });
        break;
      } catch (e) {
        if (!(e instanceof StoreUnavailableError) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await store.bulkWrite([{ kind: 'upsert', collection: 'groups', doc: { _id: 'g2' } }]);
    expect(await store.count('groups')).toBe(2);
  });

  it('fails to open with StoreUnavailableError when nothing listens at the URL', async () => {
    const spare = await startMongoEmulator();
    const url = spare.url;
    await spare.stop();
    await expect(mongoReadStore({ url, database: 'x', serverSelectionTimeoutMS: 300 })).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
