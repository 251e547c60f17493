// Who asks, why, and when: the part of every event's metadata that comes from the request (or workflow step).
import { createHash, randomUUID } from 'node:crypto';
import type { Actor, EventMetadata, EventToAppend } from '../../adapters/eventstore/port.js';
import type { DomainEvent } from '../../domain/core/decider.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';

export interface CommandContext {
  correlationId: string;
  /** The request or event that caused this command. */
  causationId: string | null;
  actor: Actor;
  /** When the command was issued, from the injected clock. */
  now: Date;
  /**
   * Present when the client sent an Idempotency-Key (or a workflow step names itself):
   * event ids are derived from it, so a retry appends nothing new.
   */
  idempotency?: { key: string; scope: string; requestHash: string };
}

/** A UUID (version 5 layout) derived from its parts. */
export function deterministicUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Event id for the index-th event that `step` of this command appends to `streamId`. */
export function eventIdFor(ctx: CommandContext, streamId: string, step: string, index: number): string {
  if (!ctx.idempotency) return randomUUID();
  return deterministicUuid(ctx.idempotency.scope, ctx.idempotency.key, streamId, step, String(index));
}

export function metadataFor(ctx: CommandContext, type: string, upcasters: UpcasterRegistry): EventMetadata {
  const metadata: EventMetadata = {
    correlationId: ctx.correlationId,
    causationId: ctx.causationId,
    actor: ctx.actor,
    occurredAt: ctx.now.toISOString(),
    schemaVersion: upcasters.currentVersion(type),
  };
  if (ctx.idempotency) {
    metadata.idempotency = { key: ctx.idempotency.key, requestHash: ctx.idempotency.requestHash };
  }
  return metadata;
}

export function toAppend(
  ctx: CommandContext,
  streamId: string,
  step: string,
  events: DomainEvent[],
  upcasters: UpcasterRegistry,
): EventToAppend[] {
  return events.map((e, i) => ({
    id: eventIdFor(ctx, streamId, step, i),
    type: e.type,
    data: e.data,
    metadata: metadataFor(ctx, e.type, upcasters),
  }));
}

/** A context for work the system does on its own (seeding, workflows). */
export function systemContext(now: Date, name = 'fleetledger', key?: string): CommandContext {
  const ctx: CommandContext = {
    correlationId: randomUUID(),
    causationId: null,
    actor: { kind: 'system', name },
    now,
  };
  if (key) ctx.idempotency = { key, scope: 'system', requestHash: '' };
  return ctx;
}
