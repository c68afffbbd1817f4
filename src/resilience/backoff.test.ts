import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultBackoffConfig, fullJitterDelay } from './backoff.js';

const justBelowOne = 1 - 2 ** -53;

describe('fullJitterDelay', () => {
  it('is 0 when the random draw is 0, and just below the bound when it is just below 1', () => {
    for (const retry of [0, 1, 2, 5]) expect(fullJitterDelay(retry, defaultBackoffConfig, () => 0)).toBe(0);
    expect(fullJitterDelay(0, defaultBackoffConfig, () => justBelowOne)).toBeCloseTo(25, 10);
    expect(fullJitterDelay(0, defaultBackoffConfig, () => justBelowOne)).toBeLessThan(25);
    expect(fullJitterDelay(3, defaultBackoffConfig, () => justBelowOne)).toBeCloseTo(200, 10);
    expect(fullJitterDelay(3, defaultBackoffConfig, () => 0.5)).toBe(100);
  });

  it('doubles the bound per retry until the cap, then keeps the cap', () => {
    const bounds = Array.from({ length: 9 }, (_, retry) => fullJitterDelay(retry, defaultBackoffConfig, () => 0.5) * 2);
    expect(bounds).toEqual([25, 50, 100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('respects the cap at large retry numbers, without overflow or NaN, even with a zero base', () => {
    for (const retry of [1000, 1023, 1024, 5000, Number.MAX_SAFE_INTEGER]) {
      expect(fullJitterDelay(retry, defaultBackoffConfig, () => justBelowOne)).toBeLessThan(1000);
      expect(fullJitterDelay(retry, defaultBackoffConfig, () => justBelowOne)).toBeCloseTo(1000, 10);
      expect(fullJitterDelay(retry, { baseMs: 0, capMs: 1000 }, () => 0.5)).toBe(0);
    }
  });

  it('stays in [0, bound) for any draw in [0, 1), any retry and any config', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        // Any sensible millisecond config: 0, or a µs and up (a subnormal bound can round up to itself).
        fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e6, noNaN: true })),
        fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e7, noNaN: true })),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, baseMs, capMs, draw) => {
          const bound = Math.min(capMs, baseMs * 2 ** Math.min(retry, 1023));
          const delay = fullJitterDelay(retry, { baseMs, capMs }, () => draw);
          expect(delay).toBeGreaterThanOrEqual(0);
          if (bound > 0) expect(delay).toBeLessThan(bound);
          else expect(delay).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('has mean bound/2 over 10,000 draws of Math.random, within 3%', () => {
    // The mean of 10,000 uniform draws on [0, b) has standard deviation b/√12/100 ≈ 0.0029·b;
    // 3% of b/2 is 0.015·b, over 5 standard deviations: a false failure about once in 10^7 runs.
    for (const retry of [2, 10]) {
      const bound = Math.min(1000, 25 * 2 ** retry);
      let sum = 0;
      for (let i = 0; i < 10_000; i++) sum += fullJitterDelay(retry, defaultBackoffConfig);
      expect(Math.abs(sum / 10_000 - bound / 2)).toBeLessThan(0.03 * (bound / 2));
    }
  });
});
