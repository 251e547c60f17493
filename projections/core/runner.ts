// Runs projections: subscribes to $all from the lowest checkpoint, and for each chunk of events loads the
// documents they touch, applies the pure projection functions, writes them in bulk with the checkpoint.
// Writers wait on `waitFor(position)` for read-your-writes.
import { BehaviorSubject, filter, firstValueFrom, map, race, timer } from 'rxjs';
import {
  positionFromString,
  positionToString,
  type EventStore,
  type RecordedEvent,
  type Subscription,
} from '../../adapters/eventstore/port.js';
import type { Doc, ReadStore, WriteOp } from '../../adapters/readstore/port.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { POSITION_FIELD, positionText, type AnyProjection, type ProjectedEvent } from './projection.js';

export { POSITION_FIELD };

/**
 * A copy of `doc` with its _id and _position set. Object.assign onto a fresh literal, because V8 runs a spread
 * followed by more keys several times slower (it was the runner's largest own cost in a replay, which writes one
 * document per event); a spread only for a document with an own "__proto__" key, which Object.assign would turn
 * into a prototype.
 */
function withPosition(doc: Doc, id: string, position: string): Doc {
  if (Object.hasOwn(doc, '__proto__')) return { ...doc, _id: id, [POSITION_FIELD]: position };
  const copy: Doc = Object.assign({}, doc);
  copy._id = id;
  copy[POSITION_FIELD] = position;
  return copy;
}

export interface RunnerOptions {
  eventStore: EventStore;
  readStore: ReadStore;
  projections: AnyProjection[];
  upcasters: UpcasterRegistry;
  batchSize?: number;
  onError?(error: unknown): void;
}

export interface RebuildProgress {
  processed: bigint;
  head: bigint;
  events: number;
}

export function projectionRunner(o: RunnerOptions) {
  const batchSize = o.batchSize ?? 1000;
  const checkpoints = new Map<string, bigint>();
  /** Position up to which every projection has applied every event. */
  const reached = new BehaviorSubject<bigint>(0n);
  let subscription: Subscription | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const upcast = (r: RecordedEvent): ProjectedEvent => {
    const e = o.upcasters.upcast(r.type, r.metadata.schemaVersion, r.data);
    // An event already in its newest shape is projected as recorded, without a copy.
    return e.type === r.type && e.data === r.data ? r : { ...r, type: e.type, data: e.data };
  };

  /** Applies one chunk (in position order) to every projection that has not yet seen it. */
  async function applyChunk(recorded: RecordedEvent[]) {
    if (recorded.length === 0) return;
    const events = recorded.map(upcast);
    const last = events[events.length - 1]!.position;
    for (const p of o.projections) {
      const from = checkpoints.get(p.name) ?? 0n;
      if (last <= from) continue;
      await applyToProjection(p, events, from, last);
      checkpoints.set(p.name, last);
    }
    if (last > reached.value) reached.next(last);
  }

  async function applyToProjection(p: AnyProjection, events: ProjectedEvent[], from: bigint, last: bigint) {
    // The ids each event touches (null: none, or applied before), and every id once, to load them in one call.
    const touched: (string[] | null)[] = new Array<string[] | null>(events.length);
    const wanted = new Set<string>();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const ids = event.position <= from ? null : p.documentIds(event);
      touched[i] = ids !== null && ids.length > 0 ? ids : null;
      if (ids !== null) for (const id of ids) wanted.add(id);
    }
    const ops: WriteOp[] = [];
    if (wanted.size > 0) {
      const stored = await o.readStore.getMany<Doc>(p.collection, [...wanted]);
      /** Per id: the document after this chunk's events so far (null: deleted), and its last event's position. */
      const docs = new Map<string, Doc | null>();
      const applied = new Map<string, string>();
      for (let i = 0; i < events.length; i++) {
        const ids = touched[i];
        if (!ids) continue;
        const event = events[i]!;
        for (const id of ids) {
          let before = docs.get(id);
          if (before === undefined && !docs.has(id)) {
            before = stored.get(id);
            const guard = before?.[POSITION_FIELD];
            // A document written by a batch whose checkpoint was lost already holds this event.
            if (typeof guard === 'string' && positionFromString(guard) >= event.position) continue;
          }
          docs.set(id, p.evolve(before ?? undefined, event, id));
          // Right after evolve: the same string as a position the projection stored from this event (positionText).
          applied.set(id, positionText(event.position));
        }
      }
      for (const [id, doc] of docs) {
        if (doc === null) {
          if (stored.has(id)) ops.push({ kind: 'delete', collection: p.collection, id });
        } else {
          const position = applied.get(id)!;
          // A projection may return its document with both fields already set (the audit log's, one per event): no copy.
          const ready = doc._id === id && doc[POSITION_FIELD] === position;
          ops.push({ kind: 'upsert', collection: p.collection, doc: ready ? doc : withPosition(doc, id, position) });
        }
      }
    }
    await o.readStore.bulkWrite(ops, { name: p.name, position: positionToString(last) });
  }

  async function loadCheckpoints() {
    for (const p of o.projections) {
      const c = await o.readStore.getCheckpoint(p.name);
      checkpoints.set(p.name, c === null ? 0n : positionFromString(c));
    }
    const lowest = o.projections.reduce((m, p) => (checkpoints.get(p.name)! < m ? checkpoints.get(p.name)! : m), -1n);
    return lowest < 0n ? 0n : lowest;
  }

  async function ensureIndexes() {
    await o.readStore.ensureIndexes(
      o.projections.flatMap((p) => (p.indexes ?? []).map((i) => ({ ...i, collection: p.collection }))),
    );
  }

  /** Subscribes and keeps applying; resubscribes from the checkpoint after an error. */
  async function run(from: bigint) {
    let position = from;
    let backoff = 100;
    while (!stopped) {
      subscription = o.eventStore.subscribeToAll({ from: position === 0n ? 'start' : position, maxBatch: batchSize });
      try {
        for await (const chunk of subscription) {
          await applyChunk(chunk);
          position = chunk[chunk.length - 1]!.position;
          backoff = 100;
          if (stopped) break;
        }
      } catch (error) {
        o.onError?.(error);
      }
      if (stopped) break;
      // The subscription ended or failed: resubscribe from the last applied position, backing off.
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, 5_000);
    }
  }

  return {
    /** Starts applying events from the stored checkpoints; resolves once caught up with the store's head at start. */
    async start(): Promise<void> {
      await ensureIndexes();
      const from = await loadCheckpoints();
      reached.next(from);
      const head = await o.eventStore.headPosition();
      running = run(from);
      await firstValueFrom(reached.pipe(filter((p) => p >= head)));
    },

    /** True once every projection has applied the event at `position`; false if that took longer than the timeout. */
    waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
      if (reached.value >= position) return Promise.resolve(true);
      return firstValueFrom(
        race(
          reached.pipe(
            filter((p) => p >= position),
            map(() => true),
          ),
          timer(timeoutMs).pipe(map(() => false)),
        ),
      );
    },

    position: () => reached.value,

    /**
     * Empties the read models and replays every event into them (the runner must not be started).
     * Reads in pages; reports progress after each one.
     */
    async rebuild(onProgress?: (p: RebuildProgress) => void): Promise<RebuildProgress> {
      await ensureIndexes();
      for (const p of o.projections) {
        await o.readStore.reset([p.collection], p.name);
        checkpoints.set(p.name, 0n);
      }
      const head = await o.eventStore.headPosition();
      let after = 0n;
      let count = 0;
      for (;;) {
        const page = await o.eventStore.readAll({ after, maxCount: batchSize });
        if (page.length === 0) break;
        await applyChunk(page);
        after = page[page.length - 1]!.position;
        count += page.length;
        onProgress?.({ processed: after, head, events: count });
      }
      return { processed: after, head, events: count };
    },

    async stop() {
      stopped = true;
      subscription?.close();
      await running;
    },
  };
}

export type ProjectionRunner = ReturnType<typeof projectionRunner>;
