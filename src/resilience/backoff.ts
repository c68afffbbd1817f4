/** Backoff between retries of one call. */
export interface BackoffConfig {
  /** The bound of the first retry's delay. */
  readonly baseMs: number;
  /** No delay reaches this, however many retries. */
  readonly capMs: number;
}

export const defaultBackoffConfig: BackoffConfig = { baseMs: 25, capMs: 1000 };

/**
 * Full jitter (AWS architecture blog): a delay uniform in [0, min(cap, base * 2^retry)), retry
 * counted from 0. `random` returns values in [0, 1), as Math.random does.
 */
export function fullJitterDelay(retry: number, config: BackoffConfig, random: () => number = Math.random): number {
  // 2^1023 is the largest finite power: past it the bound is the cap anyway (and 0 × Infinity would be NaN).
  const bound = Math.min(config.capMs, config.baseMs * 2 ** Math.min(retry, 1023));
  return random() * bound;
}
