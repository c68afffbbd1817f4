// Drift of one feature (reference sketch vs current sketch, same specs) and of the whole input, on binned data.
import { CategoryCounter, NumericHistogram, TextStats, type FeatureKind, type FeatureSketchSet } from '../sketches/index.js';
import {
  chiSquareHomogeneity,
  cramerVonMises2samp,
  hellingerDistance,
  jensenShannonDistance,
  jensenShannonMinimumEffect,
  kolmogorovSf,
  ks2samp,
  populationStabilityIndex,
  ratioVariance,
  DEFAULT_MIN_REFERENCE_STD,
} from '../stats/index.js';
import type { DriftCorrection, DriftMethod, DriftMethodChoice, ResolvedMonitoringConfig } from './monitoring-config.js';

/** Methods that give a p-value (judged against α after the correction); the others give a distance (judged against a threshold). */
export const testMethods: readonly DriftMethod[] = ['chi-square', 'ks', 'cramer-von-mises'];

/** Default thresholds of the distance methods: PSI 0.2 (the usual "significant shift"), Evidently's 0.1 for the others. */
export const defaultDistanceThresholds: Readonly<Record<Exclude<DriftMethod, 'chi-square' | 'ks' | 'cramer-von-mises'>, number>> = Object.freeze({
  psi: 0.2,
  'jensen-shannon': 0.1,
  hellinger: 0.1,
  wasserstein: 0.1,
});

/** `auto` compares with a test up to this many current values and with a distance above (Evidently's cut, on the current window). */
export const AUTO_TEST_MAX_SAMPLES = 1000;

/** Up to this many values per side, binned KS uses SciPy's exact null distribution; above, the asymptotic one (as ks_2samp). */
const KS_EXACT_MAX = 10_000;

/** The sketch of one feature, as FeatureSketchSet keeps it. */
export type FeatureSketch = NumericHistogram | CategoryCounter | TextStats;

export interface FeatureDrift {
  readonly feature: string;
  readonly kind: FeatureKind;
  /** The method that decided (for text: the method of the component with the strongest evidence). */
  readonly method: DriftMethod;
  /** The test statistic or the distance; null when the feature could not be compared (see detail.reason). */
  readonly statistic: number | null;
  /** Raw p-value of the test methods; null for distances. */
  readonly pValue: number | null;
  /** p-value after the window's false-alarm correction (evaluateInputDrift); compareFeature gives the raw p-value. */
  readonly adjustedPValue: number | null;
  /** α for the test methods (drifted when the adjusted p-value < α), the distance bound otherwise (drifted when ≥). */
  readonly threshold: number;
  readonly drifted: boolean;
  /** Values compared on each side (finite numbers, non-missing categories, texts). */
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface CompareOptions {
  /** Default `auto`. */
  readonly method?: DriftMethodChoice;
  /** Bound of the distance methods; default defaultDistanceThresholds[method]. */
  readonly threshold?: number;
  /** Significance level of the test methods; default 0.05. */
  readonly alpha?: number;
  /** When `method` does not apply to the kind (ks, wasserstein on categories), use `auto` instead of throwing. */
  readonly fallback?: boolean;
}

/** Whether a method gives a p-value. */
export function isTestMethod(method: DriftMethod): boolean {
  return testMethods.includes(method);
}

/** What `auto` picks for a kind of data and the number of current values (see README: Evidently's choice but one). */
export function autoMethod(kind: 'numeric' | 'categorical', currentCount: number): DriftMethod {
  const small = currentCount <= AUTO_TEST_MAX_SAMPLES;
  // Cramér–von Mises rather than Evidently's KS: on raw values it caught a 0.1 sd shift in 50% of 1,000-row windows
  // against KS's 37%, at the same false-alarm rate (docs/monitoring.md, power study). Without raw values it is the binned KS.
  if (kind === 'numeric') return small ? 'cramer-von-mises' : 'jensen-shannon';
  return small ? 'chi-square' : 'jensen-shannon';
}

interface Outcome {
  readonly method: DriftMethod;
  readonly statistic: number;
  readonly pValue: number | null;
  readonly threshold: number;
  readonly drifted: boolean;
  readonly extra?: Readonly<Record<string, unknown>>;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function indexCounts(counts: readonly number[]): Map<string, number> {
  return new Map(counts.map((c, i) => [String(i), c]));
}

function judged(method: DriftMethod, statistic: number, pValue: number | null, options: CompareOptions, extra?: Record<string, unknown>): Outcome {
  if (pValue !== null) {
    const alpha = options.alpha ?? 0.05;
    return { method, statistic, pValue, threshold: alpha, drifted: pValue < alpha, extra };
  }
  const threshold = options.threshold ?? defaultDistanceThresholds[method as keyof typeof defaultDistanceThresholds];
  return { method, statistic, pValue: null, threshold, drifted: statistic >= threshold, extra };
}

/** Round half to even, as numpy.round (ks_2samp rounds the effective sample size so). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Two-sample KS on counts over ordered bins: D is the largest gap between the two empirical CDFs at the bin boundaries,
 * the only points where both are known. It is never above the D of the raw values, so its p-value (SciPy's null
 * distribution of D for continuous data: exact up to 10,000 values per side, asymptotic above) is conservative.
 */
export function binnedKs(reference: readonly number[], current: readonly number[]): { statistic: number; pValue: number; exact: boolean } {
  const n1 = sum(reference);
  const n2 = sum(current);
  if (n1 === 0 || n2 === 0) throw new RangeError('binned KS needs values on both sides');
  if (Math.max(n1, n2) <= KS_EXACT_MAX) {
    // ks2samp on the bin indices: ties at one index make both ECDFs jump together, so D is taken at bin boundaries.
    const expand = (counts: readonly number[], n: number): Float64Array => {
      const out = new Float64Array(n);
      let at = 0;
      counts.forEach((c, i) => out.fill(i, at, (at += c)));
      return out;
    };
    const result = ks2samp(expand(reference, n1), expand(current, n2));
    return { statistic: result.statistic, pValue: result.pValue, exact: result.method === 'exact' };
  }
  let f1 = 0;
  let f2 = 0;
  let d = 0;
  for (let i = 0; i < reference.length; i++) {
    f1 += reference[i] as number;
    f2 += current[i] as number;
    d = Math.max(d, Math.abs(f1 / n1 - f2 / n2));
  }
  const en = (Math.max(n1, n2) * Math.min(n1, n2)) / (n1 + n2);
  return { statistic: d, pValue: Math.min(1, Math.max(0, kolmogorovSf(roundHalfEven(en), d))), exact: false };
}

/**
 * Two-sample KS on raw values when both sides kept them: the window's sample is complete (it holds every value of the
 * window, which has at most drift.sampleSize) and the reference kept a sample (all its values, or a uniform sample of
 * them). This is scipy.stats.ks_2samp on those values (exact null distribution up to 10,000 per side). Null otherwise.
 */
export function rawKs(reference: NumericHistogram, current: NumericHistogram): { statistic: number; pValue: number; exact: boolean; referenceSample: number } | null {
  const raw = rawSamples(reference, current);
  if (raw === null) return null;
  const result = ks2samp(raw.reference, raw.current);
  return { statistic: result.statistic, pValue: result.pValue, exact: result.method === 'exact', referenceSample: raw.reference.length };
}

/** The reference's sample and the window's values, when the window's sample is complete and the reference kept one. */
function rawSamples(reference: NumericHistogram, current: NumericHistogram): { reference: number[]; current: number[] } | null {
  if (!current.sampleComplete || reference.sampleSize === 0) return null;
  const referenceValues = reference.sample();
  // Cramér–von Mises needs two values a side; KS one.
  if (referenceValues.length < 2 || current.counts.finite < 2) return null;
  return { reference: referenceValues, current: current.sample() };
}

/**
 * Knots (x, F) of a piecewise-linear CDF: each bin's mass spread evenly over the bin; the underflow over
 * [min, min(e0, max)] and the overflow over [max(eK, min), max] (a single value there is the min or max itself).
 */
function cdfKnots(histogram: NumericHistogram): { xs: number[]; fs: number[] } {
  const edges = histogram.edges;
  const counts = histogram.countsWithTails();
  const n = histogram.counts.finite;
  const min = histogram.minimum;
  const max = histogram.maximum;
  const last = counts.length - 1;
  const xs: number[] = [];
  const fs: number[] = [];
  let cumulative = 0;
  counts.forEach((c, i) => {
    if (c === 0) return;
    let lo = i === 0 ? min : (edges[i - 1] as number);
    let hi = i === last ? max : (edges[i] as number);
    if (i === 0) hi = c === 1 ? min : Math.min(hi, max);
    if (i === last) lo = c === 1 ? max : Math.max(lo, min);
    xs.push(lo);
    fs.push(cumulative / n);
    cumulative += c;
    xs.push(hi);
    fs.push(cumulative / n);
  });
  return { xs, fs };
}

/** F just right of x (after any jump at x). */
function cdfRight(k: { xs: number[]; fs: number[] }, x: number): number {
  let i = -1;
  for (let j = 0; j < k.xs.length && (k.xs[j] as number) <= x; j++) i = j;
  if (i < 0) return 0;
  if (k.xs[i] === x || i === k.xs.length - 1) return k.fs[i] as number;
  const x0 = k.xs[i] as number;
  const x1 = k.xs[i + 1] as number;
  return (k.fs[i] as number) + (((k.fs[i + 1] as number) - (k.fs[i] as number)) * (x - x0)) / (x1 - x0);
}

/** F just left of x (before any jump at x). */
function cdfLeft(k: { xs: number[]; fs: number[] }, x: number): number {
  // The first knot at or right of x.
  let i = 0;
  while (i < k.xs.length && (k.xs[i] as number) < x) i++;
  if (i === k.xs.length) return 1;
  if (k.xs[i] === x) return k.fs[i] as number;
  if (i === 0) return 0;
  const x0 = k.xs[i - 1] as number;
  const x1 = k.xs[i] as number;
  return (k.fs[i - 1] as number) + (((k.fs[i] as number) - (k.fs[i - 1] as number)) * (x - x0)) / (x1 - x0);
}

/**
 * Wasserstein-1 distance between two histograms over the same edges, ∫|F_r − F_c| dx, with each side's CDF taken as
 * linear within a bin (its mass spread evenly over the bin) and its tails spread over [its own minimum, e0] and
 * [eK, its own maximum], clipped to [min, max] (the sketches keep the exact min and max; a single value in a tail is one of them). The true and the approximated CDFs agree at every
 * edge, so the error is at most Σ_segments width · (p + q); it is exact when values are spread evenly within bins, and
 * worst in wide, skewed outer bins (why `auto` does not pick it on binned data).
 */
export function binnedWasserstein(reference: NumericHistogram, current: NumericHistogram): number {
  if (reference.counts.finite === 0 || current.counts.finite === 0) throw new RangeError('binned Wasserstein needs values on both sides');
  const r = cdfKnots(reference);
  const c = cdfKnots(current);
  const points = [...new Set([...r.xs, ...c.xs])].sort((a, b) => a - b);
  let distance = 0;
  for (let j = 0; j + 1 < points.length; j++) {
    const x0 = points[j] as number;
    const x1 = points[j + 1] as number;
    const d0 = cdfRight(r, x0) - cdfRight(c, x0);
    const d1 = cdfLeft(r, x1) - cdfLeft(c, x1);
    const width = x1 - x0;
    // ∫ |linear from d0 to d1| over the interval, split where it crosses zero.
    if (d0 * d1 >= 0) distance += ((Math.abs(d0) + Math.abs(d1)) / 2) * width;
    else distance += ((d0 * d0 + d1 * d1) / (2 * (Math.abs(d0) + Math.abs(d1)))) * width;
  }
  return distance;
}

/** Binned Wasserstein divided by the reference's standard deviation (exact, from the sketch's moments; floored at 0.001 as Evidently). */
export function binnedNormedWasserstein(reference: NumericHistogram, current: NumericHistogram): { statistic: number; distance: number; referenceStd: number } {
  const distance = binnedWasserstein(reference, current);
  const referenceStd = reference.std();
  return { statistic: distance / Math.max(referenceStd, DEFAULT_MIN_REFERENCE_STD), distance, referenceStd };
}

/** Compares two count vectors over the same bins with a bin-based method (chi-square, KS when `ordered`, PSI, JS, Hellinger). */
function compareCounts(method: DriftMethod, reference: readonly number[], current: readonly number[], ordered: boolean, options: CompareOptions): Outcome {
  switch (method) {
    case 'chi-square': {
      const result = chiSquareHomogeneity(indexCounts(reference), indexCounts(current));
      return judged(method, result.statistic, result.pValue, options, { degreesOfFreedom: result.degreesOfFreedom });
    }
    case 'ks': {
      if (!ordered) throw new RangeError('ks needs ordered values; it does not apply to categories');
      const result = binnedKs(reference, current);
      return judged(method, result.statistic, result.pValue, options, { exact: result.exact });
    }
    case 'psi':
      return judged(method, populationStabilityIndex(reference, current), null, options);
    case 'jensen-shannon':
      return judged(method, jensenShannonDistance(reference, current), null, options);
    case 'hellinger':
      return judged(method, hellingerDistance(reference, current), null, options);
    case 'wasserstein':
      throw new RangeError('wasserstein needs numeric values; it does not apply to categories');
    case 'cramer-von-mises':
      throw new RangeError(ordered ? 'cramer-von-mises needs raw values' : 'cramer-von-mises needs ordered values; it does not apply to categories');
    default:
      throw new RangeError(`unknown drift method ${JSON.stringify(method)}`);
  }
}

function compareNumeric(reference: NumericHistogram, current: NumericHistogram, method: DriftMethod, options: CompareOptions): Outcome {
  switch (method) {
    case 'chi-square':
      // Tails folded: the reference's tails are empty by construction (its edges are its min and max), and one current
      // value out there would make an expected count of ~0 dominate the statistic.
      return compareCounts(method, reference.foldedCounts(), current.foldedCounts(), true, options);
    case 'wasserstein': {
      const w = binnedNormedWasserstein(reference, current);
      return judged(method, w.statistic, null, options, { distance: w.distance, referenceStd: w.referenceStd });
    }
    case 'cramer-von-mises': {
      // Raw values only: on bins (ties everywhere) its continuous null distribution has no guarantee, so without them
      // the comparison is the binned KS (conservative), and detail says so.
      const raw = rawSamples(reference, current);
      if (raw === null) {
        const binned = compareCounts('ks', reference.countsWithTails(), current.countsWithTails(), true, options);
        return { ...binned, extra: { values: 'binned', requestedMethod: method, ...binned.extra } };
      }
      const result = cramerVonMises2samp(raw.reference, raw.current);
      return judged(method, result.statistic, result.pValue, options, { values: 'raw', exact: result.method === 'exact', referenceSample: raw.reference.length });
    }
    case 'ks': {
      const raw = rawKs(reference, current);
      if (raw === null) {
        const binned = compareCounts(method, reference.countsWithTails(), current.countsWithTails(), true, options);
        return { ...binned, extra: { values: 'binned', ...binned.extra } };
      }
      return judged(method, raw.statistic, raw.pValue, options, { values: 'raw', exact: raw.exact, referenceSample: raw.referenceSample });
    }
    default:
      return compareCounts(method, reference.countsWithTails(), current.countsWithTails(), true, options);
  }
}

function resolveMethod(choice: DriftMethodChoice | undefined, kind: 'numeric' | 'categorical', currentCount: number): DriftMethod {
  return choice === undefined || choice === 'auto' ? autoMethod(kind, currentCount) : choice;
}

function missingShare(missing: number, present: number): number | null {
  return missing + present === 0 ? null : missing / (missing + present);
}

function unusable(feature: string, kind: FeatureKind, method: DriftMethod, threshold: number, referenceCount: number, currentCount: number, reason: string, detail: Record<string, unknown> = {}): FeatureDrift {
  return { feature, kind, method, statistic: null, pValue: null, adjustedPValue: null, threshold, drifted: false, referenceCount, currentCount, detail: { ...detail, reason } };
}

function fromOutcome(feature: string, kind: FeatureKind, outcome: Outcome, referenceCount: number, currentCount: number, detail: Record<string, unknown>): FeatureDrift {
  return {
    feature,
    kind,
    method: outcome.method,
    statistic: outcome.statistic,
    pValue: outcome.pValue,
    adjustedPValue: outcome.pValue,
    threshold: outcome.threshold,
    drifted: outcome.drifted,
    referenceCount,
    currentCount,
    detail: { ...detail, ...outcome.extra },
  };
}

function defaultThreshold(method: DriftMethod, options: CompareOptions): number {
  return isTestMethod(method) ? (options.alpha ?? 0.05) : (options.threshold ?? defaultDistanceThresholds[method as keyof typeof defaultDistanceThresholds]);
}

function numericDrift(feature: string, reference: NumericHistogram, current: NumericHistogram, options: CompareOptions): FeatureDrift {
  const n1 = reference.counts.finite;
  const n2 = current.counts.finite;
  const method = resolveMethod(options.method, 'numeric', n2);
  const missing = (h: NumericHistogram) => h.counts.missing + h.counts.nonFinite + h.counts.invalid;
  const share = (part: number, n: number) => (n === 0 ? null : part / n);
  const detail = {
    referenceMean: n1 === 0 ? null : reference.mean(),
    currentMean: n2 === 0 ? null : current.mean(),
    referenceOutOfRange: share(reference.counts.underflow + reference.counts.overflow, n1),
    currentOutOfRange: share(current.counts.underflow + current.counts.overflow, n2),
    referenceMissing: missingShare(missing(reference), n1),
    currentMissing: missingShare(missing(current), n2),
  };
  if (n1 === 0) return unusable(feature, 'numeric', method, defaultThreshold(method, options), n1, n2, 'the reference has no values', detail);
  if (n2 === 0) return unusable(feature, 'numeric', method, defaultThreshold(method, options), n1, n2, 'the window has no values', detail);
  return fromOutcome(feature, 'numeric', compareNumeric(reference, current, method, options), n1, n2, detail);
}

function categoricalDrift(feature: string, reference: CategoryCounter, current: CategoryCounter, options: CompareOptions): FeatureDrift {
  const r = reference.countsWithOther();
  const c = current.countsWithOther();
  const n1 = sum(r);
  const n2 = sum(c);
  let method = resolveMethod(options.method, 'categorical', n2);
  const requested = method;
  if (options.fallback === true && (method === 'ks' || method === 'cramer-von-mises' || method === 'wasserstein')) method = autoMethod('categorical', n2);
  const names = [...reference.categories, '(other)'];
  const shifts =
    n1 === 0 || n2 === 0
      ? []
      : names
          .map((category, i) => ({ category, reference: (r[i] as number) / n1, current: (c[i] as number) / n2 }))
          .filter((s) => s.reference !== s.current)
          .sort((a, b) => Math.abs(b.current - b.reference) - Math.abs(a.current - a.reference))
          .slice(0, 3);
  const missing = (cc: CategoryCounter) => cc.counts.missing + cc.counts.invalid;
  const detail = {
    referenceOther: n1 === 0 ? null : reference.counts.other / n1,
    currentOther: n2 === 0 ? null : current.counts.other / n2,
    referenceMissing: missingShare(missing(reference), n1),
    currentMissing: missingShare(missing(current), n2),
    largestShifts: shifts,
    ...(requested === method ? {} : { requestedMethod: requested }),
  };
  if (n1 === 0) return unusable(feature, 'categorical', method, defaultThreshold(method, options), n1, n2, 'the reference has no values', detail);
  if (n2 === 0) return unusable(feature, 'categorical', method, defaultThreshold(method, options), n1, n2, 'the window has no values', detail);
  return fromOutcome(feature, 'categorical', compareCounts(method, r, c, false, options), n1, n2, detail);
}

/** The method of a text feature's share components (out-of-vocabulary tokens, empty texts), given its token-count method. */
function shareMethod(tokenMethod: DriftMethod, chosen: DriftMethodChoice | undefined, currentTexts: number): DriftMethod {
  if (chosen === undefined || chosen === 'auto') return autoMethod('categorical', currentTexts);
  if (isTestMethod(tokenMethod)) return 'chi-square';
  return tokenMethod === 'wasserstein' ? 'jensen-shannon' : tokenMethod;
}

/**
 * A text sketch's out-of-vocabulary rate and the variance of that estimate, texts as independent units (ratioVariance);
 * a sketch stored before the per-text sums were kept falls back to the binomial variance over tokens, which is too small.
 */
function oovEstimate(stats: TextStats): { rate: number; variance: number } {
  const c = stats.counts;
  const rate = c.outOfVocabulary / c.tokens;
  const m = stats.textMoments;
  const clustered = m === null ? Number.NaN : ratioVariance(c.texts, c.outOfVocabulary, c.tokens, Number(m.oovSquares), Number(m.tokenSquares), Number(m.products));
  return { rate, variance: Number.isFinite(clustered) ? clustered : (rate * (1 - rate)) / c.tokens };
}

function textDrift(feature: string, reference: TextStats, current: TextStats, options: CompareOptions): FeatureDrift {
  const rc = reference.counts;
  const cc = current.counts;
  const n1 = rc.texts;
  const n2 = cc.texts;
  const tokenMethod = resolveMethod(options.method, 'numeric', n2);
  const proportions = shareMethod(tokenMethod, options.method, n2);
  const detail: Record<string, unknown> = {
    referenceEmpty: n1 === 0 ? null : rc.empty / n1,
    currentEmpty: n2 === 0 ? null : cc.empty / n2,
    referenceOutOfVocabulary: Number.isNaN(reference.outOfVocabularyRate()) ? null : reference.outOfVocabularyRate(),
    currentOutOfVocabulary: Number.isNaN(current.outOfVocabularyRate()) ? null : current.outOfVocabularyRate(),
    referenceMissing: missingShare(rc.missing + rc.invalid, n1),
    currentMissing: missingShare(cc.missing + cc.invalid, n2),
  };
  if (n1 === 0) return unusable(feature, 'text', tokenMethod, defaultThreshold(tokenMethod, options), n1, n2, 'the reference has no texts', detail);
  if (n2 === 0) return unusable(feature, 'text', tokenMethod, defaultThreshold(tokenMethod, options), n1, n2, 'the window has no texts', detail);

  // A distance threshold given for wasserstein does not carry over to the Jensen–Shannon of the share components.
  const shareOptions = proportions === tokenMethod ? options : { alpha: options.alpha };
  const components: (Outcome & { component: string })[] = [
    { component: 'token-count', ...compareNumeric(reference.tokenCountHistogram, current.tokenCountHistogram, tokenMethod, options) },
    { component: 'empty', ...compareCounts(proportions, [rc.empty, n1 - rc.empty], [cc.empty, n2 - cc.empty], true, shareOptions) },
  ];
  // Out-of-vocabulary tokens are counted per token, not per text: a window of a few hundred mails has hundreds of
  // thousands of tokens, where a test of "no change" calls a shift of a fraction of a point significant, and the
  // reference's own rate is measured in-sample (lower than any new text's). Under a distance method this component uses
  // that distance. Under a test method it is a minimum-effect test: is the rate's Jensen–Shannon distance from the
  // reference's beyond the margin (0.1, the distance's default threshold) by more than noise, with texts (not tokens)
  // as the independent units? Its p-value then joins the feature's other components and the correction across features.
  const hasOov = !Number.isNaN(reference.outOfVocabularyRate()) && !Number.isNaN(current.outOfVocabularyRate());
  let oov: (Outcome & { component: string }) | undefined;
  if (hasOov && isTestMethod(proportions)) {
    const margin = defaultDistanceThresholds['jensen-shannon'];
    const test = jensenShannonMinimumEffect(oovEstimate(reference), oovEstimate(current), margin);
    oov = {
      component: 'out-of-vocabulary',
      ...judged('jensen-shannon', test.distance, test.pValue, shareOptions, {
        margin,
        marginRates: [test.lower, test.upper],
        standardError: test.standardError,
      }),
    };
  } else if (hasOov) {
    oov = { component: 'out-of-vocabulary', ...compareCounts(proportions, [rc.outOfVocabulary, rc.tokens - rc.outOfVocabulary], [cc.outOfVocabulary, cc.tokens - cc.outOfVocabulary], true, shareOptions) };
  }
  const all = oov === undefined ? components : [...components, oov];
  detail.components = all.map((o) => ({ component: o.component, method: o.method, statistic: o.statistic, pValue: o.pValue, threshold: o.threshold, drifted: o.drifted, ...o.extra }));

  let decisive: Outcome & { component: string };
  let outcome: Outcome;
  if (isTestMethod(tokenMethod)) {
    // Bonferroni within the feature: the smallest p-value times the number of components is a valid p-value for "any";
    // that one p-value per feature is what the correction across features sees.
    decisive = all.reduce((best, o) => ((o.pValue as number) < (best.pValue as number) ? o : best));
    const pValue = Math.min(1, (decisive.pValue as number) * all.length);
    outcome = judged(decisive.method, decisive.statistic, pValue, options, decisive.extra);
  } else {
    decisive = all.reduce((best, o) => (o.statistic / o.threshold > best.statistic / best.threshold ? o : best));
    outcome = { ...decisive, drifted: all.some((o) => o.drifted) };
  }
  detail.component = decisive.component;
  return fromOutcome(feature, 'text', outcome, n1, n2, detail);
}

/**
 * Compares one feature's reference sketch with its current sketch (same specs, else a SketchError); see README for the
 * methods, what `auto` picks and what each kind compares. A feature without values on one side comes back with
 * statistic null and detail.reason; a method that does not apply to the kind throws a RangeError.
 */
export function compareFeature(feature: string, reference: FeatureSketch, current: FeatureSketch, options: CompareOptions = {}): FeatureDrift {
  if (reference instanceof NumericHistogram && current instanceof NumericHistogram) {
    checkSameEdges(reference.edges, current.edges, feature);
    return numericDrift(feature, reference, current, options);
  }
  if (reference instanceof CategoryCounter && current instanceof CategoryCounter) {
    if (reference.categories.length !== current.categories.length || reference.categories.some((c, i) => c !== current.categories[i])) {
      throw new RangeError(`feature ${JSON.stringify(feature)}: the reference and the window track different categories`);
    }
    return categoricalDrift(feature, reference, current, options);
  }
  if (reference instanceof TextStats && current instanceof TextStats) {
    checkSameEdges(reference.tokenCountHistogram.edges, current.tokenCountHistogram.edges, feature);
    // Token counts of prefixes under different caps are not the same measurement.
    if (reference.maxChars !== current.maxChars) throw new RangeError(`feature ${JSON.stringify(feature)}: the reference tokenized ${reference.maxChars === undefined ? 'whole texts' : `at most ${reference.maxChars} code units`}, the window ${current.maxChars === undefined ? 'whole texts' : `at most ${current.maxChars}`}`);
    return textDrift(feature, reference, current, options);
  }
  throw new RangeError(`feature ${JSON.stringify(feature)} is sketched as different kinds in the reference and the window`);
}

function checkSameEdges(a: readonly number[], b: readonly number[], feature: string): void {
  if (a.length !== b.length || a.some((e, i) => e !== b[i])) throw new RangeError(`feature ${JSON.stringify(feature)}: the reference and the window use different bin edges`);
}

/**
 * p-values adjusted for testing m features at once: Benjamini–Hochberg (q_(i) = min over j ≥ i of m·p_(j)/j, the
 * adjustment of scipy.stats.false_discovery_control), Bonferroni (min(1, m·p)) or none. Rejecting q < α keeps the
 * expected share of false alarms among drifted features below α (BH) or the chance of any false alarm below α (Bonferroni).
 */
export function adjustPValues(pValues: readonly number[], correction: DriftCorrection): number[] {
  const m = pValues.length;
  if (correction === 'none') return pValues.slice();
  if (correction === 'bonferroni') return pValues.map((p) => Math.min(1, p * m));
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const [p, index] = order[rank - 1] as readonly [number, number];
    running = Math.min(running, (p * m) / rank);
    adjusted[index] = running;
  }
  return adjusted;
}

export interface InputDrift {
  /** One entry per reference feature that is enabled, in the reference's order. */
  readonly features: readonly FeatureDrift[];
  /** Features actually compared (statistic not null). */
  readonly compared: number;
  /** Drifted features among those compared; null when none was compared. */
  readonly driftedShare: number | null;
  /** driftedShare ≥ drift.share. */
  readonly drifted: boolean;
  readonly correction: DriftCorrection;
  readonly alpha: number;
  readonly share: number;
}

type DriftConfig = Pick<ResolvedMonitoringConfig, 'drift' | 'minSamples'>;

/** The comparison options of one feature under the config: its override, else the drift block's method and threshold. */
export function featureOptions(feature: string, config: DriftConfig): CompareOptions & { enabled: boolean } {
  const override = config.drift.features[feature];
  const threshold = override?.threshold ?? config.drift.threshold;
  // The service-wide method falls back to auto where it does not apply (ks or wasserstein on categories); one set for the feature does not.
  const method = override?.method ?? config.drift.method;
  const fallback = override?.method === undefined;
  return { method, ...(threshold === undefined ? {} : { threshold }), alpha: config.drift.alpha, fallback, enabled: override?.enabled ?? true };
}

/**
 * Drift of every enabled reference feature and of the whole input. A feature the window lacks, or with fewer than
 * minSamples current values, is listed uncompared (statistic null, detail.reason). The p-value features are corrected
 * together (config.drift.correction, Benjamini–Hochberg by default) and drift when their adjusted p-value < α; distance
 * features drift at or above their threshold. The input drifts when at least drift.share of the compared features do.
 */
export function evaluateInputDrift(reference: FeatureSketchSet, current: FeatureSketchSet, config: DriftConfig): InputDrift {
  const results: FeatureDrift[] = [];
  for (const name of reference.featureNames) {
    const options = featureOptions(name, config);
    if (!options.enabled) continue;
    const referenceSketch = reference.feature(name);
    const kind: FeatureKind = referenceSketch instanceof NumericHistogram ? 'numeric' : referenceSketch instanceof CategoryCounter ? 'categorical' : 'text';
    const placeholder = resolveMethod(options.method, kind === 'categorical' ? 'categorical' : 'numeric', 0);
    if (!current.featureNames.includes(name)) {
      results.push(unusable(name, kind, placeholder, defaultThreshold(placeholder, options), 0, 0, 'the window has no sketch of this feature'));
      continue;
    }
    let drift: FeatureDrift;
    try {
      drift = compareFeature(name, referenceSketch, current.feature(name), options);
    } catch (error) {
      // Different bins, or a method that does not apply to the kind (SketchError and StatsInputError are RangeErrors too).
      if (!(error instanceof RangeError)) throw error;
      results.push(unusable(name, kind, placeholder, defaultThreshold(placeholder, options), 0, 0, error.message));
      continue;
    }
    if (drift.statistic !== null && drift.currentCount < config.minSamples) {
      results.push({ ...drift, statistic: null, pValue: null, adjustedPValue: null, drifted: false, detail: { ...drift.detail, reason: `${drift.currentCount} values in the window, fewer than minSamples (${config.minSamples})` } });
    } else {
      results.push(drift);
    }
  }
  const tested = results.map((r, i) => [r, i] as const).filter(([r]) => r.pValue !== null);
  const adjusted = adjustPValues(
    tested.map(([r]) => r.pValue as number),
    config.drift.correction,
  );
  tested.forEach(([r, i], k) => {
    const q = adjusted[k] as number;
    results[i] = { ...r, adjustedPValue: q, drifted: q < r.threshold };
  });
  const compared = results.filter((r) => r.statistic !== null).length;
  const driftedCount = results.filter((r) => r.drifted).length;
  const driftedShare = compared === 0 ? null : driftedCount / compared;
  return {
    features: results,
    compared,
    driftedShare,
    drifted: driftedShare !== null && driftedShare >= config.drift.share,
    correction: config.drift.correction,
    alpha: config.drift.alpha,
    share: config.drift.share,
  };
}

/** Drift of the predicted labels (the output label counter), a categorical comparison. */
export function compareOutputDrift(reference: FeatureSketchSet, current: FeatureSketchSet, options: CompareOptions = {}): FeatureDrift {
  return compareFeature('(output)', reference.outputLabels, current.outputLabels, options);
}

/** Drift of the model's confidence (the confidence histogram over CONFIDENCE_EDGES), a numeric comparison. */
export function compareConfidenceDrift(reference: FeatureSketchSet, current: FeatureSketchSet, options: CompareOptions = {}): FeatureDrift {
  return compareFeature('(confidence)', reference.confidenceHistogram, current.confidenceHistogram, options);
}
