// Driver-level checks of the MongoDB wire emulator (test/support/mongoEmulator): the real driver against it.
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMongoEmulator, type MongoEmulator } from '../support/mongoEmulator/index.js';

describe('MongoDB wire emulator', () => {
  let emulator: MongoEmulator;
  let client: MongoClient;
  let n = 0;
  let coll: Collection<any>;

  beforeAll(async () => {
    emulator = await startMongoEmulator();
    client = new MongoClient(emulator.url, { serverSelectionTimeoutMS: 2_000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });
  beforeEach(async () => {
    coll = client.db(`emu_${++n}`).collection('items');
    await coll.insertMany(
      Array.from({ length: 10 }, (_, i) => ({ _id: `i${i}`, n: (i * 7) % 10, tag: i % 2 ? 'odd' : 'even', nested: { k: i } })),
    );
  });

  it('answers the legacy handshake (OP_QUERY ismaster), then OP_MSG; ping and buildInfo', async () => {
    expect(emulator.stats.commands.ismaster).toBeGreaterThanOrEqual(1);
    expect(await client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(info.versionArray).toEqual([7, 0, 0, 0]);
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({ isWritablePrimary: true, maxWireVersion: 21, logicalSessionTimeoutMinutes: 30 });
  });

  it('find with filter, sort, skip, limit and projection', async () => {
    const docs = await coll
      .find({ tag: 'odd' }, { projection: { n: 1, _id: 0 } })
      .sort({ n: -1 })
      .skip(1)
      .limit(3)
      .toArray();
    // odd ids 1,3,5,7,9 have n = 7,1,5,9,3 -> descending 9,7,5,3,1
    expect(docs).toEqual([{ n: 7 }, { n: 5 }, { n: 3 }]);
    expect(await coll.find({ 'nested.k': { $gte: 8 } }, { projection: { nested: 0, tag: 0 } }).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'i8', n: 6 },
      { _id: 'i9', n: 3 },
    ]);
  });

  it('pages through a cursor with getMore at a small batchSize, and kills a cursor closed early', async () => {
    const before = emulator.stats.commands.getMore ?? 0;
    const all = await coll.find({}, { batchSize: 3 }).sort({ n: 1 }).toArray();
    expect(all.map((d) => d.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((emulator.stats.commands.getMore ?? 0) - before).toBe(3); // 3 + 3 + 3 + 1

    const cursor = coll.find({}, { batchSize: 2 });
    await cursor.next();
    const killsBefore = emulator.stats.commands.killCursors ?? 0;
    await cursor.close();
    expect(emulator.stats.commands.killCursors).toBe(killsBefore + 1);
  });

  it('update: replacement, operators, upsert from the query equalities, $setOnInsert, and _id immutability', async () => {
    expect((await coll.replaceOne({ _id: 'i1' }, { only: true })).modifiedCount).toBe(1);
    expect(await coll.findOne({ _id: 'i1' })).toEqual({ _id: 'i1', only: true });

    const r = await coll.updateOne({ _id: 'new', tag: 'fresh' }, { $set: { 'a.b': 1 }, $inc: { c: 2 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(r.upsertedId).toBe('new');
    expect(await coll.findOne({ _id: 'new' })).toEqual({ _id: 'new', tag: 'fresh', a: { b: 1 }, c: 2, created: true });
    await coll.updateOne({ _id: 'new' }, { $inc: { c: 1 }, $unset: { tag: '' }, $setOnInsert: { created: false } }, { upsert: true });
    expect(await coll.findOne({ _id: 'new' })).toEqual({ _id: 'new', a: { b: 1 }, c: 3, created: true });

    const many = await coll.updateMany({ tag: 'even' }, { $set: { seen: 1 } });
    expect([many.matchedCount, many.modifiedCount]).toEqual([5, 5]);
    expect((await coll.updateMany({ tag: 'even' }, { $set: { seen: 1 } })).modifiedCount).toBe(0);

    await expect(coll.updateOne({ _id: 'i2' }, { $set: { _id: 'other' } })).rejects.toMatchObject({ code: 66 });
    await expect(coll.updateOne({ _id: 'i2' }, { $inc: { tag: 1 } })).rejects.toMatchObject({ code: 14 });
  });

  it('countDocuments (aggregate $match + $group), deleteOne/deleteMany', async () => {
    expect(await coll.countDocuments()).toBe(10);
    expect(await coll.countDocuments({ n: { $lt: 5 } })).toBe(5);
    expect(await coll.countDocuments({ tag: 'odd' }, { skip: 2, limit: 2 })).toBe(2);
    expect(await coll.countDocuments({ nope: 1 })).toBe(0);
    expect(await client.db('nowhere').collection('x').countDocuments()).toBe(0);
    expect((await coll.deleteOne({ tag: 'odd' })).deletedCount).toBe(1);
    expect((await coll.deleteMany({ tag: 'odd' })).deletedCount).toBe(4);
    expect(await coll.estimatedDocumentCount()).toBe(5);
  });

  it('unique indexes: E11000 on insert and update, and on creation over duplicates; listIndexes', async () => {
    await coll.createIndex({ tag: 1 }, { name: 'tag_plain' });
    await expect(coll.createIndex({ tag: 1 }, { unique: true, name: 'tag_unique' })).rejects.toMatchObject({ code: 85 });
    await expect(coll.createIndex({ n: 1, tag: 1 }, { unique: true, name: 'tag_n' })).resolves.toBe('tag_n');
    await expect(coll.createIndex({ 'nested.k': 1 }, { unique: true })).resolves.toBe('nested.k_1');
    await expect(coll.createIndex({ 'nested.k': 1 }, { unique: true })).resolves.toBe('nested.k_1'); // idempotent
    const err = await coll.insertOne({ _id: 'dup', nested: { k: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000, keyValue: { 'nested.k': 3 } });
    expect((err as Error).message).toMatch(/^E11000 duplicate key error collection: emu_\d+\.items index: nested\.k_1 dup key/);
    await expect(coll.updateOne({ _id: 'i4' }, { $set: { 'nested.k': 5 } })).rejects.toMatchObject({ code: 11000 });
    await expect(coll.insertOne({ _id: 'i0' })).rejects.toMatchObject({ code: 11000 });
    await expect(coll.createIndex({ tag: 1, x: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
    const indexes = await coll.listIndexes().toArray();
    expect(indexes.map((i) => [i.name, i.unique ?? false])).toEqual([
      ['_id_', false],
      ['tag_plain', false],
      ['tag_n', true],
      ['nested.k_1', true],
    ]);
  });

  it('listCollections, drop, dropDatabase', async () => {
    const db = coll.db;
    await db.collection<any>('other').insertOne({ _id: 'x' });
    expect((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(['items', 'other']);
    expect(await db.collection('other').drop()).toBe(true);
    expect(await db.collection('never').drop()).toBe(true);
    expect((await db.listCollections().toArray()).map((c) => c.name)).toEqual(['items']);
    await db.dropDatabase();
    expect(await coll.countDocuments()).toBe(0);
  });

  it('answers an unknown command with CommandNotFound (59)', async () => {
    const err = await client.db('admin').command({ frobnicate: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 59, codeName: 'CommandNotFound', message: "no such command: 'frobnicate'" });
  });

  it('keeps its data across stop and restart on the same port', async () => {
    const port = emulator.port;
    await emulator.stop();
    await emulator.restart();
    expect(emulator.port).toBe(port);
    const other = new MongoClient(emulator.url, { serverSelectionTimeoutMS: 2_000 });
    try {
      expect(await other.db(coll.dbName).collection('items').countDocuments()).toBe(10);
    } finally {
      await other.close();
    }
  });
});
