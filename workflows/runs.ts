// The long runs a workflow starts, keyed by what they work on (a strategy, a migration, a request): one run per key
// at a time (asking again joins the run in flight), every one awaited when the workflow stops, and a run ended by
// the stop not reported as a failure.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';

/** Ends a run at a safe point when its workflow stops. */
export class WorkflowStopped extends Error {}

export function runRegistry<T>(logger: Logger, failure: string) {
  const running = new Map<string, Promise<T>>();

  function run(key: string, work: () => Promise<T>): Promise<T> {
    const known = running.get(key);
    if (known) return known;
    const p = work().finally(() => running.delete(key));
    running.set(key, p);
    return p;
  }

  return {
    run,
    /** Starts the run (or joins it) and logs how it failed, unless the workflow stopped it. */
    launch(key: string, work: () => Promise<T>, context: Record<string, unknown>) {
      void run(key, work).catch((err: unknown) => {
        if (!(err instanceof WorkflowStopped)) logger.error({ err, ...context }, failure);
      });
    },
    has: (key: string) => running.has(key),
    /** Resolves once every run in flight has ended, however. */
    settled: () => Promise.allSettled([...running.values()]),
  };
}

/** The abort of a workflow's runs: every call in flight listens on it, hundreds at once. */
export function unboundedAbort(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
