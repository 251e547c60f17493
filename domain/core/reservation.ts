// A reservation stream makes a value (a name, a UUID) unique under concurrent requests:
// the first append wins by expected revision, and a loser re-decides against the winner.
import type { Decider, DomainEvent } from './decider.js';
import { DomainError } from './errors.js';

export type ReservationEvent =
  | DomainEvent<'ValueReserved', { holder: string; at: string }>
  | DomainEvent<'ValueReleased', { holder: string; at: string }>;

export type ReservationCommand =
  /** takeOver: the caller found the current holder no longer uses the value (a crash left it behind). */
  | { type: 'Reserve'; holder: string; at: string; takeOver?: boolean }
  | { type: 'Release'; holder: string; at: string };

export interface ReservationState {
  holder: string | null;
  since: string | null;
}

/** Someone else holds the value; callers turn this into their resource's own message. */
export class ReservationHeldError extends DomainError {
  constructor(readonly holder: string) {
    super(409, `reserved by ${holder}`);
  }
}

export const reservationDecider: Decider<ReservationState, ReservationCommand, ReservationEvent> = {
  initialState: () => ({ holder: null, since: null }),
  decide(command, state) {
    switch (command.type) {
      case 'Reserve':
        if (state.holder === command.holder) return [];
        if (state.holder !== null && !command.takeOver) throw new ReservationHeldError(state.holder);
        return [{ type: 'ValueReserved', data: { holder: command.holder, at: command.at } }];
      case 'Release':
        if (state.holder !== command.holder) return [];
        return [{ type: 'ValueReleased', data: { holder: command.holder, at: command.at } }];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ValueReserved':
        return { holder: event.data.holder, since: event.data.at };
      case 'ValueReleased':
        return { holder: null, since: event.data.at };
    }
  },
};
