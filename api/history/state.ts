// Any aggregate's state now, at a revision or at a moment: shared by GET /history/{aggregate}/{id}/state and
// the CLI's `state` command, so both fold, refuse and present alike.
import type { EventStore } from '../../adapters/eventstore/port.js';
import { aggregateStream } from '../../commands/core/aggregateStream.js';
import { aggregateKind, type AggregateKind } from '../../domain/aggregates.js';
import { NotFoundError, ValidationError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';

export interface StateAt {
  /** Fold events up to and including this revision. */
  atRevision?: bigint;
  /** Fold events that occurred at or before this moment: an ISO 8601 date-time with a time zone. */
  atTime?: string;
}

export interface AggregateStateView {
  aggregate: string;
  id: string;
  stream: string;
  revision: number;
  occurredAt: string | null;
  state: unknown;
}

/** The aggregate kind of that name, or a 404 `Unknown aggregate <name>`. */
export function requireAggregateKind(name: string): AggregateKind {
  const kind = aggregateKind(name);
  if (!kind) throw new NotFoundError(`Unknown aggregate ${name}`);
  return kind;
}

/**
 * Folds `<kind>-<id>` as of `at`. A stream without events is a 404; one whose first event came after
 * `at.atTime` is a 400 on the field atTime.
 */
export async function aggregateStateAt(
  d: { eventStore: EventStore; upcasters: UpcasterRegistry },
  kind: AggregateKind,
  id: string,
  at: StateAt = {},
): Promise<AggregateStateView> {
  const streamId = `${kind.name}-${id}`;
  const folded = await aggregateStream(d.eventStore, d.upcasters, streamId, kind.decider, {
    ...(at.atRevision !== undefined ? { atRevision: at.atRevision } : {}),
    ...(at.atTime !== undefined ? { atTime: new Date(at.atTime) } : {}),
  });
  if (folded.revision === 'no_stream') {
    if (at.atTime !== undefined) throw new ValidationError(`${streamId} has no events at or before ${at.atTime}`, 'atTime');
    throw new NotFoundError(`Stream ${streamId} not found`);
  }
  return {
    aggregate: kind.name,
    id,
    stream: streamId,
    revision: Number(folded.revision),
    occurredAt: folded.last?.metadata.occurredAt ?? null,
    state: folded.state,
  };
}
