// The emulator's data: databases of collections of documents, kept in memory (they survive stop/restart of the
// listener, not the process). Stored documents are never mutated: every update builds a new document and replaces
// the old one, so open cursors and earlier answers keep the snapshot they took. Indexes are bookkeeping except for
// `unique`, which is enforced (the implicit `_id_` index included) with MongoDB's E11000 duplicate key error.
import { EJSON, type Document } from 'bson';
import { Query } from 'mingo';
import { valuesAt } from './order.js';

/** A command failure answered as { ok: 0, errmsg, code, codeName } (or as a write error inside a write command). */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly extra: Document = {},
  ) {
    super(message);
  }
}

export interface IndexDef {
  v: 2;
  key: Record<string, unknown>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  [option: string]: unknown;
}

const json = (v: unknown) => EJSON.stringify(v as Document, { relaxed: true });

/** The identity of an _id value (typed: the string '1' and the number 1 are two ids). */
export const idKey = (id: unknown): string => (typeof id === 'string' ? `s${id}` : `j${json([id])}`);

/** The default name MongoDB gives an index: field_direction pairs joined by '_' (e.g. `region_1_cpu_-1`). */
export const defaultIndexName = (key: Record<string, unknown>): string =>
  Object.entries(key)
    .map(([k, v]) => `${k}_${String(v)}`)
    .join('_');

interface UniqueIndex {
  def: IndexDef;
  filter?: Query;
  /** index key -> idKey of the document holding it */
  entries: Map<string, string>;
}

export class Collection {
  /** idKey -> document, in insertion order (the emulator's natural order). */
  readonly docs = new Map<string, Document>();
  readonly indexes: IndexDef[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
  private readonly unique: UniqueIndex[] = [];

  constructor(
    readonly db: string,
    readonly name: string,
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Inserts a new document (with its _id); throws E11000 when the _id or a unique key is taken. */
  insert(doc: Document): void {
    const id = idKey(doc._id);
    if (this.docs.has(id)) throw this.duplicate(this.indexes[0]!, { _id: doc._id });
    const keys = this.checkUnique(doc, id);
    this.docs.set(id, doc);
    this.indexKeys(id, keys);
  }

  /** Replaces the document stored under id (same _id) with doc. */
  replace(id: string, doc: Document): void {
    const old = this.docs.get(id);
    if (!old) throw new Error(`no document ${id}`);
    const keys = this.checkUnique(doc, id);
    this.unindex(old, id);
    this.docs.set(id, doc);
    this.indexKeys(id, keys);
  }

  remove(id: string): void {
    const old = this.docs.get(id);
    if (!old) return;
    this.unindex(old, id);
    this.docs.delete(id);
  }

  /** Adds an index; an existing index with the same name must have the same key and options. */
  addIndex(def: IndexDef): boolean {
    const existing = this.indexes.find((i) => i.name === def.name);
    if (existing) {
      if (json(existing.key) !== json(def.key)) {
        throw new CommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index but different keys. Requested index: ${json(def)}, existing index: ${json(existing)}`);
      }
      if (json(optionsOf(existing)) !== json(optionsOf(def))) {
        throw new CommandError(85, 'IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${json(def)}, existing index: ${json(existing)}`);
      }
      return false;
    }
    const sameKey = this.indexes.find((i) => json(i.key) === json(def.key));
    if (sameKey && json(optionsOf(sameKey)) !== json(optionsOf(def))) {
      throw new CommandError(85, 'IndexOptionsConflict', `An existing index has the same key pattern but different options: ${sameKey.name}`);
    }
    if (sameKey) return false;
    if (def.unique) {
      const u: UniqueIndex = { def, entries: new Map() };
      if (def.partialFilterExpression) u.filter = new Query(def.partialFilterExpression);
      for (const [id, doc] of this.docs) {
        for (const k of this.keysOf(u, doc)) {
          if (u.entries.has(k) && u.entries.get(k) !== id) throw this.duplicate(def, keyValue(def, doc));
          u.entries.set(k, id);
        }
      }
      this.unique.push(u);
    }
    this.indexes.push(def);
    return true;
  }

  dropIndex(name: string): void {
    if (name === '_id_') throw new CommandError(72, 'InvalidOptions', 'cannot drop _id index');
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i < 0) throw new CommandError(27, 'IndexNotFound', `index not found with name [${name}]`);
    this.indexes.splice(i, 1);
    const u = this.unique.findIndex((x) => x.def.name === name);
    if (u >= 0) this.unique.splice(u, 1);
  }

  dropIndexes(): void {
    this.indexes.splice(1);
    this.unique.splice(0);
  }

  private keysOf(u: UniqueIndex, doc: Document): string[] {
    if (u.filter && !u.filter.test(doc)) return [];
    const perField: unknown[][] = [];
    let present = false;
    for (const path of Object.keys(u.def.key)) {
      const { values } = valuesAt(doc, path);
      if (values.length > 0) present = true;
      perField.push(values.length > 0 ? values.map((v) => (v === undefined ? null : v)) : [null]);
    }
    if (u.def.sparse && !present) return [];
    // one key per combination (MongoDB allows at most one array field per compound key, so this stays small)
    let combos: unknown[][] = [[]];
    for (const values of perField) combos = combos.flatMap((c) => values.map((v) => [...c, v]));
    return [...new Set(combos.map((c) => json(c)))];
  }

  private checkUnique(doc: Document, id: string): string[][] {
    return this.unique.map((u) => {
      const keys = this.keysOf(u, doc);
      for (const k of keys) {
        const holder = u.entries.get(k);
        if (holder !== undefined && holder !== id) throw this.duplicate(u.def, keyValue(u.def, doc));
      }
      return keys;
    });
  }

  private indexKeys(id: string, keys: string[][]): void {
    this.unique.forEach((u, i) => {
      for (const k of keys[i]!) u.entries.set(k, id);
    });
  }

  private unindex(doc: Document, id: string): void {
    for (const u of this.unique) for (const k of this.keysOf(u, doc)) if (u.entries.get(k) === id) u.entries.delete(k);
  }

  private duplicate(def: IndexDef, value: Document): CommandError {
    const shown = Object.entries(value)
      .map(([k, v]) => `${k}: ${json(v)}`)
      .join(', ');
    return new CommandError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${this.ns} index: ${def.name} dup key: { ${shown} }`, {
      keyPattern: def.key,
      keyValue: value,
    });
  }
}

function optionsOf(def: IndexDef): Document {
  const { v: _v, key: _key, name: _name, ...options } = def;
  return Object.fromEntries(Object.entries(options).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function keyValue(def: IndexDef, doc: Document): Document {
  const out: Document = {};
  for (const path of Object.keys(def.key)) {
    const { values, multi } = valuesAt(doc, path);
    out[path] = values.length === 0 ? null : multi ? values : values[0];
  }
  return out;
}

export class Store {
  readonly databases = new Map<string, Map<string, Collection>>();

  collection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  /** Collections come into being on first write or index creation, as in MongoDB. */
  createCollection(db: string, name: string): Collection {
    validateName(name);
    let d = this.databases.get(db);
    if (!d) this.databases.set(db, (d = new Map()));
    let c = d.get(name);
    if (!c) d.set(name, (c = new Collection(db, name)));
    return c;
  }

  dropCollection(db: string, name: string): Collection | undefined {
    const d = this.databases.get(db);
    const c = d?.get(name);
    d?.delete(name);
    if (d && d.size === 0) this.databases.delete(db);
    return c;
  }

  dropDatabase(db: string): void {
    this.databases.delete(db);
  }
}

function validateName(name: string) {
  if (typeof name !== 'string' || name === '' || name.includes('\0') || name.startsWith('$') || name.startsWith('system.')) {
    throw new CommandError(73, 'InvalidNamespace', `Invalid collection name: ${String(name)}`);
  }
}
