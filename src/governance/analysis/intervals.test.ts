// Interval formulas against published values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newcombeDifference, normalQuantile, quantileInterval, studentTQuantile, summarize, welchInterval, wilsonInterval } from './intervals.js';

describe('normalQuantile and studentTQuantile', () => {
  it('match the standard tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829304, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 8);
    expect(normalQuantile(0.5)).toBe(0);
    // Student's t (any table, e.g. Abramowitz & Stegun Table 26.10).
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228139, 3);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272, 4);
    expect(studentTQuantile(0.95, 20)).toBeCloseTo(1.724718, 4);
  });
});

describe('wilsonInterval', () => {
  // Newcombe R. G. (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
  // methods", Statistics in Medicine 17:857–872, Table I, method 3 (score, no continuity correction).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i → [%f, %f]', (x, n, lo, hi) => {
    const [l, u] = wilsonInterval(x, n);
    expect(l).toBeCloseTo(lo, 4);
    expect(u).toBeCloseTo(hi, 4);
  });
});

describe('newcombeDifference', () => {
  // Newcombe R. G. (1998), "Interval estimation for the difference between independent proportions: comparison of
  // eleven methods", Statistics in Medicine 17:873–890, Table II, method 10 (hybrid score, no continuity correction).
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [6, 7, 2, 7, 0.0582, 0.8062],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
    [10, 10, 0, 20, 0.6791, 1],
    [10, 10, 0, 10, 0.6075, 1],
  ])('%i/%i − %i/%i → [%f, %f]', (a, m, b, n, lo, hi) => {
    const { interval } = newcombeDifference(a, m, b, n);
    expect(interval[0]).toBeCloseTo(lo, 4);
    expect(interval[1]).toBeCloseTo(hi, 4);
  });

  it('is antisymmetric under swapping the samples and contains the estimate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n1, n2, f1, f2) => {
        const e1 = Math.round(f1 * n1);
        const e2 = Math.round(f2 * n2);
        const ab = newcombeDifference(e1, n1, e2, n2);
        const ba = newcombeDifference(e2, n2, e1, n1);
        expect(ba.interval[0]).toBeCloseTo(-ab.interval[1], 12);
        expect(ba.interval[1]).toBeCloseTo(-ab.interval[0], 12);
        expect(ab.interval[0]).toBeLessThanOrEqual(ab.difference + 1e-12);
        expect(ab.interval[1]).toBeGreaterThanOrEqual(ab.difference - 1e-12);
      }),
    );
  });
});

describe('welchInterval', () => {
  it('matches the Welch–Satterthwaite formula computed by hand', () => {
    // x = 1..5, y = 2,4,…,10: means 3 and 6, variances 2.5 and 10, se = √(0.5 + 2) = 1.58114,
    // df = 2.5² / (0.5²/4 + 2²/4) = 5.88235; t(0.975, 5.88) ≈ 2.459 (interpolated in 1/df between the tabulated
    // t(0.975, 5) = 2.5706 and t(0.975, 6) = 2.4469), so ≈ [−6.888, 0.888].
    const w = welchInterval(summarize([1, 2, 3, 4, 5]), summarize([2, 4, 6, 8, 10]));
    expect(w).not.toBeNull();
    expect(w!.df).toBeCloseTo(5.88235, 4);
    expect(w!.difference).toBe(-3);
    expect(w!.interval[0]).toBeCloseTo(-3 - 2.4587 * 1.581139, 2);
    expect(w!.interval[1]).toBeCloseTo(-3 + 2.4587 * 1.581139, 2);
  });

  it('is null with fewer than two values on a side', () => {
    expect(welchInterval(summarize([1]), summarize([1, 2]))).toBeNull();
  });
});

describe('quantileInterval', () => {
  it('gives the tabulated ranks 40 and 61 for the median of 100 at 95%', () => {
    // Order-statistic interval for the median, n = 100: ranks 40 and 61 (e.g. Conover, Practical Nonparametric
    // Statistics, Table A3 / the binomial(100, 0.5) tails P(B ≤ 39) = 0.0176, P(B ≤ 60) = 0.9824).
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    const q = quantileInterval(sorted, 0.5, 0.95);
    expect(q?.interval).toEqual([40, 61]);
    expect(q?.estimate).toBe(50);
  });

  it('is null when n is too small for the ranks to exist', () => {
    expect(quantileInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95, 0.95)).toBeNull();
  });

  it('covers the true quantile in at least the nominal share of seeded samples', () => {
    // Uniform(0,1) samples of 200: the true p95 is 0.95.
    let covered = 0;
    let s = 12345;
    const random = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const runs = 400;
    for (let r = 0; r < runs; r++) {
      const sample = Array.from({ length: 200 }, random).sort((a, b) => a - b);
      const q = quantileInterval(sample, 0.95, 0.9)!;
      if (q.interval[0] <= 0.95 && 0.95 <= q.interval[1]) covered++;
    }
    expect(covered / runs).toBeGreaterThanOrEqual(0.87);
  });
});
