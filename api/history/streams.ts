// One stream's events for GET /history/streams/{stream} and the CLI's `history`: a stream without events is
// unknown (404), while a page that starts past its end is just empty.
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../adapters/eventstore/port.js';
import { NotFoundError } from '../../domain/core/errors.js';

export async function readHistoryStream(
  eventStore: EventStore,
  streamId: string,
  options: ReadStreamOptions,
): Promise<RecordedEvent[]> {
  const events = await eventStore.readStream(streamId, options);
  if (events.length === 0 && options.fromRevision === undefined) throw new NotFoundError(`Stream ${streamId} not found`);
  return events;
}
