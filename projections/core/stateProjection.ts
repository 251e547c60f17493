// A read model that is simply an aggregate's current state: one document per live aggregate, folded with the
// aggregate's own evolve, gone once the aggregate is no longer `active` (or whatever `keeps` says).
import type { Doc, IndexSpec } from '../../adapters/readstore/port.js';
import type { DomainEvent } from '../../domain/core/decider.js';
import { POSITION_FIELD, positionText, type Projection } from './projection.js';

/** The document of a live aggregate: its state (never `absent`), the revision it reflects, and the runner's fields. */
export type StateDoc<S> = Doc & Exclude<S, { status: 'absent' }> & { revision: number };

export function aggregateStateProjection<S extends { status: string }, E extends DomainEvent>(o: {
  name: string;
  collection: string;
  indexes: Omit<IndexSpec, 'collection'>[];
  /** Streams `<prefix><id>`: the document id is the aggregate id. */
  streamPrefix: string;
  initialState: () => S;
  evolve: (state: S, event: E) => S;
  /** Which states have a document (default: `active`). */
  keeps?: (state: S) => boolean;
}): Projection<StateDoc<S>> {
  const keeps = o.keeps ?? ((s: S) => s.status === 'active');
  return {
    name: o.name,
    collection: o.collection,
    indexes: o.indexes,
    documentIds: (event) => (event.streamId.startsWith(o.streamPrefix) ? [event.streamId.slice(o.streamPrefix.length)] : []),
    evolve(doc, event, id) {
      const before = (doc as S | undefined) ?? o.initialState();
      const after = o.evolve(before, event as unknown as E);
      if (!keeps(after)) return null;
      // Object.assign, then the fields: a spread followed by more keys runs several times slower in V8. _position is
      // set here as the runner would set it (positionText), so the runner stores this document without copying it.
      const next = Object.assign({}, after) as unknown as Record<string, unknown>;
      next._id = id;
      next.revision = Number(event.revision);
      next[POSITION_FIELD] = positionText(event.position);
      return next as StateDoc<S>;
    },
  };
}
