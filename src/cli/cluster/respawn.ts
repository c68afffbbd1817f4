// When to start the next decision worker after one exited. A worker that drained (exit code 0) or
// that lived a while is replaced after the base delay; one that crashed soon after it started (a bad
// build, a port taken, a model that throws at load) doubles the delay each time, up to a cap, so a
// worker that cannot live does not fork a process every second for ever. A worker that lives long
// enough resets it.

export interface RespawnPolicy {
  /** The delay before replacing a worker that drained or lived at least `healthyAfterMs`, and the first after a quick crash. */
  readonly baseMs: number;
  /** The longest delay. */
  readonly maxMs: number;
  /** A worker that lived this long was healthy: its crash starts the doubling again from `baseMs`. */
  readonly healthyAfterMs: number;
}

export const defaultRespawnPolicy: RespawnPolicy = { baseMs: 1000, maxMs: 30_000, healthyAfterMs: 10_000 };

export class RespawnBackoff {
  #quickCrashes = 0;

  constructor(private readonly policy: RespawnPolicy = defaultRespawnPolicy) {}

  /** The delay before the next start, given how the worker ended (`drained`: exit code 0) and how long it lived. */
  after(drained: boolean, livedMs: number): number {
    if (drained || livedMs >= this.policy.healthyAfterMs) {
      this.#quickCrashes = 0;
      return this.policy.baseMs;
    }
    const delay = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** this.#quickCrashes);
    this.#quickCrashes = Math.min(this.#quickCrashes + 1, 30);
    return delay;
  }
}
