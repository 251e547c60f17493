// A catch-up subscription to $all over EventStoreDB that survives the server: events are taken strictly in order with
// `for await` (never `on('data', async ...)`, which would run handlers concurrently), queued in bounded chunks for the
// consumer, and when the server drops the subscription (unavailable, cancelled, "consumer too slow") it resubscribes
// after the last event it received, backing off, until closed.
import { excludeSystemEvents, START, type EventStoreDBClient, type AllStreamResolvedEvent } from '@eventstore/db-client';
import type { RecordedEvent, SubscribeOptions, Subscription } from '../port.js';
import { isResubscribable } from './errors.js';
import { toRecordedEvent, isSystemEvent } from './events.js';

export interface ResubscribePolicy {
  /** First wait before resubscribing; multiplied by `factor` per failure in a row, up to `maxDelayMs`. */
  minDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** Told about every drop that is retried (for logs). */
  onDrop?(error: unknown, attempt: number): void;
}

export const DEFAULT_RESUBSCRIBE: ResubscribePolicy = { minDelayMs: 100, factor: 1.5, maxDelayMs: 5_000 };

export function subscribeToAllResilient(
  client: EventStoreDBClient,
  options: SubscribeOptions,
  policy: ResubscribePolicy = DEFAULT_RESUBSCRIBE,
): Subscription {
  const maxBatch = Math.max(1, options.maxBatch ?? 500);
  // Received but not yet handed out. The pump stops reading when this holds maxBatch events (backpressure reaches
  // the server through the client's stream and gRPC flow control).
  const queue: RecordedEvent[] = [];
  let failure: unknown;
  let closed = false;
  let wakeConsumer: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  /** Ends a back-off wait early: only close() does, a consumer taking a chunk must not shorten it. */
  let endBackoff: (() => void) | undefined;
  let current: { unsubscribe(): Promise<void> } | undefined;
  let last: bigint | undefined = options.from === 'start' ? undefined : options.from;

  const signalConsumer = () => {
    const w = wakeConsumer;
    wakeConsumer = undefined;
    w?.();
  };

  async function pump() {
    let attempt = 0;
    while (!closed) {
      const from = last;
      const sub = client.subscribeToAll({
        fromPosition: from === undefined ? START : { commit: from, prepare: from },
        filter: excludeSystemEvents(),
      });
      current = sub;
      try {
        for await (const resolved of sub as AsyncIterable<AllStreamResolvedEvent>) {
          if (closed) break;
          const e = resolved.event;
          if (!e || isSystemEvent(e.streamId, e.type)) continue;
          const recorded = toRecordedEvent(e, resolved.commitPosition);
          // The server starts after `from` (exclusive), but be strict about it: never hand out an event twice.
          if (last !== undefined && recorded.position <= last) continue;
          last = recorded.position;
          queue.push(recorded);
          attempt = 0;
          signalConsumer();
          while (queue.length >= maxBatch && !closed) await new Promise<void>((r) => (wakePump = r));
        }
        if (closed) return;
        // The stream ended without an error: the server closed it. Treat it like a drop.
        throw new Error('14 UNAVAILABLE: subscription ended by the server');
      } catch (error) {
        if (closed) return;
        if (!isResubscribable(error)) {
          failure = error;
          signalConsumer();
          return;
        }
        attempt += 1;
        policy.onDrop?.(error, attempt);
        const delay = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** (attempt - 1));
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          t.unref();
          endBackoff = () => {
            clearTimeout(t);
            r();
          };
        });
      } finally {
        void sub.unsubscribe().catch(() => undefined);
      }
    }
  }

  let pumping: Promise<void> | undefined;

  function close() {
    if (closed) return;
    closed = true;
    void current?.unsubscribe().catch(() => undefined);
    const w = wakePump;
    wakePump = undefined;
    w?.();
    const b = endBackoff;
    endBackoff = undefined;
    b?.();
    signalConsumer();
  }

  async function* chunks(): AsyncGenerator<RecordedEvent[]> {
    pumping ??= pump();
    try {
      while (!closed) {
        if (queue.length > 0) {
          const chunk = queue.splice(0, maxBatch);
          const w = wakePump;
          wakePump = undefined;
          w?.();
          yield chunk;
          continue;
        }
        if (failure !== undefined) throw failure;
        await new Promise<void>((r) => (wakeConsumer = r));
      }
    } finally {
      close();
    }
  }

  const iterable = chunks();
  return {
    close,
    [Symbol.asyncIterator]: () => iterable,
  };
}
