// Translation between the port's events and @eventstore/db-client's: JSON data, our EventMetadata as the event's
// custom metadata, bigint revisions and one bigint position (the commit position; see docs/architecture.md on why
// commit == prepare for every event a gRPC client writes).
import { jsonEvent, type EventData, type RecordedEvent as ClientRecordedEvent } from '@eventstore/db-client';
import type { EventMetadata, EventToAppend, RecordedEvent } from '../port.js';

/** System streams ($stats-…, $$metadata, $settings…) and system event types ($statsCollected…) are not ours. */
export const isSystemEvent = (streamId: string, type: string): boolean => streamId.startsWith('$') || type.startsWith('$');

export const toEventData = (e: EventToAppend): EventData =>
  jsonEvent({ id: e.id, type: e.type, data: e.data as never, metadata: e.metadata as never });

/** A stream read on some server versions carries no position (or 2^64-1); the port then reports -1n. */
const NO_POSITION = 2n ** 64n - 1n;

/**
 * Total: an event another writer put in a user stream (binary data, no or foreign metadata) still converts, so one
 * such event cannot fail every read of $all or stop the projections at it. Its data is kept as base64 when it is not
 * JSON, and its metadata says it came from outside (projections ignore types they do not know).
 */
export function toRecordedEvent(e: ClientRecordedEvent, commitPosition?: bigint): RecordedEvent {
  const commit = commitPosition ?? e.position?.commit;
  return {
    streamId: e.streamId,
    id: e.id,
    type: e.type,
    revision: e.revision,
    position: commit === undefined || commit === NO_POSITION ? -1n : commit,
    data: e.isJson ? e.data : binaryData(e.data as Uint8Array),
    metadata: isEventMetadata(e.metadata) ? e.metadata : foreignMetadata(e.created),
    created: e.created,
  };
}

function binaryData(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return { binary: Buffer.from(bytes).toString('base64') };
  }
}

const isEventMetadata = (m: unknown): m is EventMetadata =>
  typeof m === 'object' && m !== null && typeof (m as EventMetadata).schemaVersion === 'number' && typeof (m as EventMetadata).actor === 'object';

const foreignMetadata = (created: Date): EventMetadata => ({
  correlationId: '',
  causationId: null,
  actor: { kind: 'system', name: 'foreign-writer' },
  occurredAt: created.toISOString(),
  schemaVersion: 1,
});
