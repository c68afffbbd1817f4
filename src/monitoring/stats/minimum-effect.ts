// A test of a minimum effect for a rate: is the shift from the reference's rate larger than a margin, beyond noise?
// Used for rates counted per token (a text's out-of-vocabulary share), where a plain test calls any shift significant
// because thousands of tokens are not thousands of independent draws, and a bare distance threshold fires half the
// time when the true shift sits at the threshold. The null is "the shift is within the margin" (a composite null,
// Murphy & Myors' minimum-effect test), so its p-value joins a multiple-testing family like any other.
import { jensenShannonDistance } from './distances.js';
import { normalSf } from './distributions.js';
import { StatsInputError } from './stats-input-error.js';

/** Jensen–Shannon distance (base 2) between Bernoulli(p) and Bernoulli(q). */
export function bernoulliJensenShannon(p: number, q: number): number {
  return jensenShannonDistance([p, 1 - p], [q, 1 - q]);
}

function requireRate(x: number, name: string): void {
  if (!(x >= 0 && x <= 1)) throw new StatsInputError(`${name} must be a rate in [0, 1] (got ${String(x)})`);
}

/**
 * The rates q below and above p at which bernoulliJensenShannon(p, q) equals `threshold` (base-2 distance, in (0, 1)),
 * by bisection (the distance increases strictly as q moves away from p); null on a side where even q = 0 or q = 1 stays
 * below the threshold.
 */
export function jensenShannonMargins(p: number, threshold: number): { lower: number | null; upper: number | null } {
  requireRate(p, 'p');
  if (!(threshold > 0 && threshold < 1)) throw new StatsInputError(`threshold must be in (0, 1) (got ${String(threshold)})`);
  const solve = (end: number): number | null => {
    if (bernoulliJensenShannon(p, end) < threshold) return null;
    let inside = p;
    let outside = end;
    for (let i = 0; i < 200 && inside !== outside; i++) {
      const mid = (inside + outside) / 2;
      if (mid === inside || mid === outside) break;
      if (bernoulliJensenShannon(p, mid) < threshold) inside = mid;
      else outside = mid;
    }
    return (inside + outside) / 2;
  };
  return { lower: solve(0), upper: solve(1) };
}

export interface RateEstimate {
  /** The estimated rate. */
  readonly rate: number;
  /** Variance of that estimate. */
  readonly variance: number;
}

/**
 * Variance of a ratio estimator R = Σo_i / Σt_i over n independent units (texts) with o_i events among t_i trials
 * (tokens), by linearisation with texts as clusters: n/(n−1) · Σ(o_i − R·t_i)² / (Σt_i)², from the unit sums
 * Σo_i², Σt_i² and Σo_i·t_i. It sees that tokens of one text are not independent draws (a binomial variance on tokens
 * does not). NaN for fewer than two units or no trial.
 */
export function ratioVariance(units: number, events: number, trials: number, eventSquares: number, trialSquares: number, products: number): number {
  if (units < 2 || trials <= 0) return Number.NaN;
  const r = events / trials;
  const residual = Math.max(0, eventSquares - 2 * r * products + r * r * trialSquares);
  return ((units / (units - 1)) * residual) / (trials * trials);
}

export interface MinimumEffectResult {
  /** bernoulliJensenShannon(reference rate, current rate). */
  readonly distance: number;
  /** The rates where the distance from the reference's rate reaches the threshold (null: unreachable on that side). */
  readonly lower: number | null;
  readonly upper: number | null;
  /** Standard error of current − reference. */
  readonly standardError: number;
  /** 2 · P(a rate this far beyond the nearer margin | the true rate is at it), capped at 1. */
  readonly pValue: number;
}

/**
 * Minimum-effect test of a rate against a Jensen–Shannon margin: H0 "the current rate lies within the rates whose
 * distance from the reference's is below `threshold`", against "it lies beyond". One-sided z-tests at each margin with
 * the standard error √(var_ref + var_cur), the margins taken at the reference's estimated rate; the p-value is twice the
 * smaller one-sided p-value (Bonferroni over the two sides), capped at 1. A current rate exactly at a margin gets p = 1
 * (0.5 from that side, doubled); one beyond it by z standard errors, 2·Φ̄(z). With no noise (standard error 0) the p-value
 * is 0 beyond a margin and 1 within.
 */
export function jensenShannonMinimumEffect(reference: RateEstimate, current: RateEstimate, threshold: number): MinimumEffectResult {
  requireRate(reference.rate, 'reference rate');
  requireRate(current.rate, 'current rate');
  for (const [v, name] of [
    [reference.variance, 'reference variance'],
    [current.variance, 'current variance'],
  ] as const) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new StatsInputError(`${name} must be a finite number >= 0 (got ${String(v)})`);
  }
  const { lower, upper } = jensenShannonMargins(reference.rate, threshold);
  const standardError = Math.sqrt(reference.variance + current.variance);
  const q = current.rate;
  const side = (beyond: number): number => (standardError === 0 ? (beyond > 0 ? 0 : 1) : normalSf(beyond / standardError));
  // Bonferroni over the two one-sided tests; a side without a reachable margin cannot reject (p 1).
  const pUpper = upper === null ? 1 : side(q - upper);
  const pLower = lower === null ? 1 : side(lower - q);
  const pValue = Math.min(1, 2 * Math.min(pUpper, pLower));
  return { distance: bernoulliJensenShannon(reference.rate, q), lower, upper, standardError, pValue };
}
