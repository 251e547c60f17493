// How @eventstore/db-client's errors map onto the port's: a conflict keeps its revisions (with 'no_stream' as a
// string, which the client may report as the actual version), and every "server not reachable" shape, including the
// raw grpc `14 UNAVAILABLE` Error the classic append path can reject with, becomes StoreUnavailableError.
import { WrongExpectedVersionError as ClientWrongExpectedVersion } from '@eventstore/db-client';
import { StoreUnavailableError, WrongExpectedVersionError, type ExpectedRevision } from '../port.js';

/** gRPC status codes that mean the call did not reach a server that could answer it. */
const UNREACHABLE_STATUS = new Set([
  1, // CANCELLED: the channel was closed under the call (server stopped)
  4, // DEADLINE_EXCEEDED
  14, // UNAVAILABLE
]);

/** The client's error types that mean the same (it converts most statuses into these). */
const UNREACHABLE_TYPES = new Set(['unavailable', 'cancelled', 'deadline-exceeded', 'timeout', 'not-leader']);

export function isUnreachable(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { type?: unknown; code?: unknown; message?: unknown };
  if (typeof e.type === 'string' && UNREACHABLE_TYPES.has(e.type)) return true;
  if (typeof e.code === 'number' && UNREACHABLE_STATUS.has(e.code)) return true;
  // The client's own wording when its channel cannot connect, and grpc's raw "14 UNAVAILABLE: ..." messages.
  return typeof e.message === 'string' && /^(1|4|14) (CANCELLED|DEADLINE_EXCEEDED|UNAVAILABLE)\b/.test(e.message);
}

/** A dropped subscription the consumer should simply resubscribe after: unreachable, or dropped as too slow. */
export function isResubscribable(error: unknown): boolean {
  if (isUnreachable(error)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /consumer too slow/i.test(message);
}

/** Converts a failure of a call to the store into the port's errors; unknown errors pass through unchanged. */
export function toPortError(error: unknown, streamId: string, expected: ExpectedRevision, what: string): unknown {
  if (error instanceof ClientWrongExpectedVersion) {
    const actual = error.actualVersion;
    return new WrongExpectedVersionError(streamId, expected, typeof actual === 'bigint' ? actual : 'no_stream');
  }
  if (isUnreachable(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(`EventStoreDB is unavailable (${what}): ${detail}`, { cause: error });
  }
  return error;
}
