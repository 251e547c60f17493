/**
 * log.ts — the emulator's in-memory transaction log: global positions (a running byte offset, so increasing and
 * not contiguous), per-stream revisions, expected-revision checks and EventStoreDB's idempotency rules for
 * repeated event ids. It knows nothing about gRPC.
 */

export interface ProposedEvent {
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

export interface StoredEvent extends ProposedEvent {
  streamId: string;
  revision: bigint;
  /** commit == prepare == byte offset of the record in the (virtual) log. */
  position: bigint;
  /** Offset of the record that follows this one (this record's end). */
  nextPosition: bigint;
  /** 100-ns ticks since the Unix epoch. */
  created: bigint;
  /** Index in log order. */
  index: number;
}

export type Expected =
  | { kind: 'any' }
  | { kind: 'no_stream' }
  | { kind: 'stream_exists' }
  | { kind: 'revision'; revision: bigint };

export type AppendOutcome =
  | {
    kind: 'success';
    /** Last revision of the stream after the append; null when the stream still does not exist (empty append). */
    currentRevision: bigint | null;
    /** Position of the last event written (or of the original events on an idempotent repeat). */
    position: bigint | null;
    /** True when nothing was written because every id was already there (idempotent repeat). */
    idempotent: boolean;
  }
  | { kind: 'wrong-expected-version'; current: bigint | null; expected: Expected };

/** Where the first record goes: never 0, as on a real server whose log starts with epoch/system records. */
const LOG_START = 512n;
/** Fixed per-record overhead added to the payload sizes to grow the offset (roughly a prepare record's header). */
const RECORD_OVERHEAD = 90;

export class EventLog {
  readonly events: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  /** event id → the first event recorded with that id (ESDB keeps a bounded cache; this one is unbounded). */
  private readonly byId = new Map<string, StoredEvent>();
  private offset = LOG_START;
  private waiters = new Set<() => void>();

  constructor(private readonly clock: () => bigint) {}

  stream(streamId: string): readonly StoredEvent[] | undefined {
    return this.streams.get(streamId);
  }

  lastRevision(streamId: string): bigint | null {
    const s = this.streams.get(streamId);
    return s && s.length > 0 ? BigInt(s.length - 1) : null;
  }

  /** Index of the first event whose position is >= `position` (events.length when none). */
  indexAtOrAfter(position: bigint): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.position < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Resolves on the next append (or when `signal` aborts). */
  nextAppend(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Appends atomically after the expected-revision check. Idempotency follows EventStoreDB's commit check:
   * - expected any / stream_exists: if the FIRST id is not a known event of this stream the events are written;
   *   if every id is a known event of this stream nothing is written and the append succeeds (the original
   *   revision/position are returned); if only a prefix is known → wrong expected version.
   * - expected no_stream / revision r with r below the current revision: the events must be exactly the ones
   *   stored at revisions r+1… (same ids, same order) → success without writing; anything else → wrong expected
   *   version. r equal to the current revision → written; r above it → wrong expected version.
   * - stream_exists on a missing stream → wrong expected version.
   */
  append(streamId: string, expected: Expected, proposed: readonly ProposedEvent[]): AppendOutcome {
    const existing = this.streams.get(streamId) ?? [];
    const current = existing.length > 0 ? BigInt(existing.length - 1) : null;
    const wrong = (): AppendOutcome => ({ kind: 'wrong-expected-version', current, expected });

    if (expected.kind === 'stream_exists' && current === null) return wrong();
    if (expected.kind === 'any' || expected.kind === 'stream_exists') {
      if (proposed.length > 0) {
        const known = proposed.map((p) => this.byId.get(p.id)).map((e) => (e && e.streamId === streamId ? e : undefined));
        if (known[0]) {
          if (known.every((e) => e !== undefined)) return this.repeat(known[known.length - 1]!);
          return wrong();
        }
      }
      return this.write(streamId, existing, proposed);
    }

    const expectedRev = expected.kind === 'no_stream' ? -1n : expected.revision;
    const currentRev = current ?? -1n;
    if (expectedRev === currentRev) return this.write(streamId, existing, proposed);
    if (expectedRev > currentRev || proposed.length === 0) return wrong();
    // expected < current: an idempotent repeat only if the same ids sit at the implied revisions
    for (let i = 0; i < proposed.length; i++) {
      const at = existing[Number(expectedRev) + 1 + i];
      if (!at || at.id !== proposed[i]!.id) return wrong();
    }
    return this.repeat(existing[Number(expectedRev) + proposed.length]!);
  }

  private repeat(last: StoredEvent): AppendOutcome {
    return { kind: 'success', currentRevision: last.revision, position: last.position, idempotent: true };
  }

  private write(streamId: string, existing: StoredEvent[], proposed: readonly ProposedEvent[]): AppendOutcome {
    if (proposed.length === 0) {
      const last = existing[existing.length - 1];
      return { kind: 'success', currentRevision: last?.revision ?? null, position: last?.position ?? null, idempotent: false };
    }
    if (!this.streams.has(streamId)) this.streams.set(streamId, existing);
    const created = this.clock();
    let last: StoredEvent | undefined;
    for (const p of proposed) {
      const size = RECORD_OVERHEAD + Buffer.byteLength(streamId) + Buffer.byteLength(p.type) + p.data.length + p.customMetadata.length;
      const position = this.offset;
      this.offset += BigInt(size);
      last = { ...p, streamId, revision: BigInt(existing.length), position, nextPosition: this.offset, created, index: this.events.length };
      existing.push(last);
      this.events.push(last);
      if (!this.byId.has(p.id)) this.byId.set(p.id, last);
    }
    for (const w of [...this.waiters]) w();
    return { kind: 'success', currentRevision: last!.revision, position: last!.position, idempotent: false };
  }
}
