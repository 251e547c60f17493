// Reads a stream and folds it: the state of one aggregate now, or as it was at a revision or a moment.
import type { EventStore, RecordedEvent } from '../../adapters/eventstore/port.js';
import type { DomainEvent } from '../../domain/core/decider.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';

export interface Evolver<State, Event extends DomainEvent> {
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export interface AggregateAt<State> {
  state: State;
  /** Revision of the last event folded; 'no_stream' when none was. */
  revision: bigint | 'no_stream';
  /** The last event folded, when there was one. */
  last?: RecordedEvent;
  /** The events folded, as recorded (a caller that also needs one of them reads the stream once). */
  events: RecordedEvent[];
}

export interface AggregateOptions {
  /** Fold events up to and including this revision. */
  atRevision?: bigint;
  /** Fold events that occurred at or before this moment (by their occurredAt metadata). */
  atTime?: Date;
}

export async function aggregateStream<State, Event extends DomainEvent>(
  store: EventStore,
  upcasters: UpcasterRegistry,
  streamId: string,
  evolver: Evolver<State, Event>,
  options: AggregateOptions = {},
): Promise<AggregateAt<State>> {
  const recorded = await store.readStream(streamId, {
    ...(options.atRevision !== undefined ? { maxCount: Number(options.atRevision) + 1 } : {}),
  });
  let state = evolver.initialState();
  let revision: bigint | 'no_stream' = 'no_stream';
  let last: RecordedEvent | undefined;
  let folded = 0;
  const until = options.atTime?.getTime();
  for (const r of recorded) {
    if (until !== undefined && Date.parse(r.metadata.occurredAt) > until) break;
    state = evolver.evolve(state, upcasters.upcast(r.type, r.metadata.schemaVersion, r.data) as Event);
    revision = r.revision;
    last = r;
    folded++;
  }
  return { state, revision, ...(last ? { last } : {}), events: folded === recorded.length ? recorded : recorded.slice(0, folded) };
}
