// Calibration of live predictions: the expected calibration error from a CalibrationTable of labelled predictions.
import type { CalibrationTable } from './calibration-table.js';

export interface CalibrationBinSummary {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  readonly meanConfidence: number;
  readonly accuracy: number;
}

export interface CalibrationSummary {
  /** Σ_b (n_b/N)·|accuracy_b − meanConfidence_b| over the table's non-empty bins (20 equal-width bins). */
  readonly ece: number;
  readonly count: number;
  readonly accuracy: number;
  readonly meanConfidence: number;
  /** Non-empty bins, in order of confidence. */
  readonly bins: readonly CalibrationBinSummary[];
}

/**
 * Top-label ECE of labelled predictions counted in a CalibrationTable: equal to stats' expectedCalibrationError over
 * the same predictions with `bins: 20` (its bins are the table's, up to a confidence a hair below an edge k/20 whose
 * product with 20 rounds up to k). null for an empty table.
 */
export function calibrationFromTable(table: CalibrationTable): CalibrationSummary | null {
  const count = table.count;
  if (count === 0) return null;
  let ece = 0;
  let correct = 0;
  let confidenceSum = 0;
  const bins: CalibrationBinSummary[] = [];
  for (let b = 0; b < table.total.length; b++) {
    const n = table.total[b] as number;
    if (n === 0) continue;
    const meanConfidence = (table.confidenceSum[b] as number) / n;
    const accuracy = (table.correct[b] as number) / n;
    ece += (n / count) * Math.abs(accuracy - meanConfidence);
    correct += table.correct[b] as number;
    confidenceSum += table.confidenceSum[b] as number;
    bins.push({ lower: table.edges[b] as number, upper: table.edges[b + 1] as number, count: n, meanConfidence, accuracy });
  }
  return { ece, count, accuracy: correct / count, meanConfidence: confidenceSum / count, bins };
}
