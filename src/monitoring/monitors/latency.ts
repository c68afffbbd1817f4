// Latency quantiles read from a fixed-edge histogram (LATENCY_EDGES_MS): upper bounds, never interpolations.
import type { NumericHistogram } from '../sketches/index.js';

export interface LatencySummary {
  /** Timings counted (finite values). */
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

/**
 * The q-quantile of a histogram's values as an upper bound: the upper edge of the bin that holds the value of rank
 * ⌈q·n⌉ (the nearest-rank quantile), capped at the largest value seen; for a value in the overflow (above the last edge)
 * the largest value seen. So the true nearest-rank quantile is never above the reported one and lies in the same bin.
 * null for an empty histogram.
 */
export function histogramQuantile(histogram: NumericHistogram, q: number): number | null {
  if (!(q > 0 && q <= 1)) throw new RangeError(`quantile must lie in (0, 1] (got ${String(q)})`);
  const n = histogram.counts.finite;
  if (n === 0) return null;
  const product = q * n;
  const nearest = Math.round(product);
  // q·n can land a hair above an integer (0.95 · 60 = 57.00000000000001): that integer is the rank.
  const rank = Math.max(1, Math.abs(product - nearest) < 1e-9 * n ? nearest : Math.ceil(product));
  const counts = histogram.countsWithTails();
  const edges = histogram.edges;
  const max = histogram.maximum;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i] as number;
    if (cumulative >= rank) {
      // counts[0] is the underflow (upper edge e0), counts[k] bin k-1 (upper edge e_k), the last the overflow.
      return i === counts.length - 1 ? max : Math.min(edges[i] as number, max);
    }
  }
  return max;
}

/** p50, p90, p95, p99 (upper bounds, see histogramQuantile), max and the exact mean of a latency histogram in ms. */
export function summarizeLatency(histogram: NumericHistogram): LatencySummary {
  const count = histogram.counts.finite;
  return {
    count,
    p50: histogramQuantile(histogram, 0.5),
    p90: histogramQuantile(histogram, 0.9),
    p95: histogramQuantile(histogram, 0.95),
    p99: histogramQuantile(histogram, 0.99),
    max: count === 0 ? null : histogram.maximum,
    mean: count === 0 ? null : histogram.mean(),
  };
}
