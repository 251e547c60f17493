// Unique names and integer ids under concurrent requests (architecture rule 5), on reservation and sequence streams.
import { reservationDecider, ReservationHeldError } from '../../domain/core/reservation.js';
import { sequenceDecider } from '../../domain/core/sequence.js';
import type { CommandContext } from './context.js';
import type { Handle } from './handler.js';

/** How long a reservation whose holder never came to use it is protected (a request still on its way). */
export const RESERVATION_GRACE_MS = 30_000;

export const reservationStream = (scope: string, value: string) =>
  `reservation-${scope}:${encodeURIComponent(value)}`;
export const sequenceStream = (scope: string) => `sequence-${scope}`;

export interface ReserveOptions {
  scope: string;
  value: string;
  holder: string;
  context: CommandContext;
  /**
   * Whether the current holder still uses the value. A holder that does not (a create that crashed
   * before its main append, a rename or delete that crashed before releasing) loses it after the grace period.
   */
  stillHeld(holder: string): Promise<boolean>;
}

export type ReserveOutcome = { reserved: true; position: bigint | undefined } | { reserved: false; holder: string };

export function uniqueness(handle: Handle) {
  async function reserve(o: ReserveOptions): Promise<ReserveOutcome> {
    const streamId = reservationStream(o.scope, o.value);
    const at = o.context.now.toISOString();
    try {
      const r = await handle({
        streamId,
        decider: reservationDecider,
        command: { type: 'Reserve', holder: o.holder, at },
        context: o.context,
        step: 'reserve',
      });
      return { reserved: true, position: r.position };
    } catch (error) {
      if (!(error instanceof ReservationHeldError)) throw error;
      const holder = error.holder;
      if (await o.stillHeld(holder)) return { reserved: false, holder };
      const current = await handle({
        streamId,
        decider: { ...reservationDecider, decide: () => [] },
        command: { type: 'Reserve', holder: o.holder, at },
        context: o.context,
        step: 'inspect',
      });
      const since = current.state.since ? Date.parse(current.state.since) : 0;
      if (o.context.now.getTime() - since < RESERVATION_GRACE_MS) return { reserved: false, holder };
      try {
        const r = await handle({
          streamId,
          decider: reservationDecider,
          command: { type: 'Reserve', holder: o.holder, at, takeOver: true },
          context: o.context,
          step: 'take-over',
          ifMatch: current.revision,
        });
        return { reserved: true, position: r.position };
      } catch {
        // Someone else took it over first.
        return { reserved: false, holder };
      }
    }
  }

  async function release(scope: string, value: string, holder: string, context: CommandContext) {
    const r = await handle({
      streamId: reservationStream(scope, value),
      decider: reservationDecider,
      command: { type: 'Release', holder, at: context.now.toISOString() },
      context,
      step: 'release',
    });
    return r.position;
  }

  /** The next integer id of a scope; never reused, gaps allowed (like a database sequence). */
  async function allocateId(scope: string, atLeast: number, context: CommandContext): Promise<number> {
    const r = await handle({
      streamId: sequenceStream(scope),
      decider: sequenceDecider,
      command: { type: 'Allocate', atLeast },
      context,
      step: 'allocate',
      maxAttempts: 50,
    });
    return r.state.last;
  }

  return { reserve, release, allocateId };
}

export type Uniqueness = ReturnType<typeof uniqueness>;
