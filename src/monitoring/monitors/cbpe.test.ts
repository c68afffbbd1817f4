import { describe, expect, it } from 'vitest';
import { CONFIDENCE_EDGES, NumericHistogram } from '../sketches/index.js';
import { CalibrationTable, ClassConfidenceCounts } from './calibration-table.js';
import { estimateAccuracy } from './cbpe.js';
import { mulberry32 as seeded } from '../stats/fixtures/fixture-streams.js';

/** Bin of a confidence by a linear scan of the edges (the last bin closed): independent of CalibrationTable.binOf. */
function binByScan(c: number): number {
  for (let b = 0; b < CONFIDENCE_EDGES.length - 2; b++) if (c < (CONFIDENCE_EDGES[b + 1] as number)) return b;
  return CONFIDENCE_EDGES.length - 2;
}

interface Row {
  readonly label: string;
  readonly confidence: number;
  readonly correct: boolean;
}

function tableOf(rows: readonly Row[], perClass = true): CalibrationTable {
  const table = new CalibrationTable();
  for (const r of rows) table.update(r.confidence, r.correct, perClass ? r.label : undefined);
  return table;
}

function countsOf(rows: readonly Pick<Row, 'label' | 'confidence'>[], labels: readonly string[]): ClassConfidenceCounts {
  const counts = new ClassConfidenceCounts(labels);
  for (const r of rows) counts.update(r.label, r.confidence);
  return counts;
}

function histogramOf(rows: readonly Pick<Row, 'confidence'>[]): NumericHistogram {
  const h = new NumericHistogram(CONFIDENCE_EDGES);
  for (const r of rows) h.update(r.confidence);
  return h;
}

const repeat = <T,>(n: number, row: T): T[] => Array.from({ length: n }, () => row);

describe('estimateAccuracy (CBPE per class)', () => {
  it('equals SciPy: the mean and spread of Beta-binomial outcomes per cell under Jeffreys posteriors', () => {
    // Reference cells (class, confidence, labelled, right): spam 0.97 50/50, spam 0.72 29/40, ham 0.98 27/30, ham 0.52 1/3.
    const reference: Row[] = [
      ...Array.from({ length: 50 }, () => ({ label: 'spam', confidence: 0.97, correct: true })),
      ...Array.from({ length: 40 }, (_, i) => ({ label: 'spam', confidence: 0.72, correct: i < 29 })),
      ...Array.from({ length: 30 }, (_, i) => ({ label: 'ham', confidence: 0.98, correct: i < 27 })),
      ...Array.from({ length: 3 }, (_, i) => ({ label: 'ham', confidence: 0.52, correct: i < 1 })),
    ];
    const window = [...repeat(120, { label: 'spam', confidence: 0.96 }), ...repeat(30, { label: 'spam', confidence: 0.71 }), ...repeat(45, { label: 'ham', confidence: 0.99 }), ...repeat(5, { label: 'ham', confidence: 0.53 })];
    // from scipy.stats import betabinom; cells = [(120, 50, 50), (30, 40, 29), (45, 30, 27), (5, 3, 1)]  # (n, T, K)
    // sum(betabinom(n, K + .5, T - K + .5).mean() for …) / 200, sqrt(sum(betabinom(n, K + .5, T - K + .5).var() for …)) / 200
    const e = estimateAccuracy(tableOf(reference), countsOf(window, ['ham', 'spam']))!;
    expect(e.calibratedBy).toBe('class');
    expect(e.estimatedAccuracy).toBeCloseTo(0.9110162505206645, 13);
    expect(e.standardError).toBeCloseTo(0.025922615065479188, 13);
    expect(e).toMatchObject({ count: 200, thinCount: 5, thinShare: 0.025, unknownReason: null, pooledBecause: null });
    expect(e.cells.map((c) => [c.label, c.count, c.referenceCount, c.thin])).toEqual([
      ['ham', 5, 3, true],
      ['ham', 45, 30, false],
      ['spam', 30, 40, false],
      ['spam', 120, 50, false],
    ]);
    // An all-right cell is not certain: 50/50 → posterior mean 50.5/51, never 1 ± 0.
    expect(e.cells[3]!.expectedAccuracy).toBeCloseTo(50.5 / 51, 14);
    expect(e.cells[3]!.posteriorSd).toBeGreaterThan(0.01);
    // The same, calibrated by confidence only (pooled bins: 0.95–1 → 77/80): SciPy gives 0.9066536811201447 ± 0.028639538050734315.
    const pooled = estimateAccuracy(tableOf(reference), histogramOf(window))!;
    expect(pooled.calibratedBy).toBe('confidence');
    expect(pooled.pooledBecause).toMatch(/no confidence counts per predicted class/);
    expect(pooled.estimatedAccuracy).toBeCloseTo(0.9066536811201447, 13);
    expect(pooled.standardError).toBeCloseTo(0.028639538050734315, 13);
  });

  it('equals a brute-force computation over the raw rows, per class and pooled (thin bins borrowing their neighbours)', () => {
    const random = seeded(3);
    const labels = ['a', 'b', 'c'];
    const draw = (n: number, skew: number): Row[] =>
      Array.from({ length: n }, () => {
        const label = labels[Math.floor(random() * 3)] as string;
        const confidence = Math.min(1, 1 / 3 + (2 / 3) * random() ** skew);
        return { label, confidence, correct: random() < (label === 'a' ? confidence : 0.1 + 0.7 * confidence) };
      });
    const reference = draw(3000, 1).filter((r) => r.confidence < 0.95);
    const window = [...draw(700, 0.5), { label: 'a', confidence: 1, correct: true }, { label: 'zzz', confidence: 0.5, correct: false }];
    // Brute force: per window row, the reference rows of its class (or all of them) in its bin; a Jeffreys posterior
    // Beta(K + ½, T − K + ½); the realised number right has the sampling variance n·(m(1 − m) − v) and the calibration
    // variance n²·v (their sum is the Beta-binomial's), except that cells whose bin ranges (after borrowing) overlap
    // within a class rest on shared labels: their calibration sds add before squaring.
    const brute = (perClass: boolean) => {
      const cells = new Map<string, { cls: string; from: number; to: number; n: number; t: number; k: number }>();
      for (const row of window) {
        const b = binByScan(row.confidence);
        const cls = perClass ? row.label : '*';
        const key = `${cls}/${b}`;
        if (!cells.has(key)) {
          // A thin bin borrows its class's rows up to 2 bins away on each side, one bin at a time, until it has 20.
          const around = (radius: number) => reference.filter((r) => Math.abs(binByScan(r.confidence) - b) <= radius && (!perClass || r.label === row.label));
          let radius = 0;
          let same = around(0);
          while (radius < 2 && same.length < 20) same = around(++radius);
          if (same.length < 20) [radius, same] = [0, around(0)];
          cells.set(key, { cls, from: Math.max(0, b - radius), to: Math.min(19, b + radius), n: 0, t: same.length, k: same.filter((r) => r.correct).length });
        }
        cells.get(key)!.n++;
      }
      let mean = 0;
      let sampling = 0;
      let thin = 0;
      const sds: { cls: string; from: number; to: number; w: number }[] = [];
      for (const { cls, from, to, n, t, k } of cells.values()) {
        const a = k + 0.5;
        const b = t - k + 0.5;
        const m = a / (a + b);
        const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
        mean += n * m;
        sampling += n * (m * (1 - m) - v);
        sds.push({ cls, from, to, w: n * Math.sqrt(v) });
        if (t < 20) thin += n;
      }
      // Groups of overlapping ranges per class, by a union over every pair.
      const group = sds.map((_, i) => i);
      const find = (i: number): number => (group[i] === i ? i : (group[i] = find(group[i]!)));
      sds.forEach((x, i) => sds.forEach((y, j) => {
        if (x.cls === y.cls && x.from <= y.to && y.from <= x.to) group[find(i)] = find(j);
      }));
      const sums = new Map<number, number>();
      sds.forEach((x, i) => sums.set(find(i), (sums.get(find(i)) ?? 0) + x.w));
      let calibration = 0;
      for (const w of sums.values()) calibration += w * w;
      return { mean: mean / window.length, se: Math.sqrt(sampling + calibration) / window.length, thin };
    };
    const perClass = estimateAccuracy(tableOf(reference), countsOf(window, labels))!;
    const expected = brute(true);
    expect(perClass.calibratedBy).toBe('class');
    expect(perClass.count).toBe(window.length);
    expect(perClass.estimatedAccuracy).toBeCloseTo(expected.mean, 12);
    expect(perClass.standardError).toBeCloseTo(expected.se, 12);
    expect(perClass.thinCount).toBe(expected.thin);
    // The reference stops below 0.95: the window's predictions at 0.95 or more borrow the labels of 0.90–0.95; only
    // the untracked label stays thin.
    expect(perClass.borrowedCount).toBeGreaterThan(30);
    expect(perClass.thinCount).toBe(1);
    expect(perClass.cells.find((c) => c.label === 'a' && c.lower === 0.95)).toMatchObject({ thin: false, borrowed: { lower: 0.9, upper: 1 } });
    expect(perClass.cells.find((c) => c.label === '')).toMatchObject({ count: 1, referenceCount: 0, expectedAccuracy: 0.5, thin: true });
    const pooled = estimateAccuracy(tableOf(reference), histogramOf(window))!;
    const expectedPooled = brute(false);
    expect(pooled.estimatedAccuracy).toBeCloseTo(expectedPooled.mean, 12);
    expect(pooled.standardError).toBeCloseTo(expectedPooled.se, 12);
    expect(pooled.referenceAccuracy).toBeCloseTo(reference.filter((r) => r.correct).length / reference.length, 14);
  });

  it('issue case 1: a window on a bin with a single reference label is unknown, with an honest standard error', () => {
    // 1,000 reference rows at 0.72 (720 right) and one at 0.97; a window of 1,000 decisions at 0.97. Before: 1.00 ± 0
    // (or 0.00 ± 0 when that one label was wrong).
    for (const lastRight of [true, false]) {
      const reference: Row[] = [...Array.from({ length: 1000 }, (_, i) => ({ label: 'yes', confidence: 0.72, correct: i < 720 })), { label: 'yes', confidence: 0.97, correct: lastRight }];
      const window = repeat(1000, { label: 'yes', confidence: 0.97 });
      for (const e of [estimateAccuracy(tableOf(reference), histogramOf(window))!, estimateAccuracy(tableOf(reference), countsOf(window, ['yes']))!]) {
        expect(e.unknownReason).toMatch(/^1000 of 1000 predictions \(100\.0%\) fall in (class × )?confidence bins with fewer than 20 labelled reference predictions/);
        // Beta(1.5, 0.5) or Beta(0.5, 1.5): mean 0.75 or 0.25, sd 0.25: the number is there to read, not to judge.
        expect(e.estimatedAccuracy).toBeCloseTo(lastRight ? 0.75 : 0.25, 12);
        expect(e.standardError).toBeGreaterThan(0.25);
        expect(e.standardError).toBeLessThan(0.26);
      }
    }
  });

  it('cells that borrow the same reference labels are not counted as independent: their calibration error is that of one posterior', () => {
    // Class A's 20 reference labels all lie in 0.75–0.80 (16 right); the window has 500 predictions in each of 0.70–0.75,
    // 0.75–0.80 and 0.80–0.85: the outer two borrow exactly those 20 labels, so all three rest on one Beta(16.5, 4.5).
    const reference: Row[] = Array.from({ length: 20 }, (_, i) => ({ label: 'A', confidence: 0.77, correct: i < 16 }));
    const window = [...repeat(500, { label: 'A', confidence: 0.72 }), ...repeat(500, { label: 'A', confidence: 0.77 }), ...repeat(500, { label: 'A', confidence: 0.82 })];
    const e = estimateAccuracy(tableOf(reference), countsOf(window, ['A']))!;
    const [a, b] = [16.5, 4.5];
    const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expect(e.borrowedCount).toBe(1000);
    expect(e.thinCount).toBe(0);
    expect(e.estimatedAccuracy).toBeCloseTo(a / (a + b), 12);
    // Independent cells would claim √(v / 3).
    expect(e.calibrationError).toBeCloseTo(Math.sqrt(v), 12);
  });

  it('issue case 2: class A right 90% at 0.9, class B 70%: a window of class A alone is estimated at 0.90', () => {
    // Before, by confidence only: 0.80 ± 0.016, 6.5 standard errors from the true 0.90.
    const reference: Row[] = [
      ...Array.from({ length: 1000 }, (_, i) => ({ label: 'A', confidence: 0.9, correct: i < 900 })),
      ...Array.from({ length: 1000 }, (_, i) => ({ label: 'B', confidence: 0.9, correct: i < 700 })),
    ];
    const window = repeat(1000, { label: 'A', confidence: 0.9 });
    const e = estimateAccuracy(tableOf(reference), countsOf(window, ['A', 'B']))!;
    expect(e.calibratedBy).toBe('class');
    expect(e.unknownReason).toBeNull();
    expect(e.estimatedAccuracy).toBeCloseTo(900.5 / 1001, 12);
    // Sampling √(0.09 / 1000) and calibration √(0.09 / 1002), both ≈ 0.0095.
    expect(e.samplingError).toBeCloseTo(0.0095, 3);
    expect(e.calibrationError).toBeCloseTo(0.0095, 3);
    expect(Math.abs(0.9 - e.estimatedAccuracy)).toBeLessThan(e.standardError);
    // Calibrated by confidence only, the same window is still 0.80: that path says why.
    const pooled = estimateAccuracy(tableOf(reference), histogramOf(window))!;
    expect(pooled.estimatedAccuracy).toBeCloseTo(1600.5 / 2001, 12);
    expect(pooled.calibratedBy).toBe('confidence');
    expect(Math.abs(0.9 - pooled.estimatedAccuracy) / pooled.standardError).toBeGreaterThan(5);
    // A profile stored before per-class counts (no `classes` in its JSON) still loads; CBPE pools and says to rebuild.
    const { classes, ...old } = tableOf(reference).toJSON();
    expect(classes).toHaveLength(2);
    const legacy = estimateAccuracy(CalibrationTable.fromJSON(old), countsOf(window, ['A', 'B']))!;
    expect(legacy.calibratedBy).toBe('confidence');
    expect(legacy.pooledBecause).toMatch(/rebuild it/);
    expect(legacy.estimatedAccuracy).toBeCloseTo(pooled.estimatedAccuracy, 14);
  });

  it('covers the realised accuracy within 2 standard errors in 93–97% of 400 windows, calibrated or not, with or without covariate shift', () => {
    // Two classes; the model's confidence c in [0.5, 1]; P(right | class, c) is c (calibrated) or differs by class
    // (miscalibrated: A 0.2 + 0.75c, B 1.6c − 0.7). Covariate shift: the window's class mix moves from 50/50 to 85/15 and
    // its confidences move (A towards 1, B towards 0.5). Each window gets a fresh reference of 2,000 labelled rows, so
    // the calibration term of the standard error is tested too.
    const scenarios = [
      { name: 'calibrated', truth: (_label: string, c: number) => c, shift: false },
      { name: 'calibrated, shifted', truth: (_label: string, c: number) => c, shift: true },
      { name: 'miscalibrated', truth: (label: string, c: number) => (label === 'A' ? 0.2 + 0.75 * c : 1.6 * c - 0.7), shift: false },
      { name: 'miscalibrated, shifted', truth: (label: string, c: number) => (label === 'A' ? 0.2 + 0.75 * c : 1.6 * c - 0.7), shift: true },
    ];
    const random = seeded(20_261_207);
    const results: Record<string, { perClass: number; pooled: number; unknown: number }> = {};
    for (const s of scenarios) {
      const draw = (n: number, shifted: boolean): Row[] =>
        Array.from({ length: n }, () => {
          const label = random() < (shifted ? 0.85 : 0.5) ? 'A' : 'B';
          const skew = shifted ? (label === 'A' ? 0.5 : 2) : 1;
          const confidence = 0.5 + 0.5 * random() ** skew;
          return { label, confidence, correct: random() < s.truth(label, confidence) };
        });
      let perClass = 0;
      let pooled = 0;
      let unknown = 0;
      const windows = 400;
      for (let w = 0; w < windows; w++) {
        const table = tableOf(draw(2000, false));
        const window = draw(500, s.shift);
        const realised = window.filter((r) => r.correct).length / window.length;
        const e = estimateAccuracy(table, countsOf(window, ['A', 'B']))!;
        if (e.unknownReason !== null) unknown++;
        else if (Math.abs(realised - e.estimatedAccuracy) <= 2 * e.standardError) perClass++;
        const p = estimateAccuracy(table, histogramOf(window))!;
        if (Math.abs(realised - p.estimatedAccuracy) <= 2 * p.standardError) pooled++;
      }
      results[s.name] = { perClass: perClass / windows, pooled: pooled / windows, unknown };
    }
    for (const s of scenarios) {
      expect(results[s.name]!.unknown, s.name).toBe(0);
      expect(results[s.name]!.perClass, s.name).toBeGreaterThanOrEqual(0.93);
      expect(results[s.name]!.perClass, s.name).toBeLessThanOrEqual(0.97);
    }
    // Calibrated by confidence only, the shifted miscalibrated model is missed: the reason to calibrate per class.
    expect(results['miscalibrated, shifted']!.pooled).toBeLessThan(0.5);
    console.log(JSON.stringify(results));
  });

  it('is null for a window without usable predictions and refuses other edges', () => {
    const table = new CalibrationTable();
    const empty = new NumericHistogram(CONFIDENCE_EDGES);
    empty.update(null);
    expect(estimateAccuracy(table, empty)).toBeNull();
    const counts = new ClassConfidenceCounts(['x']);
    counts.update(null, 0.9);
    counts.update('x', 1.5);
    expect(counts.unusable).toBe(2);
    expect(estimateAccuracy(table, counts)).toBeNull();
    expect(() => estimateAccuracy(table, new NumericHistogram([0, 1]))).toThrow(/CONFIDENCE_EDGES/);
    // An empty reference: the prior, ½ ± √(1/8), and unknown.
    const h = new NumericHistogram(CONFIDENCE_EDGES);
    h.update(0.91);
    const e = estimateAccuracy(table, h)!;
    expect(e).toMatchObject({ estimatedAccuracy: 0.5, referenceAccuracy: null, thinCount: 1 });
    expect(e.calibrationError).toBeCloseTo(Math.sqrt(1 / 8), 14);
    expect(e.unknownReason).not.toBeNull();
  });
});
