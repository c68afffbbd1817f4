import { BallastError, type Issue } from '../errors/index.js';

/** How many retries one model version may spend, relative to its calls (Finagle's and Envoy's retry budget). */
export interface RetryBudgetConfig {
  /** Retries allowed per first attempt, e.g. 0.1 for one retry per ten calls. */
  readonly ratio: number;
  /** The sliding window the ratio is measured over, in 10 buckets of windowMs / 10. */
  readonly windowMs: number;
  /** Retries always allowed per window, on top of the ratio, so a quiet version can still retry. */
  readonly minRetries: number;
}

export const defaultRetryBudgetConfig: RetryBudgetConfig = { ratio: 0.1, windowMs: 10_000, minRetries: 3 };

const buckets = 10;

/**
 * A retry budget over a sliding window of 10 buckets: bucket k holds the calls and retries of the
 * instants t with floor(t / (windowMs / 10)) = k, and the window is the current bucket and the 9
 * before it. Guarantee: when a retry is granted, the retries granted in the window, this one
 * included, do not exceed floor(ratio × calls in the window) + minRetries (in double arithmetic);
 * a retry is refused only when granting it would exceed that. Hence any 10 consecutive buckets hold
 * at most floor(ratio × calls in them and the 9 buckets before them) + minRetries retries.
 * Constant memory whatever the rate; a clock that steps back is treated as standing still.
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly minRetries: number;
  private readonly bucketMs: number;
  private readonly now: () => number;
  private readonly bucketCalls = new Float64Array(buckets);
  private readonly bucketRetries = new Float64Array(buckets);
  private calls = 0;
  private retries = 0;
  /** The number of the current bucket. */
  private current = Number.NEGATIVE_INFINITY;

  constructor(config: RetryBudgetConfig, now: () => number = Date.now) {
    validateRetryBudgetConfig(config);
    this.ratio = config.ratio;
    this.minRetries = config.minRetries;
    this.bucketMs = config.windowMs / buckets;
    this.now = now;
  }

  /** Counts one first attempt (a call). */
  recordCall(): void {
    this.bucketCalls[this.advance()]!++;
    this.calls++;
  }

  /** Takes one retry from the budget if it allows: true when granted (and counted). */
  tryRetry(): boolean {
    const i = this.advance();
    if (this.retries + 1 > Math.floor(this.ratio * this.calls) + this.minRetries) return false;
    this.bucketRetries[i]!++;
    this.retries++;
    return true;
  }

  /** The calls and retries in the window now, and how many more retries it would grant. */
  snapshot(): { calls: number; retries: number; available: number } {
    this.advance();
    return { calls: this.calls, retries: this.retries, available: Math.max(0, Math.floor(this.ratio * this.calls) + this.minRetries - this.retries) };
  }

  /** Empties the buckets that have left the window; returns the index of the current one. */
  private advance(): number {
    const bucket = Math.floor(this.now() / this.bucketMs);
    if (bucket > this.current) {
      if (bucket - this.current >= buckets) {
        this.bucketCalls.fill(0);
        this.bucketRetries.fill(0);
        this.calls = this.retries = 0;
      } else {
        for (let b = this.current + 1; b <= bucket; b++) {
          const i = index(b);
          this.calls -= this.bucketCalls[i]!;
          this.retries -= this.bucketRetries[i]!;
          this.bucketCalls[i] = this.bucketRetries[i] = 0;
        }
      }
      this.current = bucket;
    }
    return index(this.current);
  }
}

function index(bucket: number): number {
  const i = bucket % buckets;
  return i < 0 ? i + buckets : i;
}

function validateRetryBudgetConfig(config: RetryBudgetConfig): void {
  const issues: Issue[] = [];
  if (!(Number.isFinite(config.ratio) && config.ratio >= 0)) issues.push({ pointer: '/ratio', code: 'range', message: `ratio must be a finite number >= 0, got ${config.ratio}.` });
  if (!(Number.isFinite(config.windowMs) && config.windowMs > 0)) issues.push({ pointer: '/windowMs', code: 'range', message: `windowMs must be a finite number > 0, got ${config.windowMs}.` });
  if (!(Number.isSafeInteger(config.minRetries) && config.minRetries >= 0)) issues.push({ pointer: '/minRetries', code: 'range', message: `minRetries must be a whole number >= 0, got ${config.minRetries}.` });
  if (issues.length > 0) {
    throw new BallastError('CONFIG_INVALID', { detail: `The retry budget configuration is invalid: ${issues.map((i) => i.message).join(' ')}`, issues });
  }
}
