// The commands the emulator answers. Filters, projections, updates and aggregation pipelines are evaluated by
// mingo; sorts by ./order.ts (BSON type order). Every reply is a plain document; a CommandError becomes
// { ok: 0, errmsg, code, codeName }, except inside insert/update/delete where it becomes a writeErrors entry.
import { calculateObjectSize, deserialize, ObjectId, serialize, type Document } from 'bson';
import { Aggregator, find as mingoFind, Query, update as mingoUpdate } from 'mingo';
import { comparatorFor, valuesAt } from './order.js';
import { CommandError, defaultIndexName, idKey, type Collection, type IndexDef, type Store } from './store.js';

/** Wire version 21 = MongoDB 7.0; driver 7.9 needs at least 9 (MongoDB 4.4). */
export const MAX_WIRE_VERSION = 21;
const MAX_BSON_SIZE = 16 * 1024 * 1024;
const BATCH_BYTES = MAX_BSON_SIZE - 64 * 1024;
const DEFAULT_FIRST_BATCH = 101;

interface OpenCursor {
  ns: string;
  docs: Document[];
  position: number;
}

export interface ServerState {
  store: Store;
  cursors: Map<number, OpenCursor>;
  nextCursorId: number;
  startedAt: Date;
}

export interface ConnectionContext {
  connectionId: number;
}

type Handler = (state: ServerState, cmd: Document, db: string, ctx: ConnectionContext) => Document;

const clone = (doc: Document): Document => deserialize(serialize(doc));
const isOperatorDoc = (u: Document) => Object.keys(u).length > 0 && Object.keys(u).every((k) => k.startsWith('$'));

function collectionName(cmd: Document, name: string): string {
  const c: unknown = cmd[name];
  if (typeof c !== 'string') throw new CommandError(73, 'InvalidNamespace', `collection name has invalid type ${typeof c}`);
  return c;
}

function filterDocs(coll: Collection | undefined, filter: unknown): Document[] {
  if (!coll) return [];
  const f = (filter ?? {}) as Document;
  if (typeof f !== 'object' || Array.isArray(f)) throw new CommandError(14, 'TypeMismatch', 'filter must be an object');
  const keys = Object.keys(f);
  if (keys.length === 0) return [...coll.docs.values()];
  if (keys.length === 1 && keys[0] === '_id' && (typeof f._id !== 'object' || f._id === null)) {
    const d = coll.docs.get(idKey(f._id));
    return d ? [d] : [];
  }
  const q = query(f);
  const out: Document[] = [];
  for (const d of coll.docs.values()) if (q.test(d)) out.push(d);
  return out;
}

function query(filter: Document): Query {
  try {
    return new Query(filter);
  } catch (e) {
    throw new CommandError(2, 'BadValue', (e as Error).message);
  }
}

function validateSort(sort: unknown): Document | undefined {
  if (sort === undefined || sort === null) return undefined;
  if (typeof sort !== 'object' || Array.isArray(sort)) throw new CommandError(14, 'TypeMismatch', 'sort must be an object');
  for (const [k, v] of Object.entries(sort)) {
    if (typeof v === 'object' && v !== null) continue; // { $meta: ... }: ignored
    if (Number(v) !== 1 && Number(v) !== -1) {
      throw new CommandError(15975, 'Location15975', `$sort key ordering must be 1 (for ascending) or -1 (for descending): ${k}`);
    }
  }
  return sort as Document;
}

function project(docs: Document[], projection: unknown): Document[] {
  if (!projection || typeof projection !== 'object' || Object.keys(projection).length === 0) return docs;
  try {
    return mingoFind(docs, {}, projection as Document).all() as Document[];
  } catch (e) {
    throw new CommandError(2, 'BadValue', (e as Error).message);
  }
}

/** Takes the next batch off a result list: batchSize documents at most (0 = no count limit), within 16 MB. */
function takeBatch(docs: Document[], from: number, batchSize: number): Document[] {
  const out: Document[] = [];
  let bytes = 0;
  for (let i = from; i < docs.length; i++) {
    if (batchSize > 0 && out.length >= batchSize) break;
    const size = calculateObjectSize(docs[i]!);
    if (out.length > 0 && bytes + size > BATCH_BYTES) break;
    bytes += size;
    out.push(docs[i]!);
  }
  return out;
}

function cursorReply(state: ServerState, ns: string, docs: Document[], batchSize: number, singleBatch: boolean): Document {
  const firstBatch = takeBatch(docs, 0, batchSize);
  let id = 0;
  if (!singleBatch && firstBatch.length < docs.length) {
    id = state.nextCursorId++;
    state.cursors.set(id, { ns, docs, position: firstBatch.length });
  }
  return { cursor: { firstBatch, id: BigInt(id), ns }, ok: 1 };
}

function batchSizeOf(v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CommandError(2, 'BadValue', `BatchSize value must be non-negative, but received: ${String(v)}`);
  return n;
}

const find: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'find');
  const sort = validateSort(cmd.sort);
  let docs = filterDocs(state.store.collection(db, name), cmd.filter);
  if (sort) docs = [...docs].sort(comparatorFor(sort));
  const skip = Number(cmd.skip ?? 0);
  if (skip < 0) throw new CommandError(51024, 'Location51024', 'skip value must be non-negative');
  let limit = Number(cmd.limit ?? 0);
  let singleBatch = cmd.singleBatch === true;
  if (limit < 0) {
    limit = -limit; // legacy negative limit: one batch
    singleBatch = true;
  }
  docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  docs = project(docs, cmd.projection);
  return cursorReply(state, `${db}.${name}`, docs, batchSizeOf(cmd.batchSize, DEFAULT_FIRST_BATCH), singleBatch);
};

const getMore: Handler = (state, cmd, db) => {
  const id = Number(cmd.getMore);
  const cursor = state.cursors.get(id);
  const ns = `${db}.${String(cmd.collection)}`;
  if (!cursor) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
  if (cursor.ns !== ns) throw new CommandError(13, 'Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`);
  const nextBatch = takeBatch(cursor.docs, cursor.position, batchSizeOf(cmd.batchSize, 0));
  cursor.position += nextBatch.length;
  const done = cursor.position >= cursor.docs.length;
  if (done) state.cursors.delete(id);
  return { cursor: { nextBatch, id: BigInt(done ? 0 : id), ns }, ok: 1 };
};

const killCursors: Handler = (state, cmd) => {
  const killed: bigint[] = [];
  const notFound: bigint[] = [];
  for (const raw of (cmd.cursors ?? []) as unknown[]) {
    const id = Number(raw);
    (state.cursors.delete(id) ? killed : notFound).push(BigInt(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

/** Runs write statements one by one; ordered stops at the first write error, as MongoDB does. */
function writeLoop<S>(statements: S[], ordered: boolean, apply: (s: S, index: number) => void): Document[] {
  const writeErrors: Document[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      apply(statements[i]!, i);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      writeErrors.push({ index: i, code: e.code, errmsg: e.message, ...e.extra });
      if (ordered) break;
    }
  }
  return writeErrors;
}

function withId(doc: Document, id: unknown): Document {
  const { _id: _ignored, ...rest } = doc;
  return { _id: id, ...rest };
}

function checkStorable(doc: Document) {
  for (const k of Object.keys(doc)) {
    if (k.startsWith('$')) throw new CommandError(52, 'DollarPrefixedFieldName', `Document can't have $ prefixed field names: ${k}`);
  }
  if (Array.isArray(doc._id)) throw new CommandError(53, 'InvalidIdField', `The '_id' value cannot be of type array`);
  if (calculateObjectSize(doc) > MAX_BSON_SIZE) throw new CommandError(10334, 'BSONObjectTooLarge', 'object to insert too large');
}

const insert: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'insert');
  const docs = (cmd.documents ?? []) as Document[];
  const coll = state.store.createCollection(db, name);
  let n = 0;
  const writeErrors = writeLoop(docs, cmd.ordered !== false, (doc) => {
    const stored = withId(doc, doc._id ?? new ObjectId());
    checkStorable(stored);
    coll.insert(stored);
    n++;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
}

/** Fields an upsert takes from its query: top-level (dotted) equalities, $eq, and equalities inside $and. */
function equalityFields(q: Document, into: Document = {}): Document {
  for (const [k, v] of Object.entries(q)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) equalityFields(sub as Document, into);
      continue;
    }
    if (k.startsWith('$')) continue;
    let value: unknown = v;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RegExp)) {
      const keys = Object.keys(v);
      if (keys.some((x) => x.startsWith('$'))) {
        if (keys.length === 1 && keys[0] === '$eq') value = (v as Document).$eq;
        else continue;
      }
    }
    if (value instanceof RegExp) continue;
    setPath(into, k, value);
  }
  return into;
}

function setPath(doc: Document, path: string, value: unknown) {
  const parts = path.split('.');
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Document;
  }
  cur[parts[parts.length - 1]!] = value;
}

const sameId = (a: unknown, b: unknown) => idKey(a) === idKey(b);

function applyOperators(doc: Document, u: Document, arrayFilters: Document[] | undefined, inserting: boolean): Document {
  const next = clone(doc);
  const { $setOnInsert, ...modifier } = u as Document & { $setOnInsert?: Document };
  for (const op of ['$inc', '$mul'] as const) {
    for (const path of Object.keys((modifier[op] ?? {}) as Document)) {
      const { values } = valuesAt(next, path);
      const current = values[0];
      if (values.length === 1 && current !== null && typeof current !== 'number' && !path.includes('$')) {
        throw new CommandError(14, 'TypeMismatch', `Cannot apply ${op} to a value of non-numeric type. {_id: ${JSON.stringify(String(next._id))}} has the field '${path}' of non-numeric type ${typeof current}`);
      }
    }
  }
  try {
    if (inserting && $setOnInsert) mingoUpdate(next, { $set: $setOnInsert });
    if (Object.keys(modifier).length > 0) mingoUpdate(next, modifier, arrayFilters);
  } catch (e) {
    const message = (e as Error).message;
    if (/immutable field/.test(message)) throw new CommandError(66, 'ImmutableField', message); // mingo guards _id too
    throw new CommandError(9, 'FailedToParse', message);
  }
  return next;
}

const update: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'update');
  const statements = (cmd.updates ?? []) as Document[];
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors = writeLoop(statements, cmd.ordered !== false, (s, index) => {
    const q = (s.q ?? {}) as Document;
    const u = s.u as Document | Document[];
    if (Array.isArray(u)) throw new CommandError(9, 'FailedToParse', 'pipeline-style updates are not supported by the emulator');
    if (!u || typeof u !== 'object') throw new CommandError(9, 'FailedToParse', 'Update argument must be either an object or an array');
    const operators = isOperatorDoc(u);
    if (!operators && Object.keys(u).some((k) => k.startsWith('$'))) {
      throw new CommandError(9, 'FailedToParse', 'Unknown modifier: mixed operators and fields in an update document');
    }
    if (operators && s.multi !== true && Object.keys(u).length === 0) throw new CommandError(9, 'FailedToParse', 'Update document requires atomic operators');
    if (!operators && s.multi === true) throw new CommandError(9, 'FailedToParse', 'multi update is not supported for replacement-style update');
    const coll = s.upsert ? state.store.createCollection(db, name) : state.store.collection(db, name);
    let matches = filterDocs(coll, q);
    if (s.multi !== true) matches = matches.slice(0, 1);
    for (const old of matches) {
      let next: Document;
      if (operators) {
        next = applyOperators(old, u, s.arrayFilters as Document[] | undefined, false);
      } else {
        if ('_id' in u && !sameId(u._id, old._id)) {
          throw new CommandError(66, 'ImmutableField', `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${JSON.stringify(String(u._id))}`);
        }
        next = withId(u, old._id);
      }
      if (!sameId(next._id, old._id)) {
        throw new CommandError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
      }
      checkStorable(next);
      n++;
      if (!Buffer.from(serialize(next)).equals(Buffer.from(serialize(old)))) {
        coll!.replace(idKey(old._id), next);
        nModified++;
      }
    }
    if (matches.length === 0 && s.upsert === true) {
      const base = equalityFields(q);
      let doc: Document;
      if (operators) doc = applyOperators(base, u, s.arrayFilters as Document[] | undefined, true);
      else doc = { ...(base._id !== undefined ? { _id: base._id } : {}), ...u };
      doc = withId(doc, doc._id ?? new ObjectId());
      checkStorable(doc);
      coll!.insert(doc);
      n++;
      upserted.push({ index, _id: doc._id });
    }
  });
  return { n, nModified, ...(upserted.length ? { upserted } : {}), ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

const del: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'delete');
  const coll = state.store.collection(db, name);
  let n = 0;
  const writeErrors = writeLoop((cmd.deletes ?? []) as Document[], cmd.ordered !== false, (s) => {
    const limit = Number(s.limit ?? 0);
    if (limit !== 0 && limit !== 1) throw new CommandError(9, 'FailedToParse', 'The limit field in delete objects must be 0 or 1');
    let matches = filterDocs(coll, s.q);
    if (limit === 1) matches = matches.slice(0, 1);
    for (const d of matches) coll!.remove(idKey(d._id));
    n += matches.length;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

const count: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'count');
  let docs = filterDocs(state.store.collection(db, name), cmd.query);
  const skip = Number(cmd.skip ?? 0);
  const limit = Math.abs(Number(cmd.limit ?? 0));
  docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  return { n: docs.length, ok: 1 };
};

/** Stages mingo runs without touching its input documents; any other stage gets copies. */
const READ_ONLY_STAGES = new Set(['$match', '$group', '$skip', '$limit', '$sort', '$count', '$project']);

const aggregate: Handler = (state, cmd, db) => {
  if (typeof cmd.aggregate !== 'string') throw new CommandError(59, 'CommandNotFound', 'database-level aggregate ({aggregate: 1}) is not supported by the emulator');
  const name = cmd.aggregate;
  const pipeline = (cmd.pipeline ?? []) as Document[];
  if (!Array.isArray(pipeline)) throw new CommandError(14, 'TypeMismatch', "'pipeline' option must be specified as an array");
  if (!cmd.cursor || typeof cmd.cursor !== 'object') {
    throw new CommandError(9, 'FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  for (const stage of pipeline) {
    const op = Object.keys(stage)[0] ?? '';
    if (op === '$out' || op === '$merge') throw new CommandError(59, 'CommandNotFound', `${op} is not supported by the emulator`);
  }
  const coll = state.store.collection(db, name);
  let docs = coll ? [...coll.docs.values()] : [];
  if (pipeline.some((s) => !READ_ONLY_STAGES.has(Object.keys(s)[0] ?? ''))) docs = docs.map(clone);
  let out: Document[];
  try {
    out = new Aggregator(pipeline, {}).run(docs) as Document[];
  } catch (e) {
    throw new CommandError(2, 'BadValue', (e as Error).message);
  }
  const batchSize = batchSizeOf((cmd.cursor as Document).batchSize, DEFAULT_FIRST_BATCH);
  return cursorReply(state, `${db}.${name}`, out, batchSize, false);
};

const createIndexes: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'createIndexes');
  const specs = cmd.indexes as Document[];
  if (!Array.isArray(specs) || specs.length === 0) throw new CommandError(2, 'BadValue', 'Must specify at least one index to create');
  const existed = state.store.collection(db, name) !== undefined;
  const coll = state.store.createCollection(db, name);
  const before = coll.indexes.length;
  for (const spec of specs) {
    const key = spec.key as Record<string, unknown>;
    if (!key || typeof key !== 'object' || Object.keys(key).length === 0) throw new CommandError(67, 'CannotCreateIndex', 'Index keys cannot be empty.');
    const { key: _k, name: given, v: _v, ...options } = spec;
    const def: IndexDef = { v: 2, key, name: typeof given === 'string' ? given : defaultIndexName(key), ...options };
    if (Object.keys(key).length === 1 && key._id !== undefined) continue; // the _id index always exists
    coll.addIndex(def);
  }
  return {
    numIndexesBefore: before,
    numIndexesAfter: coll.indexes.length,
    createdCollectionAutomatically: !existed,
    ...(before === coll.indexes.length ? { note: 'all indexes already exist' } : {}),
    ok: 1,
  };
};

const listIndexes: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'listIndexes');
  const coll = state.store.collection(db, name);
  if (!coll) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${db}.${name}`);
  const batchSize = batchSizeOf((cmd.cursor as Document | undefined)?.batchSize, DEFAULT_FIRST_BATCH);
  return cursorReply(state, `${db}.${name}`, coll.indexes.map((i) => ({ ...i })), batchSize, false);
};

const dropIndexes: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'dropIndexes');
  const coll = state.store.collection(db, name);
  if (!coll) throw new CommandError(26, 'NamespaceNotFound', `ns not found ${db}.${name}`);
  const nIndexesWas = coll.indexes.length;
  const which = cmd.index;
  if (which === '*') coll.dropIndexes();
  else if (typeof which === 'string') coll.dropIndex(which);
  else if (Array.isArray(which)) for (const w of which) coll.dropIndex(String(w));
  else {
    const found = coll.indexes.find((i) => JSON.stringify(i.key) === JSON.stringify(which));
    if (!found) throw new CommandError(27, 'IndexNotFound', `can't find index with key: ${JSON.stringify(which)}`);
    coll.dropIndex(found.name);
  }
  return { nIndexesWas, ok: 1 };
};

const drop: Handler = (state, cmd, db) => {
  const name = collectionName(cmd, 'drop');
  const coll = state.store.dropCollection(db, name);
  // MongoDB 7.0 answers ok for a collection that does not exist (older servers: NamespaceNotFound).
  for (const [id, c] of state.cursors) if (c.ns === `${db}.${name}`) state.cursors.delete(id);
  return { nIndexesWas: coll?.indexes.length ?? 0, ns: `${db}.${name}`, ok: 1 };
};

const dropDatabase: Handler = (state, _cmd, db) => {
  state.store.dropDatabase(db);
  return { dropped: db, ok: 1 };
};

const listCollections: Handler = (state, cmd, db) => {
  const colls = [...(state.store.databases.get(db)?.values() ?? [])];
  let infos: Document[] = colls.map((c) =>
    cmd.nameOnly === true
      ? { name: c.name, type: 'collection' }
      : { name: c.name, type: 'collection', options: {}, info: { readOnly: false }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
  );
  if (cmd.filter && Object.keys(cmd.filter as Document).length > 0) {
    const q = query(cmd.filter as Document);
    infos = infos.filter((i) => q.test(i));
  }
  const batchSize = batchSizeOf((cmd.cursor as Document | undefined)?.batchSize, DEFAULT_FIRST_BATCH);
  return cursorReply(state, `${db}.$cmd.listCollections`, infos, batchSize, false);
};

const listDatabases: Handler = (state, cmd) => {
  const databases = [...state.store.databases.keys()].map((name) => ({ name, sizeOnDisk: 0, empty: false }));
  return cmd.nameOnly === true ? { databases: databases.map(({ name }) => ({ name })), ok: 1 } : { databases, totalSize: 0, ok: 1 };
};

const hello: Handler = (_state, cmd, _db, ctx) => ({
  helloOk: true,
  // both spellings: the legacy isMaster handshake reads `ismaster`, hello readers `isWritablePrimary`
  ismaster: true,
  ...('hello' in cmd ? { isWritablePrimary: true } : {}),
  maxBsonObjectSize: MAX_BSON_SIZE,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  logicalSessionTimeoutMinutes: 30,
  connectionId: ctx.connectionId,
  minWireVersion: 0,
  maxWireVersion: MAX_WIRE_VERSION,
  readOnly: false,
  ok: 1,
});

const buildInfo: Handler = () => ({
  version: '7.0.0',
  gitVersion: 'fleetledger-mongo-emulator',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_SIZE,
  storageEngines: ['emulator'],
  ok: 1,
});

export const handlers: Record<string, Handler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  endSessions: () => ({ ok: 1 }),
  find,
  getMore,
  killCursors,
  insert,
  update,
  delete: del,
  count,
  aggregate,
  createIndexes,
  listIndexes,
  dropIndexes,
  drop,
  dropDatabase,
  listCollections,
  listDatabases,
};

/** Runs one command document; never throws for command-level failures (they become ok: 0 replies). */
export function runCommand(state: ServerState, cmd: Document, db: string, ctx: ConnectionContext): { name: string; reply: Document } {
  const name = Object.keys(cmd)[0] ?? '';
  const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
  if (!handler) return { name, reply: { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' } };
  try {
    return { name, reply: handler(state, cmd, db, ctx) };
  } catch (e) {
    if (e instanceof CommandError) return { name, reply: { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName, ...e.extra } };
    return { name, reply: { ok: 0, errmsg: `internal emulator error: ${(e as Error).message}`, code: 1, codeName: 'InternalError' } };
  }
}
