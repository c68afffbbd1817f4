import { describe, expect, it } from 'vitest';
import { CONFIDENCE_EDGES, NumericHistogram } from '../sketches/index.js';
import { CalibrationTable } from './calibration-table.js';
import { estimateAccuracy } from './cbpe.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Bin of a confidence by a linear scan of the edges (the last bin closed): independent of CalibrationTable.binOf. */
function binByScan(c: number): number {
  for (let b = 0; b < CONFIDENCE_EDGES.length - 2; b++) if (c < (CONFIDENCE_EDGES[b + 1] as number)) return b;
  return CONFIDENCE_EDGES.length - 2;
}

/** A model whose confidence overstates its accuracy: P(right | c) = 0.2 + 0.7·c. */
function rows(n: number, random: () => number, skew = 1) {
  return Array.from({ length: n }, () => {
    const confidence = Math.min(1, 0.5 + 0.5 * random() ** skew);
    return { confidence, correct: random() < 0.2 + 0.7 * confidence };
  });
}

describe('estimateAccuracy (CBPE)', () => {
  it('equals a brute-force computation over the raw rows', () => {
    const random = seeded(3);
    const reference = rows(2000, random).filter((r) => r.confidence < 0.95);
    const current = [...rows(700, random, 0.5), { confidence: 0.99, correct: true }, { confidence: 1, correct: true }];
    const table = new CalibrationTable();
    reference.forEach((r) => table.update(r.confidence, r.correct));
    const histogram = new NumericHistogram(CONFIDENCE_EDGES);
    current.forEach((r) => histogram.update(r.confidence));
    histogram.update(null);
    histogram.update(1.5);

    const estimate = estimateAccuracy(table, histogram)!;
    // Brute force: for each current row, the mean correctness of the reference rows in its bin, else the bin's midpoint.
    let sum = 0;
    let outcomeVariance = 0;
    const perBin = new Map<number, { n: number; a: number; t: number }>();
    let fallback = 0;
    const rowsOfBin = new Map<number, typeof reference>();
    for (const row of current) {
      const b = binByScan(row.confidence);
      if (!rowsOfBin.has(b)) rowsOfBin.set(b, reference.filter((r) => binByScan(r.confidence) === b));
      const same = rowsOfBin.get(b)!;
      const a = same.length > 0 ? same.filter((r) => r.correct).length / same.length : ((CONFIDENCE_EDGES[b] as number) + (CONFIDENCE_EDGES[b + 1] as number)) / 2;
      if (same.length === 0) fallback++;
      sum += a;
      outcomeVariance += a * (1 - a);
      if (same.length > 0) perBin.set(b, { n: (perBin.get(b)?.n ?? 0) + 1, a, t: same.length });
    }
    const n = current.length;
    let estimateVariance = 0;
    for (const { n: nb, a, t } of perBin.values()) estimateVariance += (nb / n) ** 2 * ((a * (1 - a)) / t);
    expect(estimate.count).toBe(n);
    expect(estimate.midpointCount).toBe(fallback);
    expect(fallback).toBe(current.filter((r) => r.confidence >= 0.95).length);
    expect(fallback).toBeGreaterThan(2);
    expect(estimate.estimatedAccuracy).toBeCloseTo(sum / n, 12);
    expect(estimate.standardError).toBeCloseTo(Math.sqrt(outcomeVariance / n ** 2 + estimateVariance), 12);
    expect(estimate.referenceAccuracy).toBeCloseTo(reference.filter((r) => r.correct).length / reference.length, 14);
    expect(estimate.bins.at(-1)).toMatchObject({ source: 'midpoint', expectedAccuracy: 0.975, count: fallback, referenceCount: 0 });
  });

  it('tracks the realised accuracy under a confidence shift: within 2 standard errors in about 95% of windows', () => {
    const random = seeded(11);
    const table = new CalibrationTable();
    rows(20_000, random).forEach((r) => table.update(r.confidence, r.correct));
    let within = 0;
    const windows = 200;
    for (let w = 0; w < windows; w++) {
      const current = rows(300, random, 0.4);
      const histogram = new NumericHistogram(CONFIDENCE_EDGES);
      current.forEach((r) => histogram.update(r.confidence));
      const e = estimateAccuracy(table, histogram)!;
      const realised = current.filter((r) => r.correct).length / current.length;
      if (Math.abs(realised - e.estimatedAccuracy) <= 2 * e.standardError) within++;
    }
    expect(within / windows).toBeGreaterThan(0.9);
    expect(within / windows).toBeLessThan(0.995);
  });

  it('is null for a window without confidences and refuses other edges', () => {
    const table = new CalibrationTable();
    const empty = new NumericHistogram(CONFIDENCE_EDGES);
    empty.update(null);
    expect(estimateAccuracy(table, empty)).toBeNull();
    expect(() => estimateAccuracy(table, new NumericHistogram([0, 1]))).toThrow(/CONFIDENCE_EDGES/);
    // An empty reference: every bin falls back to its midpoint.
    const h = new NumericHistogram(CONFIDENCE_EDGES);
    h.update(0.91);
    const e = estimateAccuracy(table, h)!;
    expect(e).toMatchObject({ estimatedAccuracy: 0.925, referenceAccuracy: null, midpointCount: 1 });
    expect(e.standardError).toBeCloseTo(Math.sqrt(0.925 * 0.075), 14);
  });
});
