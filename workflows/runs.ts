// The long runs a workflow starts, keyed by what they work on (a strategy, a migration, a request): one run per key
// at a time (asking again joins the run in flight); when the workflow stops, the calls in flight are aborted, each
// run ends at its next safe point, every one is awaited, and a run ended by the stop is not reported as a failure.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';

/** Ends a run at a safe point when its workflow stops. */
export class WorkflowStopped extends Error {}

/** Every call in flight listens on the signal: hundreds at once. */
function unboundedAbort(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}

export function runRegistry<T>(logger: Logger, failure: string) {
  const running = new Map<string, Promise<T>>();
  let stopping = false;
  let abort = unboundedAbort();

  function run(key: string, work: () => Promise<T>): Promise<T> {
    const known = running.get(key);
    if (known) return known;
    const p = work().finally(() => running.delete(key));
    running.set(key, p);
    return p;
  }

  /** Resolves once every run in flight has ended, however. */
  const settled = () => Promise.allSettled([...running.values()]);

  return {
    run,
    /** Starts the run (or joins it) and logs how it failed, unless the workflow stopped it. */
    launch(key: string, work: () => Promise<T>, context: Record<string, unknown>) {
      void run(key, work).catch((err: unknown) => {
        if (!(err instanceof WorkflowStopped)) logger.error({ err, ...context }, failure);
      });
    },
    settled,
    /** What every call of the runs passes on: aborted when the workflow stops. */
    signal: () => abort.signal,
    /** Whether the workflow is stopping (no new work should begin). */
    stopping: () => stopping,
    /** A safe point: ends the run (WorkflowStopped) once the workflow is stopping. */
    checkStopped() {
      if (stopping) throw new WorkflowStopped();
    },
    /** The workflow starts (again): runs may begin. */
    open() {
      stopping = false;
      abort = unboundedAbort();
    },
    /** The workflow stops: at once the calls in flight are aborted; then every run is awaited. */
    close(reason: string): Promise<unknown> {
      stopping = true;
      abort.abort(new WorkflowStopped(reason));
      return settled();
    },
  };
}

/** Runs the functions given to it at most `width` at a time, in the order they were given. */
export function limiter(width: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    // A finishing call hands its slot to the next waiter directly, so no newcomer can slip in between.
    if (active >= width) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
