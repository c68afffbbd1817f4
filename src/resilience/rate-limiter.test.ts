import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('refills continuously at ratePerSecond up to burst, with exact arithmetic', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 }, { now: () => now });
    expect(limiter.take('k')).toEqual({ ok: true, remaining: 2, resetSeconds: 1 });
    expect(limiter.take('k')).toEqual({ ok: true, remaining: 1, resetSeconds: 1 });
    expect(limiter.take('k')).toEqual({ ok: true, remaining: 0, resetSeconds: 2 });
    expect(limiter.take('k')).toEqual({ ok: false, remaining: 0, retryAfterSeconds: 1, resetSeconds: 2 });
    now = 250; // 0.5 tokens
    expect(limiter.take('k')).toEqual({ ok: false, remaining: 0, retryAfterSeconds: 1, resetSeconds: 2 });
    now = 500; // 1 token
    expect(limiter.take('k')).toEqual({ ok: true, remaining: 0, resetSeconds: 2 });
    now = 1750; // 2.5 tokens
    expect(limiter.take('k')).toEqual({ ok: true, remaining: 1, resetSeconds: 1 });
    now = 60_000; // full, and no more than full
    for (let i = 0; i < 3; i++) expect(limiter.take('k').ok).toBe(true);
    expect(limiter.take('k').ok).toBe(false);
  });

  it('gives retryAfterSeconds as the ceiling of the time until enough tokens', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 0.1, burst: 2 }, { now: () => now });
    limiter.take('k', 2);
    expect(limiter.take('k')).toEqual({ ok: false, remaining: 0, retryAfterSeconds: 10, resetSeconds: 20 });
    expect(limiter.take('k', 2)).toMatchObject({ ok: false, retryAfterSeconds: 20 });
    now = 10_000;
    expect(limiter.take('k', 2)).toMatchObject({ ok: false, retryAfterSeconds: 10 });
    expect(limiter.take('k')).toEqual({ ok: true, remaining: 0, resetSeconds: 20 });
    now = 10_001;
    expect(limiter.take('k')).toMatchObject({ ok: false, retryAfterSeconds: 10 }); // 9.99 s, rounded up
  });

  it('allows a burst of `burst` takes at once, and costs above 1', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 10 }, { now: () => 0 });
    expect(limiter.take('a', 7)).toEqual({ ok: true, remaining: 3, resetSeconds: 7 });
    expect(limiter.take('a', 4)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('a', 3)).toMatchObject({ ok: true, remaining: 0 });
    expect(limiter.take('b', 11)).toMatchObject({ ok: false }); // above burst: never
    expect(limiter.take('b', 10)).toMatchObject({ ok: true, remaining: 0 }); // and the refusal took nothing
    expect(limiter.take('c', 0)).toEqual({ ok: true, remaining: 10, resetSeconds: 0 });
    expect(() => limiter.take('c', -1)).toThrow(RangeError);
    expect(() => limiter.take('c', Number.NaN)).toThrow(RangeError);
  });

  it('keeps one bucket per key', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 }, { now: () => 0 });
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
  });

  it('refills nothing when the clock steps back', () => {
    let now = 10_000;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 }, { now: () => now });
    limiter.take('k');
    now = 0;
    expect(limiter.take('k').ok).toBe(false);
    now = 10_999;
    expect(limiter.take('k').ok).toBe(false);
    now = 11_000;
    expect(limiter.take('k').ok).toBe(true);
  });

  it('forgets the least recently used key beyond maxKeys, so memory stays bounded', () => {
    const limiter = new RateLimiter({ ratePerSecond: 0.001, burst: 1 }, { now: () => 0, maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    expect(limiter.take('a').ok).toBe(false); // a is now the most recently used
    limiter.take('d'); // forgets b
    expect(limiter.size).toBe(3);
    expect(limiter.take('c').ok).toBe(false);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true); // forgotten: a full bucket again (and forgets d)
    expect(limiter.take('d').ok).toBe(true);

    const many = new RateLimiter({ ratePerSecond: 1, burst: 5 }, { maxKeys: 1000 });
    for (let i = 0; i < 50_000; i++) many.take(`key-${i}`);
    expect(many.size).toBe(1000);
  });

  it('grants at most burst + ratePerSecond × T takes over any interval of length T from a fresh bucket', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 400 }), cost: fc.constantFrom(1, 1, 1, 2, 3) }), { minLength: 1, maxLength: 80, size: 'max' }),
        (ratePerSecond, burst, steps) => {
          let now = 1_000;
          const limiter = new RateLimiter({ ratePerSecond, burst }, { now: () => now });
          const granted: { at: number; cost: number }[] = [];
          for (const { gapMs, cost } of steps) {
            now += gapMs;
            if (limiter.take('k', cost).ok) granted.push({ at: now, cost });
          }
          // Every interval [granted[i].at, granted[j].at], the first ones starting at the fresh bucket.
          let worst = -Infinity;
          for (let i = 0; i < granted.length; i++) {
            let sum = 0;
            for (let j = i; j < granted.length; j++) {
              sum += granted[j]!.cost;
              worst = Math.max(worst, sum - (burst + (ratePerSecond * (granted[j]!.at - granted[i]!.at)) / 1000));
            }
          }
          expect(worst).toBeLessThanOrEqual(1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes the RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers-11', () => {
    const limiter = new RateLimiter({ ratePerSecond: 10, burst: 20 }, { now: () => 0 });
    const granted = limiter.take('k', 5);
    expect(limiter.headers(granted)).toEqual({ 'RateLimit-Policy': '"default";q=20;w=2', RateLimit: '"default";r=15;t=1' });
    const refused = limiter.take('k', 16);
    expect(refused).toEqual({ ok: false, remaining: 0, retryAfterSeconds: 1, resetSeconds: 1 });
    expect(limiter.headers(refused, 'per-key')).toEqual({ 'RateLimit-Policy': '"per-key";q=20;w=2', RateLimit: '"per-key";r=0;t=1' });
    const slow = new RateLimiter({ ratePerSecond: 0.5, burst: 3 }, { now: () => 0 });
    slow.take('k', 3);
    expect(slow.headers(slow.take('k'))).toEqual({ 'RateLimit-Policy': '"default";q=3;w=6', RateLimit: '"default";r=0;t=2' });
    expect(limiter.headers(granted, 'a "quoted" \\ name')['RateLimit']).toBe('"a \\"quoted\\" \\\\ name";r=15;t=1');
    expect(() => limiter.headers(granted, 'naïve')).toThrow(RangeError);
  });

  it('rejects unusable configurations', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: Number.POSITIVE_INFINITY, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 1.5 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 1 }, { maxKeys: 0 })).toThrow(RangeError);
  });
});
