// The event store port: what commands, projections and workflows need from a store of streams.
// Revisions and positions are bigints at this boundary, as in @eventstore/db-client.

/** Expected revision of a stream for an append: the revision of its last event, or a state. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** Metadata carried by every event (rule 2 of the architecture). */
export interface EventMetadata {
  correlationId: string;
  causationId: string | null;
  actor: Actor;
  occurredAt: string;
  schemaVersion: number;
  /** Set when the event was appended for a request carrying an Idempotency-Key. */
  idempotency?: { key: string; requestHash: string };
}

export interface Actor {
  kind: 'user' | 'site' | 'workflow' | 'system';
  name: string;
  roles?: string[];
  /** The user's id and the project its token is scoped to (identity tokens). */
  id?: string;
  project?: string;
}

export interface EventToAppend {
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  streamId: string;
  id: string;
  type: string;
  /** 0-based revision within the stream. */
  revision: bigint;
  /** Global position in the store's log: increasing, not necessarily contiguous. */
  position: bigint;
  data: unknown;
  metadata: EventMetadata;
  /** When the store recorded it. */
  created: Date;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  nextExpectedRevision: bigint;
  /** Global position of the last event appended (or of the original, for an idempotent repeat). */
  position: bigint;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  direction?: Direction;
  /** Inclusive start; default: start (forwards) or end (backwards). */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface ReadAllOptions {
  direction?: Direction;
  /** Forwards: events after this position (exclusive); default from the first event. */
  after?: bigint;
  /** Backwards: events before this position (exclusive); default from the newest event. */
  before?: bigint;
  maxCount?: number;
}

export interface SubscribeOptions {
  /** Exclusive: the first event delivered is the one after this position. 'start' delivers from the first. */
  from: bigint | 'start';
  /** Largest chunk handed to the consumer at once. */
  maxBatch?: number;
}

/**
 * A catch-up subscription: history first, then live. Each item is a chunk of events in position
 * order, as many as the store had ready. Breaking out of the loop (or calling close) ends it.
 */
export interface Subscription extends AsyncIterable<RecordedEvent[]> {
  close(): void;
}

export interface EventStore {
  appendToStream(
    streamId: string,
    events: EventToAppend[],
    options?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /** Events of one stream; a missing stream reads as empty. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options: SubscribeOptions): Subscription;
  /** Position of the newest event in the store, 0n when empty. */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}

/** The stream's actual revision did not match what the writer expected. */
export class WrongExpectedVersionError extends Error {
  readonly code = 'wrong-expected-version';
  constructor(
    readonly streamId: string,
    readonly expectedRevision: ExpectedRevision,
    readonly actualRevision: bigint | 'no_stream',
  ) {
    super(
      `append to ${streamId} expected revision ${String(expectedRevision)} but the stream is at ${String(actualRevision)}`,
    );
  }
}

/**
 * Some, but not all, of the event ids of an append are already recorded. How far an adapter can tell differs (see
 * ContractOptions.idChecks in test/contract): SQLite knows every id in the store; EventStoreDB recognises a repeat
 * from the append's first id within the target stream and reports a partial match as a wrong expected version.
 */
export class EventIdConflictError extends Error {
  readonly code = 'event-id-conflict';
  constructor(readonly streamId: string, readonly eventId: string) {
    super(`event id ${eventId} is already recorded elsewhere than this append to ${streamId}`);
  }
}

/** A store cannot be reached; nothing was written. `store` says which, for the 503 the API answers. */
export class StoreUnavailableError extends Error {
  readonly code = 'store-unavailable';
  readonly store: 'event store' | 'read store';
  constructor(message: string, options?: { cause?: unknown; store?: 'event store' | 'read store' }) {
    super(message, options);
    this.store = options?.store ?? 'event store';
  }
}

export const isWrongExpectedVersion = (e: unknown): e is WrongExpectedVersionError =>
  e instanceof WrongExpectedVersionError;

/** Positions as 20-digit zero-padded strings, so string order is numeric order (read models hold no BigInt). */
export const positionToString = (p: bigint): string => p.toString().padStart(20, '0');
export const positionFromString = (s: string): bigint => BigInt(s);
