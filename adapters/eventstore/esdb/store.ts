// The production event store: EventStoreDB through @eventstore/db-client 6.x (EVENT_STORE=esdb, ESDB_URL).
// Port semantics on top of the server's: a missing stream reads as empty, positions are the commit positions as
// bigints, system streams and events ($-prefixed) never reach the port, and "server unreachable" in any of its
// shapes becomes StoreUnavailableError (the API's 503). An append is atomic on the server, so a failed call wrote
// all of its events or none; a retry with the same event ids (Idempotency-Key) is safe either way.
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamNotFoundError,
  type ReadPosition,
} from '@eventstore/db-client';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
} from '../port.js';
import { toPortError } from './errors.js';
import { isSystemEvent, toEventData, toRecordedEvent } from './events.js';
import { DEFAULT_RESUBSCRIBE, subscribeToAllResilient, type ResubscribePolicy } from './subscription.js';

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false`, or several hosts / `esdb+discover://` for a cluster. */
  url: string;
  resubscribe?: Partial<ResubscribePolicy>;
}

/** Events per page when reading $all, where system events are skipped on our side (6.x's readAll has no filter). */
const ALL_PAGE = 1_000;
const MIN_PAGE = 64;
/** An append the client never settles (6.2.1 can lose a BatchAppend error without details) ends as unavailable. */
const APPEND_TIMEOUT_MS = 30_000;

/**
 * Reads a client read stream to its end, handing each item over. Leaving a `for await` over a 6.x read early (a
 * break or an exception) leaves its gRPC call open, and the client's dispose() then waits for it forever: on an
 * early exit the call is cancelled.
 */
async function consume<T>(read: AsyncIterable<T> & { cancel(): Promise<void> }, each: (item: T) => void): Promise<void> {
  let ended = false;
  try {
    for await (const item of read) each(item);
    ended = true;
  } finally {
    if (!ended) await read.cancel().catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`4 DEADLINE_EXCEEDED: ${what} not answered in ${ms} ms`), { code: 4 })), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function esdbEventStore(o: EsdbEventStoreOptions): EventStore & { readonly client: EventStoreDBClient } {
  const client = EventStoreDBClient.connectionString(o.url);
  const policy: ResubscribePolicy = { ...DEFAULT_RESUBSCRIBE, ...o.resubscribe };

  async function readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    if (options.maxCount === 0) return [];
    const out: RecordedEvent[] = [];
    try {
      const events = client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision ?? (backwards ? END : START),
        maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
      });
      await consume(events, (resolved) => {
        if (resolved.event) out.push(toRecordedEvent(resolved.event));
      });
      return out;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw toPortError(error, streamId, 'any', 'read');
    }
  }

  async function readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (wanted <= 0) return [];
    // Exclusive bound on both sides: forwards after `after`, backwards before `before`.
    let bound = backwards ? options.before : options.after;
    if (bound === 0n && !backwards) bound = undefined;
    const out: RecordedEvent[] = [];
    try {
      for (;;) {
        const fromPosition: ReadPosition =
          bound === undefined ? (backwards ? END : START) : { commit: bound, prepare: bound };
        // A forwards read from a position includes the event at it (our exclusive bound): ask for one more.
        const boundIncluded = bound !== undefined && !backwards ? 1 : 0;
        // Never tiny pages: a small maxCount (headPosition asks for 1) must not cost one call per system event.
        const remaining = Number.isFinite(wanted) ? wanted - out.length : ALL_PAGE;
        const pageSize = Math.min(ALL_PAGE, Math.max(remaining, MIN_PAGE)) + boundIncluded;
        let seen = 0;
        let lastSeen: bigint | undefined;
        const page = client.readAll({ direction: backwards ? BACKWARDS : FORWARDS, fromPosition, maxCount: pageSize });
        await consume(page, (resolved) => {
          seen += 1;
          const e = resolved.event;
          if (!e || out.length >= wanted) return;
          const recorded = toRecordedEvent(e, resolved.commitPosition);
          lastSeen = recorded.position;
          if (bound !== undefined && (backwards ? recorded.position >= bound : recorded.position <= bound)) return;
          if (isSystemEvent(e.streamId, e.type)) return;
          out.push(recorded);
        });
        if (out.length >= wanted || seen < pageSize || lastSeen === undefined || lastSeen === bound) return out;
        bound = lastSeen;
      }
    } catch (error) {
      throw toPortError(error, '$all', 'any', 'read');
    }
  }

  return {
    client,

    async appendToStream(
      streamId: string,
      events: EventToAppend[],
      options: { expectedRevision?: ExpectedRevision } = {},
    ): Promise<AppendResult> {
      const expectedRevision = options.expectedRevision ?? 'any';
      try {
        const result = await withTimeout(
          client.appendToStream(streamId, events.map(toEventData), { expectedRevision }),
          APPEND_TIMEOUT_MS,
          `append to ${streamId}`,
        );
        // Servers report the position of the append's last event; an idempotent repeat may come back without one.
        const position =
          result.position?.commit ??
          (await readStream(streamId, { direction: 'backwards', fromRevision: result.nextExpectedRevision, maxCount: 1 }))[0]
            ?.position ??
          -1n;
        return { nextExpectedRevision: result.nextExpectedRevision, position };
      } catch (error) {
        throw toPortError(error, streamId, expectedRevision, 'append');
      }
    },

    readStream,
    readAll,

    subscribeToAll: (options: SubscribeOptions) => subscribeToAllResilient(client, options, policy),

    async headPosition() {
      const [newest] = await readAll({ direction: 'backwards', maxCount: 1 });
      return newest?.position ?? 0n;
    },

    async close() {
      await client.dispose();
    },
  };
}
