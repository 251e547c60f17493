// The MongoDB read store: each port collection is a MongoDB collection of the same name, documents stored as given
// (string _id), filters passed to the server unchanged (the same documents the memory adapter gives mingo).
//
// Checkpoints live in the `checkpoints` collection as { _id: <projection name>, position: <20-digit string> }.
// bulkWrite writes the documents first (one ordered bulkWrite per run of ops on the same collection), then the
// checkpoint. No transaction: those need a replica set, and the adapter must work on a standalone server. A crash
// between the two leaves documents ahead of the checkpoint; the projection runner then replays those events, and
// each document's `_position` guard makes the replay idempotent. The reverse (a checkpoint ahead of its documents)
// cannot happen.
//
// Errors meaning the server cannot be reached (server selection timeout, network errors) become
// StoreUnavailableError (answered 503 by the API); every other error propagates as the driver raised it.
import {
  MongoBulkWriteError,
  MongoClient,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document,
} from 'mongodb';
import { StoreUnavailableError } from '../eventstore/port.js';
import type { Checkpoint, Doc, Filter, FindOptions, IndexSpec, ReadStore, WriteOp } from './port.js';

export const CHECKPOINTS = 'checkpoints';

export interface MongoReadStoreOptions {
  url: string;
  database: string;
  appName?: string;
  serverSelectionTimeoutMS?: number;
}

const SOCKET_GONE = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * Server answers meaning "not now" rather than "wrong": shutting down or interrupted by it (11600, 91, 11602) and
 * replica-set primary changes (10107, 13435, 189). A standalone server gets no retryable writes, so they reach us.
 */
const SERVER_GOING_AWAY = new Set([11600, 91, 11602, 10107, 13435, 189]);

/**
 * True for errors meaning the server could not be reached. MongoNetworkError covers its timeout variant and the
 * pool-cleared error; collection.bulkWrite wraps such an error in a MongoBulkWriteError (as its errorResponse).
 */
function isUnavailable(e: unknown, depth = 0): boolean {
  if (e instanceof MongoServerSelectionError || e instanceof MongoNetworkError) return true;
  if (depth > 3 || !(e instanceof Error)) return false;
  // A pooled connection whose server went away can fail with Node's raw socket error (EPIPE "This socket has been
  // ended by the other party") before the driver wraps it.
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_GONE.has(code)) return true;
  if (e instanceof MongoServerError && typeof code === 'number' && SERVER_GOING_AWAY.has(code)) return true;
  if (e instanceof MongoBulkWriteError && isUnavailable(e.errorResponse, depth + 1)) return true;
  return e.cause !== undefined && isUnavailable(e.cause, depth + 1);
}

/** Runs a driver call, turning "server unreachable" errors into StoreUnavailableError. */
async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isUnavailable(e)) throw new StoreUnavailableError(`MongoDB read store unavailable (${what}): ${(e as Error).message}`, { cause: e, store: 'read store' });
    throw e;
  }
}

/** BSON would store a BigInt as an Int64 (Long) that reads back differently on each side; positions must be strings. */
function assertNoBigInt(value: unknown, path: string, seen?: Set<object>): void {
  if (typeof value === 'bigint') {
    throw new TypeError(`read store documents cannot hold a BigInt (at ${path}); store positions as positionToString() strings`);
  }
  if (value === null || typeof value !== 'object' || value instanceof Date) return;
  if (seen?.has(value)) return;
  (seen ??= new Set()).add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertNoBigInt(value[i], `${path}[${i}]`, seen);
  } else {
    for (const key in value) assertNoBigInt((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
  }
}

/** Documents as the driver sees them: string ids (the driver's default schema assumes ObjectId). */
type Stored = { _id: string } & Document;

function toDriverOp(op: WriteOp): AnyBulkWriteOperation<Stored> {
  switch (op.kind) {
    case 'upsert':
      return { replaceOne: { filter: { _id: op.doc._id }, replacement: op.doc, upsert: true } };
    case 'replace':
      return { replaceOne: { filter: { _id: op.doc._id }, replacement: op.doc } };
    case 'delete':
      return { deleteOne: { filter: { _id: op.id } } };
  }
}

export async function mongoReadStore(o: MongoReadStoreOptions): Promise<ReadStore> {
  const client = new MongoClient(o.url, {
    appName: o.appName ?? 'fleetledger',
    ...(o.serverSelectionTimeoutMS !== undefined ? { serverSelectionTimeoutMS: o.serverSelectionTimeoutMS } : {}),
  });
  // Connect now, so a wrong URL or an absent server fails at start rather than on the first request.
  try {
    await guarded('connect', () => client.connect());
  } catch (e) {
    await client.close().catch(() => {});
    throw e;
  }
  const db: Db = client.db(o.database);
  const coll = (name: string): Collection<Stored> => db.collection<Stored>(name);
  /** Index specs ensured through this instance, by collection: reset recreates them after dropping a collection. */
  const ensured = new Map<string, IndexSpec[]>();

  async function createIndexes(collection: string, specs: IndexSpec[]) {
    await coll(collection).createIndexes(specs.map((s) => ({ key: s.keys, ...(s.unique ? { unique: true } : {}) })));
  }

  return {
    async get<T extends Doc>(collection: string, id: string) {
      return guarded('get', async () => (await coll(collection).findOne({ _id: id })) as T | null);
    },

    async getMany<T extends Doc>(collection: string, ids: string[]) {
      const out = new Map<string, T>();
      if (ids.length === 0) return out;
      const docs = await guarded('getMany', () => coll(collection).find({ _id: { $in: [...new Set(ids)] } }).toArray());
      for (const d of docs) out.set(d._id, d as T);
      return out;
    },

    async find<T extends Doc>(collection: string, filter: Filter = {}, options: FindOptions = {}) {
      return guarded('find', async () => {
        const cursor = coll(collection).find(filter);
        if (options.sort) cursor.sort(options.sort);
        if (options.skip) cursor.skip(options.skip);
        if (options.limit) cursor.limit(options.limit); // 0 (or absent) = no limit
        return (await cursor.toArray()) as unknown as T[];
      });
    },

    async count(collection: string, filter: Filter = {}) {
      return guarded('count', () => coll(collection).countDocuments(filter));
    },

    async bulkWrite(ops: WriteOp[], checkpoint?: Checkpoint) {
      for (const op of ops) if (op.kind !== 'delete') assertNoBigInt(op.doc, `${op.collection}/${op.doc._id}`);
      if (checkpoint) assertNoBigInt(checkpoint.position, `${CHECKPOINTS}/${checkpoint.name}`);
      await guarded('bulkWrite', async () => {
        // One ordered bulkWrite per run of consecutive ops on the same collection keeps the ops' order.
        for (let start = 0; start < ops.length; ) {
          const name = ops[start]!.collection;
          let end = start + 1;
          while (end < ops.length && ops[end]!.collection === name) end++;
          await coll(name).bulkWrite(ops.slice(start, end).map(toDriverOp), { ordered: true });
          start = end;
        }
        // After the documents, never before: see the header comment.
        if (checkpoint) {
          await coll(CHECKPOINTS).replaceOne(
            { _id: checkpoint.name },
            { position: checkpoint.position },
            { upsert: true },
          );
        }
      });
    },

    async getCheckpoint(name: string) {
      const d = await guarded('getCheckpoint', () => coll(CHECKPOINTS).findOne({ _id: name }));
      return d ? String(d.position) : null;
    },

    async reset(collections: string[], checkpointName: string) {
      await guarded('reset', async () => {
        for (const name of collections) {
          // Dropping is far cheaper than deleting every document; the indexes this store ensured come back at once.
          await coll(name).drop();
          const specs = ensured.get(name);
          if (specs) await createIndexes(name, specs);
        }
        await coll(CHECKPOINTS).deleteOne({ _id: checkpointName });
      });
    },

    async ensureIndexes(indexes: IndexSpec[]) {
      const byCollection = new Map<string, IndexSpec[]>();
      for (const spec of indexes) {
        const list = byCollection.get(spec.collection) ?? [];
        list.push(spec);
        byCollection.set(spec.collection, list);
      }
      await guarded('ensureIndexes', async () => {
        for (const [name, specs] of byCollection) {
          await createIndexes(name, specs); // creating an index that exists with the same options is a no-op
          const known = ensured.get(name) ?? [];
          for (const s of specs) if (!known.some((k) => sameSpec(k, s))) known.push(s);
          ensured.set(name, known);
        }
      });
    },

    async close() {
      await client.close();
    },
  };
}

const sameSpec = (a: IndexSpec, b: IndexSpec) => JSON.stringify(a.keys) === JSON.stringify(b.keys) && !!a.unique === !!b.unique;
