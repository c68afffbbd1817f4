// Performance from labelled predictions: accuracy, and precision, recall, F1 and ROC AUC for one positive label.
import { rocAuc } from '../stats/index.js';

/** One decision whose true label is known: what the model predicted (null when it gave no label), the truth, its score. */
export interface LabelledPair {
  readonly predicted: string | null;
  readonly actual: string;
  /** The model's score that the case is the positive label (higher = more positive); null or absent when unknown. */
  readonly score?: number | null;
}

export interface PerformanceOptions {
  /** The label counted as positive; default the minority actual label (see computePerformance). */
  readonly positiveLabel?: string;
}

export interface Performance {
  readonly count: number;
  readonly correct: number;
  /** Share of pairs whose prediction equals the actual label (a null prediction is wrong). */
  readonly accuracy: number;
  readonly positiveLabel: string;
  readonly positiveLabelFrom: 'config' | 'minority';
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly confusion: { readonly truePositives: number; readonly falsePositives: number; readonly trueNegatives: number; readonly falseNegatives: number };
  /** ROC AUC over the pairs with a finite score; null when fewer than both classes have one. */
  readonly rocAuc: number | null;
  /** Pairs with a finite score. */
  readonly scored: number;
  /** Count of each actual label. */
  readonly actualLabels: Readonly<Record<string, number>>;
}

/**
 * Accuracy over all labels and one-vs-rest precision, recall and F1 (0 on a zero denominator, as scikit-learn) for the
 * positive label: `options.positiveLabel`, else the least frequent actual label (ties: the first in code-unit order),
 * which for a binary task is usually the class the model exists to catch (spam, fraud, default). A null prediction is
 * wrong and counts as predicted negative. ROC AUC (tied scores count half) needs `score` = the score of the positive
 * label. null for no pairs.
 */
export function computePerformance(pairs: readonly LabelledPair[], options: PerformanceOptions = {}): Performance | null {
  if (pairs.length === 0) return null;
  const actualLabels: Record<string, number> = {};
  for (const p of pairs) actualLabels[p.actual] = (actualLabels[p.actual] ?? 0) + 1;
  let positiveLabel = options.positiveLabel;
  const positiveLabelFrom = positiveLabel === undefined ? 'minority' : 'config';
  if (positiveLabel === undefined) {
    positiveLabel = Object.entries(actualLabels).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))[0]![0];
  }
  let correct = 0;
  let truePositives = 0;
  let falsePositives = 0;
  let trueNegatives = 0;
  let falseNegatives = 0;
  for (const p of pairs) {
    if (p.predicted === p.actual) correct++;
    const isPositive = p.actual === positiveLabel;
    const predictedPositive = p.predicted === positiveLabel;
    if (isPositive && predictedPositive) truePositives++;
    else if (isPositive) falseNegatives++;
    else if (predictedPositive) falsePositives++;
    else trueNegatives++;
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const scoredPairs = pairs.filter((p) => typeof p.score === 'number' && Number.isFinite(p.score));
  const scoredPositives = scoredPairs.filter((p) => p.actual === positiveLabel).length;
  const auc =
    scoredPositives > 0 && scoredPositives < scoredPairs.length
      ? rocAuc(
          scoredPairs.map((p) => p.actual),
          scoredPairs.map((p) => p.score as number),
          { positiveLabel },
        )
      : null;
  return {
    count: pairs.length,
    correct,
    accuracy: correct / pairs.length,
    positiveLabel,
    positiveLabelFrom,
    precision: ratio(truePositives, truePositives + falsePositives),
    recall: ratio(truePositives, truePositives + falseNegatives),
    f1: ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives),
    confusion: { truePositives, falsePositives, trueNegatives, falseNegatives },
    rocAuc: auc,
    scored: scoredPairs.length,
    actualLabels,
  };
}
