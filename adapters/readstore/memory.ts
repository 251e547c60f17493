// The embedded read store: Maps of documents, filters and sorts with Mongo semantics (mingo, or a plain predicate
// for the common filters).
// Writes replace whole documents, so mingo's slow updater is never on the hot path.
// Stored documents are frozen: a caller that tries to mutate one fails loudly instead of corrupting the store.
import { Query } from 'mingo';
import { compileFilter } from './filterPredicate.js';
import type { Checkpoint, Doc, Filter, FindOptions, IndexSpec, ReadStore, Sort, WriteOp } from './port.js';

export function memoryReadStore(): ReadStore {
  const collections = new Map<string, Map<string, Doc>>();
  const checkpoints = new Map<string, string>();

  const coll = (name: string) => {
    let c = collections.get(name);
    if (!c) collections.set(name, (c = new Map()));
    return c;
  };

  function matching(collection: string, filter: Filter | undefined): Doc[] {
    const docs = [...coll(collection).values()];
    if (!filter || Object.keys(filter).length === 0) return docs;
    if (typeof filter._id === 'string' && Object.keys(filter).length === 1) {
      const d = coll(collection).get(filter._id);
      return d ? [d] : [];
    }
    // Most filters are decided in plain JavaScript; mingo only for what the predicate defers (filterPredicate.ts).
    let query: Query | undefined;
    const byMingo = (d: Doc) => (query ??= new Query(filter)).test(d);
    const predicate = compileFilter(filter);
    if (!predicate) return docs.filter(byMingo);
    return docs.filter((d) => predicate(d) ?? byMingo(d));
  }

  return {
    async get<T extends Doc>(collection: string, id: string) {
      return (coll(collection).get(id) as T | undefined) ?? null;
    },
    async getMany<T extends Doc>(collection: string, ids: string[]) {
      const c = coll(collection);
      const out = new Map<string, T>();
      for (const id of ids) {
        const d = c.get(id);
        if (d) out.set(id, d as T);
      }
      return out;
    },
    async find<T extends Doc>(collection: string, filter?: Filter, options: FindOptions = {}) {
      let docs = matching(collection, filter);
      if (options.sort) docs = docs.sort(compareBy(options.sort));
      const skip = options.skip ?? 0;
      const end = options.limit === undefined || options.limit === 0 ? undefined : skip + options.limit;
      return docs.slice(skip, end) as T[];
    },
    async count(collection: string, filter?: Filter) {
      if (!filter || Object.keys(filter).length === 0) return coll(collection).size;
      return matching(collection, filter).length;
    },
    async bulkWrite(ops: WriteOp[], checkpoint?: Checkpoint) {
      // A batch writes to one collection (a projection's): look it up once per run of ops, not once per op.
      let name: string | undefined;
      let c = undefined as unknown as Map<string, Doc>;
      for (const op of ops) {
        if (op.collection !== name) c = coll((name = op.collection));
        if (op.kind === 'delete') c.delete(op.id);
        else if (op.kind === 'upsert' || c.has(op.doc._id)) c.set(op.doc._id, deepFreeze(op.doc));
      }
      if (checkpoint) checkpoints.set(checkpoint.name, checkpoint.position);
    },
    async getCheckpoint(name: string) {
      return checkpoints.get(name) ?? null;
    },
    async reset(names: string[], checkpointName: string) {
      for (const n of names) collections.delete(n);
      checkpoints.delete(checkpointName);
    },
    async ensureIndexes(_indexes: IndexSpec[]) {
      // Every lookup is a scan or a Map hit; indexes matter only to MongoDB.
    },
    async close() {},
  };
}

/**
 * Freezes every object reachable from value, even below a part the caller had already frozen itself.
 * Every write of a replay comes through here, so it allocates nothing for a flat document (most read-model
 * documents): for-in instead of Object.values, and the set that guards against cycles only once a nested object shows up.
 */
function deepFreeze<T>(value: T, seen?: Set<object>): T {
  if (value === null || typeof value !== 'object') return value;
  Object.freeze(value);
  for (const key in value) {
    const v: unknown = value[key];
    if (v === null || typeof v !== 'object' || !Object.hasOwn(value, key)) continue;
    if (!seen) seen = new Set([value]);
    if (seen.has(v)) continue;
    seen.add(v);
    deepFreeze(v, seen);
  }
  return value;
}

/** MongoDB's order for the values read models hold: missing/null < numbers < strings < booleans < dates. */
function compareBy(sort: Sort) {
  const keys = Object.entries(sort);
  return (a: Doc, b: Doc): number => {
    for (const [path, dir] of keys) {
      const c = compareValues(pick(a, path), pick(b, path));
      if (c !== 0) return c * dir;
    }
    return 0;
  };
}

function pick(doc: Doc, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const typeRank = (v: unknown): number => {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return 1;
  if (typeof v === 'string') return 2;
  if (typeof v === 'boolean') return 4;
  if (v instanceof Date) return 5;
  return 3; // objects and arrays: compared as their JSON text, enough for tie-breaking
};

function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  if (ra === 5) return (a as Date).getTime() - (b as Date).getTime();
  if (ra === 3) return compareValues(JSON.stringify(a), JSON.stringify(b));
  const x = a as number | string | boolean;
  const y = b as number | string | boolean;
  return x < y ? -1 : x > y ? 1 : 0;
}
