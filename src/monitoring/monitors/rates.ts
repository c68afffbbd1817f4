// A share of events (errors, fallbacks, overrides, …) with its Wilson score interval.

/** z of a two-sided 95% interval, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

export interface Rate {
  readonly numerator: number;
  readonly denominator: number;
  /** numerator / denominator; null when the denominator is 0. */
  readonly rate: number | null;
  /** Wilson score interval at `z` (default 95%); [0, 1] when the denominator is 0. */
  readonly lower: number;
  readonly upper: number;
}

/**
 * The rate numerator/denominator with its Wilson score interval (the interval of scipy.stats.binomtest(k, n).proportion_ci(
 * method='wilson')): centre (p̂ + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²). Unlike p̂ ± z·SE it stays
 * inside [0, 1] and does not collapse to a point at 0 or n events, which matters for the small counts of a short window.
 */
export function rateWithInterval(numerator: number, denominator: number, z = Z_95): Rate {
  if (!Number.isInteger(denominator) || denominator < 0) throw new RangeError(`denominator must be an integer >= 0 (got ${String(denominator)})`);
  if (!Number.isInteger(numerator) || numerator < 0 || numerator > denominator) throw new RangeError(`numerator must be an integer in [0, ${denominator}] (got ${String(numerator)})`);
  if (!(z > 0)) throw new RangeError(`z must be > 0 (got ${String(z)})`);
  if (denominator === 0) return { numerator, denominator, rate: null, lower: 0, upper: 1 };
  const n = denominator;
  const p = numerator / n;
  const z2 = z * z;
  const scale = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / scale;
  const half = (z / scale) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0 or n events the bound is exactly 0 or 1; rounding would leave a hair off it.
  const lower = numerator === 0 ? 0 : Math.max(0, centre - half);
  const upper = numerator === n ? 1 : Math.min(1, centre + half);
  return { numerator, denominator, rate: p, lower, upper };
}
