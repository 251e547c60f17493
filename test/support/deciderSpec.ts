// Given/when/then for deciders: given past events, when a command, then new events or a refusal.
import { expect } from 'vitest';
import type { Decider, DomainEvent } from '../../domain/core/decider.js';

export function deciderSpec<S, C, E extends DomainEvent>(decider: Decider<S, C, E>) {
  return (given: E[] = []) => ({
    when(command: C) {
      const run = () => {
        let state = decider.initialState();
        for (const e of given) state = decider.evolve(state, e);
        return decider.decide(command, state);
      };
      return {
        then(expected: E[]) {
          expect(run()).toEqual(expected);
        },
        thenNothingHappens() {
          expect(run()).toEqual([]);
        },
        thenThrows(errorClass: new (...args: never[]) => Error, message?: string | RegExp) {
          let thrown: unknown;
          try {
            run();
          } catch (e) {
            thrown = e;
          }
          expect(thrown).toBeInstanceOf(errorClass);
          if (message !== undefined) expect((thrown as Error).message).toMatch(message);
        },
      };
    },
  });
}
