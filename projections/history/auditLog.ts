// The audit log: one entry per event, answering who changed what, when, and as part of which request.
// It holds one document per event (a million after a long history), so each entry is built once, already carrying
// the runner's _position (the runner stores it without a copy), and shares its strings where it can: one text for
// position and _position, the stream's parts and the few actor names and types interned, and the causation id
// reused when it is the correlation id (JSON decoding gives every field its own copy).
import type { Doc } from '../../adapters/readstore/port.js';
import { type Projection, positionText } from '../core/projection.js';

export const AUDIT_COLLECTION = 'audit_log';

export interface AuditEntry extends Doc {
  position: string;
  streamId: string;
  /** The stream's aggregate (the part before the first '-') and entity id (the rest). */
  aggregate: string;
  entityId: string;
  type: string;
  revision: number;
  occurredAt: string;
  actor: string;
  actorKind: string;
  correlationId: string;
  causationId: string | null;
}

interface StreamParts {
  streamId: string;
  aggregate: string;
  entityId: string;
}

/** Bounded caches: they only save memory (equal strings shared), so starting over when full changes no result. */
const MAX_CACHED = 100_000;
const streams = new Map<string, StreamParts>();
const names = new Map<string, string>();

function streamParts(streamId: string): StreamParts {
  let parts = streams.get(streamId);
  if (parts === undefined) {
    if (streams.size >= MAX_CACHED) streams.clear();
    const dash = streamId.indexOf('-');
    parts = {
      streamId,
      aggregate: dash < 0 ? streamId : intern(streamId.slice(0, dash)),
      entityId: dash < 0 ? '' : streamId.slice(dash + 1),
    };
    streams.set(streamId, parts);
  }
  return parts;
}

/** One shared copy of a low-cardinality value (event types, actor names and kinds, aggregates). */
function intern(value: string): string {
  const known = names.get(value);
  if (known !== undefined) return known;
  if (names.size >= MAX_CACHED) names.clear();
  names.set(value, value);
  return value;
}

export const auditLogProjection: Projection<AuditEntry> = {
  name: 'history.auditLog.v1',
  collection: AUDIT_COLLECTION,
  indexes: [
    { keys: { position: -1 } },
    { keys: { aggregate: 1, entityId: 1, position: -1 } },
    { keys: { correlationId: 1 } },
    { keys: { actor: 1, position: -1 } },
  ],
  documentIds: (event) => [event.id],
  evolve(_doc, event, id) {
    const stream = streamParts(event.streamId);
    const { occurredAt, actor, correlationId, causationId } = event.metadata;
    const position = positionText(event.position);
    return {
      _id: id,
      position,
      streamId: stream.streamId,
      aggregate: stream.aggregate,
      entityId: stream.entityId,
      type: intern(event.type),
      revision: Number(event.revision),
      occurredAt,
      actor: intern(actor?.name ?? 'unknown'),
      actorKind: intern(actor?.kind ?? 'unknown'),
      correlationId,
      causationId: causationId === correlationId ? correlationId : causationId,
      _position: position, // POSITION_FIELD, last as the runner would add it
    };
  },
};
