// callResiliently with fake calls and real (small) timers: which codes are retried, how many
// attempts, Retry-After and backoff waits, the deadline, the retry budget, the breaker's refusal,
// a caller that goes away, and the attempts it lists.
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { BallastError, type ErrorCode } from '../errors/index.js';
import { CircuitBreaker, defaultBreakerConfig, type BreakerConfig } from './circuit-breaker.js';
import { callResiliently, deadlineIn, type CallPlan } from './resilient-call.js';
import { RetryBudget, type RetryBudgetConfig } from './retry-budget.js';

const tolerance = 50;
/** A budget that never refuses, so that only what a test is about limits retries. */
const ample: RetryBudgetConfig = { ratio: 1, windowMs: 60_000, minRetries: 1_000_000 };

function planOf(overrides: Partial<CallPlan> = {}): CallPlan {
  return { version: 'v1', what: 'model svc/v1', totalMs: 1000, attempts: 3, backoff: { baseMs: 1, capMs: 1 }, budget: new RetryBudget(ample), ...overrides };
}

const fail = (code: ErrorCode, retryAfterSeconds?: number) => new BallastError(code, { detail: `failed with ${code}`, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A call that answers from `script` in turn (an error is thrown, anything else is the value; the last entry repeats), counting calls and their start times. */
function scripted<T>(script: readonly (BallastError | T)[], options: { readonly ms?: number } = {}) {
  const starts: number[] = [];
  const call = async (): Promise<T> => {
    starts.push(performance.now());
    const step = script[Math.min(starts.length - 1, script.length - 1)] as BallastError | T;
    if (options.ms !== undefined) await sleep(options.ms);
    if (step instanceof BallastError) throw step;
    return step;
  };
  return {
    call,
    starts,
    get calls() {
      return starts.length;
    },
  };
}

/** A call that never settles and ignores its signal: only the deadline ends it. */
function hanging() {
  let calls = 0;
  return {
    call: (): Promise<never> => {
      calls++;
      return new Promise<never>(() => undefined);
    },
    get calls() {
      return calls;
    },
  };
}

const breakerConfig = (overrides: Partial<BreakerConfig> = {}): BreakerConfig => ({ ...defaultBreakerConfig, window: { type: 'count', size: 10 }, minimumCalls: 2, waitInOpenMs: 1000, halfOpenProbes: 1, ...overrides });

describe('callResiliently: what is retried', () => {
  it.each(['UPSTREAM_SERVER_ERROR', 'UPSTREAM_TIMEOUT', 'UPSTREAM_CONNECTION_RESET', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED'] as const)('retries %s, and the retry answers', async (code) => {
    const model = scripted([fail(code), 'answer']);
    const outcome = await callResiliently(planOf(), deadlineIn(1000), model.call);
    expect(outcome).toMatchObject({ ok: true, value: 'answer' });
    expect(model.calls).toBe(2);
    expect(outcome.attempts.map((a) => [a.attempt, a.code])).toEqual([
      [1, code],
      [2, null],
    ]);
  });

  it.each(['UPSTREAM_REJECTED_REQUEST', 'UPSTREAM_MALFORMED_RESPONSE', 'MODEL_ERROR'] as const)('does not retry %s (the same call would fail the same way)', async (code) => {
    const model = scripted([fail(code), 'answer']);
    const outcome = await callResiliently(planOf({ attempts: 5 }), deadlineIn(1000), model.call);
    expect(outcome).toMatchObject({ ok: false, stop: 'not_retryable', error: { code } });
    expect(model.calls).toBe(1);
    expect(outcome.attempts).toEqual([{ version: 'v1', attempt: 1, code, ms: expect.any(Number) }]);
  });

  it('does not retry an answer that `check` finds in breach of the contract (CONTRACT_INVALID_OUTPUT)', async () => {
    const model = scripted([{ label: 42 }, { label: 'ham' }]);
    const check = (value: { label: unknown }) => (typeof value.label === 'string' ? undefined : new BallastError('CONTRACT_INVALID_OUTPUT', { detail: 'label must be a string' }));
    const outcome = await callResiliently(planOf({ attempts: 5 }), deadlineIn(1000), model.call, { check });
    expect(outcome).toMatchObject({ ok: false, stop: 'not_retryable', error: { code: 'CONTRACT_INVALID_OUTPUT', detail: 'label must be a string' } });
    expect(model.calls).toBe(1);
    expect(outcome.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'CONTRACT_INVALID_OUTPUT', ms: expect.any(Number) }]);
  });

  it('counts a contract breach as a failure for the breaker, although it is not retried', async () => {
    const breaker = new CircuitBreaker(breakerConfig({ minimumCalls: 1 }));
    const check = () => new BallastError('CONTRACT_INVALID_OUTPUT');
    await callResiliently(planOf({ breaker }), deadlineIn(1000), scripted(['x']).call, { check });
    expect(breaker.snapshot()).toMatchObject({ state: 'open', calls: 1, failures: 1 });
  });

  it('classifies what a call throws that is not a BallastError as INTERNAL, not retried', async () => {
    let calls = 0;
    const thrower = async (): Promise<never> => {
      calls++;
      throw new TypeError('boom');
    };
    const outcome = await callResiliently(planOf(), deadlineIn(1000), thrower);
    expect(outcome).toMatchObject({ ok: false, stop: 'not_retryable', error: { code: 'INTERNAL' } });
    expect(calls).toBe(1);
  });
});

describe('callResiliently: attempts', () => {
  it.each([1, 2, 4])('makes at most `attempts` (%i) calls, then stops with attempts_used', async (attempts) => {
    const model = scripted([fail('UPSTREAM_SERVER_ERROR')]);
    const outcome = await callResiliently(planOf({ attempts }), deadlineIn(2000), model.call);
    expect(outcome).toMatchObject({ ok: false, stop: 'attempts_used', error: { code: 'UPSTREAM_SERVER_ERROR' } });
    expect(model.calls).toBe(attempts);
    expect(outcome.attempts.map((a) => a.attempt)).toEqual(Array.from({ length: attempts }, (_, i) => i + 1));
  });

  it('lists every attempt with its version, number, code, duration and the wait before it', async () => {
    const model = scripted([fail('UPSTREAM_SERVER_ERROR'), fail('UPSTREAM_CONNECTION_RESET'), fail('UPSTREAM_UNAVAILABLE'), 'answer'], { ms: 15 });
    const plan = planOf({ version: 'v7', attempts: 4, backoff: { baseMs: 20, capMs: 1000 } });
    const outcome = await callResiliently(plan, deadlineIn(2000), model.call, { random: () => 0.5 });
    expect(outcome.ok).toBe(true);
    // Full jitter with random() = 0.5: half of min(cap, base × 2^retry).
    expect(outcome.attempts).toEqual([
      { version: 'v7', attempt: 1, code: 'UPSTREAM_SERVER_ERROR', ms: expect.any(Number) },
      { version: 'v7', attempt: 2, code: 'UPSTREAM_CONNECTION_RESET', ms: expect.any(Number), waitedMs: 10 },
      { version: 'v7', attempt: 3, code: 'UPSTREAM_UNAVAILABLE', ms: expect.any(Number), waitedMs: 20 },
      { version: 'v7', attempt: 4, code: null, ms: expect.any(Number), waitedMs: 40 },
    ]);
    for (const attempt of outcome.attempts) {
      expect(attempt.ms).toBeGreaterThanOrEqual(13);
      expect(attempt.ms).toBeLessThan(15 + tolerance);
    }
  });

  it('holds for any script: calls stop at the first success, the first non-retryable failure, or `attempts`', async () => {
    const codes: (ErrorCode | null)[] = [null, 'UPSTREAM_SERVER_ERROR', 'UPSTREAM_TIMEOUT', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_REJECTED_REQUEST', 'UPSTREAM_MALFORMED_RESPONSE'];
    const retryable = new Set<ErrorCode | null>(['UPSTREAM_SERVER_ERROR', 'UPSTREAM_TIMEOUT', 'UPSTREAM_RATE_LIMITED']);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...codes), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 10 }), async (script, attempts) => {
        const model = scripted(script.map((code) => (code === null ? 'ok' : fail(code))));
        const outcome = await callResiliently(planOf({ attempts }), deadlineIn(5000), model.call, { random: () => 0 });
        const padded = [...script, ...Array<ErrorCode | null>(10).fill(script[script.length - 1]!)];
        const ends = padded.findIndex((code, i) => !retryable.has(code) || i + 1 >= attempts);
        expect(model.calls).toBe(ends + 1);
        expect(outcome.attempts.map((a) => a.code)).toEqual(padded.slice(0, ends + 1));
        expect(outcome.attempts.map((a) => a.attempt)).toEqual(Array.from({ length: ends + 1 }, (_, i) => i + 1));
        const last = padded[ends]!;
        if (last === null) expect(outcome.ok).toBe(true);
        else expect(outcome).toMatchObject({ ok: false, stop: retryable.has(last) ? 'attempts_used' : 'not_retryable', error: { code: last } });
      }),
      { numRuns: 150 },
    );
  });
});

describe('callResiliently: waits', () => {
  it("waits the upstream's Retry-After before retrying when the deadline allows", async () => {
    const model = scripted([fail('UPSTREAM_RATE_LIMITED', 0.2), 'answer']);
    const started = performance.now();
    // The backoff would be 1000 ms: the Retry-After replaces it.
    const outcome = await callResiliently(planOf({ backoff: { baseMs: 2000, capMs: 2000 } }), deadlineIn(1000), model.call, { random: () => 0.5 });
    expect(outcome.ok).toBe(true);
    expect(outcome.attempts[1]).toMatchObject({ attempt: 2, code: null, waitedMs: 200 });
    expect(model.starts[1]! - model.starts[0]!).toBeGreaterThanOrEqual(198);
    expect(performance.now() - started).toBeLessThan(200 + tolerance);
  });

  it('does not retry when the Retry-After would pass the deadline (stop deadline), and gives up at once', async () => {
    const model = scripted([fail('UPSTREAM_RATE_LIMITED', 1), 'answer']);
    const started = performance.now();
    const outcome = await callResiliently(planOf({ attempts: 5 }), deadlineIn(500), model.call);
    expect(outcome).toMatchObject({ ok: false, stop: 'deadline', error: { code: 'UPSTREAM_RATE_LIMITED', retryAfterSeconds: 1 } });
    expect(model.calls).toBe(1);
    expect(performance.now() - started).toBeLessThan(tolerance);
  });

  it('does not retry when the backoff would pass the deadline', async () => {
    const model = scripted([fail('UPSTREAM_SERVER_ERROR'), 'answer']);
    const outcome = await callResiliently(planOf({ backoff: { baseMs: 1000, capMs: 1000 } }), deadlineIn(300), model.call, { random: () => 0.9 });
    expect(outcome).toMatchObject({ ok: false, stop: 'deadline' });
    expect(model.calls).toBe(1);
  });

  it('backs off with full jitter from the injected random, capped', async () => {
    const draws: number[] = [];
    const random = () => {
      draws.push(draws.length);
      return 0.99;
    };
    const model = scripted([fail('UPSTREAM_TIMEOUT')]);
    const outcome = await callResiliently(planOf({ attempts: 5, backoff: { baseMs: 10, capMs: 50 } }), deadlineIn(2000), model.call, { random });
    expect(outcome).toMatchObject({ ok: false, stop: 'attempts_used' });
    // One draw per retry; bounds 10, 20, 40, then the cap 50.
    expect(draws).toHaveLength(4);
    expect(outcome.attempts.map((a) => a.waitedMs)).toEqual([undefined, 9.9, 19.8, 39.6, 49.5]);
    // Timers truncate a fractional delay and may fire up to ~1 ms early against performance.now().
    for (let i = 1; i < 5; i++) expect(model.starts[i]! - model.starts[i - 1]!).toBeGreaterThanOrEqual(Math.floor(outcome.attempts[i]!.waitedMs!) - 2);
  });

  it('a zero backoff retries at once and lists no wait', async () => {
    const model = scripted([fail('UPSTREAM_UNAVAILABLE'), 'answer']);
    const outcome = await callResiliently(planOf({ backoff: { baseMs: 100, capMs: 100 } }), deadlineIn(1000), model.call, { random: () => 0 });
    expect(outcome.attempts).toEqual([
      { version: 'v1', attempt: 1, code: 'UPSTREAM_UNAVAILABLE', ms: expect.any(Number) },
      { version: 'v1', attempt: 2, code: null, ms: expect.any(Number) },
    ]);
  });
});

describe('callResiliently: the deadline', () => {
  it('never runs past the deadline with a call that hangs, however many attempts are allowed', async () => {
    const model = hanging();
    const started = performance.now();
    const outcome = await callResiliently(planOf({ attempts: 10, totalMs: 120, backoff: { baseMs: 5, capMs: 5 } }), deadlineIn(400), model.call, { random: () => 0.5 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThanOrEqual(400 + tolerance);
    expect(outcome).toMatchObject({ ok: false, stop: 'deadline' });
    // 120 ms each while they fit (three), then what is left of the 400 ms (a fourth, unless timers ran late).
    expect(model.calls).toBeGreaterThanOrEqual(3);
    expect(model.calls).toBeLessThanOrEqual(4);
    expect(outcome.attempts.every((a) => a.code === 'UPSTREAM_TIMEOUT')).toBe(true);
    for (const attempt of outcome.attempts) expect(attempt.ms).toBeLessThanOrEqual(120 + tolerance);
  });

  it('cuts a single call at the deadline when that comes before its own total timeout', async () => {
    const model = hanging();
    const started = performance.now();
    const outcome = await callResiliently(planOf({ attempts: 10, totalMs: 5000 }), deadlineIn(250), model.call);
    expect(performance.now() - started).toBeLessThanOrEqual(250 + tolerance);
    expect(outcome).toMatchObject({ ok: false, stop: 'deadline', error: { code: 'UPSTREAM_TIMEOUT' } });
    expect(model.calls).toBe(1);
  });

  it('does not call at all once the deadline has run out (DEADLINE_EXCEEDED, no attempt)', async () => {
    const model = scripted(['answer']);
    const outcome = await callResiliently(planOf(), deadlineIn(100, performance.now() - 200), model.call);
    expect(outcome).toMatchObject({ ok: false, stop: 'deadline', error: { code: 'DEADLINE_EXCEEDED' }, attempts: [] });
    expect(model.calls).toBe(0);
  });
});

describe('callResiliently: the retry budget', () => {
  it('stops retrying (retry_budget) under sustained failure: retries stay within ratio × calls + minRetries', async () => {
    const clock = { now: 1_700_000_000_000 };
    const budget = new RetryBudget({ ratio: 0.1, windowMs: 10_000, minRetries: 2 }, () => clock.now);
    const model = scripted([fail('UPSTREAM_SERVER_ERROR')]);
    const plan = planOf({ attempts: 3, budget, backoff: { baseMs: 1, capMs: 1 } });
    const stops: string[] = [];
    const decisions = 50;
    for (let i = 0; i < decisions; i++) {
      const outcome = await callResiliently(plan, deadlineIn(1000), model.call, { random: () => 0 });
      if (!outcome.ok) stops.push(outcome.stop);
    }
    const retries = model.calls - decisions;
    expect(retries).toBeLessThanOrEqual(Math.floor(0.1 * decisions) + 2);
    // The budget grants as it can: the minimum at once, then one per ten calls.
    expect(retries).toBe(Math.floor(0.1 * decisions) + 2);
    expect(stops.filter((s) => s === 'retry_budget').length).toBeGreaterThan(decisions / 2);
    expect(budget.snapshot()).toMatchObject({ calls: decisions, retries, available: 0 });
  });

  it('a version whose retries fail rarely keeps retrying within the budget', async () => {
    const budget = new RetryBudget({ ratio: 0.5, windowMs: 10_000, minRetries: 0 });
    const plan = planOf({ attempts: 2, budget });
    let failed = 0;
    for (let i = 0; i < 20; i++) {
      // Every fourth call fails once.
      const model = scripted(i % 4 === 3 ? [fail('UPSTREAM_SERVER_ERROR'), 'answer'] : ['answer']);
      const outcome = await callResiliently(plan, deadlineIn(1000), model.call, { random: () => 0 });
      if (!outcome.ok) failed++;
    }
    expect(failed).toBe(0);
  });
});

describe('callResiliently: the breaker', () => {
  it('is refused by an open breaker: CIRCUIT_OPEN with ms 0, and no call is made', async () => {
    const breaker = new CircuitBreaker(breakerConfig());
    breaker.forceOpen('drill');
    const model = scripted(['answer']);
    const outcome = await callResiliently(planOf({ breaker }), deadlineIn(1000), model.call);
    expect(outcome).toMatchObject({ ok: false, stop: 'circuit_open', error: { code: 'CIRCUIT_OPEN' } });
    expect(outcome.ok ? '' : outcome.error.detail).toMatch(/circuit breaker is open/);
    expect(outcome.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'CIRCUIT_OPEN', ms: 0 }]);
    expect(model.calls).toBe(0);
  });

  it('stops retrying when its own failures open the breaker mid-call', async () => {
    const breaker = new CircuitBreaker(breakerConfig({ minimumCalls: 2, failureRateThreshold: 1 }));
    const model = scripted([fail('UPSTREAM_SERVER_ERROR')]);
    const outcome = await callResiliently(planOf({ attempts: 5, breaker }), deadlineIn(1000), model.call, { random: () => 0 });
    expect(model.calls).toBe(2);
    // No wait for a retry the breaker would refuse: the call ends on the failure that opened it.
    expect(outcome).toMatchObject({ ok: false, stop: 'circuit_open', error: { code: 'UPSTREAM_SERVER_ERROR' } });
    expect(outcome.attempts.map((a) => [a.attempt, a.code])).toEqual([
      [1, 'UPSTREAM_SERVER_ERROR'],
      [2, 'UPSTREAM_SERVER_ERROR'],
    ]);
  });

  it('records each attempt with the breaker: failures and the success', async () => {
    const breaker = new CircuitBreaker(breakerConfig({ minimumCalls: 10 }));
    await callResiliently(planOf({ attempts: 3, breaker }), deadlineIn(1000), scripted([fail('UPSTREAM_TIMEOUT'), fail('UPSTREAM_TIMEOUT'), 'ok']).call, { random: () => 0 });
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 3, failures: 2 });
  });

  it('counts a call cut at its total timeout as slow (a timer may fire up to 1 ms early by performance.now())', async () => {
    const totalMs = 20;
    const calls = 20;
    const breaker = new CircuitBreaker(breakerConfig({ window: { type: 'count', size: 100 }, minimumCalls: 100, slowCallDurationMs: totalMs }));
    const measured: number[] = [];
    for (let i = 0; i < calls; i++) {
      const outcome = await callResiliently(planOf({ attempts: 1, totalMs, breaker }), deadlineIn(1000), hanging().call);
      measured.push(outcome.attempts[0]!.ms);
    }
    expect(breaker.snapshot(), `measured ${measured.join(', ')} ms`).toMatchObject({ calls, failures: calls, slowCalls: calls });
  });

  it('does not count a call cut short by the request deadline as slow: it did not use its total timeout', async () => {
    const breaker = new CircuitBreaker(breakerConfig({ minimumCalls: 10, slowCallDurationMs: 1000 }));
    await callResiliently(planOf({ attempts: 1, totalMs: 1000, breaker }), deadlineIn(60), hanging().call);
    expect(breaker.snapshot()).toMatchObject({ calls: 1, failures: 1, slowCalls: 0 });
  });

  it('a half-open breaker lets its probes through and refuses the rest', async () => {
    const clock = { now: 1_700_000_000_000 };
    const breaker = new CircuitBreaker(breakerConfig({ minimumCalls: 1, halfOpenProbes: 1, waitInOpenMs: 100 }), { now: () => clock.now });
    await callResiliently(planOf({ attempts: 1, breaker }), deadlineIn(1000), scripted([fail('UPSTREAM_SERVER_ERROR')]).call);
    expect(breaker.snapshot().state).toBe('open');
    clock.now += 100;
    const slow = scripted(['probe'], { ms: 30 });
    const probe = callResiliently(planOf({ breaker }), deadlineIn(1000), slow.call);
    const refused = await callResiliently(planOf({ breaker }), deadlineIn(1000), slow.call);
    expect(refused).toMatchObject({ ok: false, stop: 'circuit_open', attempts: [{ code: 'CIRCUIT_OPEN', ms: 0 }] });
    expect(refused.ok ? '' : refused.error.detail).toMatch(/half-open/);
    expect(await probe).toMatchObject({ ok: true, value: 'probe' });
    expect(slow.calls).toBe(1);
    expect(breaker.snapshot().state).toBe('closed');
  });
});

describe('callResiliently: a caller that goes away', () => {
  it('releases a half-open probe permit instead of recording a failure', async () => {
    const clock = { now: 1_700_000_000_000 };
    const breaker = new CircuitBreaker(breakerConfig({ minimumCalls: 1, halfOpenProbes: 1, waitInOpenMs: 100 }), { now: () => clock.now });
    await callResiliently(planOf({ attempts: 1, breaker }), deadlineIn(1000), scripted([fail('UPSTREAM_SERVER_ERROR')]).call);
    clock.now += 100;
    const caller = new AbortController();
    const model = hanging();
    const pending = callResiliently(planOf({ attempts: 3, breaker }), deadlineIn(2000), model.call, { parent: caller.signal });
    await sleep(20);
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', probesInFlight: 1 });
    const aborted = performance.now();
    caller.abort(new Error('client closed the connection'));
    const outcome = await pending;
    expect(performance.now() - aborted).toBeLessThan(tolerance);
    expect(outcome).toMatchObject({ ok: false, stop: 'caller_gone' });
    expect(outcome.attempts).toHaveLength(1);
    expect(model.calls).toBe(1);
    // Neither a failure (which would reopen it) nor a held slot: the next caller may probe.
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', calls: 0, failures: 0, probesInFlight: 0, probesPermitted: 0 });
    expect(breaker.tryAcquire()).toBeDefined();
  });

  it('records nothing in a closed breaker when the caller aborts', async () => {
    const breaker = new CircuitBreaker(breakerConfig({ minimumCalls: 1 }));
    const caller = new AbortController();
    const pending = callResiliently(planOf({ breaker }), deadlineIn(2000), hanging().call, { parent: caller.signal });
    await sleep(10);
    caller.abort();
    expect(await pending).toMatchObject({ ok: false, stop: 'caller_gone' });
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 0, failures: 0 });
  });

  it('makes no further attempt when the caller aborts during the backoff', async () => {
    const caller = new AbortController();
    const model = scripted([fail('UPSTREAM_SERVER_ERROR'), 'answer']);
    const pending = callResiliently(planOf({ attempts: 3, backoff: { baseMs: 400, capMs: 400 } }), deadlineIn(2000), model.call, { parent: caller.signal, random: () => 0.5 });
    await sleep(30);
    const aborted = performance.now();
    caller.abort();
    const outcome = await pending;
    expect(performance.now() - aborted).toBeLessThan(tolerance);
    expect(outcome).toMatchObject({ ok: false, stop: 'caller_gone', error: { code: 'UPSTREAM_SERVER_ERROR' } });
    expect(model.calls).toBe(1);
  });
});
