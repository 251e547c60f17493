// Commands on the same stream run one after another inside this process, so requests racing on one
// aggregate queue instead of losing optimistic-concurrency races and answering 409. Writers in other
// processes still meet the expected-revision check and the handler's bounded retries.

export interface StreamQueue {
  run<T>(streamId: string, work: () => Promise<T>): Promise<T>;
}

export function streamQueue(): StreamQueue {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(streamId: string, work: () => Promise<T>): Promise<T> {
      const previous = tails.get(streamId);
      const result = previous ? previous.then(work, work) : work();
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(streamId, tail);
      void tail.then(() => {
        if (tails.get(streamId) === tail) tails.delete(streamId);
      });
      return result;
    },
  };
}
