// The agent client's waits on a manual clock, for tests that run operations against the in-process simulator:
// each wait advances the simulator's clock instead of sleeping, so an operation "takes" its configured duration
// at once. A test that needs an operation to stay running closes the gate; the waits then hold (until aborted)
// and the operation stays where it is until the gate opens.
import { manualClock } from '../../domain/core/clock.js';

export function gatedAgentClock(start = '2026-03-01T10:00:00.000Z') {
  const clock = manualClock(start);
  let gate: { promise: Promise<void>; open: () => void } | undefined;

  const closeGate = () => {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    gate = { promise, open };
  };
  const openGate = () => {
    const g = gate;
    gate = undefined;
    g?.open();
  };

  /** The sleep to give subcloudAgentClient: held while the gate is closed, then it moves the clock. */
  async function sleep(ms: number, signal?: AbortSignal) {
    while (gate) {
      const g = gate;
      if (signal?.aborted) throw signal.reason;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal!.reason as Error);
        signal?.addEventListener('abort', onAbort, { once: true });
        void g.promise.then(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (signal?.aborted) throw signal.reason;
    clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  }

  return { clock, sleep, closeGate, openGate };
}
