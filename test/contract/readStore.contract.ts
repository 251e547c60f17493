// The read store contract: port-level behaviour every ReadStore adapter must show (memory/mingo today, MongoDB later).
// Filters stay within the subset the port documents (equality, $ne, $in, $nin, ranges, $exists, $regex, $and/$or,
// dotted paths, array element matching); sorts avoid arrays and plain objects as sort keys, where mingo-backed
// ordering is only approximate. `open()` must hand each test a fresh, empty store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { positionFromString, positionToString } from '../../adapters/eventstore/port.js';
import type { Doc, Filter, IndexSpec, ReadStore, WriteOp } from '../../adapters/readstore/port.js';

export interface OpenedReadStore {
  store: ReadStore;
  /** Closes the store (if the test has not) and removes whatever open() created. */
  cleanup(): Promise<void>;
}

const upsert = (collection: string, doc: Doc): WriteOp => ({ kind: 'upsert', collection, doc });
const replace = (collection: string, doc: Doc): WriteOp => ({ kind: 'replace', collection, doc });
const del = (collection: string, id: string): WriteOp => ({ kind: 'delete', collection, id });

/** Subclouds: a small fleet with nested docs, arrays, missing fields and nulls. */
const fleet: Doc[] = [
  {
    _id: 'sc-1',
    name: 'edge-alpha',
    region: 'eu',
    cpu: 8,
    online: true,
    labels: ['gpu', 'prod'],
    location: { site: 'paris', rack: 3 },
    nics: [{ name: 'eth0', speed: 10 }, { name: 'eth1', speed: 25 }],
    note: null,
  },
  {
    _id: 'sc-2',
    name: 'edge-beta',
    region: 'us',
    cpu: 16,
    online: false,
    labels: ['prod'],
    location: { site: 'austin', rack: 1 },
    nics: [{ name: 'eth0', speed: 100 }],
  },
  {
    _id: 'sc-3',
    name: 'Core-gamma',
    region: 'eu',
    cpu: 4,
    online: true,
    labels: [],
    location: { site: 'berlin' },
    nics: [],
    note: 'spare',
  },
  { _id: 'sc-4', name: 'edge-delta', region: 'apac', cpu: 32, online: true, labels: ['gpu'], location: { site: 'tokyo', rack: 7 } },
  { _id: 'sc-5', name: 'lab-epsilon', cpu: 2, online: false, labels: ['lab'] },
];

const sortedIds = (docs: Doc[]) => docs.map((d) => d._id).sort();
const idsOf = (docs: Doc[]) => docs.map((d) => d._id);

export function readStoreContract(name: string, open: () => Promise<OpenedReadStore>) {
  describe(`read store contract: ${name}`, () => {
    let opened: OpenedReadStore;
    let store: ReadStore;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    const seedFleet = () => store.bulkWrite(fleet.map((d) => upsert('subclouds', structuredClone(d))));
    const matches = async (filter: Filter) => sortedIds(await store.find('subclouds', filter));

    describe('writes and lookups', () => {
      it('upsert inserts, then replaces the whole document', async () => {
        await store.bulkWrite([upsert('groups', { _id: 'g1', name: 'one', maxParallel: 2, extra: 'x' })]);
        expect(await store.get('groups', 'g1')).toEqual({ _id: 'g1', name: 'one', maxParallel: 2, extra: 'x' });
        await store.bulkWrite([upsert('groups', { _id: 'g1', name: 'uno', maxParallel: 3 })]);
        expect(await store.get('groups', 'g1')).toEqual({ _id: 'g1', name: 'uno', maxParallel: 3 });
        expect(await store.count('groups')).toBe(1);
      });

      it('replace changes an existing document and does nothing when there is none', async () => {
        await store.bulkWrite([upsert('groups', { _id: 'g1', name: 'one', old: true })]);
        await store.bulkWrite([replace('groups', { _id: 'g1', name: 'two' }), replace('groups', { _id: 'ghost', name: 'x' })]);
        expect(await store.get('groups', 'g1')).toEqual({ _id: 'g1', name: 'two' });
        expect(await store.get('groups', 'ghost')).toBeNull();
        expect(await store.count('groups')).toBe(1);
      });

      it('delete removes a document; deleting a missing one is not an error', async () => {
        await store.bulkWrite([upsert('groups', { _id: 'g1' }), upsert('groups', { _id: 'g2' })]);
        await store.bulkWrite([del('groups', 'g1'), del('groups', 'never')]);
        expect(await store.get('groups', 'g1')).toBeNull();
        expect(idsOf(await store.find('groups'))).toEqual(['g2']);
      });

      it('applies the ops of one bulkWrite in order', async () => {
        await store.bulkWrite([
          upsert('groups', { _id: 'a', v: 1 }),
          del('groups', 'a'),
          del('groups', 'b'),
          upsert('groups', { _id: 'b', v: 1 }),
          upsert('groups', { _id: 'c', v: 1 }),
          replace('groups', { _id: 'c', v: 2 }),
          upsert('groups', { _id: 'c', v: 3 }),
        ]);
        expect(await store.get('groups', 'a')).toBeNull();
        expect(await store.get('groups', 'b')).toEqual({ _id: 'b', v: 1 });
        expect(await store.get('groups', 'c')).toEqual({ _id: 'c', v: 3 });
        await store.bulkWrite([]); // an empty batch is fine
        expect(await store.count('groups')).toBe(2);
      });

      it('keeps collections apart: the same _id in two collections are two documents', async () => {
        await store.bulkWrite([upsert('a', { _id: 'x', in: 'a' }), upsert('b', { _id: 'x', in: 'b' })]);
        expect(await store.get('a', 'x')).toEqual({ _id: 'x', in: 'a' });
        expect(await store.get('b', 'x')).toEqual({ _id: 'x', in: 'b' });
        await store.bulkWrite([del('a', 'x')]);
        expect(await store.get('b', 'x')).toEqual({ _id: 'x', in: 'b' });
      });

      it('get answers null and getMany leaves out missing ids; unknown collections read as empty', async () => {
        await seedFleet();
        expect(await store.get('subclouds', 'nope')).toBeNull();
        const many = await store.getMany('subclouds', ['sc-2', 'nope', 'sc-1', 'sc-2']);
        expect([...many.keys()].sort()).toEqual(['sc-1', 'sc-2']);
        expect(many.get('sc-1')).toEqual(fleet[0]);
        expect(many.get('sc-2')).toEqual(fleet[1]);
        expect((await store.getMany('subclouds', [])).size).toBe(0);
        expect(await store.get('nothing-here', 'x')).toBeNull();
        expect(await store.find('nothing-here')).toEqual([]);
        expect(await store.count('nothing-here')).toBe(0);
      });

      it('round-trips nested documents, arrays, nulls, numbers, booleans and unicode', async () => {
        const doc: Doc = {
          _id: 'rich',
          s: 'ünïcödé ✓',
          n: -12.5,
          big: 9007199254740991,
          t: true,
          f: false,
          z: null,
          arr: [1, 'two', { three: 3 }, [4]],
          deep: { a: { b: { c: ['d'] } } },
          empty: {},
        };
        await store.bulkWrite([upsert('c', structuredClone(doc))]);
        expect(await store.get('c', 'rich')).toEqual(doc);
        expect(await store.find('c', { _id: 'rich' })).toEqual([doc]);
      });
    });

    describe('documents are not aliased', () => {
      it('mutating a returned document (or its nested parts) does not change the store', async () => {
        await store.bulkWrite([upsert('c', { _id: 'd', n: 1, nested: { list: [1, 2] } })]);
        const got = (await store.get('c', 'd'))!;
        const found = (await store.find('c'))[0]!;
        const many = (await store.getMany('c', ['d'])).get('d')!;
        for (const d of [got, found, many]) {
          for (const change of [
            () => ((d as Record<string, unknown>).n = 99),
            () => (d.nested as { list: number[] }).list.push(3),
            () => ((d.nested as Record<string, unknown>).added = true),
            () => delete (d as Record<string, unknown>).nested,
          ]) {
            try {
              change();
            } catch {
              // a frozen document refuses the change: just as good
            }
          }
        }
        expect(await store.get('c', 'd')).toEqual({ _id: 'd', n: 1, nested: { list: [1, 2] } });
        expect(await store.count('c', { n: 99 })).toBe(0);
      });

      it('mutating a written document after bulkWrite does not change the store', async () => {
        const nested = { list: [1] };
        const doc: Doc = { _id: 'w', n: 1, nested };
        await store.bulkWrite([upsert('c', doc)]);
        for (const change of [
          () => ((doc as Record<string, unknown>).n = 2),
          () => nested.list.push(2),
          () => Object.assign(nested, { added: true }),
        ]) {
          try {
            change();
          } catch {
            // frozen on write: just as good
          }
        }
        expect(await store.get('c', 'w')).toEqual({ _id: 'w', n: 1, nested: { list: [1] } });
      });

      it('a document frozen only at the top when written still cannot be changed through its nested parts', async () => {
        const nested = { list: [1] };
        await store.bulkWrite([upsert('c', Object.freeze({ _id: 'f', nested }))]);
        try {
          nested.list.push(2);
        } catch {
          // frozen on write: just as good
        }
        expect(await store.get('c', 'f')).toEqual({ _id: 'f', nested: { list: [1] } });
      });
    });

    describe('find with filter documents', () => {
      beforeEach(seedFleet);

      it('matches everything with no filter or an empty one', async () => {
        expect(sortedIds(await store.find('subclouds'))).toEqual(['sc-1', 'sc-2', 'sc-3', 'sc-4', 'sc-5']);
        expect(await matches({})).toEqual(['sc-1', 'sc-2', 'sc-3', 'sc-4', 'sc-5']);
      });

      it('equality, $eq and $ne (which also matches a missing field)', async () => {
        expect(await matches({ region: 'eu' })).toEqual(['sc-1', 'sc-3']);
        expect(await matches({ region: { $eq: 'eu' } })).toEqual(['sc-1', 'sc-3']);
        expect(await matches({ region: 'eu', online: true, cpu: 8 })).toEqual(['sc-1']);
        expect(await matches({ _id: 'sc-4' })).toEqual(['sc-4']);
        expect(await matches({ _id: 'nope' })).toEqual([]);
        expect(await matches({ region: { $ne: 'eu' } })).toEqual(['sc-2', 'sc-4', 'sc-5']);
        expect(await matches({ online: false })).toEqual(['sc-2', 'sc-5']);
      });

      it('$in and $nin (which also matches a missing field)', async () => {
        expect(await matches({ region: { $in: ['us', 'apac'] } })).toEqual(['sc-2', 'sc-4']);
        expect(await matches({ _id: { $in: ['sc-1', 'sc-5', 'nope'] } })).toEqual(['sc-1', 'sc-5']);
        expect(await matches({ region: { $nin: ['eu', 'us'] } })).toEqual(['sc-4', 'sc-5']);
        expect(await matches({ region: { $in: [] } })).toEqual([]);
      });

      it('$gt, $gte, $lt, $lte, and ranges combining them', async () => {
        expect(await matches({ cpu: { $gt: 8 } })).toEqual(['sc-2', 'sc-4']);
        expect(await matches({ cpu: { $gte: 8 } })).toEqual(['sc-1', 'sc-2', 'sc-4']);
        expect(await matches({ cpu: { $lt: 8 } })).toEqual(['sc-3', 'sc-5']);
        expect(await matches({ cpu: { $lte: 8 } })).toEqual(['sc-1', 'sc-3', 'sc-5']);
        expect(await matches({ cpu: { $gt: 2, $lt: 16 } })).toEqual(['sc-1', 'sc-3']);
        expect(await matches({ name: { $gte: 'edge-b', $lt: 'edge-e' } })).toEqual(['sc-2', 'sc-4']);
        // comparisons do not cross types: a string bound never matches numbers
        expect(await matches({ cpu: { $gt: '1' } })).toEqual([]);
      });

      it('$exists, and null matching both null and missing', async () => {
        expect(await matches({ region: { $exists: false } })).toEqual(['sc-5']);
        expect(await matches({ region: { $exists: true } })).toEqual(['sc-1', 'sc-2', 'sc-3', 'sc-4']);
        expect(await matches({ note: { $exists: true } })).toEqual(['sc-1', 'sc-3']); // null exists
        expect(await matches({ note: null })).toEqual(['sc-1', 'sc-2', 'sc-4', 'sc-5']);
        expect(await matches({ 'location.rack': { $exists: false } })).toEqual(['sc-3', 'sc-5']);
      });

      it('$regex as a string (with $options) and as a RegExp', async () => {
        expect(await matches({ name: { $regex: '^edge-' } })).toEqual(['sc-1', 'sc-2', 'sc-4']);
        expect(await matches({ name: { $regex: '^core', $options: 'i' } })).toEqual(['sc-3']);
        expect(await matches({ name: { $regex: /ta$/ } })).toEqual(['sc-2', 'sc-4']);
        expect(await matches({ name: /^lab/ })).toEqual(['sc-5']);
        expect(await matches({ region: { $regex: 'x' } })).toEqual([]);
      });

      it('$and and $or, nested', async () => {
        expect(await matches({ $or: [{ region: 'us' }, { cpu: { $lt: 4 } }] })).toEqual(['sc-2', 'sc-5']);
        expect(await matches({ $and: [{ online: true }, { cpu: { $gte: 8 } }] })).toEqual(['sc-1', 'sc-4']);
        expect(
          await matches({ $and: [{ $or: [{ region: 'eu' }, { region: 'apac' }] }, { $or: [{ cpu: 4 }, { cpu: 32 }] }] }),
        ).toEqual(['sc-3', 'sc-4']);
        expect(await matches({ online: true, $or: [{ labels: 'gpu' }, { note: 'spare' }] })).toEqual(['sc-1', 'sc-3', 'sc-4']);
      });

      it('dotted paths into nested documents', async () => {
        expect(await matches({ 'location.site': 'paris' })).toEqual(['sc-1']);
        expect(await matches({ 'location.rack': { $gte: 3 } })).toEqual(['sc-1', 'sc-4']);
        expect(await matches({ 'location.site': { $in: ['austin', 'tokyo'] } })).toEqual(['sc-2', 'sc-4']);
        expect(await matches({ 'location.nowhere.deeper': 'x' })).toEqual([]);
        expect(await matches({ location: { site: 'berlin' } })).toEqual(['sc-3']); // whole-document equality
      });

      it('array fields match on any element, and on dotted paths through arrays of documents', async () => {
        expect(await matches({ labels: 'gpu' })).toEqual(['sc-1', 'sc-4']);
        expect(await matches({ labels: { $in: ['lab', 'gpu'] } })).toEqual(['sc-1', 'sc-4', 'sc-5']);
        expect(await matches({ labels: { $ne: 'prod' } })).toEqual(['sc-3', 'sc-4', 'sc-5']);
        expect(await matches({ labels: ['prod'] })).toEqual(['sc-2']); // exact array equality
        expect(await matches({ 'nics.name': 'eth1' })).toEqual(['sc-1']);
        expect(await matches({ 'nics.speed': { $gte: 50 } })).toEqual(['sc-2']);
        expect(await matches({ 'nics.speed': { $gt: 20, $lt: 50 } })).toEqual(['sc-1']);
      });

      it('count takes the same filters', async () => {
        expect(await store.count('subclouds')).toBe(5);
        expect(await store.count('subclouds', {})).toBe(5);
        expect(await store.count('subclouds', { region: 'eu' })).toBe(2);
        expect(await store.count('subclouds', { _id: 'sc-3' })).toBe(1);
        expect(await store.count('subclouds', { _id: 'nope' })).toBe(0);
        expect(await store.count('subclouds', { $or: [{ labels: 'gpu' }, { region: { $exists: false } }] })).toBe(3);
      });
    });

    describe('sort, skip and limit', () => {
      beforeEach(seedFleet);

      it('sorts ascending and descending, with missing fields first ascending and last descending', async () => {
        expect(idsOf(await store.find('subclouds', {}, { sort: { cpu: 1 } }))).toEqual(['sc-5', 'sc-3', 'sc-1', 'sc-2', 'sc-4']);
        expect(idsOf(await store.find('subclouds', {}, { sort: { cpu: -1 } }))).toEqual(['sc-4', 'sc-2', 'sc-1', 'sc-3', 'sc-5']);
        expect(idsOf(await store.find('subclouds', {}, { sort: { name: 1 } }))).toEqual(['sc-3', 'sc-1', 'sc-2', 'sc-4', 'sc-5']); // 'C' < 'e'
        expect(idsOf(await store.find('subclouds', {}, { sort: { region: 1, _id: 1 } }))).toEqual([
          'sc-5',
          'sc-4',
          'sc-1',
          'sc-3',
          'sc-2',
        ]);
        expect(idsOf(await store.find('subclouds', {}, { sort: { region: -1, _id: 1 } }))).toEqual([
          'sc-2',
          'sc-1',
          'sc-3',
          'sc-4',
          'sc-5',
        ]);
        expect(idsOf(await store.find('subclouds', {}, { sort: { 'location.rack': 1, _id: -1 } }))).toEqual([
          'sc-5',
          'sc-3',
          'sc-2',
          'sc-1',
          'sc-4',
        ]);
      });

      it('sorts on several keys in key order, each in its own direction', async () => {
        expect(idsOf(await store.find('subclouds', {}, { sort: { online: -1, cpu: 1 } }))).toEqual([
          'sc-3',
          'sc-1',
          'sc-4',
          'sc-5',
          'sc-2',
        ]);
        expect(idsOf(await store.find('subclouds', {}, { sort: { online: 1, cpu: -1 } }))).toEqual([
          'sc-2',
          'sc-5',
          'sc-4',
          'sc-1',
          'sc-3',
        ]);
      });

      it('orders mixed types as MongoDB does: null/missing < numbers < strings < booleans < dates', async () => {
        await store.bulkWrite([
          upsert('mixed', { _id: 'm-date', v: new Date('2026-01-01T00:00:00Z') }),
          upsert('mixed', { _id: 'm-true', v: true }),
          upsert('mixed', { _id: 'm-str', v: 'abc' }),
          upsert('mixed', { _id: 'm-num', v: 10 }),
          upsert('mixed', { _id: 'm-null', v: null }),
          upsert('mixed', { _id: 'm-neg', v: -1.5 }),
          upsert('mixed', { _id: 'm-false', v: false }),
          upsert('mixed', { _id: 'm-missing' }),
          upsert('mixed', { _id: 'm-str0', v: '' }),
        ]);
        const asc = idsOf(await store.find('mixed', {}, { sort: { v: 1, _id: 1 } }));
        expect(asc).toEqual(['m-missing', 'm-null', 'm-neg', 'm-num', 'm-str0', 'm-str', 'm-false', 'm-true', 'm-date']);
        const desc = idsOf(await store.find('mixed', {}, { sort: { v: -1, _id: 1 } }));
        expect(desc).toEqual(['m-date', 'm-true', 'm-false', 'm-str', 'm-str0', 'm-num', 'm-neg', 'm-missing', 'm-null']);
      });

      it('skip and limit apply after the sort; limit 0 means no limit', async () => {
        const byCpu = (o: { skip?: number; limit?: number }) => store.find('subclouds', {}, { sort: { cpu: 1 }, ...o });
        expect(idsOf(await byCpu({ limit: 2 }))).toEqual(['sc-5', 'sc-3']);
        expect(idsOf(await byCpu({ skip: 2 }))).toEqual(['sc-1', 'sc-2', 'sc-4']);
        expect(idsOf(await byCpu({ skip: 1, limit: 2 }))).toEqual(['sc-3', 'sc-1']);
        expect(idsOf(await byCpu({ skip: 4, limit: 10 }))).toEqual(['sc-4']);
        expect(idsOf(await byCpu({ skip: 5 }))).toEqual([]);
        expect(idsOf(await byCpu({ limit: 0 }))).toHaveLength(5);
        expect(
          idsOf(await store.find('subclouds', { online: true }, { sort: { cpu: -1 }, skip: 1, limit: 1 })),
        ).toEqual(['sc-1']);
      });
    });

    describe('checkpoints', () => {
      it('stores a checkpoint per projection name with the writes of bulkWrite', async () => {
        expect(await store.getCheckpoint('groups')).toBeNull();
        await store.bulkWrite([upsert('groups', { _id: 'g1' })], { name: 'groups', position: positionToString(7n) });
        // visible together with the writes it covers
        expect(await store.get('groups', 'g1')).toEqual({ _id: 'g1' });
        expect(await store.getCheckpoint('groups')).toBe('00000000000000000007');
        expect(await store.getCheckpoint('subclouds')).toBeNull();

        await store.bulkWrite([upsert('subclouds', { _id: 's1' })], { name: 'subclouds', position: positionToString(3n) });
        await store.bulkWrite([], { name: 'groups', position: positionToString(12n) }); // progress with nothing to write
        expect(await store.getCheckpoint('groups')).toBe(positionToString(12n));
        expect(await store.getCheckpoint('subclouds')).toBe(positionToString(3n));
        await store.bulkWrite([upsert('groups', { _id: 'g2' })]); // no checkpoint given: unchanged
        expect(await store.getCheckpoint('groups')).toBe(positionToString(12n));
      });

      it('keeps positions as 20-digit zero-padded strings: exact, numerically ordered, no BigInt in documents', async () => {
        const values = [0n, 1n, 9n, 10n, 4_294_967_296n, 9_007_199_254_740_993n, 2n ** 63n, 2n ** 64n - 1n];
        for (const v of values) {
          const s = positionToString(v);
          expect(s).toMatch(/^\d{20}$/);
          expect(positionFromString(s)).toBe(v);
        }
        await store.bulkWrite([], { name: 'p', position: positionToString(2n ** 64n - 1n) });
        const stored = await store.getCheckpoint('p');
        expect(typeof stored).toBe('string');
        expect(positionFromString(stored!)).toBe(2n ** 64n - 1n);

        // documents carrying positions as strings filter and sort in numeric order
        const shuffled = [values[5]!, values[0]!, values[7]!, values[2]!, values[6]!, values[1]!, values[4]!, values[3]!];
        await store.bulkWrite(shuffled.map((v, i) => upsert('events', { _id: `e${i}`, position: positionToString(v) })));
        const sorted = await store.find<Doc & { position: string }>('events', {}, { sort: { position: 1 } });
        expect(sorted.map((d) => positionFromString(d.position))).toEqual(values);
        const after = await store.find<Doc & { position: string }>(
          'events',
          { position: { $gt: positionToString(9n) } },
          { sort: { position: -1 } },
        );
        expect(after.map((d) => positionFromString(d.position))).toEqual(values.slice(3).reverse());
        for (const d of sorted) expect(Object.values(d).some((v) => typeof v === 'bigint')).toBe(false);
      });

      it('reset empties the named collections and forgets that checkpoint only', async () => {
        await store.bulkWrite(
          [upsert('groups', { _id: 'g1' }), upsert('groups', { _id: 'g2' }), upsert('members', { _id: 'm1' }), upsert('other', { _id: 'o1' })],
          { name: 'groups', position: positionToString(5n) },
        );
        await store.bulkWrite([], { name: 'other', position: positionToString(9n) });
        await store.reset(['groups', 'members'], 'groups');
        expect(await store.count('groups')).toBe(0);
        expect(await store.find('members')).toEqual([]);
        expect(await store.get('groups', 'g1')).toBeNull();
        expect(await store.getCheckpoint('groups')).toBeNull();
        expect(await store.get('other', 'o1')).toEqual({ _id: 'o1' });
        expect(await store.getCheckpoint('other')).toBe(positionToString(9n));
        // a rebuild writes again from scratch
        await store.bulkWrite([upsert('groups', { _id: 'g3' })], { name: 'groups', position: positionToString(1n) });
        expect(idsOf(await store.find('groups'))).toEqual(['g3']);
        expect(await store.getCheckpoint('groups')).toBe(positionToString(1n));
        await store.reset([], 'never-set'); // nothing to reset is fine
      });
    });

    describe('lifecycle', () => {
      it('ensureIndexes accepts index specs and may be called again', async () => {
        const specs: IndexSpec[] = [
          { collection: 'subclouds', keys: { name: 1 }, unique: true },
          { collection: 'subclouds', keys: { region: 1, cpu: -1 } },
        ];
        await store.ensureIndexes(specs);
        await store.ensureIndexes(specs);
        await seedFleet();
        expect(await store.count('subclouds')).toBe(5);
      });
    });
  });
}
