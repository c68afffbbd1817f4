import { describe, expect, it } from 'vitest';
import { accuracy, f1Score, precision, recall, rocAuc } from '../stats/index.js';
import { computePerformance, type LabelledPair } from './performance.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('computePerformance', () => {
  const random = seeded(7);
  const pairs: LabelledPair[] = Array.from({ length: 300 }, () => {
    const actual = random() < 0.3 ? 'spam' : 'ham';
    const score = Math.round((actual === 'spam' ? 0.3 + random() * 0.7 : random() * 0.7) * 20) / 20;
    return { actual, predicted: score >= 0.5 ? 'spam' : 'ham', score };
  });

  it('agrees with the stats metrics (checked against scikit-learn formulas) and picks the minority label', () => {
    const p = computePerformance(pairs)!;
    const actual = pairs.map((x) => x.actual);
    const predicted = pairs.map((x) => x.predicted as string);
    expect(p.positiveLabel).toBe('spam');
    expect(p.positiveLabelFrom).toBe('minority');
    expect(p.accuracy).toBe(accuracy(actual, predicted));
    expect(p.precision).toBe(precision(actual, predicted, { positiveLabel: 'spam' }));
    expect(p.recall).toBe(recall(actual, predicted, { positiveLabel: 'spam' }));
    expect(p.f1).toBe(f1Score(actual, predicted, { positiveLabel: 'spam' }));
    expect(p.rocAuc).toBe(
      rocAuc(
        actual,
        pairs.map((x) => x.score as number),
        { positiveLabel: 'spam' },
      ),
    );
    expect(p.count).toBe(300);
    const c = p.confusion;
    expect(c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives).toBe(300);
    expect(p.actualLabels.spam! + p.actualLabels.ham!).toBe(300);
  });

  it('brute force: ROC AUC is the share of (positive, negative) pairs ranked right, ties half', () => {
    const p = computePerformance(pairs)!;
    const pos = pairs.filter((x) => x.actual === 'spam').map((x) => x.score as number);
    const neg = pairs.filter((x) => x.actual === 'ham').map((x) => x.score as number);
    let wins = 0;
    for (const a of pos) for (const b of neg) wins += a > b ? 1 : a === b ? 0.5 : 0;
    expect(p.rocAuc).toBeCloseTo(wins / (pos.length * neg.length), 12);
  });

  it('uses the configured positive label, counts a null prediction wrong, and skips AUC without both classes scored', () => {
    const few: LabelledPair[] = [
      { predicted: 'a', actual: 'a' },
      { predicted: null, actual: 'b' },
      { predicted: 'b', actual: 'b', score: 0.9 },
      { predicted: 'a', actual: 'b', score: null },
    ];
    const p = computePerformance(few, { positiveLabel: 'b' })!;
    expect(p.positiveLabelFrom).toBe('config');
    expect(p.accuracy).toBe(0.5);
    expect(p.confusion).toEqual({ truePositives: 1, falsePositives: 0, trueNegatives: 1, falseNegatives: 2 });
    expect(p.recall).toBeCloseTo(1 / 3, 15);
    expect(p.precision).toBe(1);
    expect(p.rocAuc).toBeNull();
    expect(p.scored).toBe(1);
  });

  it('breaks a tie for the minority by code-unit order, and handles one class and no pairs', () => {
    expect(computePerformance([{ predicted: 'y', actual: 'y' }, { predicted: 'y', actual: 'x' }])!.positiveLabel).toBe('x');
    const one = computePerformance([{ predicted: 'y', actual: 'y' }])!;
    expect([one.positiveLabel, one.accuracy, one.precision, one.recall, one.f1]).toEqual(['y', 1, 1, 1, 1]);
    expect(computePerformance([])).toBeNull();
    // A positive label that never occurs gives zeros, not an exception.
    const absent = computePerformance([{ predicted: 'y', actual: 'y' }], { positiveLabel: 'z' })!;
    expect([absent.precision, absent.recall, absent.f1]).toEqual([0, 0, 0]);
  });
});
