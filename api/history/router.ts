// History: raw streams with metadata, any aggregate's state at a revision or moment, and the audit log.
import { Router } from 'express';
import { z } from 'zod';
import { positionToString, type EventStore, type RecordedEvent } from '../../adapters/eventstore/port.js';
import type { ReadStore, Filter } from '../../adapters/readstore/port.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { AUDIT_COLLECTION, type AuditEntry } from '../../projections/history/auditLog.js';
import { parseWith } from '../http/validation.js';
import { readHistoryStream } from './streams.js';
import { aggregateStateAt, requireAggregateKind } from './state.js';

const pageSize = z.coerce.number().int().min(1).max(1000).default(100);

const streamQuery = z.strictObject({
  fromRevision: z.coerce.number().int().min(0).optional(),
  direction: z.enum(['forwards', 'backwards']).default('forwards'),
  limit: pageSize,
});

const stateQuery = z
  .strictObject({
    atRevision: z.coerce.number().int().min(0).optional(),
    atTime: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !(q.atRevision !== undefined && q.atTime !== undefined), {
    message: 'give atRevision or atTime, not both',
  });

const auditQuery = z.strictObject({
  aggregate: z.string().min(1).optional(),
  entityId: z.string().min(1).optional(),
  stream: z.string().min(1).optional(),
  actor: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
  correlationId: z.string().min(1).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Older than this audit position (the `next` of the previous page). */
  before: z.string().regex(/^\d{1,20}$/).optional(),
  limit: pageSize,
});

export const presentEvent = (e: RecordedEvent) => ({
  id: e.id,
  stream: e.streamId,
  type: e.type,
  revision: Number(e.revision),
  position: e.position.toString(),
  created: e.created.toISOString(),
  data: e.data,
  metadata: e.metadata,
});

export interface HistoryDeps {
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
}

export function historyRouter(d: HistoryDeps): Router {
  const router = Router();

  router.get('/streams/:stream', async (req, res) => {
    const q = parseWith(streamQuery, req.query, 'query');
    const events = await readHistoryStream(d.eventStore, req.params.stream, {
      direction: q.direction,
      ...(q.fromRevision !== undefined ? { fromRevision: BigInt(q.fromRevision) } : {}),
      maxCount: q.limit + 1,
    });
    const page = events.slice(0, q.limit);
    const more = events[q.limit];
    res.json({
      stream: req.params.stream,
      events: page.map(presentEvent),
      next: more ? { fromRevision: Number(more.revision), direction: q.direction } : null,
    });
  });

  router.get('/audit', async (req, res) => {
    const q = parseWith(auditQuery, req.query, 'query');
    const filter: Filter = {};
    if (q.aggregate) filter.aggregate = q.aggregate;
    if (q.entityId) filter.entityId = q.entityId;
    if (q.stream) filter.streamId = q.stream;
    if (q.actor) filter.actor = q.actor;
    if (q.type) filter.type = q.type;
    if (q.correlationId) filter.correlationId = q.correlationId;
    if (q.from || q.to) {
      filter.occurredAt = {
        ...(q.from ? { $gte: new Date(q.from).toISOString() } : {}),
        ...(q.to ? { $lte: new Date(q.to).toISOString() } : {}),
      };
    }
    if (q.before) filter.position = { $lt: positionToString(BigInt(q.before)) };
    const entries = await d.readStore.find<AuditEntry>(AUDIT_COLLECTION, filter, {
      sort: { position: -1 },
      limit: q.limit + 1,
    });
    const page = entries.slice(0, q.limit);
    res.json({
      entries: page.map(({ _id, _position, position, ...rest }) => ({ eventId: _id, position: BigInt(position).toString(), ...rest })),
      next: entries.length > q.limit ? { before: BigInt(page[page.length - 1]!.position).toString() } : null,
    });
  });

  router.get('/:aggregate/:id/state', async (req, res) => {
    const kind = requireAggregateKind(req.params.aggregate);
    const q = parseWith(stateQuery, req.query, 'query');
    res.json(
      await aggregateStateAt(d, kind, req.params.id, {
        ...(q.atRevision !== undefined ? { atRevision: BigInt(q.atRevision) } : {}),
        ...(q.atTime !== undefined ? { atTime: q.atTime } : {}),
      }),
    );
  });

  return router;
}
