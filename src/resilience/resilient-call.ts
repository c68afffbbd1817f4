// One model version called the resilient way: through its breaker, each attempt within its total
// timeout and the request's deadline, retried only for retryable codes, with full-jitter backoff
// (or the upstream's Retry-After), within the version's retry budget, never past the deadline.
import { performance } from 'node:perf_hooks';
import { BallastError, classifyError } from '../errors/index.js';
import { fullJitterDelay, type BackoffConfig } from './backoff.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { withDeadline } from './deadline.js';
import type { RetryBudget } from './retry-budget.js';

/** One call of a model version, as the explanation lists it. */
export interface Attempt {
  readonly version: string;
  /** 1 for the first call, 2 for the first retry… */
  readonly attempt: number;
  /** The catalogue code it failed with; null when it answered well. */
  readonly code: string | null;
  /** How long the call took (0 when the breaker refused it). */
  readonly ms: number;
  /** How long it waited before this attempt (backoff or Retry-After). */
  readonly waitedMs?: number;
}

/** Why no further attempt was made after the last failure. */
export type RetryStop = 'not_retryable' | 'attempts_used' | 'deadline' | 'retry_budget' | 'circuit_open' | 'caller_gone';

/** How to call one version: its limits and its shared breaker and budget. */
export interface CallPlan {
  readonly version: string;
  /** Names the callee in timeout details, e.g. `model spam-filter/v1`. */
  readonly what: string;
  readonly totalMs: number;
  readonly attempts: number;
  readonly backoff: BackoffConfig;
  readonly budget: RetryBudget;
  readonly breaker?: CircuitBreaker | undefined;
}

/** The instant by which the whole decision must be answered, on the performance.now() clock. */
export interface Deadline {
  readonly at: number;
  readonly budgetMs: number;
}

export type CallOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: readonly Attempt[] }
  | { readonly ok: false; readonly error: BallastError; readonly attempts: readonly Attempt[]; readonly stop: RetryStop };

export interface CallOptions<T> {
  /** Judges an answer: a contract-violating output is a failure of the call (for the breaker and the chain), not retried. */
  readonly check?: (value: T) => BallastError | undefined;
  /** The caller went away: no more attempts. */
  readonly parent?: AbortSignal | undefined;
  readonly random?: () => number;
}

/** A deadline `budgetMs` after `from` (a performance.now() instant, default now). */
export function deadlineIn(budgetMs: number, from: number = performance.now()): Deadline {
  return { at: from + budgetMs, budgetMs };
}

/** Milliseconds left before the deadline (negative once it passed). */
export function remainingMs(deadline: Deadline): number {
  return deadline.at - performance.now();
}

/** Calls `call` under `plan`; never throws: a failure comes back with every attempt and why it stopped. */
export async function callResiliently<T>(plan: CallPlan, deadline: Deadline, call: (signal: AbortSignal) => Promise<T>, options: CallOptions<T> = {}): Promise<CallOutcome<T>> {
  const attempts: Attempt[] = [];
  let waitedMs = 0;
  for (let index = 0; ; index++) {
    const left = remainingMs(deadline);
    if (left < 1) {
      const error = new BallastError('DEADLINE_EXCEEDED', { detail: `${plan.what} was not called: the request's ${deadline.budgetMs} ms deadline had run out` });
      return fail(error, 'deadline');
    }
    const permit = plan.breaker?.tryAcquire();
    if (plan.breaker !== undefined && permit === undefined) {
      attempts.push(entry(index, 'CIRCUIT_OPEN', 0, waitedMs));
      return fail(new BallastError('CIRCUIT_OPEN', { detail: `${plan.what} was not called: its circuit breaker is ${plan.breaker.snapshot().state.replace('_', '-')}` }), 'circuit_open');
    }
    if (index === 0) plan.budget.recordCall();
    const started = performance.now();
    const timeoutMs = Math.min(plan.totalMs, Math.ceil(left));
    let error: BallastError | undefined;
    let value: T | undefined;
    let attemptSignal: AbortSignal | undefined;
    try {
      value = await withDeadline({ timeoutMs, what: plan.what, parent: options.parent }, (signal) => {
        attemptSignal = signal;
        return call(signal);
      });
      error = options.check?.(value);
    } catch (thrown) {
      error = classifyError(thrown);
    }
    const ms = round3(performance.now() - started);
    if (options.parent?.aborted === true) {
      // The caller is gone: the result says nothing about the model's health.
      if (permit !== undefined) plan.breaker?.release(permit);
      attempts.push(entry(index, error?.code ?? null, ms, waitedMs));
      if (error === undefined) return { ok: true, value: value as T, attempts };
      return fail(error, 'caller_gone');
    }
    // The attempt's signal aborts only when its own timer fires (the caller's abort returned above):
    // then it lasted its whole timeout, although by performance.now() a timer may fire up to 1 ms
    // early (libuv's clock counts whole milliseconds), which would make a timeout not slow.
    const lasted = attemptSignal?.aborted === true ? Math.max(ms, timeoutMs) : ms;
    if (permit !== undefined) plan.breaker?.record(permit, error !== undefined, lasted);
    attempts.push(entry(index, error?.code ?? null, ms, waitedMs));
    if (error === undefined) return { ok: true, value: value as T, attempts };
    // An answer that breaks the contract will break it again: not retried.
    if (!error.retryable || error.code === 'CONTRACT_INVALID_OUTPUT') return fail(error, 'not_retryable');
    if (index + 1 >= plan.attempts) return fail(error, 'attempts_used');
    const wait = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : fullJitterDelay(index, plan.backoff, options.random);
    // A retry that could not finish before the deadline only delays the fallback.
    if (wait + 1 >= remainingMs(deadline)) return fail(error, 'deadline');
    // This failure may have opened the breaker: waiting for a retry it would refuse only delays the fallback.
    if (plan.breaker !== undefined && plan.breaker.snapshot().state === 'open') return fail(error, 'circuit_open');
    if (!plan.budget.tryRetry()) return fail(error, 'retry_budget');
    waitedMs = round3(wait);
    if (wait > 0 && !(await sleep(wait, options.parent))) return fail(error, 'caller_gone');
  }

  function entry(index: number, code: string | null, ms: number, waited: number): Attempt {
    return waited > 0 ? { version: plan.version, attempt: index + 1, code, ms, waitedMs: waited } : { version: plan.version, attempt: index + 1, code, ms };
  }
  function fail(error: BallastError, stop: RetryStop): CallOutcome<T> {
    return { ok: false, error, attempts, stop };
  }
}

/** Waits `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
