// A read model: which documents an event touches and a pure function that computes each one.
import type { EventMetadata, RecordedEvent } from '../../adapters/eventstore/port.js';
import type { Doc, IndexSpec } from '../../adapters/readstore/port.js';

/** A recorded event in its newest schema (upcast), as projections see it. */
export interface ProjectedEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  streamId: string;
  id: string;
  revision: bigint;
  position: bigint;
  metadata: EventMetadata;
  created: Date;
}

export interface Projection<D extends Doc = Doc> {
  /** Names the checkpoint; change it (e.g. a version suffix) to force a rebuild after changing evolve. */
  name: string;
  collection: string;
  indexes?: Omit<IndexSpec, 'collection'>[];
  /** Ids of the documents this event changes; an empty list means the projection ignores it. */
  documentIds(event: ProjectedEvent): string[];
  /** The document after the event, or null to delete it. Pure: no I/O, no clock; must not mutate `doc`. */
  evolve(doc: D | undefined, event: ProjectedEvent, id: string): D | null;
}

export type AnyProjection = Projection<Doc>;

/** Widens a typed projection for the runner's list. */
export const asAny = <D extends Doc>(p: Projection<D>): AnyProjection => p as unknown as AnyProjection;

export type { RecordedEvent };
