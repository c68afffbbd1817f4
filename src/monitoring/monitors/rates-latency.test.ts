import { describe, expect, it } from 'vitest';
import { LATENCY_EDGES_MS, NumericHistogram } from '../sketches/index.js';
import fixtures from './fixtures/monitors.json' with { type: 'json' };
import { histogramQuantile, summarizeLatency } from './latency.js';
import { rateWithInterval } from './rates.js';

describe('rateWithInterval', () => {
  it.each(fixtures.wilson.map((w) => [`${w.k}/${w.n}`, w] as const))('%s = binomtest(k, n).proportion_ci(method="wilson")', (_name, w) => {
    const r = rateWithInterval(w.k, w.n);
    expect(r.rate).toBe(w.k / w.n);
    expect(Math.abs(r.lower - w.lower)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(r.upper - w.upper)).toBeLessThanOrEqual(1e-12);
  });

  it('has no rate and the whole interval for an empty denominator, and refuses impossible counts', () => {
    expect(rateWithInterval(0, 0)).toEqual({ numerator: 0, denominator: 0, rate: null, lower: 0, upper: 1 });
    expect(() => rateWithInterval(3, 2)).toThrow(RangeError);
    expect(() => rateWithInterval(-1, 2)).toThrow(RangeError);
    expect(() => rateWithInterval(1, 2.5)).toThrow(RangeError);
  });
});

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('histogramQuantile', () => {
  const random = seeded(9);
  const values = [...Array.from({ length: 997 }, () => Math.exp(random() * 8 - 3)), 0.001, 20_000, 12_000];
  const histogram = new NumericHistogram(LATENCY_EDGES_MS);
  values.forEach((v) => histogram.update(v));
  const sorted = [...values].sort((a, b) => a - b);

  /** Brute force: the nearest-rank value, then the upper edge of its bin (the max when above the last edge), capped at the max. */
  function expected(q: number): number {
    const value = sorted[Math.max(1, Math.ceil(q * sorted.length - 1e-9)) - 1] as number;
    const max = sorted.at(-1) as number;
    const upper = LATENCY_EDGES_MS.find((e) => e > value) ?? (value === LATENCY_EDGES_MS.at(-1) ? value : max);
    return Math.min(upper, max);
  }

  it.each([0.001, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.997, 0.998, 0.999, 1])('q = %s: the upper edge of the bin holding the nearest-rank value', (q) => {
    const reported = histogramQuantile(histogram, q)!;
    expect(reported).toBe(expected(q));
    const nearestRank = sorted[Math.ceil(q * sorted.length - 1e-9) - 1] as number;
    expect(reported).toBeGreaterThanOrEqual(nearestRank);
  });

  it('summarizes p50/p90/p95/p99, max and mean, and is empty-safe', () => {
    const s = summarizeLatency(histogram);
    expect([s.p50, s.p90, s.p95, s.p99]).toEqual([expected(0.5), expected(0.9), expected(0.95), expected(0.99)]);
    expect(s.max).toBe(20_000);
    expect(s.count).toBe(1000);
    expect(s.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 1000, 9);
    expect(summarizeLatency(new NumericHistogram(LATENCY_EDGES_MS))).toEqual({ count: 0, p50: null, p90: null, p95: null, p99: null, max: null, mean: null });
  });

  it('reports exact values for one value and for all-equal values, and a rank that lands on an integer', () => {
    const one = new NumericHistogram(LATENCY_EDGES_MS);
    one.update(37);
    expect(histogramQuantile(one, 0.95)).toBe(37);
    const twenty = new NumericHistogram(LATENCY_EDGES_MS);
    for (let i = 1; i <= 20; i++) twenty.update(i <= 19 ? 3 : 300);
    // 0.95 · 20 = 19: the 19th value (3 ms, bin [2, 5)) → 5, not the 20th.
    expect(histogramQuantile(twenty, 0.95)).toBe(5);
    expect(histogramQuantile(twenty, 1)).toBe(300);
    expect(() => histogramQuantile(one, 0)).toThrow(RangeError);
  });
});
