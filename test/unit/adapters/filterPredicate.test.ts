// The embedded read store's plain predicate must answer exactly as mingo (MongoDB semantics) wherever it answers:
// random documents (strings, numbers, booleans, null, arrays, objects, missing fields) against random filters.
import { Query } from 'mingo';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../adapters/readstore/filterPredicate.js';
import type { Doc, Filter } from '../../../adapters/readstore/port.js';
import { seededRandom } from '../../../simulator/random.js';

const random = seededRandom(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

const PRIMITIVES = ['a', 'b', 'ab', '', '10', 1, 2, 10, 2.5, -1, 0, true, false] as const;
const ODD = [null, ['a', 1], [], { a: 1 }, new Date(0)] as const;
const FIELDS = ['x', 'y', 'z'] as const;

function randomDoc(i: number): Doc {
  const d: Doc = { _id: String(i) };
  for (const f of FIELDS) {
    const r = random();
    if (r < 0.15) continue; // missing
    d[f] = r < 0.3 ? pick(ODD) : pick(PRIMITIVES);
  }
  return d;
}

function randomCondition(): unknown {
  const r = random();
  if (r < 0.4) return pick(PRIMITIVES);
  if (r < 0.55) return { $in: [pick(PRIMITIVES), pick(PRIMITIVES)] };
  const ops = ['$lt', '$lte', '$gt', '$gte', '$eq'] as const;
  return Object.fromEntries([[pick(ops), pick(PRIMITIVES)], ...(random() < 0.4 ? [[pick(ops), pick(PRIMITIVES)]] : [])]);
}

function randomFilter(depth = 0): Filter {
  const f: Filter = {};
  const r = random();
  if (depth < 2 && r < 0.3) f[pick(['$or', '$and'] as const)] = [randomFilter(depth + 1), randomFilter(depth + 1)];
  for (const field of FIELDS) if (random() < 0.5) f[field] = randomCondition();
  return f;
}

describe('compiled read-store filters', () => {
  it('agree with mingo on every document they decide', () => {
    const docs = Array.from({ length: 200 }, (_, i) => randomDoc(i));
    let decided = 0;
    let compiled = 0;
    for (let n = 0; n < 400; n++) {
      const filter = randomFilter();
      const predicate = compileFilter(filter);
      if (!predicate) continue;
      compiled++;
      const query = new Query(filter);
      for (const d of docs) {
        const answer = predicate(d);
        if (answer === undefined) continue;
        decided++;
        expect(answer, `${JSON.stringify(filter)} on ${JSON.stringify(d)}`).toBe(query.test(d));
      }
    }
    expect(compiled).toBeGreaterThan(300);
    expect(decided).toBeGreaterThan(30_000);
  });

  it('leaves to mingo what it does not cover', () => {
    expect(compileFilter({ 'a.b': 1 })).toBeUndefined();
    expect(compileFilter({ a: { $regex: '^x' } })).toBeUndefined();
    expect(compileFilter({ a: null })).toBeUndefined();
    expect(compileFilter({ a: { $ne: 1 } })).toBeUndefined();
    expect(compileFilter({ $or: [] })).toBeUndefined();
    expect(compileFilter({ a: 1 })!({ _id: '1', a: [1, 2] })).toBeUndefined();
  });
});
