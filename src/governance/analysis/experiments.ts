// Experiment statistics: the sample-ratio-mismatch check (is the split what the weights promised?), per-arm rates
// with Wilson intervals, shadow agreement, and an optional Thompson-sampling bandit that shifts weight toward the
// better arm without ever starving the others below a floor. Everything is deterministic for a seed.
import { chiSquareSf } from '../../monitoring/stats/index.js';
import type { AnalysisVerdict, Observation } from './analysis-types.js';
import { wilsonInterval } from './intervals.js';

export interface SampleRatioMismatch {
  readonly chi2: number;
  readonly df: number;
  readonly pValue: number;
  /** p < 0.001: the assignment is broken (the usual SRM threshold; a real experiment's p is uniform). */
  readonly mismatch: boolean;
}

/** Pearson's goodness-of-fit of the observed arm counts against the expected weights (normalized). */
export function sampleRatioMismatch(observedCounts: readonly number[], expectedWeights: readonly number[]): SampleRatioMismatch {
  if (observedCounts.length !== expectedWeights.length || observedCounts.length < 2) throw new RangeError('sampleRatioMismatch: need as many counts as weights, at least 2');
  const total = observedCounts.reduce((a, b) => a + b, 0);
  const weightSum = expectedWeights.reduce((a, b) => a + b, 0);
  if (!(weightSum > 0) || expectedWeights.some((w) => !(w >= 0))) throw new RangeError('sampleRatioMismatch: weights must be ≥ 0 with a positive sum');
  let chi2 = 0;
  let df = -1;
  for (let i = 0; i < observedCounts.length; i++) {
    const expected = (total * (expectedWeights[i] as number)) / weightSum;
    const observed = observedCounts[i] as number;
    if (expected === 0) {
      // An arm with weight 0 that got traffic is a mismatch beyond any statistic.
      if (observed > 0) return { chi2: Infinity, df: Math.max(1, df + 1), pValue: 0, mismatch: true };
      continue;
    }
    df++;
    chi2 += (observed - expected) ** 2 / expected;
  }
  if (total === 0 || df < 1) return { chi2: 0, df: Math.max(df, 0), pValue: 1, mismatch: false };
  const pValue = chiSquareSf(chi2, df);
  return { chi2, df, pValue, mismatch: pValue < 0.001 };
}

export interface RateWithInterval {
  readonly events: number;
  readonly n: number;
  readonly rate: number | null;
  readonly interval: readonly [number, number];
}

export interface ArmMetrics {
  readonly decisions: number;
  readonly errorRate: RateWithInterval;
  readonly fallbackRate: RateWithInterval;
  readonly reviewRate: RateWithInterval;
  /** Over labelled decisions only. */
  readonly accuracy: RateWithInterval;
}

function rate(observations: readonly Observation[], pick: (o: Observation) => boolean | null, confidence: number): RateWithInterval {
  let n = 0;
  let events = 0;
  for (const o of observations) {
    const v = pick(o);
    if (v === null) continue;
    n++;
    if (v) events++;
  }
  return { events, n, rate: n === 0 ? null : events / n, interval: wilsonInterval(events, n, confidence) };
}

/** Per-arm rates with Wilson score intervals. */
export function armMetrics(arms: Readonly<Record<string, readonly Observation[]>>, confidence = 0.95): Record<string, ArmMetrics> {
  const out: Record<string, ArmMetrics> = {};
  for (const [arm, observations] of Object.entries(arms)) {
    out[arm] = {
      decisions: observations.length,
      errorRate: rate(observations, (o) => o.error, confidence),
      fallbackRate: rate(observations, (o) => o.fallback, confidence),
      reviewRate: rate(observations, (o) => o.review, confidence),
      accuracy: rate(observations, (o) => o.correct, confidence),
    };
  }
  return out;
}

/** One stable decision and the candidate's shadow answer to the same input. */
export interface ShadowPair {
  readonly stable: { readonly outputLabel: string | null; readonly confidence: number | null; readonly correct: boolean | null };
  readonly candidate: { readonly outputLabel: string | null; readonly confidence: number | null; readonly correct: boolean | null };
}

export interface ShadowAgreement {
  readonly n: number;
  /** Pairs where both gave a label and the labels are equal, over pairs where both gave one. */
  readonly sameOutput: RateWithInterval;
  /** Mean |confidence difference| over pairs where both reported a confidence; null when none did. */
  readonly meanConfidenceDifference: number | null;
  readonly stableAccuracy: RateWithInterval;
  readonly candidateAccuracy: RateWithInterval;
}

export function shadowAgreement(pairs: readonly ShadowPair[], confidence = 0.95): ShadowAgreement {
  let compared = 0;
  let same = 0;
  let confidencePairs = 0;
  let confidenceSum = 0;
  for (const p of pairs) {
    if (p.stable.outputLabel !== null && p.candidate.outputLabel !== null) {
      compared++;
      if (p.stable.outputLabel === p.candidate.outputLabel) same++;
    }
    if (p.stable.confidence !== null && p.candidate.confidence !== null) {
      confidencePairs++;
      confidenceSum += Math.abs(p.stable.confidence - p.candidate.confidence);
    }
  }
  const accuracyOf = (side: 'stable' | 'candidate'): RateWithInterval => {
    let n = 0;
    let events = 0;
    for (const p of pairs) {
      const c = p[side].correct;
      if (c === null) continue;
      n++;
      if (c) events++;
    }
    return { events, n, rate: n === 0 ? null : events / n, interval: wilsonInterval(events, n, confidence) };
  };
  return {
    n: pairs.length,
    sameOutput: { events: same, n: compared, rate: compared === 0 ? null : same / compared, interval: wilsonInterval(same, compared, confidence) },
    meanConfidenceDifference: confidencePairs === 0 ? null : confidenceSum / confidencePairs,
    stableAccuracy: accuracyOf('stable'),
    candidateAccuracy: accuracyOf('candidate'),
  };
}

/** mulberry32: a small, fast, seedable 32-bit generator; plenty for Monte Carlo weights. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 − u keeps the log away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia & Tsang (2000), with the shape < 1 boost. */
function gamma(shape: number, random: () => number): number {
  if (shape < 1) return gamma(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

function beta(a: number, b: number, random: () => number): number {
  const x = gamma(a, random);
  return x / (x + gamma(b, random));
}

export interface ArmStats {
  readonly arm: string;
  /** Successes (the good outcome: a correct answer, a conversion) out of trials. */
  readonly successes: number;
  readonly trials: number;
}

export interface BanditOptions {
  /** Minimum weight of every arm (default 0.1): the bandit keeps watching after it has chosen. */
  readonly floor?: number;
  readonly draws?: number;
  readonly seed: number;
}

/**
 * Thompson-sampling weights: each arm's share of draws in which its Beta(1 + successes, 1 + failures) sample was the
 * highest, then mixed with the floor (w = floor + (1 − k·floor)·p) so that no arm falls below it. Sums to 1.
 */
export function banditWeights(arms: readonly ArmStats[], options: BanditOptions): Record<string, number> {
  const floor = options.floor ?? 0.1;
  const draws = options.draws ?? 10_000;
  const k = arms.length;
  if (k === 0) return {};
  if (!(floor >= 0 && floor * k <= 1)) throw new RangeError(`banditWeights: floor ${floor} × ${k} arms exceeds 1`);
  const random = seededRandom(options.seed);
  const wins = new Array<number>(k).fill(0);
  for (let d = 0; d < draws; d++) {
    let best = 0;
    let bestValue = -1;
    arms.forEach((arm, i) => {
      const value = beta(1 + arm.successes, 1 + Math.max(0, arm.trials - arm.successes), random);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    });
    wins[best] = (wins[best] as number) + 1;
  }
  const out: Record<string, number> = {};
  arms.forEach((arm, i) => {
    out[arm.arm] = floor + (1 - k * floor) * ((wins[i] as number) / draws);
  });
  return out;
}

/**
 * An experiment's step verdict: the arms' rates with their intervals, and the sample-ratio check of their
 * counts against the treatment's weight. A mismatch (p < 0.001) means the assignment is broken, so no
 * comparison of the arms can be trusted: the step fails whatever the metrics said.
 */
export function judgeExperiment(verdict: AnalysisVerdict, arms: { readonly control: readonly Observation[]; readonly treatment: readonly Observation[] }, weight: number, confidence = 0.95): AnalysisVerdict {
  const metrics = armMetrics(arms, confidence);
  const counts = [arms.control.length, arms.treatment.length];
  if (counts[0]! + counts[1]! === 0) return { ...verdict, arms: metrics };
  const srm = sampleRatioMismatch(counts, [1 - weight, weight]);
  if (!srm.mismatch) return { ...verdict, srm, arms: metrics };
  return {
    ...verdict,
    verdict: 'fail',
    srm,
    arms: metrics,
    summary: `fail: sample ratio mismatch: ${counts[0]} control and ${counts[1]} treatment decisions where ${Math.round(100 * weight)}% should be treatment (chi-square p ${srm.pValue.toExponential(2)} < 0.001): the assignment is broken, so the arms cannot be compared`,
  };
}
