// Work that reads state, awaits, then acts must not interleave with other work on the same thing:
// a queue per key runs each piece after the previous one settled, whatever its outcome.

/** Runs `work` after every earlier piece of work on `key` settled; resolves or rejects as `work` does. */
export type SerialQueue = <T>(key: string, work: () => Promise<T>) => Promise<T>;

/**
 * A queue per key: work on one key runs one at a time, in call order; work on different keys runs
 * concurrently. A failure is its caller's and does not stop the next piece. A key is forgotten once
 * its queue is empty, so a queue over many keys does not grow.
 */
export function createSerialQueue(): SerialQueue {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
