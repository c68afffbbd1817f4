// Confidence-based performance estimation (NannyML's CBPE) of accuracy, from a labelled reference and live confidences,
// calibrated per predicted class, with a Beta posterior per (class, confidence bin) cell.
import { CONFIDENCE_EDGES, NumericHistogram } from '../sketches/index.js';
import { ClassConfidenceCounts, type BinCounts, type CalibrationTable } from './calibration-table.js';

/** A cell whose reference has fewer labelled predictions than this is thin. */
export const CBPE_MIN_REFERENCE_COUNT = 20;
/** The estimate is unknown when more than this share of the window's predictions falls in thin cells. */
export const CBPE_MAX_THIN_SHARE = 0.05;
/**
 * A thin cell borrows the reference labels of its class's neighbouring confidence bins, at most this many bins away on
 * each side (2 bins: ±0.1 of confidence), widening one bin at a time until it holds minReferenceCount labels.
 */
export const CBPE_MAX_BORROW_BINS = 2;
/** The prior of every cell's probability of being right: Jeffreys, Beta(½, ½). */
export const CBPE_PRIOR = Object.freeze({ alpha: 0.5, beta: 0.5 });

export interface CbpeOptions {
  readonly minReferenceCount?: number;
  readonly maxThinShare?: number;
  /** How far a thin cell may borrow from its class's neighbouring bins (default CBPE_MAX_BORROW_BINS; 0: never). */
  readonly maxBorrowBins?: number;
}

/** One (predicted class, confidence bin) cell the window has predictions in. */
export interface CbpeCell {
  /** The predicted class; null when calibrated by confidence only (all classes pooled); '' for untracked labels. */
  readonly label: string | null;
  readonly lower: number;
  readonly upper: number;
  /** Current predictions in this cell. */
  readonly count: number;
  /** Labelled reference predictions in this cell, and how many were right. */
  readonly referenceCount: number;
  readonly referenceCorrect: number;
  /** Posterior mean of the probability that a prediction in this cell is right. */
  readonly expectedAccuracy: number;
  /** Posterior standard deviation of that probability. */
  readonly posteriorSd: number;
  /** Fewer than minReferenceCount labelled reference predictions, even after borrowing. */
  readonly thin: boolean;
  /** When the cell's own bin was thin and it borrowed its neighbours' labels: the confidence range they came from. */
  readonly borrowed?: { readonly lower: number; readonly upper: number };
}

export interface CbpeEstimate {
  /** Σ n_cell·m_cell / n, with m the cells' posterior means. */
  readonly estimatedAccuracy: number;
  /** The posterior predictive standard deviation of the window's realised accuracy: √(sampling² + calibration²). */
  readonly standardError: number;
  /** The spread of the window's own outcomes given the cells' probabilities: √(Σ n·E[p(1−p)]) / n. */
  readonly samplingError: number;
  /** The uncertainty of the cells' probabilities from the reference's finite labels: √(Σ n²·Var p) / n. */
  readonly calibrationError: number;
  /** Current predictions with a confidence in [0, 1] (and, per class, a label). */
  readonly count: number;
  /** 'class': per (predicted class, confidence bin); 'confidence': per confidence bin only, classes pooled. */
  readonly calibratedBy: 'class' | 'confidence';
  /** Why the estimate is calibrated by confidence only; null per class. */
  readonly pooledBecause: string | null;
  /** Current predictions in cells calibrated with their neighbours' labels (their own bin was thin). */
  readonly borrowedCount: number;
  /** Current predictions in thin cells, and their share of count. */
  readonly thinCount: number;
  readonly thinShare: number;
  /** Set when the reference's support is too thin for the window: the estimate must not be judged. */
  readonly unknownReason: string | null;
  /** The reference's own accuracy (correct / total), null for an empty table. */
  readonly referenceAccuracy: number | null;
  readonly minReferenceCount: number;
  readonly maxThinShare: number;
  /** The cells the window has predictions in, by class then confidence. */
  readonly cells: readonly CbpeCell[];
}

const formatShare = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Estimated accuracy of the window: CBPE for accuracy with histogram-binning calibration, per predicted class.
 *
 * Each cell c (a predicted class × one of the 20 confidence bins) has a probability p_c that a prediction in it is
 * right. Its posterior from the reference's T_c labelled predictions (K_c right) under a Jeffreys prior is
 * Beta(K_c + ½, T_c − K_c + ½), mean m_c, variance v_c = m_c(1 − m_c)/(T_c + 2). The estimate is Σ n_c·m_c / n over the
 * window's n_c predictions per cell. The standard error is the posterior predictive spread of the window's realised
 * accuracy, exact for independent cells: Var = [Σ n_c·(m_c(1 − m_c) − v_c) + Σ n_c²·v_c] / n², the first sum the
 * Bernoulli spread of the window's outcomes (NannyML's std/√n per cell, with E[p(1 − p)] over the posterior), the
 * second the calibration uncertainty. A cell without reference labels keeps the prior (½ ± 0.35), so it never claims
 * 0 ± 0 or 1 ± 0.
 *
 * A cell with fewer than `minReferenceCount` (20) reference labels first borrows the labels of its class's neighbouring
 * bins, widening one bin on each side at a time, up to `maxBorrowBins` (2) away, until it holds that many (`borrowed`
 * says from where). Cells resting on overlapping reference labels are correlated: within a group of overlapping ranges
 * their calibration errors add linearly, (Σ n_c·sd_c)², exact when they share the same labels and an upper bound
 * otherwise. A cell still short is thin; when more than `maxThinShare` (5%) of the window is in thin cells,
 * `unknownReason` says so and the estimate must not be judged.
 *
 * Per class when the window is a ClassConfidenceCounts and the reference table has every labelled prediction under
 * its class; otherwise (a window given as a confidence histogram, or a reference profile stored before per-class
 * counts) by confidence only, with `pooledBecause` saying why: that estimate is biased when the classes' accuracies at
 * the same confidence differ and the window's class mix is not the reference's. Assumes confidence means what it meant
 * in the reference: it sees covariate shift, not concept drift. null when the window has no usable prediction.
 */
export function estimateAccuracy(reference: CalibrationTable, window: ClassConfidenceCounts | NumericHistogram, options: CbpeOptions = {}): CbpeEstimate | null {
  const minReferenceCount = options.minReferenceCount ?? CBPE_MIN_REFERENCE_COUNT;
  const maxThinShare = options.maxThinShare ?? CBPE_MAX_THIN_SHARE;
  const maxBorrowBins = options.maxBorrowBins ?? CBPE_MAX_BORROW_BINS;
  const edges = window.edges;
  if (edges.length !== CONFIDENCE_EDGES.length || edges.some((e, i) => e !== CONFIDENCE_EDGES[i])) throw new RangeError('the confidence histogram must use CONFIDENCE_EDGES');
  const referenceTotal = reference.count;
  const referenceAccuracy = referenceTotal === 0 ? null : reference.correct.reduce((a, b) => a + b, 0) / referenceTotal;

  // Rows of window counts, each with the reference counts it is calibrated by (undefined: the reference has none).
  const rows: { label: string | null; counts: readonly number[]; reference: BinCounts | undefined }[] = [];
  let pooledBecause: string | null = null;
  if (window instanceof ClassConfidenceCounts && reference.hasClasses) {
    window.labels.forEach((label, i) => rows.push({ label, counts: window.counts[i]!, reference: reference.classes.get(label) }));
    rows.push({ label: '', counts: window.other, reference: undefined });
  } else {
    const counts = window instanceof NumericHistogram ? window.binCounts() : window.other.map((o, b) => window.counts.reduce((sum, row) => sum + row[b]!, o));
    pooledBecause =
      window instanceof NumericHistogram
        ? 'the window has no confidence counts per predicted class'
        : reference.classes.size === 0
          ? 'the reference profile has no calibration per predicted class (stored before it was kept, or built without predicted labels): rebuild it'
          : 'the reference profile counts some labelled predictions without their class';
    rows.push({ label: null, counts, reference });
  }

  let n = 0;
  let expected = 0;
  let outcomeVariance = 0;
  let calibrationVariance = 0;
  let thinCount = 0;
  let borrowedCount = 0;
  const cells: CbpeCell[] = [];
  for (const row of rows) {
    // Cells of this row whose posteriors rest on the same reference labels (a borrowed range overlapping another cell's
    // bins) are correlated: their calibration errors add within a group of overlapping ranges, (Σ n·sd)², an upper
    // bound that is exact for cells resting on the same labels; cells on disjoint labels add as n²·v.
    const ranges: { from: number; to: number; weight: number }[] = [];
    row.counts.forEach((count, b) => {
      if (count <= 0) return;
      let total = row.reference?.total[b] ?? 0;
      let correct = row.reference?.correct[b] ?? 0;
      let borrowed: { lower: number; upper: number } | undefined;
      let range = { from: b, to: b };
      if (total < minReferenceCount && row.reference !== undefined) {
        let own = { total, correct };
        for (let k = 1; k <= maxBorrowBins && own.total < minReferenceCount; k++) {
          const from = Math.max(0, b - k);
          const to = Math.min(row.counts.length - 1, b + k);
          own = { total: 0, correct: 0 };
          for (let j = from; j <= to; j++) {
            own.total += row.reference.total[j] ?? 0;
            own.correct += row.reference.correct[j] ?? 0;
          }
          borrowed = { lower: edges[from] as number, upper: edges[to + 1] as number };
          range = { from, to };
        }
        if (own.total >= minReferenceCount) ({ total, correct } = own);
        else {
          borrowed = undefined;
          range = { from: b, to: b };
        }
      }
      const alpha = correct + CBPE_PRIOR.alpha;
      const beta = total - correct + CBPE_PRIOR.beta;
      const m = alpha / (alpha + beta);
      const v = (alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1));
      const thin = total < minReferenceCount;
      if (borrowed !== undefined) borrowedCount += count;
      n += count;
      expected += count * m;
      outcomeVariance += count * (m * (1 - m) - v);
      if (row.reference === undefined) calibrationVariance += count * count * v;
      else ranges.push({ ...range, weight: count * Math.sqrt(v) });
      if (thin) thinCount += count;
      cells.push({ label: row.label, lower: edges[b] as number, upper: edges[b + 1] as number, count, referenceCount: total, referenceCorrect: correct, expectedAccuracy: m, posteriorSd: Math.sqrt(v), thin, ...(borrowed === undefined ? {} : { borrowed }) });
    });
    ranges.sort((x, y) => x.from - y.from);
    let group = { to: -1, weight: 0 };
    for (const r of ranges) {
      if (r.from > group.to) {
        calibrationVariance += group.weight ** 2;
        group = { to: r.to, weight: 0 };
      }
      group.to = Math.max(group.to, r.to);
      group.weight += r.weight;
    }
    calibrationVariance += group.weight ** 2;
  }
  if (n === 0) return null;
  const thinShare = thinCount / n;
  const unknownReason =
    thinShare > maxThinShare
      ? `${thinCount} of ${n} predictions (${formatShare(thinShare)}) fall in ${pooledBecause === null ? 'class × confidence' : 'confidence'} bins with fewer than ${minReferenceCount} labelled reference predictions (at most ${formatShare(maxThinShare)} may)`
      : null;
  const samplingError = Math.sqrt(outcomeVariance) / n;
  const calibrationError = Math.sqrt(calibrationVariance) / n;
  return {
    estimatedAccuracy: expected / n,
    standardError: Math.sqrt(samplingError ** 2 + calibrationError ** 2),
    samplingError,
    calibrationError,
    count: n,
    calibratedBy: pooledBecause === null ? 'class' : 'confidence',
    pooledBecause,
    borrowedCount,
    thinCount,
    thinShare,
    unknownReason,
    referenceAccuracy,
    minReferenceCount,
    maxThinShare,
    cells,
  };
}
