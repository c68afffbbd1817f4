// Confidence intervals the rollout analysis needs and monitoring/stats does not have: Wilson's score interval for
// one proportion, Newcombe's hybrid score interval for a difference of proportions, the Welch interval for a
// difference of means, a distribution-free order-statistic interval for a quantile, and the quantiles they rest on.
import { erfc, logGamma } from '../../monitoring/stats/index.js';

/**
 * The standard normal quantile (inverse CDF) by Acklam's rational approximation refined with one Halley step,
 * accurate to about 1e-15 in (0, 1); ±Infinity at 0 and 1.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${String(p)}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  // One Halley step against an accurate CDF (erfc-based) removes the approximation's 1e-9 relative error.
  const e = 0.5 * erfc(-x / Math.SQRT2) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** The two-sided z for a confidence level, e.g. 0.95 → 1.959964. */
export function zFor(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2);
}

/**
 * Student's t quantile by the Cornish–Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5),
 * four terms: relative error below 1e-4 for df ≥ 5 at the levels used here; the normal quantile as df → ∞.
 */
export function studentTQuantile(p: number, df: number): number {
  const z = normalQuantile(p);
  if (!Number.isFinite(df) || df > 1e7) return z;
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

/** Wilson's score interval for `events` out of `trials` (no continuity correction); [0, 1] when trials is 0. */
export function wilsonInterval(events: number, trials: number, confidence = 0.95): readonly [number, number] {
  if (trials === 0) return [0, 1];
  const z = zFor(confidence);
  const p = events / trials;
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const spread = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  const denominator = 1 + z2 / trials;
  // Clamp: at p = 0 or 1 the formula gives the exact endpoint up to rounding.
  return [Math.max(0, (centre - spread) / denominator), Math.min(1, (centre + spread) / denominator)];
}

/**
 * Newcombe's hybrid score interval (method 10 of Newcombe 1998, "Interval estimation for the difference between
 * independent proportions", Statistics in Medicine 17:873–890) for p1 − p2, from the two Wilson intervals:
 * [d − √((p1−l1)² + (u2−p2)²), d + √((u1−p1)² + (p2−l2)²)]. Antisymmetric under swapping the samples.
 */
export function newcombeDifference(
  events1: number,
  trials1: number,
  events2: number,
  trials2: number,
  confidence = 0.95,
): { readonly difference: number; readonly interval: readonly [number, number] } {
  const p1 = events1 / trials1;
  const p2 = events2 / trials2;
  const [l1, u1] = wilsonInterval(events1, trials1, confidence);
  const [l2, u2] = wilsonInterval(events2, trials2, confidence);
  const d = p1 - p2;
  const lower = d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const upper = d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { difference: d, interval: [Math.max(-1, lower), Math.min(1, upper)] };
}

export interface MeanSummary {
  readonly n: number;
  readonly mean: number;
  /** Unbiased sample variance (n − 1). */
  readonly variance: number;
}

export function summarize(values: readonly number[]): MeanSummary {
  const n = values.length;
  if (n === 0) return { n: 0, mean: Number.NaN, variance: Number.NaN };
  let mean = 0;
  let m2 = 0;
  values.forEach((v, i) => {
    // Welford: stable for large means with small spread (latencies in ms, money).
    const delta = v - mean;
    mean += delta / (i + 1);
    m2 += delta * (v - mean);
  });
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : Number.NaN };
}

/**
 * Welch's interval for mean1 − mean2 with the Welch–Satterthwaite degrees of freedom; null when a side has fewer
 * than 2 values. With both variances 0 the interval is the point itself.
 */
export function welchInterval(
  first: MeanSummary,
  second: MeanSummary,
  confidence = 0.95,
): { readonly difference: number; readonly interval: readonly [number, number]; readonly df: number } | null {
  if (first.n < 2 || second.n < 2) return null;
  const a = first.variance / first.n;
  const b = second.variance / second.n;
  const difference = first.mean - second.mean;
  const se = Math.sqrt(a + b);
  if (se === 0) return { difference, interval: [difference, difference], df: Infinity };
  const df = (a + b) ** 2 / ((a * a) / (first.n - 1) + (b * b) / (second.n - 1));
  const t = studentTQuantile(1 - (1 - confidence) / 2, df);
  return { difference, interval: [difference - t * se, difference + t * se], df };
}

/** log of the binomial pmf, by log-gamma (fine for n up to millions). */
function logBinomialPmf(k: number, n: number, p: number): number {
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * A distribution-free interval for the q-quantile from the sorted sample: [x(l), x(u)] (1-based ranks) with
 * P(l ≤ B < u) ≥ confidence for B ~ Binomial(n, q), each tail ≤ (1 − confidence)/2 (the textbook order-statistic
 * interval, e.g. Hahn & Meeker, Statistical Intervals, §5.2). Null when n is too small for such ranks to exist.
 */
export function quantileInterval(
  sorted: readonly number[],
  q: number,
  confidence: number,
): { readonly estimate: number; readonly interval: readonly [number, number] } | null {
  const n = sorted.length;
  if (n === 0) return null;
  const alpha = (1 - confidence) / 2;
  // cdf[k] = P(B ≤ k), accumulated in probability space (terms underflow harmlessly to 0 far in the tails).
  const cdf = new Float64Array(n + 1);
  let total = 0;
  for (let k = 0; k <= n; k++) {
    total += Math.exp(logBinomialPmf(k, n, q));
    cdf[k] = total;
  }
  // Lower rank l: the largest with P(B ≤ l − 1) ≤ α; upper rank u: the smallest with P(B ≤ u − 1) ≥ 1 − α.
  let l = 0;
  for (let r = 1; r <= n; r++) {
    if ((cdf[r - 1] as number) <= alpha) l = r;
    else break;
  }
  let u = 0;
  for (let s = 1; s <= n; s++) {
    if ((cdf[s - 1] as number) >= 1 - alpha) {
      u = s;
      break;
    }
  }
  if (l === 0 || u === 0) return null;
  const estimate = sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number;
  return { estimate, interval: [sorted[l - 1] as number, sorted[u - 1] as number] };
}
