// Given/when/then for deciders: given past events, when a command, then new events or a refusal; and the refusals of
// the pure input rules.
import { expect } from 'vitest';
import type { Decider, DomainEvent } from '../../domain/core/decider.js';
import { ValidationError } from '../../domain/core/errors.js';

/** What `f` throws (undefined when it returns). */
export function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** `f` refuses its input with a 400: this exact message, naming `field` when one is given. */
export function expectValidationError(f: () => unknown, message: string, field?: string) {
  const thrown = thrownBy(f);
  expect(thrown).toBeInstanceOf(ValidationError);
  expect((thrown as ValidationError).message).toBe(message);
  if (field) expect((thrown as ValidationError).field).toBe(field);
}

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
          const thrown = thrownBy(run);
          expect(thrown).toBeInstanceOf(errorClass);
          if (message !== undefined) expect((thrown as Error).message).toMatch(message);
        },
      };
    },
  });
}
