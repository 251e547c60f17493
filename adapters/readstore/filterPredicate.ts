// A plain-JavaScript predicate for the filters the site issues most (equality and ranges on top-level fields,
// joined by $and/$or), so the embedded read store need not run mingo over every document of a collection. It gives
// MongoDB's answer or none: where a document holds something outside that subset (null, an array, an object), it
// answers `undefined` and the caller asks mingo for that document. Filters outside the subset compile to nothing.
import type { Doc, Filter } from './port.js';

/** true / false when decided here; undefined to defer that document to mingo. */
export type DocPredicate = (doc: Doc) => boolean | undefined;

type Primitive = string | number | boolean;
const isPrimitive = (v: unknown): v is Primitive => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const RANGE_OPERATORS = {
  $lt: (c: number) => c < 0,
  $lte: (c: number) => c <= 0,
  $gt: (c: number) => c > 0,
  $gte: (c: number) => c >= 0,
} as const;

/** -1/0/1 for two primitives of one type; undefined across types (MongoDB's type bracketing: no match). */
function compare(a: Primitive, b: Primitive): number | undefined {
  if (typeof a !== typeof b) return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A test of one field's value, or undefined when the condition is outside the subset. */
function compileCondition(condition: unknown): ((value: Primitive) => boolean) | undefined {
  if (isPrimitive(condition)) return (v) => compare(v, condition) === 0;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) return undefined;
  const tests: ((value: Primitive) => boolean)[] = [];
  for (const [op, operand] of Object.entries(condition)) {
    if (op === '$eq' && isPrimitive(operand)) tests.push((v) => compare(v, operand) === 0);
    else if (op in RANGE_OPERATORS && isPrimitive(operand)) {
      const holds = RANGE_OPERATORS[op as keyof typeof RANGE_OPERATORS];
      tests.push((v) => {
        const c = compare(v, operand);
        return c !== undefined && holds(c);
      });
    } else if (op === '$in' && Array.isArray(operand) && operand.length > 0 && operand.every(isPrimitive)) {
      tests.push((v) => operand.some((o) => compare(v, o) === 0));
    } else return undefined;
  }
  return tests.length === 0 ? undefined : (v) => tests.every((t) => t(v));
}

export function compileFilter(filter: Filter): DocPredicate | undefined {
  const parts: DocPredicate[] = [];
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(condition) || condition.length === 0) return undefined;
      const subs = condition.map((c) => (typeof c === 'object' && c !== null && !Array.isArray(c) ? compileFilter(c as Filter) : undefined));
      if (subs.some((s) => s === undefined)) return undefined;
      const preds = subs as DocPredicate[];
      parts.push(key === '$and' ? allOf(preds) : anyOf(preds));
      continue;
    }
    if (key.startsWith('$') || key.includes('.')) return undefined;
    const test = compileCondition(condition);
    if (!test) return undefined;
    parts.push((doc) => {
      const v = doc[key];
      if (v === undefined) return false; // a missing field equals and compares with no primitive
      return isPrimitive(v) ? test(v) : undefined;
    });
  }
  return parts.length === 0 ? undefined : allOf(parts);
}

/**
 * Three-valued and/or: the decisive answer (false for and, true for or) wins, then undefined (some part deferred to
 * mingo), else the other answer.
 */
const combine =
  (decisive: boolean) =>
  (preds: DocPredicate[]): DocPredicate =>
  (doc) => {
    let unknown = false;
    for (const p of preds) {
      const r = p(doc);
      if (r === decisive) return decisive;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : !decisive;
  };
const allOf = combine(false);
const anyOf = combine(true);
