// Folded aggregate state kept between commands, so a command reads only the events after the cached revision.
// Always safe: an append still carries the expected revision, and a stale entry only costs a retry.
export interface CachedState<State = unknown> {
  state: State;
  revision: bigint;
}

export interface StateCache {
  get<State>(streamId: string): CachedState<State> | undefined;
  set(streamId: string, entry: CachedState): void;
  delete(streamId: string): void;
}

/** Least-recently-used, bounded by entry count. */
export function lruStateCache(maxEntries = 10_000): StateCache {
  const entries = new Map<string, CachedState>();
  return {
    get<State>(streamId: string) {
      const e = entries.get(streamId);
      if (e) {
        entries.delete(streamId);
        entries.set(streamId, e);
      }
      return e as CachedState<State> | undefined;
    },
    set(streamId, entry) {
      entries.delete(streamId);
      entries.set(streamId, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    delete(streamId) {
      entries.delete(streamId);
    },
  };
}
