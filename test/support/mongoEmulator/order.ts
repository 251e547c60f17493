// BSON comparison order for the emulator's sorts (MongoDB's documented cross-type order):
// MinKey < null/missing < numbers < strings/symbols < objects < arrays < binData < ObjectId < booleans < dates
// < timestamps < regexes < MaxKey. Strings compare by code point (MongoDB compares UTF-8 bytes without a collation,
// which gives the same order). Sorting on an array field uses its smallest element ascending and its largest
// descending; an empty array sorts before null.
import { Binary, BSONRegExp, BSONSymbol, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, type Document } from 'bson';

type SortSpec = Record<string, unknown>;

const EMPTY_ARRAY = 1.5;

export function typeRank(v: unknown): number {
  if (v instanceof MinKey) return 1;
  if (v === undefined || v === null) return 2;
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof Long || v instanceof Int32 || v instanceof Double || v instanceof Decimal128) return 3;
  if (typeof v === 'string' || v instanceof BSONSymbol) return 4;
  if (Array.isArray(v)) return 6;
  if (v instanceof Binary || v instanceof Uint8Array) return 7;
  if (v instanceof ObjectId) return 8;
  if (typeof v === 'boolean') return 9;
  if (v instanceof Date) return 10;
  if (v instanceof Timestamp) return 11;
  if (v instanceof RegExp || v instanceof BSONRegExp) return 12;
  if (v instanceof MaxKey) return 13;
  return 5; // plain object
}

function toNumber(v: unknown): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof Long) return v.toBigInt();
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  return Number((v as Decimal128).toString()); // approximate: Decimal128 compared as a double
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1; // NaN sorts below every other number
  if (Number.isNaN(b)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  return Buffer.compare(a, b);
}

/** Total BSON order over two values (arrays compared element by element, as values inside documents are). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 1:
    case 2:
    case 13:
      return 0;
    case 3:
      return compareNumbers(toNumber(a), toNumber(b));
    case 4:
      return compareStrings(String(a instanceof BSONSymbol ? a.value : a), String(b instanceof BSONSymbol ? b.value : b));
    case 5: {
      const ea = Object.entries(a as Document);
      const eb = Object.entries(b as Document);
      for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
        const [ka, va] = ea[i]!;
        const [kb, vb] = eb[i]!;
        const c = typeRank(va) - typeRank(vb) || compareStrings(ka, kb) || compareValues(va, vb);
        if (c !== 0) return c;
      }
      return ea.length - eb.length;
    }
    case 6: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c !== 0) return c;
      }
      return xa.length - xb.length;
    }
    case 7: {
      const ba = a instanceof Binary ? a : new Binary(a as Uint8Array);
      const bb = b instanceof Binary ? b : new Binary(b as Uint8Array);
      return ba.position - bb.position || ba.sub_type - bb.sub_type || compareBytes(ba.value(), bb.value());
    }
    case 8:
      return compareStrings((a as ObjectId).toHexString(), (b as ObjectId).toHexString());
    case 9:
      return Number(a) - Number(b);
    case 10:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case 11:
      return (a as Timestamp).compare(b as Timestamp);
    case 12: {
      const sa = a instanceof RegExp ? [a.source, a.flags] : [(a as BSONRegExp).pattern, (a as BSONRegExp).options];
      const sb = b instanceof RegExp ? [b.source, b.flags] : [(b as BSONRegExp).pattern, (b as BSONRegExp).options];
      return compareStrings(sa[0]!, sb[0]!) || compareStrings(sa[1]!, sb[1]!);
    }
  }
  return 0;
}

/** Values found at a dotted path, descending into arrays of documents; `multi` when an array was crossed or found. */
export function valuesAt(doc: unknown, path: string): { values: unknown[]; multi: boolean } {
  let current: unknown[] = [doc];
  let multi = false;
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        multi = true;
        if (/^\d+$/.test(part) && Number(part) < v.length) next.push(v[Number(part)]);
        else for (const el of v) if (el !== null && typeof el === 'object' && !Array.isArray(el) && part in el) next.push((el as Document)[part]);
      } else if (v !== null && typeof v === 'object' && part in (v as Document)) {
        next.push((v as Document)[part]);
      }
    }
    current = next;
  }
  const values: unknown[] = [];
  for (const v of current) {
    if (Array.isArray(v)) {
      multi = true;
      values.push(...v);
    } else values.push(v);
  }
  return { values, multi };
}

function sortKey(doc: Document, path: string, dir: number): { rank?: number; value: unknown } {
  const { values, multi } = valuesAt(doc, path);
  if (!multi) return { value: values[0] };
  if (values.length === 0) return { rank: EMPTY_ARRAY, value: undefined };
  let best = values[0];
  for (const v of values.slice(1)) if (compareValues(v, best) * dir < 0) best = v;
  return { value: best };
}

function compareKeys(a: { rank?: number; value: unknown }, b: { rank?: number; value: unknown }): number {
  const ra = a.rank ?? typeRank(a.value);
  const rb = b.rank ?? typeRank(b.value);
  if (ra !== rb) return ra - rb;
  return a.rank !== undefined ? 0 : compareValues(a.value, b.value);
}

/** A comparator for a MongoDB sort document ({ field: 1 | -1, ... }); `$natural` and `$meta` keys are ignored. */
export function comparatorFor(sort: SortSpec): (a: Document, b: Document) => number {
  const keys = Object.entries(sort)
    .filter(([k, v]) => k !== '$natural' && typeof v !== 'object')
    .map(([k, v]) => [k, Number(v) < 0 ? -1 : 1] as const);
  return (a, b) => {
    for (const [path, dir] of keys) {
      const c = compareKeys(sortKey(a, path, dir), sortKey(b, path, dir));
      if (c !== 0) return c * dir;
    }
    return 0;
  };
}
