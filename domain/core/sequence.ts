// Integer ids that are never handed out twice, even to concurrent requests: a counter stream whose
// every allocation is appended with the expected revision.
import type { Decider, DomainEvent } from './decider.js';

export type SequenceEvent = DomainEvent<'IdAllocated', { value: number }>;
export interface SequenceCommand {
  type: 'Allocate';
  /** Smallest value the sequence may hand out (ids below it are taken by seeded rows). */
  atLeast: number;
}
export interface SequenceState {
  last: number;
}

export const sequenceDecider: Decider<SequenceState, SequenceCommand, SequenceEvent> = {
  initialState: () => ({ last: 0 }),
  decide: (command, state) => [
    { type: 'IdAllocated', data: { value: Math.max(state.last + 1, command.atLeast) } },
  ],
  evolve: (_state, event) => ({ last: event.data.value }),
};
