// A read model: which documents an event touches and a pure function that computes each one.
import { positionToString, type EventMetadata, type RecordedEvent } from '../../adapters/eventstore/port.js';
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

/** Stored on every projected document: the position of the last event applied to it (idempotence guard). */
export const POSITION_FIELD = '_position';

let lastPosition = -1n;
let lastText = '';

/**
 * An event position as stored (positionToString), the same string for consecutive calls with one position: the runner
 * asks for the position of each event it has just projected, so a document that records its event's position
 * (the audit log's `position`) shares that string with the runner's _position instead of holding a second copy.
 */
export function positionText(position: bigint): string {
  if (position !== lastPosition) {
    lastText = positionToString(position);
    lastPosition = position;
  }
  return lastText;
}
