// Schema evolution (architecture rule 9): stored events are never rewritten; an old version is upcast on read.
import type { DomainEvent } from './decider.js';

/** Turns version `from` of an event type into version `from + 1`. */
export interface Upcaster {
  type: string;
  from: number;
  upcast(data: unknown): DomainEvent;
}

export interface UpcasterRegistry {
  /** The event in its newest shape, whatever version it was stored as. */
  upcast(type: string, schemaVersion: number, data: unknown): DomainEvent;
  /** The version new events of this type are written as. */
  currentVersion(type: string): number;
}

export function upcasterRegistry(upcasters: Upcaster[]): UpcasterRegistry {
  const byKey = new Map(upcasters.map((u) => [`${u.type}@${u.from}`, u]));
  const current = new Map<string, number>();
  for (const u of upcasters) {
    const next = u.from + 1;
    current.set(u.type, Math.max(current.get(u.type) ?? 1, next));
  }
  const upcastTypes = new Set(upcasters.map((u) => u.type));
  return {
    upcast(type, schemaVersion, data) {
      // Most types never changed shape: no lookup keys to build for them (replays upcast every event).
      if (!upcastTypes.has(type)) return { type, data };
      let event: DomainEvent = { type, data };
      let version = schemaVersion;
      for (let u = byKey.get(`${type}@${version}`); u; u = byKey.get(`${event.type}@${version}`)) {
        event = u.upcast(event.data);
        version += 1;
      }
      return event;
    },
    currentVersion: (type) => current.get(type) ?? 1,
  };
}
