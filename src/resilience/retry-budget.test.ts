import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BallastError } from '../errors/index.js';
import { RetryBudget, defaultRetryBudgetConfig, type RetryBudgetConfig } from './retry-budget.js';

/** The module's fixed bucket count, as its doc comment states. */
const buckets = 10;

function budget(config: Partial<RetryBudgetConfig> = {}, start = 0) {
  const clock = { now: start };
  return { clock, b: new RetryBudget({ ...defaultRetryBudgetConfig, ...config }, () => clock.now) };
}

const grants = (b: RetryBudget, n: number) => Array.from({ length: n }, () => b.tryRetry()).filter(Boolean).length;

describe('RetryBudget', () => {
  it('grants minRetries per window without any call, then refuses', () => {
    const { b } = budget();
    expect(b.snapshot()).toEqual({ calls: 0, retries: 0, available: 3 });
    expect(grants(b, 10)).toBe(3);
    expect(b.snapshot()).toEqual({ calls: 0, retries: 3, available: 0 });
  });

  it('grants floor(ratio × calls) on top of minRetries', () => {
    const { b } = budget({ ratio: 0.1, minRetries: 0 });
    for (let i = 0; i < 19; i++) b.recordCall();
    expect(b.snapshot()).toEqual({ calls: 19, retries: 0, available: 1 });
    expect(grants(b, 5)).toBe(1);
    b.recordCall();
    expect(grants(b, 5)).toBe(1);
    expect(b.snapshot()).toEqual({ calls: 20, retries: 2, available: 0 });
  });

  it('with ratio 0 grants only minRetries; with minRetries 0 and no calls grants nothing', () => {
    const a = budget({ ratio: 0, minRetries: 2 }).b;
    for (let i = 0; i < 1000; i++) a.recordCall();
    expect(grants(a, 10)).toBe(2);
    expect(grants(budget({ minRetries: 0 }).b, 10)).toBe(0);
  });

  it('forgets a bucket exactly when it leaves the window: bucket k holds [k·windowMs/10, (k+1)·windowMs/10)', () => {
    const { b, clock } = budget({ ratio: 1, minRetries: 0, windowMs: 10_000 });
    clock.now = 999; // bucket 0
    for (let i = 0; i < 4; i++) b.recordCall();
    clock.now = 1000; // bucket 1
    b.recordCall();
    expect(grants(b, 3)).toBe(3);
    clock.now = 9999; // bucket 9: both buckets still in
    expect(b.snapshot()).toEqual({ calls: 5, retries: 3, available: 2 });
    clock.now = 10_000; // bucket 10: bucket 0 has left
    expect(b.snapshot()).toEqual({ calls: 1, retries: 3, available: 0 });
    clock.now = 11_000; // bucket 11: bucket 1 (and its retries) too
    expect(b.snapshot()).toEqual({ calls: 0, retries: 0, available: 0 });
  });

  it('clears everything after a long gap, and treats a clock stepping back as standing still', () => {
    const { b, clock } = budget({ ratio: 1, minRetries: 0 }, 50_000);
    for (let i = 0; i < 5; i++) b.recordCall();
    clock.now = 50_000 + 3_600_000;
    expect(b.snapshot()).toEqual({ calls: 0, retries: 0, available: 0 });
    b.recordCall();
    clock.now -= 60_000;
    b.recordCall();
    expect(grants(b, 1)).toBe(1);
    expect(b.snapshot()).toEqual({ calls: 2, retries: 1, available: 1 });
    clock.now += 60_000 + 9_999;
    expect(b.snapshot().calls).toBe(2);
    clock.now += 1;
    expect(b.snapshot().calls).toBe(0);
  });

  it('keeps a model failing every call at 1000 calls/s to about 10% retries (+ minRetries per window)', () => {
    // 60 s at one call per ms, each call failing and asking for up to two retries (three attempts).
    const { b, clock } = budget(defaultRetryBudgetConfig, 1_700_000_000_000);
    const seconds = 60;
    const perWindow: number[] = [];
    let calls = 0;
    let retries = 0;
    let callsRetried = 0;
    for (let ms = 0; ms < seconds * 1000; ms++) {
      clock.now = 1_700_000_000_000 + ms;
      b.recordCall();
      calls++;
      let granted = 0;
      while (granted < 2 && b.tryRetry()) granted++;
      retries += granted;
      if (granted > 0) callsRetried++;
      const w = Math.floor(ms / 10_000);
      perWindow[w] = (perWindow[w] ?? 0) + granted;
    }
    // Each 10-second window (10 whole buckets, last granted into its last bucket) holds at most
    // floor(0.1 × 10,000) + 3 = 1003 retries, so the minute at most 6 × 1003 = 6018 of 60,000 calls.
    expect(perWindow).toHaveLength(6);
    for (const r of perWindow) expect(r).toBeLessThanOrEqual(1003);
    expect(retries).toBeLessThanOrEqual(0.1 * calls + 3 * 6);
    expect(callsRetried).toBeLessThanOrEqual(retries);
    // And the budget is used, not just withheld: at least 9.9% of calls got a retry.
    expect(retries).toBeGreaterThanOrEqual(0.099 * calls);
  });

  it('refuses nonsensical configuration with CONFIG_INVALID and one issue per field', () => {
    let error: unknown;
    try {
      new RetryBudget({ ratio: -0.1, windowMs: 0, minRetries: 1.5 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BallastError);
    expect((error as BallastError).code).toBe('CONFIG_INVALID');
    expect((error as BallastError).issues.map((i) => [i.pointer, i.code])).toEqual([
      ['/ratio', 'range'],
      ['/windowMs', 'range'],
      ['/minRetries', 'range'],
    ]);
    expect(() => new RetryBudget({ ratio: Number.NaN, windowMs: Number.POSITIVE_INFINITY, minRetries: 0 })).toThrow(BallastError);
    expect(() => new RetryBudget({ ratio: 0, windowMs: 1, minRetries: 0 })).not.toThrow();
  });
});

type Op = { readonly kind: 'call' } | { readonly kind: 'retry' } | { readonly kind: 'advance'; readonly ms: number };

const anyConfig = fc.record({
  ratio: fc.oneof(fc.constantFrom(0, 0.1, 0.25, 1), fc.double({ min: 0, max: 2, noNaN: true })),
  windowMs: fc.oneof(fc.constantFrom(10, 100, 1000, 10_000), fc.integer({ min: 1, max: 2000 })),
  minRetries: fc.integer({ min: 0, max: 4 }),
});

const anyOp = (windowMs: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'call' as const }) },
    { weight: 4, arbitrary: fc.constant({ kind: 'retry' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        // Within a bucket, across a few, past the whole window, to a bucket edge exactly, and now and then backwards.
        ms: fc.oneof(fc.integer({ min: 0, max: Math.ceil(windowMs / buckets) }), fc.integer({ min: 0, max: 3 * windowMs }), fc.constant(windowMs / buckets), fc.integer({ min: -windowMs, max: 0 })),
      }),
    },
  );

describe('RetryBudget against its stated guarantee', () => {
  it('grants exactly when the window has room, keeps every window within floor(ratio × calls) + minRetries, and reports what it holds', () => {
    fc.assert(
      fc.property(
        anyConfig.chain((config) => fc.tuple(fc.constant(config), fc.integer({ min: 0, max: 1e9 }), fc.array(anyOp(config.windowMs), { maxLength: 400, size: 'max' }))),
        ([config, start, ops]) => {
          const clock = { now: start };
          const b = new RetryBudget(config, () => clock.now);
          const bucketMs = config.windowMs / buckets;
          // The whole history, one entry per bucket number: calls and retries granted in it.
          const calls = new Map<number, number>();
          const retries = new Map<number, number>();
          let latest = Number.NEGATIVE_INFINITY;
          const sum = (m: Map<number, number>, from: number, to: number) => {
            let s = 0;
            for (const [k, v] of m) if (k >= from && k <= to) s += v;
            return s;
          };
          const current = () => (latest = Math.max(latest, Math.floor(clock.now / bucketMs)));
          const limit = (c: number) => Math.floor(config.ratio * c) + config.minRetries;
          let granted = 0;
          for (const op of ops) {
            if (op.kind === 'advance') {
              clock.now += op.ms;
              continue;
            }
            const k = current();
            if (op.kind === 'call') {
              b.recordCall();
              calls.set(k, (calls.get(k) ?? 0) + 1);
              continue;
            }
            const room = sum(retries, k - buckets + 1, k) + 1 <= limit(sum(calls, k - buckets + 1, k));
            const ok = b.tryRetry();
            expect(ok).toBe(room);
            if (!ok) continue;
            granted++;
            retries.set(k, (retries.get(k) ?? 0) + 1);
            // The guarantee at the grant, this retry included.
            expect(sum(retries, k - buckets + 1, k)).toBeLessThanOrEqual(limit(sum(calls, k - buckets + 1, k)));
          }
          const k = current();
          const windowCalls = sum(calls, k - buckets + 1, k);
          const windowRetries = sum(retries, k - buckets + 1, k);
          expect(b.snapshot()).toEqual({ calls: windowCalls, retries: windowRetries, available: Math.max(0, limit(windowCalls) - windowRetries) });
          expect(sum(retries, Number.NEGATIVE_INFINITY, k)).toBe(granted);
          // Its consequence for any 10 consecutive buckets [a, a + 9], looked at any time later (those without a retry hold trivially).
          const starts = new Set([...retries.keys()].flatMap((r) => Array.from({ length: buckets }, (_, j) => r - j)));
          for (const a of starts) {
            expect(sum(retries, a, a + buckets - 1)).toBeLessThanOrEqual(limit(sum(calls, a - buckets + 1, a + buckets - 1)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
