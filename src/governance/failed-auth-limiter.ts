// Failed authentications are limited per source: a token bucket per address, so that guessing keys
// is slow while a client that mistyped its key once is not locked out.

export interface FailedAuthLimiterOptions {
  /** Failures allowed in a burst (default 20). */
  readonly burst?: number;
  /** Failures forgiven per minute (default 20). */
  readonly perMinute?: number;
  /** Sources remembered at most (default 10,000); the oldest is forgotten first. */
  readonly maxSources?: number;
  readonly now?: () => number;
}

export interface FailedAuthLimiter {
  /** Seconds until `source` may try again, or 0 when it may try now. */
  retryAfter(source: string): number;
  /** Counts a failure of `source`. */
  fail(source: string): void;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createFailedAuthLimiter({ burst = 20, perMinute = 20, maxSources = 10_000, now = Date.now }: FailedAuthLimiterOptions = {}): FailedAuthLimiter {
  const buckets = new Map<string, Bucket>();
  const ratePerMs = perMinute / 60_000;
  const refill = (source: string): Bucket | undefined => {
    const bucket = buckets.get(source);
    if (bucket === undefined) return undefined;
    const at = now();
    bucket.tokens = Math.min(burst, bucket.tokens + (at - bucket.at) * ratePerMs);
    bucket.at = at;
    return bucket;
  };
  return {
    retryAfter(source) {
      const bucket = refill(source);
      if (bucket === undefined || bucket.tokens >= 1) return 0;
      return Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000));
    },
    fail(source) {
      const bucket = refill(source) ?? { tokens: burst, at: now() };
      bucket.tokens = Math.max(0, bucket.tokens - 1);
      buckets.delete(source);
      if (buckets.size >= maxSources) buckets.delete(buckets.keys().next().value!);
      buckets.set(source, bucket);
    },
  };
}
