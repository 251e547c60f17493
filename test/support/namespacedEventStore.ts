// A view of a shared event store (a real EventStoreDB that other runs also write to) as if it were fresh and empty:
// every stream id gets a unique prefix on the way in and loses it on the way out, and reads of $all, subscriptions
// and the head position see only this namespace. Lets the contract suite, which needs an empty store per test,
// run against a real server.
import type { EventStore, RecordedEvent, Subscription } from '../../adapters/eventstore/port.js';

export function namespacedEventStore(inner: EventStore, prefix: string): EventStore {
  const mine = (e: RecordedEvent) => e.streamId.startsWith(prefix);
  const strip = (e: RecordedEvent): RecordedEvent => ({ ...e, streamId: e.streamId.slice(prefix.length) });
  const wrapError = (error: unknown) => {
    const e = error as { streamId?: unknown };
    if (error && typeof e.streamId === 'string' && e.streamId.startsWith(prefix)) {
      Object.defineProperty(error, 'streamId', { value: e.streamId.slice(prefix.length) });
    }
    return error;
  };

  async function readAllMine(options: Parameters<EventStore['readAll']>[0] = {}): Promise<RecordedEvent[]> {
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    const backwards = options.direction === 'backwards';
    const out: RecordedEvent[] = [];
    let bound = backwards ? options.before : options.after;
    for (;;) {
      const page = await inner.readAll(
        backwards ? { direction: 'backwards', before: bound, maxCount: 500 } : { after: bound, maxCount: 500 },
      );
      for (const e of page) {
        if (mine(e)) out.push(strip(e));
        if (out.length >= wanted) return out;
      }
      if (page.length < 500) return out;
      bound = page[page.length - 1]!.position;
    }
  }

  return {
    appendToStream: (streamId, events, options) =>
      inner.appendToStream(prefix + streamId, events, options).catch((e: unknown) => {
        throw wrapError(e);
      }),
    readStream: async (streamId, options) => (await inner.readStream(prefix + streamId, options)).map(strip),
    readAll: readAllMine,
    subscribeToAll(options): Subscription {
      const sub = inner.subscribeToAll(options);
      async function* mineOnly() {
        for await (const chunk of sub) {
          const kept = chunk.filter(mine).map(strip);
          if (kept.length > 0) yield kept;
        }
      }
      const it = mineOnly();
      return { close: () => sub.close(), [Symbol.asyncIterator]: () => it };
    },
    async headPosition() {
      const [newest] = await readAllMine({ direction: 'backwards', maxCount: 1 });
      return newest?.position ?? 0n;
    },
    close: () => inner.close(),
  };
}
