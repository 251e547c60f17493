// The command handler: read the stream, fold, decide, append with the expected revision;
// on a concurrent change re-read and re-decide a bounded number of times, then give up with 409.
import {
  WrongExpectedVersionError,
  type EventStore,
  type ExpectedRevision,
  type RecordedEvent,
} from '../../adapters/eventstore/port.js';
import type { Decider, DomainEvent } from '../../domain/core/decider.js';
import { ConflictError, PreconditionFailedError, UnprocessableError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { eventIdFor, toAppend, type CommandContext } from './context.js';
import type { StateCache } from './stateCache.js';
import { streamQueue } from './streamQueue.js';

export interface HandlerDeps {
  store: EventStore;
  upcasters: UpcasterRegistry;
  cache?: StateCache;
}

export interface HandleOptions<State, Command, Event extends DomainEvent> {
  streamId: string;
  decider: Decider<State, Command, Event>;
  command: Command;
  context: CommandContext;
  /** Tells apart the appends one request makes to the same stream; part of deterministic event ids. */
  step?: string;
  /** From If-Match: the client's view of the stream; a mismatch is 412, never retried. */
  ifMatch?: bigint | 'no_stream';
  maxAttempts?: number;
}

export interface HandleResult<State, Event> {
  state: State;
  /** The events this command appended, or, for a repeated idempotent request, the ones it appended before. */
  events: Event[];
  revision: bigint | 'no_stream';
  /** Global position of the last event appended; undefined when the command changed nothing. */
  position: bigint | undefined;
  repeated: boolean;
}

interface Loaded<State> {
  state: State;
  revision: bigint | 'no_stream';
  repeat?: { state: State; events: DomainEvent[]; revision: bigint; position: bigint };
}

export const CONCURRENCY_MESSAGE = 'The resource was changed by a concurrent request; try again';

export function commandHandler(deps: HandlerDeps) {
  const { store, upcasters, cache } = deps;

  async function load<State, Command, Event extends DomainEvent>(
    o: HandleOptions<State, Command, Event>,
    step: string,
  ): Promise<Loaded<State>> {
    // A request with an idempotency key must see the whole stream to find its earlier events.
    const cached = o.context.idempotency ? undefined : cache?.get<State>(o.streamId);
    let state = cached ? cached.state : o.decider.initialState();
    let revision: bigint | 'no_stream' = cached ? cached.revision : 'no_stream';
    const recorded = await store.readStream(o.streamId, {
      fromRevision: revision === 'no_stream' ? 0n : revision + 1n,
    });
    const firstRepeatId = o.context.idempotency ? eventIdFor(o.context, o.streamId, step, 0) : undefined;
    let repeat: Loaded<State>['repeat'];
    let repeatIndex = -1;
    for (const r of recorded) {
      const event = upcasters.upcast(r.type, r.metadata.schemaVersion, r.data) as Event;
      state = o.decider.evolve(state, event);
      revision = r.revision;
      if (firstRepeatId && (r.id === firstRepeatId || (repeatIndex >= 0 && isRepeat(o.context, o.streamId, step, r, repeatIndex + 1)))) {
        checkSameRequest(o.context, r);
        repeatIndex += 1;
        repeat = {
          state,
          events: [...(repeat?.events ?? []), event],
          revision: r.revision,
          position: r.position,
        };
      }
    }
    if (revision !== 'no_stream') cache?.set(o.streamId, { state, revision });
    return { state, revision, ...(repeat ? { repeat } : {}) };
  }

  const queue = streamQueue();

  return function handle<State, Command, Event extends DomainEvent>(
    o: HandleOptions<State, Command, Event>,
  ): Promise<HandleResult<State, Event>> {
    return queue.run(o.streamId, () => decideAndAppend(o));
  };

  async function decideAndAppend<State, Command, Event extends DomainEvent>(
    o: HandleOptions<State, Command, Event>,
  ): Promise<HandleResult<State, Event>> {
    const step = o.step ?? 'main';
    const maxAttempts = o.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const loaded = await load(o, step);
      if (loaded.repeat) {
        const r = loaded.repeat;
        return { state: r.state, events: r.events as Event[], revision: r.revision, position: r.position, repeated: true };
      }
      if (o.ifMatch !== undefined && o.ifMatch !== loaded.revision) {
        throw new PreconditionFailedError(
          `If-Match revision ${String(o.ifMatch)} does not match the current revision ${String(loaded.revision)}`,
        );
      }
      const events = o.decider.decide(o.command, loaded.state);
      if (events.length === 0) {
        return { state: loaded.state, events: [], revision: loaded.revision, position: undefined, repeated: false };
      }
      const expected: ExpectedRevision = loaded.revision;
      try {
        const result = await store.appendToStream(o.streamId, toAppend(o.context, o.streamId, step, events, upcasters), {
          expectedRevision: expected,
        });
        let state = loaded.state;
        for (const e of events) state = o.decider.evolve(state, e);
        cache?.set(o.streamId, { state, revision: result.nextExpectedRevision });
        return { state, events, revision: result.nextExpectedRevision, position: result.position, repeated: false };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // A cached fold is still right at its revision: the retry reads only the events after it. Dropping it
        // here made every lost race re-read the whole stream (quadratic on hot streams such as id sequences).
        // Only an entry ahead of the store (which should never happen) is dropped, so it cannot stick.
        const cached = cache?.get(o.streamId);
        if (cached && (error.actualRevision === 'no_stream' || cached.revision > error.actualRevision)) {
          cache?.delete(o.streamId);
        }
        if (o.ifMatch !== undefined) {
          throw new PreconditionFailedError(
            `If-Match revision ${String(o.ifMatch)} does not match the current revision ${String(error.actualRevision)}`,
          );
        }
        if (attempt >= maxAttempts) throw new ConflictError(CONCURRENCY_MESSAGE);
      }
    }
  }
}

export type Handle = ReturnType<typeof commandHandler>;

function isRepeat(ctx: CommandContext, streamId: string, step: string, r: RecordedEvent, index: number) {
  return r.id === eventIdFor(ctx, streamId, step, index);
}

function checkSameRequest(ctx: CommandContext, r: RecordedEvent) {
  const before = r.metadata.idempotency?.requestHash;
  if (before !== undefined && ctx.idempotency && before !== ctx.idempotency.requestHash) {
    throw new UnprocessableError(
      `Idempotency-Key ${ctx.idempotency.key} was already used for a different request`,
    );
  }
}
