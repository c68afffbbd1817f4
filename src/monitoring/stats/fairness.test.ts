import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/fairness-german-credit.json' with { type: 'json' };
import { fairnessBreaches, fairnessReport, wilsonInterval, type FairnessReport, type FairnessRow } from './fairness.js';
import { StatsInputError } from './stats-input-error.js';

// References (scripts/stats-fairness-fixtures.py): literals from Fairlearn's unit tests at ebf8fa75,
// and a numpy port of Fairlearn's between_groups formulas with scipy's Wilson intervals. Fairlearn
// itself was not run (not installable here). Tolerance: absolute 1e-12 everywhere.
const TOL = 1e-12;

interface FixtureGroup {
  readonly group: string;
  readonly count: number;
  readonly selected: number;
  readonly selectionRate: number;
  readonly selectionInterval: [number, number];
  readonly positives: number;
  readonly truePositives: number;
  readonly truePositiveRate: number;
  readonly truePositiveInterval: [number, number];
  readonly negatives: number;
  readonly falsePositives: number;
  readonly falsePositiveRate: number;
  readonly falsePositiveInterval: [number, number];
  readonly selectionRatioToMax: number;
}

interface FixtureReport {
  readonly groups: readonly FixtureGroup[];
  readonly demographicParityDifference: number;
  readonly demographicParityRatio: number;
  readonly equalizedOddsDifference: number;
  readonly equalizedOddsRatio: number;
  readonly equalOpportunityDifference: number;
  readonly equalOpportunityRatio: number;
  readonly truePositiveRateDifference: number;
  readonly falsePositiveRateDifference: number;
}

function near(actual: number | null | undefined, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(TOL);
}

function compare(report: FairnessReport, expected: FixtureReport): void {
  expect(report.groups.map((g) => g.group)).toEqual(expected.groups.map((g) => g.group));
  expected.groups.forEach((e, i) => {
    const g = report.groups[i]!;
    expect([g.count, g.selection.count, g.truePositiveRate.of, g.truePositiveRate.count, g.falsePositiveRate.of, g.falsePositiveRate.count]).toEqual([
      e.count, e.selected, e.positives, e.truePositives, e.negatives, e.falsePositives,
    ]);
    near(g.selection.rate, e.selectionRate);
    near(g.truePositiveRate.rate, e.truePositiveRate);
    near(g.falsePositiveRate.rate, e.falsePositiveRate);
    near(g.selectionRatioToMax, e.selectionRatioToMax);
    for (const [interval, ref] of [
      [g.selection.interval, e.selectionInterval],
      [g.truePositiveRate.interval, e.truePositiveInterval],
      [g.falsePositiveRate.interval, e.falsePositiveInterval],
    ] as const) {
      near(interval?.low, ref[0]);
      near(interval?.high, ref[1]);
    }
  });
  near(report.demographicParity.difference, expected.demographicParityDifference);
  near(report.demographicParity.ratio, expected.demographicParityRatio);
  near(report.equalizedOdds.difference, expected.equalizedOddsDifference);
  near(report.equalizedOdds.ratio, expected.equalizedOddsRatio);
  near(report.equalOpportunity.difference, expected.equalOpportunityDifference);
  near(report.equalOpportunity.ratio, expected.equalOpportunityRatio);
  near(report.truePositiveRate.difference, expected.truePositiveRateDifference);
  near(report.falsePositiveRate.difference, expected.falsePositiveRateDifference);
}

describe('fairnessReport against literals asserted by Fairlearn unit tests', () => {
  const cases = fixture.fairlearnAsserted as unknown as { source: string; metric: 'tpr' | 'fpr' | 'selection'; label: boolean[]; selected: boolean[]; fairlearnExpected: number; note?: string }[];
  it.each(cases.map((c, i) => [`${i} ${c.source} ${c.metric}`, c] as const))('%s', (_name, c) => {
    const report = fairnessReport(c.selected.map((selected, i) => ({ group: 'all', selected, label: c.label[i]! })));
    const g = report.groups[0]!;
    const rate = { tpr: g.truePositiveRate, fpr: g.falsePositiveRate, selection: g.selection }[c.metric];
    if (rate.of === 0) {
      // The documented divergence: Fairlearn reads 0/0 as 0 (scikit-learn nan_to_num); we say "undefined".
      expect(c.fairlearnExpected).toBe(0);
      expect(c.note).toMatch(/null on purpose/);
      expect(rate.rate).toBeNull();
      expect(rate.interval).toBeNull();
    } else if (c.note?.includes('approx')) {
      expect(Math.abs(rate.rate! - c.fairlearnExpected)).toBeLessThanOrEqual(1e-6 * c.fairlearnExpected);
      expect(rate.rate).toBe(2 / 3);
    } else {
      expect(rate.rate).toBe(c.fairlearnExpected);
    }
  });

  it('covers both the agreeing and the diverging cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(cases.filter((c) => c.note?.includes('null on purpose')).length).toBe(3);
  });
});

describe('fairnessReport against the numpy port of Fairlearn', () => {
  const data = fixture.fairlearnTestData as unknown as { label: boolean[]; selected: boolean[]; groupings: Record<string, string[]>; reports: Record<string, FixtureReport> };
  it.each(Object.keys(data.reports))("Fairlearn's test data, %s", (name) => {
    const rows = data.selected.map((selected, i) => ({ group: data.groupings[name]![i]!, selected, label: data.label[i]! }));
    compare(fairnessReport(rows), data.reports[name]!);
  });

  const credit = fixture.germanCredit as unknown as { rows: Record<string, string | boolean>[]; reports: Record<string, FixtureReport> };
  it('German Credit has its 1000 rows', () => expect(credit.rows).toHaveLength(1000));
  it.each(Object.keys(credit.reports))('German Credit, %s', (field) => {
    const rows = credit.rows.map((r) => ({ group: r[field] as string, selected: r.selected as boolean, label: r.label as boolean }));
    compare(fairnessReport(rows), credit.reports[field]!);
  });

  it('German Credit foreign_worker breaks the four-fifths rule only below its 0.833 ratio', () => {
    const rows = credit.rows.map((r) => ({ group: r.foreign_worker as string, selected: r.selected as boolean, label: r.label as boolean }));
    const report = fairnessReport(rows);
    expect(fairnessBreaches(report, { minSelectionRatio: 0.8 }).breaches).toEqual([]);
    const b = fairnessBreaches(report, { minSelectionRatio: 0.85 }).breaches;
    expect(b.map((x) => [x.metric, x.groups])).toEqual([['selectionRatio', ['yes', 'no']]]);
  });
});

describe('wilsonInterval', () => {
  it.each(fixture.wilsonPublished.map((c) => [`${c.successes}/${c.trials}`, c] as const))('%s: scipy to 1e-12, Newcombe (1998) to 4 decimals', (_n, c) => {
    const w = wilsonInterval(c.successes, c.trials)!;
    near(w.low, c.scipy[0]!);
    near(w.high, c.scipy[1]!);
    expect(Math.abs(w.low - c.published[0]!)).toBeLessThan(5e-5);
    expect(Math.abs(w.high - c.published[1]!)).toBeLessThan(5e-5);
  });
  it('is null for no trials and exact at the ends', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(wilsonInterval(0, 7)!.low).toBe(0);
    expect(wilsonInterval(7, 7)!.high).toBe(1);
    expect(() => wilsonInterval(3, 2)).toThrow(StatsInputError);
  });
});

describe('fairnessReport edge cases', () => {
  it('throws on no rows and on malformed rows', () => {
    expect(() => fairnessReport([])).toThrow(StatsInputError);
    expect(() => fairnessReport([{ group: 'a', selected: 1 as unknown as boolean }])).toThrow(StatsInputError);
    expect(() => fairnessReport([{ group: 'a', selected: true, label: 'yes' as unknown as boolean }])).toThrow(StatsInputError);
  });

  it('counts unlabelled rows toward selection only', () => {
    const r = fairnessReport([
      { group: 'a', selected: true },
      { group: 'a', selected: false, label: null },
      { group: 'a', selected: true, label: true },
      { group: 'a', selected: false, label: false },
    ]);
    const g = r.groups[0]!;
    expect([g.count, g.labelled, g.selection.count, g.truePositiveRate.of, g.falsePositiveRate.of, r.unlabelled]).toEqual([4, 2, 2, 1, 1, 2]);
    expect(g.selection.rate).toBe(0.5);
  });

  it('gives a group with no positives a null TPR and leaves it out of the TPR spread', () => {
    const r = fairnessReport([
      { group: 'a', selected: true, label: true },
      { group: 'a', selected: false, label: false },
      { group: 'b', selected: false, label: true },
      { group: 'b', selected: false, label: false },
      { group: 'c', selected: false, label: false },
    ]);
    expect(r.groups[2]!.truePositiveRate.rate).toBeNull();
    expect(r.truePositiveRate).toMatchObject({ difference: 1, ratio: 0, minGroup: 'b', maxGroup: 'a', groupsWithRate: 2 });
    expect(r.falsePositiveRate).toMatchObject({ difference: 0, ratio: null, groupsWithRate: 3 });
    // FPR all 0 makes its ratio undefined, so the equalized-odds ratio is too; the difference is not.
    expect(r.equalizedOdds).toEqual({ difference: 1, ratio: null, differenceFrom: 'truePositiveRate' });
  });

  it('one group: difference 0 and ratio 1, as min and max over one value', () => {
    const r = fairnessReport([{ group: 'a', selected: true, label: true }, { group: 'a', selected: false, label: false }]);
    expect(r.demographicParity).toMatchObject({ difference: 0, ratio: 1, groupsWithRate: 1 });
    expect(r.equalOpportunity).toMatchObject({ difference: 0, ratio: 1 });
  });

  it('all selection rates 0: ratio null (Fairlearn 0/0 = NaN), difference 0, no ratio to max', () => {
    const r = fairnessReport([{ group: 'a', selected: false }, { group: 'b', selected: false }]);
    expect(r.demographicParity).toMatchObject({ difference: 0, ratio: null });
    expect(r.groups.map((g) => g.selectionRatioToMax)).toEqual([null, null]);
    expect(r.equalizedOdds).toEqual({ difference: null, ratio: null, differenceFrom: null });
    const b = fairnessBreaches(r, { minSelectionRatio: 0.8, maxSelectionDifference: 0.1, maxEqualizedOddsDifference: 0.1 });
    expect(b.breaches).toEqual([]);
    expect(b.undetermined).toEqual(['selectionRatio', 'equalizedOddsDifference']);
  });

  it("each group's ratio to the most selected", () => {
    const rows: FairnessRow[] = [
      ...Array.from({ length: 10 }, (_, i) => ({ group: 'a', selected: i < 5 })),
      ...Array.from({ length: 10 }, (_, i) => ({ group: 'b', selected: i < 3 })),
      ...Array.from({ length: 10 }, (_, i) => ({ group: 'c', selected: i < 4 })),
    ];
    const r = fairnessReport(rows);
    expect(r.mostSelectedGroup).toBe('a');
    expect(r.groups.map((g) => g.selectionRatioToMax)).toEqual([1, 0.3 / 0.5, 0.4 / 0.5]);
  });
});

describe('fairnessBreaches', () => {
  const rows: FairnessRow[] = [
    ...Array.from({ length: 100 }, (_, i) => ({ group: 'a', selected: i < 60, label: i < 50 })),
    ...Array.from({ length: 100 }, (_, i) => ({ group: 'b', selected: i < 40, label: i < 50 })),
    ...Array.from({ length: 3 }, () => ({ group: 'tiny', selected: false, label: true })),
  ];
  const report = fairnessReport(rows);

  it('judges only groups with at least minGroupCount rows, and lists the rest as insufficient', () => {
    const all = fairnessBreaches(report, { minSelectionRatio: 0.8 });
    expect(all.breaches).toEqual([{ metric: 'selectionRatio', value: 0, bound: 0.8, groups: ['b', 'tiny', 'a'] }]);
    const b = fairnessBreaches(report, { minSelectionRatio: 0.8, maxSelectionDifference: 0.1, maxEqualizedOddsDifference: 0.5, maxEqualOpportunityDifference: 0.1, minGroupCount: 30 });
    expect(b.insufficient).toEqual([{ group: 'tiny', count: 3, minGroupCount: 30 }]);
    expect(b.judged).toEqual(['a', 'b']);
    expect(b.breaches.map((x) => [x.metric, x.groups])).toEqual([
      ['selectionRatio', ['b', 'a']],
      ['selectionDifference', ['b', 'a']],
      ['equalOpportunityDifference', ['b', 'a']],
    ]);
    near(b.breaches[0]!.value, 40 / 60);
    near(b.breaches[1]!.value, 0.2);
    // a: TPR 50/50, FPR 10/50; b: TPR 40/50, FPR 0/50; equalized odds = max(0.2, 0.2) = 0.2 ≤ 0.5.
    near(b.figures.equalizedOdds.difference, 0.2);
  });

  it('is strict at the bound and rejects bounds out of range', () => {
    const r = fairnessReport([...Array.from({ length: 5 }, (_, i) => ({ group: 'a', selected: i < 4 })), ...Array.from({ length: 5 }, () => ({ group: 'b', selected: true }))]);
    expect(fairnessBreaches(r, { minSelectionRatio: 0.8 }).breaches).toEqual([]);
    expect(fairnessBreaches(r, { minSelectionRatio: 0.81 }).breaches).toHaveLength(1);
    expect(() => fairnessBreaches(r, { minSelectionRatio: 1.5 })).toThrow(StatsInputError);
    expect(() => fairnessBreaches(r, { minGroupCount: 2.5 })).toThrow(StatsInputError);
  });

  it('with every group insufficient, nothing passes or breaches', () => {
    const b = fairnessBreaches(report, { minSelectionRatio: 0.8, minGroupCount: 1000 });
    expect(b.breaches).toEqual([]);
    expect(b.undetermined).toEqual(['selectionRatio']);
    expect(b.insufficient.map((g) => g.group)).toEqual(['a', 'b', 'tiny']);
  });
});

describe('fairness properties', () => {
  const row = fc.record({ group: fc.constantFrom('a', 'b', 'c', 'd'), selected: fc.boolean(), label: fc.option(fc.boolean(), { nil: null }) });
  const rowsArb = fc.array(row, { minLength: 1, maxLength: 60 });
  const figures = (r: FairnessReport) => [
    r.demographicParity.difference, r.demographicParity.ratio, r.truePositiveRate.difference, r.truePositiveRate.ratio,
    r.falsePositiveRate.difference, r.falsePositiveRate.ratio, r.equalizedOdds.difference, r.equalizedOdds.ratio,
  ];

  it('ratios lie in [0, 1], differences in [0, 1], intervals contain the rate', () => {
    fc.assert(fc.property(rowsArb, (rows) => {
      const r = fairnessReport(rows);
      for (const d of [r.demographicParity, r.truePositiveRate, r.falsePositiveRate]) {
        if (d.ratio !== null) expect(d.ratio >= 0 && d.ratio <= 1).toBe(true);
        if (d.difference !== null) expect(d.difference >= 0 && d.difference <= 1).toBe(true);
      }
      for (const g of r.groups) {
        if (g.selectionRatioToMax !== null) expect(g.selectionRatioToMax).toBeLessThanOrEqual(1);
        for (const rate of [g.selection, g.truePositiveRate, g.falsePositiveRate]) {
          if (rate.rate !== null) expect(rate.interval!.low <= rate.rate && rate.rate <= rate.interval!.high).toBe(true);
        }
      }
    }));
  });

  it('is invariant under permuting the rows', () => {
    fc.assert(fc.property(rowsArb.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))), ([rows, shuffled]) => {
      expect(fairnessReport(shuffled)).toEqual(fairnessReport(rows));
    }));
  });

  it('gives the same figures when groups are renamed', () => {
    const names = { a: 'zeta', b: 'alpha', c: 'mu', d: 'beta' } as const;
    fc.assert(fc.property(rowsArb, (rows) => {
      const renamed = fairnessReport(rows.map((x) => ({ ...x, group: names[x.group] })));
      const original = fairnessReport(rows);
      expect(figures(renamed)).toEqual(figures(original));
      const byName = new Map(renamed.groups.map((g) => [g.group, g]));
      for (const g of original.groups) expect({ ...byName.get(names[g.group as keyof typeof names])!, group: g.group }).toEqual(g);
    }));
  });

  it('never breaches on an insufficient group', () => {
    fc.assert(fc.property(rowsArb, fc.integer({ min: 0, max: 30 }), (rows, minGroupCount) => {
      const b = fairnessBreaches(fairnessReport(rows), { minSelectionRatio: 0.8, maxSelectionDifference: 0.1, maxEqualizedOddsDifference: 0.1, maxEqualOpportunityDifference: 0.1, minGroupCount });
      const small = new Set(b.insufficient.map((g) => g.group));
      for (const x of b.breaches) for (const g of x.groups) expect(small.has(g)).toBe(false);
    }));
  });
});
