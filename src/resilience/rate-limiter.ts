// Per API key (or client) rate limits: one token bucket per key, the least recently used keys forgotten
// beyond a bound so that a flood of distinct keys cannot grow memory.

export interface RateLimitConfig {
  /** Tokens added per second, continuously. */
  readonly ratePerSecond: number;
  /** Bucket capacity: the most takes allowed at once after a quiet period (an integer). */
  readonly burst: number;
}

export type RateDecision =
  | { readonly ok: true; readonly remaining: number; readonly resetSeconds: number }
  | { readonly ok: false; readonly remaining: 0; readonly retryAfterSeconds: number; readonly resetSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per key: each refills continuously at `ratePerSecond` up to `burst`; a take that finds too few
 * tokens is refused with the seconds until there are enough. `remaining` is the whole tokens left and
 * `resetSeconds` the seconds until the bucket is full again.
 */
export class RateLimiter {
  private readonly config: RateLimitConfig;
  private readonly now: () => number;
  private readonly maxKeys: number;
  /** In least-recently-used-first order (a Map iterates in insertion order; a take re-inserts its key). */
  private readonly buckets = new Map<string, Bucket>();
  /** The header items of each policy name seen (a service has one). */
  private readonly policies = new Map<string, { readonly name: string; readonly field: string }>();

  /** `now` is in ms (default performance.now, monotonic). Beyond `maxKeys` (default 100,000) the least recently used key is forgotten; a forgotten key starts again with a full bucket. */
  constructor(config: RateLimitConfig, options: { now?: () => number; maxKeys?: number } = {}) {
    if (!(config.ratePerSecond > 0 && Number.isFinite(config.ratePerSecond))) throw new RangeError(`ratePerSecond must be a finite number > 0 (got ${String(config.ratePerSecond)})`);
    if (!Number.isInteger(config.burst) || config.burst < 1) throw new RangeError(`burst must be an integer >= 1 (got ${String(config.burst)})`);
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be an integer >= 1 (got ${String(maxKeys)})`);
    this.config = config;
    this.now = options.now ?? (() => performance.now());
    this.maxKeys = maxKeys;
  }

  /** Takes `cost` tokens (default 1) from `key`'s bucket if it holds that many. A cost above `burst` is always refused. */
  take(key: string, cost = 1): RateDecision {
    if (!(cost >= 0 && Number.isFinite(cost))) throw new RangeError(`cost must be a finite number >= 0 (got ${String(cost)})`);
    const { ratePerSecond, burst } = this.config;
    const at = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: burst, at };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    } else {
      // A clock that steps back refills nothing (and takes nothing back).
      bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, at - bucket.at) * ratePerSecond) / 1000);
      bucket.at = Math.max(bucket.at, at);
      this.buckets.delete(key);
    }
    this.buckets.set(key, bucket);
    const ok = bucket.tokens >= cost;
    if (ok) bucket.tokens -= cost;
    const resetSeconds = Math.ceil((burst - bucket.tokens) / ratePerSecond);
    if (ok) return { ok, remaining: Math.floor(bucket.tokens), resetSeconds };
    const missing = Math.min(cost, burst) - bucket.tokens;
    return { ok, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(missing / ratePerSecond)), resetSeconds };
  }

  /** How many keys are remembered now (at most `maxKeys`). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * The RateLimit header fields of draft-ietf-httpapi-ratelimit-headers-11 (23 May 2026) for a decision, as
   * Structured Field Lists whose items are the policy name as an sf-string (default "default"):
   * `RateLimit-Policy: "default";q=<burst>;w=<seconds a drained bucket takes to fill>` and
   * `RateLimit: "default";r=<remaining>;t=<seconds>`, where `t` is `resetSeconds` for a granted take and
   * `retryAfterSeconds` for a refused one (so that a Retry-After, which the caller sets from its refusal, does not
   * end before the effective window). No partition key (`pk`) is sent: the key may be a secret.
   */
  headers(decision: RateDecision, policyName = 'default'): Record<string, string> {
    // The policy's name and field depend only on the policy: built once per name, not per request.
    let policy = this.policies.get(policyName);
    if (policy === undefined) {
      if (!/^[\x20-\x7e]*$/.test(policyName)) throw new RangeError('policyName must be printable ASCII (a Structured Field String)');
      const name = `"${policyName.replace(/[\\"]/g, '\\$&')}"`;
      const window = Math.max(1, Math.ceil(this.config.burst / this.config.ratePerSecond));
      policy = { name, field: `${name};q=${this.config.burst};w=${window}` };
      if (this.policies.size < 64) this.policies.set(policyName, policy);
    }
    const t = decision.ok ? decision.resetSeconds : decision.retryAfterSeconds;
    return { 'RateLimit-Policy': policy.field, RateLimit: `${policy.name};r=${decision.remaining};t=${t}` };
  }
}
