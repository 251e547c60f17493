// The read store port: documents keyed by _id in named collections, queried with MongoDB filter documents.
// The same filters, sorts and writes must behave alike on the in-memory adapter (mingo) and on MongoDB.

export type Doc = { _id: string } & Record<string, unknown>;

/** A MongoDB filter document (the subset both adapters share: equality, $in, $gt/$gte/$lt/$lte, $ne, $exists, $and, $or, $regex, dotted paths). */
export type Filter = Record<string, unknown>;
/** MongoDB sort: field -> 1 (ascending) or -1 (descending), applied in key order. */
export type Sort = Record<string, 1 | -1>;

export interface FindOptions {
  sort?: Sort;
  skip?: number;
  limit?: number;
}

export type WriteOp =
  /** Insert the document, or replace it whole if one with the same _id exists. */
  | { kind: 'upsert'; collection: string; doc: Doc }
  /** Replace an existing document; does nothing when there is none. */
  | { kind: 'replace'; collection: string; doc: Doc }
  | { kind: 'delete'; collection: string; id: string };

export interface IndexSpec {
  collection: string;
  keys: Record<string, 1 | -1>;
  unique?: boolean;
}

export interface ReadStore {
  get<T extends Doc>(collection: string, id: string): Promise<T | null>;
  /** Several documents by id in one round trip; missing ids are absent from the map. */
  getMany<T extends Doc>(collection: string, ids: string[]): Promise<Map<string, T>>;
  find<T extends Doc>(collection: string, filter?: Filter, options?: FindOptions): Promise<T[]>;
  count(collection: string, filter?: Filter): Promise<number>;
  /**
   * Applies the writes in order. When a checkpoint is given it is stored after the writes
   * (in the same unit where the adapter can), so a crash never records progress that was not written.
   */
  bulkWrite(ops: WriteOp[], checkpoint?: Checkpoint): Promise<void>;
  getCheckpoint(name: string): Promise<string | null>;
  /** Empties the collections and forgets the checkpoint: the start of a rebuild. */
  reset(collections: string[], checkpointName: string): Promise<void>;
  ensureIndexes(indexes: IndexSpec[]): Promise<void>;
  close(): Promise<void>;
}

/** Projection progress: the position of the last event applied, as a 20-digit zero-padded string. */
export interface Checkpoint {
  name: string;
  position: string;
}
