// Replay: every event of a SQLite file into the in-memory read models from zero, through the real projection
// runner (read pages from SQLite, upcast, project, bulk-write with checkpoints) and the site's real projections.
// The events are generated first (not timed) as a site records them: group adds with their id allocation and name
// reservation, runs of updates, renames (reserve new name, update, release old one) and deletes, from users,
// workflows and the system, interleaved across many groups.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Actor, EventMetadata, EventStore, EventToAppend } from '../adapters/eventstore/port.js';
import { sqliteEventStore } from '../adapters/eventstore/sqlite.js';
import { groupEvent, groupStream, readAllPages, rebuildReadModels, seconds, type RebuildResults } from './lib.js';
import { seededRandom } from '../simulator/random.js';

/** `rebuild` (RebuildResults) is the measured figure; its readSeconds is SQLite read + row decoding. */
export interface ReplayResults extends RebuildResults {
  events: number;
  streams: number;
  groups: { started: number; deleted: number; renamed: number };
  generate: { seconds: number; eventsPerSecond: number; fileMB: number };
  /** Reading every event from SQLite in the runner's page size (decode only), for context. */
  readOnly: { seconds: number; eventsPerSecond: number };
}

/** Deterministic pseudo-random numbers, so every run generates the same history. */
const prng = seededRandom;

const ADMIN: Actor = { kind: 'user', name: 'admin', roles: ['admin'] };
const OPERATOR: Actor = { kind: 'user', name: 'operator', roles: ['admin'] };
const ORCHESTRATOR: Actor = { kind: 'workflow', name: 'orchestrator' };
const SYSTEM: Actor = { kind: 'system', name: 'fleetledger' };

const BASE_TIME = Date.parse('2026-03-01T10:00:00.000Z');

interface Append {
  streamId: string;
  events: EventToAppend[];
}

/** One API request (or workflow step): the appends it makes, sharing its correlation and causation ids. */
type RecordedRequest = Append[];

/**
 * Event ids in the UUID version 7 layout (time-ordered, as many clients make them): the store's unique index on
 * event ids then grows at its end, which keeps generating a million events quick. The replay never reads that index.
 */
let idCounter = 0;
function eventId(): string {
  const time = (BASE_TIME + idCounter++).toString(16).padStart(12, '0');
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}

const reservationStream = (name: string) => `reservation-subcloudGroupName:${encodeURIComponent(name)}`;
const SEQUENCE_STREAM = 'sequence-subcloudGroup';

/**
 * The requests that make up one group's life: add (id allocation, name reservation, SubcloudGroupAdded), 9 to 49
 * updates, sometimes a rename, sometimes a delete with its name release. Each step yields the next request.
 */
function* groupLife(index: number, random: () => number, clock: () => number, counts: ReplayResults['groups']) {
  const id = index + 2;
  const stream = groupStream(index);
  let name = `group-${id}`;
  const updates = 9 + Math.floor(random() * 41);
  const renameAt = random() < 0.1 ? 1 + Math.floor(random() * updates) : -1;
  const deleted = random() < 0.1;
  let revision = 0;

  const metadata = (): (() => EventMetadata) => {
    const r = random();
    const actor = r < 0.8 ? ADMIN : r < 0.9 ? OPERATOR : r < 0.98 ? ORCHESTRATOR : SYSTEM;
    const requestId = `req-${randomUUID()}`;
    const idempotency = actor.kind === 'user' && random() < 0.1 ? { key: randomUUID(), requestHash: randomUUID() } : undefined;
    const causationId = actor.kind === 'workflow' ? randomUUID() : requestId;
    return () => ({
      correlationId: requestId,
      causationId,
      actor,
      occurredAt: new Date(BASE_TIME + clock()).toISOString(),
      schemaVersion: 1,
      ...(idempotency ? { idempotency } : {}),
    });
  };
  const event = (type: string, data: Record<string, unknown>, meta: () => EventMetadata): EventToAppend => {
    const m = meta();
    return { id: eventId(), type, data: { ...data, at: m.occurredAt }, metadata: m };
  };
  const groupUpdate = (meta: () => EventMetadata): EventToAppend => {
    const m = meta();
    return { ...groupEvent(index, revision++, Date.parse(m.occurredAt) - BASE_TIME), id: eventId(), metadata: m };
  };

  counts.started += 1;
  {
    const meta = metadata();
    yield [
      { streamId: SEQUENCE_STREAM, events: [{ ...event('IdAllocated', {}, meta), data: { value: id } }] },
      { streamId: reservationStream(name), events: [event('ValueReserved', { holder: String(id) }, meta)] },
      { streamId: stream, events: [groupUpdate(meta)] },
    ] satisfies RecordedRequest;
  }
  for (let u = 1; u <= updates; ) {
    if (u === renameAt) {
      const meta = metadata();
      const next = `${name}-renamed`;
      yield [
        { streamId: reservationStream(next), events: [event('ValueReserved', { holder: String(id) }, meta)] },
        { streamId: stream, events: [event('SubcloudGroupUpdated', { name: next }, meta)] },
        { streamId: reservationStream(name), events: [event('ValueReleased', { holder: String(id) }, meta)] },
      ] satisfies RecordedRequest;
      revision += 1;
      name = next;
      counts.renamed += 1;
      u += 1;
      continue;
    }
    // A burst of edits recorded before the next group gets its turn: 1 to 8 requests, one event each.
    const burst = Math.min(1 + Math.floor(random() * 8), updates - u + 1, renameAt > u ? renameAt - u : Infinity);
    const events = Array.from({ length: burst }, () => groupUpdate(metadata()));
    yield [{ streamId: stream, events }] satisfies RecordedRequest;
    u += burst;
  }
  if (deleted) {
    const meta = metadata();
    yield [
      { streamId: stream, events: [event('SubcloudGroupDeleted', {}, meta)] },
      { streamId: reservationStream(name), events: [event('ValueReleased', { holder: String(id) }, meta)] },
    ] satisfies RecordedRequest;
    counts.deleted += 1;
  }
}

/**
 * Appends `total` events to `store`, interleaving the lives of `concurrency` groups; returns the number of streams.
 * The same history for every store (bench/esdb.ts replays it from EventStoreDB).
 */
export async function generate(store: EventStore, total: number, counts: ReplayResults['groups']): Promise<number> {
  const random = prng(24_03);
  let ms = 0;
  const clock = () => (ms += 1 + Math.floor(random() * 50));
  const concurrency = 2_000;
  const active: Generator<RecordedRequest>[] = [];
  const streams = new Set<string>();
  let nextIndex = 0;
  let emitted = 0;
  while (emitted < total) {
    while (active.length < concurrency) active.push(groupLife(nextIndex++, random, clock, counts));
    const round: Promise<unknown>[] = [];
    for (let i = 0; i < active.length && emitted < total; i++) {
      const step = active[i]!.next();
      if (step.done) {
        active.splice(i--, 1);
        continue;
      }
      for (const append of step.value) {
        const events = append.events.slice(0, total - emitted);
        if (events.length === 0) break;
        emitted += events.length;
        streams.add(append.streamId);
        // 'any': the generator is the only writer; the group commit keeps the order the appends were made in.
        round.push(store.appendToStream(append.streamId, events, { expectedRevision: 'any' }));
      }
    }
    await Promise.all(round);
  }
  return streams.size;
}

/** Writes a realistic history of `events` events into a new SQLite event store file (not timed by the bench). */
export async function generateHistory(file: string, events: number) {
  const groups = { started: 0, deleted: 0, renamed: 0 };
  const started = performance.now();
  const writer = sqliteEventStore({ file });
  let streams: number;
  try {
    streams = await generate(writer, events, groups);
  } finally {
    await writer.close();
  }
  const elapsed = seconds(started);
  return {
    streams,
    groups,
    generate: { seconds: elapsed, eventsPerSecond: events / elapsed, fileMB: (statSync(file).size + walSize(file)) / 1e6 },
  };
}

/** Reads, then rebuilds the read models from, an event store file holding `events` events. */
export async function replayFile(file: string, events: number, say: (line: string) => void = () => undefined) {
  // A fresh start on the file, as `npm run cli -- rebuild` would make.
  const store = sqliteEventStore({ file });
  try {
    say('reading all events (decode only)');
    const started = performance.now();
    const read = await readAllPages(store);
    const readOnlySeconds = seconds(started);
    if (read !== events) throw new Error(`read ${read} events, expected ${events}`);

    say('rebuilding the read models');
    const rebuilt = await rebuildReadModels(store, events);
    return { readOnly: { seconds: readOnlySeconds, eventsPerSecond: events / readOnlySeconds }, ...rebuilt };
  } finally {
    await store.close();
  }
}

export async function benchReplay(o: { events: number; onProgress?: (line: string) => void }): Promise<ReplayResults> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetledger-bench-replay-'));
  const file = join(dir, 'events.sqlite');
  const say = o.onProgress ?? (() => undefined);
  try {
    say(`generating ${o.events.toLocaleString('en')} events`);
    const generated = await generateHistory(file, o.events);
    const replayed = await replayFile(file, o.events, say);
    return { events: o.events, ...generated, ...replayed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function walSize(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}
