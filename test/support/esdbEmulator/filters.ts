/**
 * filters.ts — server-side $all filters (ReadReq.Options.FilterOptions): stream-name or event-type, by prefixes
 * (any prefix matches) or by regex (search semantics, like .NET Regex.IsMatch), plus the checkpoint cadence
 * (search window × checkpointIntervalMultiplier).
 */
import type { ReadReq } from '@eventstore/db-client/generated/streams_pb.js';
import type { StoredEvent } from './log.js';

/** The server's page size for reads/subscriptions and the default search window when the client sends `count`. */
export const READ_BATCH_SIZE = 32;

export interface EventFilter {
  matches(e: StoredEvent): boolean;
  /** Events scanned per catch-up page (FilterOptions.max, or READ_BATCH_SIZE for `count`). */
  window: number;
  /** A checkpoint is due after this many scanned events: window × checkpointIntervalMultiplier. */
  checkpointInterval: number;
  describe: string;
}

export function buildFilter(options: ReadReq.Options.FilterOptions): EventFilter | string {
  const onStream = options.hasStreamIdentifier();
  const expression = onStream ? options.getStreamIdentifier() : options.getEventType();
  if (!expression) return 'filter without stream_identifier or event_type expression';
  const prefixes = expression.getPrefixList();
  const regexSource = expression.getRegex();
  let test: (s: string) => boolean;
  let describe: string;
  if (prefixes.length > 0) {
    test = (s) => prefixes.some((p) => s.startsWith(p));
    describe = `${onStream ? 'stream' : 'event type'} prefixes ${JSON.stringify(prefixes)}`;
  } else if (regexSource) {
    let re: RegExp;
    try {
      re = new RegExp(regexSource);
    } catch (e) {
      return `invalid filter regex ${regexSource}: ${(e as Error).message}`;
    }
    test = (s) => re.test(s);
    describe = `${onStream ? 'stream' : 'event type'} regex ${regexSource}`;
  } else {
    return 'filter expression needs a regex or prefixes';
  }
  const window = options.hasMax() && options.getMax() > 0 ? options.getMax() : READ_BATCH_SIZE;
  const multiplier = Math.max(1, options.getCheckpointintervalmultiplier() || 1);
  return {
    matches: (e) => test(onStream ? e.streamId : e.type),
    window,
    checkpointInterval: window * multiplier,
    describe,
  };
}
