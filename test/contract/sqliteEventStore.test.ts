// The SQLite event store: the shared contract on a real file, plus what only this adapter promises
// (group commit, durability across a reopen, refusing work once closed).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  StoreUnavailableError,
  WrongExpectedVersionError,
  type EventStore,
  type EventToAppend,
} from '../../adapters/eventstore/port.js';
import { sqliteEventStore } from '../../adapters/eventstore/sqlite.js';
import { eventStoreContract } from './eventStore.contract.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'fleetledger-contract-'));

eventStoreContract('sqlite (file, WAL)', async () => {
  const dir = tempDir();
  const store = sqliteEventStore({ file: join(dir, 'events.sqlite') });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const ev = (type = 'Counted', data: unknown = {}): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: {
    correlationId: 'corr-1',
    causationId: null,
    actor: { kind: 'system', name: 'test' },
    occurredAt: '2026-03-01T10:00:00.000Z',
    schemaVersion: 1,
  },
});

/**
 * Committed transactions currently in the database's write-ahead log, counted from the file itself: each commit ends
 * with a frame whose "database size after commit" field is non-zero, and only frames carrying the WAL header's salts
 * belong to the current log (https://www.sqlite.org/fileformat2.html#walformat). No hook into the adapter is needed.
 */
function walCommits(dbFile: string): number {
  const wal = `${dbFile}-wal`;
  if (!existsSync(wal)) return 0;
  const buf = readFileSync(wal);
  if (buf.length < 32) return 0;
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  let commits = 0;
  for (let off = 32; off + 24 + pageSize <= buf.length; off += 24 + pageSize) {
    if (buf.readUInt32BE(off + 8) !== salt1 || buf.readUInt32BE(off + 12) !== salt2) break;
    if (buf.readUInt32BE(off + 4) !== 0) commits += 1;
  }
  return commits;
}

describe('sqlite event store: group commit', () => {
  let dir: string;
  let file: string;
  let store: EventStore;
  beforeEach(() => {
    dir = tempDir();
    file = join(dir, 'events.sqlite');
    store = sqliteEventStore({ file });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts commits faithfully: appends awaited one by one are one transaction each', async () => {
    await store.appendToStream('warm-up', [ev()]);
    const before = walCommits(file);
    expect(before).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) await store.appendToStream(`s-${i}`, [ev()]);
    expect(walCommits(file) - before).toBe(5);
  });

  it('commits 64 concurrent single-event appends to different streams in a handful of transactions', async () => {
    await store.appendToStream('warm-up', [ev()]);
    const before = walCommits(file);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => store.appendToStream(`g-${i}`, [ev()], { expectedRevision: 'no_stream' })),
    );
    const commits = walCommits(file) - before;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(4);
    expect(results.every((r) => r.nextExpectedRevision === 0n)).toBe(true);
    expect(new Set(results.map((r) => r.position)).size).toBe(64);
    expect(await store.readAll()).toHaveLength(65);
  });

  it('a conflict inside a group fails only its own append; the other 63 are committed', async () => {
    await store.appendToStream('victim', [ev()]); // at 0n
    const before = walCommits(file);
    const bad = ev('Bad');
    const attempts = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        (i === 31
          ? store.appendToStream('victim', [bad, ev('Bad')], { expectedRevision: 5n })
          : store.appendToStream(`ok-${i}`, [ev()], { expectedRevision: 'no_stream' })
        ).then(
          (r) => ({ ok: true as const, r }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      ),
    );
    const commits = walCommits(file) - before;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(4);

    const failed = attempts[31]!;
    expect(failed.ok).toBe(false);
    expect(!failed.ok && failed.error).toBeInstanceOf(WrongExpectedVersionError);
    expect(attempts.filter((a) => a.ok)).toHaveLength(63);
    const all = await store.readAll();
    expect(all).toHaveLength(64);
    expect(all.some((e) => e.id === bad.id)).toBe(false);
    expect(await store.readStream('victim')).toHaveLength(1);
  });

  it('an id conflict inside a group fails only its own append', async () => {
    const taken = ev();
    await store.appendToStream('owner', [taken]);
    const attempts = await Promise.all([
      store.appendToStream('a', [ev()]).then(() => 'ok'),
      store.appendToStream('thief', [ev(), taken]).then(
        () => 'ok',
        (e: unknown) => (e as Error).constructor.name,
      ),
      store.appendToStream('b', [ev()]).then(() => 'ok'),
    ]);
    expect(attempts).toEqual(['ok', 'EventIdConflictError', 'ok']);
    expect(await store.readStream('thief')).toEqual([]);
    expect(await store.readAll()).toHaveLength(3);
  });

  it('appends in one group see each other in the order they were issued', async () => {
    const [first, second, third] = await Promise.all([
      store.appendToStream('chain', [ev()], { expectedRevision: 'no_stream' }),
      store.appendToStream('chain', [ev(), ev()], { expectedRevision: 0n }),
      store.appendToStream('chain', [ev()], { expectedRevision: 2n }),
    ]);
    expect([first.nextExpectedRevision, second.nextExpectedRevision, third.nextExpectedRevision]).toEqual([0n, 2n, 3n]);
    expect(first.position < second.position && second.position < third.position).toBe(true);
  });

  it('a group larger than maxGroupSize is split, and every append still lands', async () => {
    const small = sqliteEventStore({ file: join(dir, 'small.sqlite'), maxGroupSize: 8 });
    try {
      const before = walCommits(join(dir, 'small.sqlite'));
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => small.appendToStream(`m-${i}`, [ev()])));
      expect(new Set(results.map((r) => r.position)).size).toBe(40);
      expect(walCommits(join(dir, 'small.sqlite')) - before).toBeGreaterThanOrEqual(5);
      expect(await small.readAll()).toHaveLength(40);
    } finally {
      await small.close();
    }
  });
});

describe('sqlite event store: durability and lifecycle', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('everything appended is there after close and reopen of the same file, and the log continues', async () => {
    const file = join(dir, 'nested', 'events.sqlite');
    const first = sqliteEventStore({ file });
    const batch = [ev('A', { n: 1, s: 'é' }), ev('B', { list: [1, 2] })];
    const appended = await first.appendToStream('s', batch, { expectedRevision: 'no_stream' });
    await Promise.all(Array.from({ length: 10 }, (_, i) => first.appendToStream(`p-${i}`, [ev()])));
    const before = await first.readAll();
    const head = await first.headPosition();
    await first.close();

    const reopened = sqliteEventStore({ file });
    try {
      expect(await reopened.readAll()).toEqual(before);
      expect(await reopened.headPosition()).toBe(head);
      expect(await reopened.readStream('s')).toEqual(before.filter((e) => e.streamId === 's'));
      // idempotency and expected revisions survive the reopen
      expect(await reopened.appendToStream('s', batch, { expectedRevision: 'no_stream' })).toEqual(appended);
      const next = await reopened.appendToStream('s', [ev()], { expectedRevision: 1n });
      expect(next.nextExpectedRevision).toBe(2n);
      expect(next.position > head).toBe(true);
      // a subscription from the old head sees only the new event
      const sub = reopened.subscribeToAll({ from: head });
      try {
        const it = sub[Symbol.asyncIterator]();
        const chunk = await it.next();
        expect(chunk.done).toBe(false);
        expect(chunk.value!.map((e: { position: bigint }) => e.position)).toEqual([next.position]);
      } finally {
        sub.close();
      }
    } finally {
      await reopened.close();
    }
  });

  it('close waits for queued appends to commit, then refuses new ones with StoreUnavailableError', async () => {
    const file = join(dir, 'events.sqlite');
    const store = sqliteEventStore({ file });
    const pending = Promise.all(Array.from({ length: 5 }, (_, i) => store.appendToStream(`c-${i}`, [ev()])));
    await store.close();
    expect(await pending).toHaveLength(5);
    await expect(store.appendToStream('late', [ev()])).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close(); // idempotent

    const reopened = sqliteEventStore({ file });
    expect(await reopened.readAll()).toHaveLength(5);
    await reopened.close();
  });

  it('close drains every queued append, even more than one group holds', async () => {
    const file = join(dir, 'events.sqlite');
    const store = sqliteEventStore({ file, maxGroupSize: 4 });
    const pending = Promise.allSettled(Array.from({ length: 18 }, (_, i) => store.appendToStream(`d-${i}`, [ev()])));
    await store.close();
    const outcomes = await pending;
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    const reopened = sqliteEventStore({ file });
    expect(await reopened.readAll()).toHaveLength(18);
    await reopened.close();
  });
});
