// Confidence-based performance estimation (NannyML's CBPE) of accuracy, from a labelled reference and live confidences.
import { CONFIDENCE_EDGES, type NumericHistogram } from '../sketches/index.js';
import type { CalibrationTable } from './calibration-table.js';

export interface CbpeBin {
  readonly lower: number;
  readonly upper: number;
  /** Current predictions with a confidence in this bin. */
  readonly count: number;
  /** Labelled reference predictions in this bin. */
  readonly referenceCount: number;
  /** The probability that a prediction in this bin is right: the reference's accuracy there, else the bin's midpoint. */
  readonly expectedAccuracy: number;
  readonly source: 'reference' | 'midpoint';
}

export interface CbpeEstimate {
  readonly estimatedAccuracy: number;
  /** Standard error of the window's realised accuracy around the estimate (see estimateAccuracy). */
  readonly standardError: number;
  /** Current predictions with a confidence in [0, 1] (the rest, and predictions without one, are not estimated). */
  readonly count: number;
  /** Current predictions whose bin the reference never saw. */
  readonly midpointCount: number;
  /** The reference's own accuracy (correct / total), null for an empty table. */
  readonly referenceAccuracy: number | null;
  readonly bins: readonly CbpeBin[];
}

/**
 * Estimated accuracy of the window, CBPE for accuracy with histogram-binning calibration: each current confidence bin
 * weighted by the accuracy the labelled reference observed in that bin, Σ_b n_b·a_b / n. A bin the reference never saw
 * falls back to its midpoint ((lower + upper) / 2), i.e. it trusts the confidence itself; the live histogram keeps no
 * per-bin sums, so the midpoint stands in for the bin's mean confidence. Standard error:
 * √(Σ_b n_b·a_b(1−a_b) / n² + Σ_b (n_b/n)²·a_b(1−a_b)/T_b), the spread of n Bernoulli outcomes with those probabilities
 * (NannyML's std/√n, per bin) plus the uncertainty of the reference's per-bin accuracies from its T_b labels (0 for
 * midpoint bins). Assumes the confidence means the same thing now as in the reference (no concept drift). null when the
 * window has no confidence in [0, 1].
 */
export function estimateAccuracy(reference: CalibrationTable, confidence: NumericHistogram): CbpeEstimate | null {
  const edges = confidence.edges;
  if (edges.length !== CONFIDENCE_EDGES.length || edges.some((e, i) => e !== CONFIDENCE_EDGES[i])) throw new RangeError('the confidence histogram must use CONFIDENCE_EDGES');
  const counts = confidence.binCounts();
  const n = counts.reduce((a, b) => a + b, 0);
  const referenceTotal = reference.count;
  const referenceAccuracy = referenceTotal === 0 ? null : reference.correct.reduce((a, b) => a + b, 0) / referenceTotal;
  if (n === 0) return null;
  let expected = 0;
  let outcomeVariance = 0;
  let estimateVariance = 0;
  let midpointCount = 0;
  const bins: CbpeBin[] = counts.map((count, b) => {
    const lower = edges[b] as number;
    const upper = edges[b + 1] as number;
    const total = reference.total[b] as number;
    const fromReference = total > 0;
    const a = fromReference ? (reference.correct[b] as number) / total : (lower + upper) / 2;
    expected += count * a;
    outcomeVariance += count * a * (1 - a);
    if (fromReference) estimateVariance += (count / n) ** 2 * ((a * (1 - a)) / total);
    else midpointCount += count;
    return { lower, upper, count, referenceCount: total, expectedAccuracy: a, source: fromReference ? 'reference' : 'midpoint' };
  });
  return {
    estimatedAccuracy: expected / n,
    standardError: Math.sqrt(outcomeVariance / (n * n) + estimateVariance),
    count: n,
    midpointCount,
    referenceAccuracy,
    bins,
  };
}
