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

export function toRecordedEvent(e: ClientRecordedEvent, commitPosition?: bigint): RecordedEvent {
  const commit = commitPosition ?? e.position?.commit;
  return {
    streamId: e.streamId,
    id: e.id,
    type: e.type,
    revision: e.revision,
    position: commit === undefined || commit === NO_POSITION ? -1n : commit,
    data: e.isJson ? e.data : JSON.parse(Buffer.from(e.data as Uint8Array).toString('utf8')),
    metadata: e.metadata as unknown as EventMetadata,
    created: e.created,
  };
}
