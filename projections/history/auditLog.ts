// The audit log: one entry per event, answering who changed what, when, and as part of which request.
import { positionToString } from '../../adapters/eventstore/port.js';
import type { Doc } from '../../adapters/readstore/port.js';
import type { Projection } from '../core/projection.js';

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
    const dash = event.streamId.indexOf('-');
    return {
      _id: id,
      position: positionToString(event.position),
      streamId: event.streamId,
      aggregate: dash < 0 ? event.streamId : event.streamId.slice(0, dash),
      entityId: dash < 0 ? '' : event.streamId.slice(dash + 1),
      type: event.type,
      revision: Number(event.revision),
      occurredAt: event.metadata.occurredAt,
      actor: event.metadata.actor?.name ?? 'unknown',
      actorKind: event.metadata.actor?.kind ?? 'unknown',
      correlationId: event.metadata.correlationId,
      causationId: event.metadata.causationId,
    };
  },
};
