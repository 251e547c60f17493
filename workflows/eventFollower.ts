// Following `$all` from a checkpoint kept in the read store, resubscribing with back-off when the subscription fails:
// what a workflow that reacts to events needs. The checkpoint moves past a chunk once `onChunk` took it (not when the
// work it started is done): a workflow resumes unfinished work from its own rule at start(), never by re-reading.
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent, Subscription } from '../adapters/eventstore/port.js';
import { positionFromString, positionToString } from '../adapters/eventstore/port.js';
import type { ReadStore } from '../adapters/readstore/port.js';

export interface EventFollowerOptions {
  eventStore: EventStore;
  readStore: ReadStore;
  /** The checkpoint's name in the read store, e.g. `workflow.peerGroupMigration`. */
  checkpoint: string;
  logger: Logger;
  onChunk: (chunk: RecordedEvent[]) => Promise<void> | void;
}

export type EventFollower = ReturnType<typeof eventFollower>;

export function eventFollower(o: EventFollowerOptions) {
  let stopping = false;
  let subscription: Subscription | undefined;
  let loop: Promise<void> | undefined;
  /** The last position taken, and who waits for it to reach a point (a workflow's settled()). */
  let position = 0n;
  let waiters: { at: bigint; resolve: () => void }[] = [];

  function passed(at: bigint) {
    position = at;
    const ready = waiters.filter((w) => w.at <= at);
    waiters = waiters.filter((w) => w.at > at);
    for (const w of ready) w.resolve();
  }

  const stored = async () => {
    const c = await o.readStore.getCheckpoint(o.checkpoint);
    return c === null ? 0n : positionFromString(c);
  };

  async function follow(from: bigint) {
    position = from;
    let backoff = 100;
    while (!stopping) {
      subscription = o.eventStore.subscribeToAll({ from: position === 0n ? 'start' : position });
      try {
        for await (const chunk of subscription) {
          if (stopping) break;
          await o.onChunk(chunk);
          position = chunk[chunk.length - 1]!.position;
          await o.readStore.bulkWrite([], { name: o.checkpoint, position: positionToString(position) });
          passed(position);
          backoff = 100;
        }
      } catch (err) {
        if (!stopping) o.logger.warn({ err, checkpoint: o.checkpoint }, 'workflow subscription failed; resubscribing');
      }
      if (stopping) break;
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, 5_000);
    }
  }

  return {
    /** The stored checkpoint (0 before the first chunk). */
    stored,
    /** Starts following from `from` (default: the stored checkpoint; 0 is the beginning). */
    async start(from?: bigint) {
      stopping = false;
      position = from ?? (await stored());
      loop = follow(position);
    },
    /** The last position taken from `$all`. */
    position: () => position,
    /** Resolves once the follower has taken `$all` up to `at` (or stopped). */
    reached(at: bigint): Promise<void> {
      if (position >= at || !loop) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ at, resolve }));
    },
    /** True between start() and stop(). */
    following: () => loop !== undefined,
    async stop() {
      stopping = true;
      subscription?.close();
      await loop;
      loop = undefined;
      for (const w of waiters.splice(0)) w.resolve();
    },
  };
}
