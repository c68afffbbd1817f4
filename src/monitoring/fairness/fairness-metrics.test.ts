// Fairness figures against a numpy port of Fairlearn's definitions (scripts/fairness-fixtures.py, which
// says what it follows and why Fairlearn itself could not be run), on Fairlearn's own unit-test data and
// on German Credit with a fixed rule; then properties that must hold whatever the data.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fairnessBreaches, fairnessFigures, wilson, type FairnessInput } from './fairness-metrics.js';

interface FixtureFigures {
  groups: { group: string; decisions: number; selected: number; selectionRate: number; selectionInterval: [number, number]; positives: number; truePositives: number; truePositiveRate: number; negatives: number; falsePositives: number; falsePositiveRate: number }[];
  demographicParityDifference: number;
  demographicParityRatio: number;
  equalizedOddsDifference: number;
  equalizedOddsRatio: number;
  equalOpportunityDifference: number;
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/fairness-fixtures.json', import.meta.url), 'utf8')) as {
  fairlearnTestData: { y_true: number[]; y_pred: number[]; groups: string[]; figures: FixtureFigures };
  germanCredit: { rows: { sex: string; age_band: string; foreign_worker: string; selected: number; label: number }[]; figures: Record<string, FixtureFigures> };
};

function expectFigures(rows: readonly FairnessInput[], expected: FixtureFigures) {
  const got = fairnessFigures(rows);
  const close = (a: number | null, b: number) => expect(a).toBeCloseTo(b, 12);
  close(got.selectionDifference, expected.demographicParityDifference);
  close(got.selectionRatio, expected.demographicParityRatio);
  close(got.equalizedOddsDifference, expected.equalizedOddsDifference);
  close(got.equalizedOddsRatio, expected.equalizedOddsRatio);
  close(got.equalOpportunityDifference, expected.equalOpportunityDifference);
  expect(got.groups.map((g) => g.group)).toEqual(expected.groups.map((g) => g.group));
  for (const [i, g] of expected.groups.entries()) {
    const mine = got.groups[i]!;
    expect([mine.decisions, mine.selection.count, mine.truePositiveRate.of, mine.truePositiveRate.count, mine.falsePositiveRate.of, mine.falsePositiveRate.count]).toEqual([g.decisions, g.selected, g.positives, g.truePositives, g.negatives, g.falsePositives]);
    close(mine.selection.value, g.selectionRate);
    close(mine.truePositiveRate.value, g.truePositiveRate);
    close(mine.falsePositiveRate.value, g.falsePositiveRate);
    close(mine.selection.interval![0], g.selectionInterval[0]);
    close(mine.selection.interval![1], g.selectionInterval[1]);
  }
}

describe('fairnessFigures against the Fairlearn port', () => {
  it("on Fairlearn's unit-test data (y_t, y_p, g_1)", () => {
    const d = fixtures.fairlearnTestData;
    expectFigures(d.y_true.map((y, i) => ({ group: d.groups[i]!, selected: d.y_pred[i] === 1, label: y === 1 })), d.figures);
  });

  it.each(['sex', 'age_band', 'foreign_worker'] as const)('on German Credit by %s', (field) => {
    const rows = fixtures.germanCredit.rows.map((r) => ({ group: r[field], selected: r.selected === 1, label: r.label === 1 }));
    expectFigures(rows, fixtures.germanCredit.figures[field]!);
  });

  it("matches Fairlearn's literal TPR (test_base_metrics.py: 0.25)", () => {
    const rows = [0, 0, 0, 0, 1, 1, 1, 1].map((y, i) => ({ group: 'all', selected: [0, 0, 0, 1, 1, 0, 0, 0][i] === 1, label: y === 1 }));
    expect(fairnessFigures(rows).groups[0]!.truePositiveRate.value).toBe(0.25);
  });
});

describe('fairnessFigures', () => {
  it('leaves groups below the minimum count out of the judgement, and rates without labels out of the labelled figures', () => {
    const rows: FairnessInput[] = [
      ...Array.from({ length: 50 }, (_, i) => ({ group: 'a', selected: i < 40 })),
      ...Array.from({ length: 50 }, (_, i) => ({ group: 'b', selected: i < 20 })),
      ...Array.from({ length: 5 }, () => ({ group: 'c', selected: false })),
    ];
    const f = fairnessFigures(rows, 30);
    expect(f.judged).toEqual(['a', 'b']);
    expect(f.insufficient).toEqual(['c']);
    expect(f.selectionRatio).toBeCloseTo(0.5, 12);
    expect(f.groups.find((g) => g.group === 'b')!.selectionRatioToMax).toBeCloseTo(0.5, 12);
    expect(f.equalizedOddsDifference).toBeNull();
    expect(fairnessBreaches('sex', f, { minSelectionRatio: 0.8 }).map((b) => b.metric)).toEqual(['selectionRatio']);
    expect(fairnessBreaches('sex', f, { minSelectionRatio: 0.4, maxEqualOpportunityDifference: 0.1 })).toEqual([]);
  });

  it('ratio ≤ 1, differences ≥ 0, the same under any order of rows and any renaming of groups', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ group: fc.constantFrom('x', 'y', 'z'), selected: fc.boolean(), label: fc.option(fc.boolean()) }), { minLength: 1, maxLength: 80 }), (rows) => {
        const f = fairnessFigures(rows);
        if (f.selectionRatio !== null) expect(f.selectionRatio).toBeLessThanOrEqual(1);
        for (const d of [f.selectionDifference, f.equalizedOddsDifference, f.equalOpportunityDifference]) if (d !== null) expect(d).toBeGreaterThanOrEqual(0);
        const shuffled = fairnessFigures([...rows].reverse());
        expect(shuffled.selectionDifference).toBe(f.selectionDifference);
        const renamed = fairnessFigures(rows.map((r) => ({ ...r, group: `g-${r.group}` })));
        expect([renamed.selectionRatio, renamed.equalizedOddsDifference]).toEqual([f.selectionRatio, f.equalizedOddsDifference]);
      }),
    );
  });

  it('wilson: the closed forms at the edges', () => {
    const z2 = 1.959963984540054 ** 2;
    expect(wilson(0, 20)![1]).toBeCloseTo(z2 / (20 + z2), 12);
    expect(wilson(20, 20)![0]).toBeCloseTo(20 / (20 + z2), 12);
    expect(wilson(0, 0)).toBeNull();
  });
});

// A second, independent set of fixtures (scripts/stats-fairness-fixtures.py): Fairlearn's literal test
// values, published Wilson intervals, and another port of Fairlearn's formulas on German Credit with
// another rule and other age bands.
const second = JSON.parse(readFileSync(new URL('../stats/fixtures/fairness-german-credit.json', import.meta.url), 'utf8')) as {
  fairlearnAsserted: { source: string; metric: 'selection' | 'tpr' | 'fpr'; label: boolean[]; selected: boolean[]; fairlearnExpected: number }[];
  wilsonPublished: { successes: number; trials: number; published: [number, number] }[];
  germanCredit: { rows: { sex: string; age_band: string; foreign_worker: string; selected: boolean; label: boolean }[]; reports: Record<string, { groups: { group: string; count: number; selected: number; selectionRate: number; truePositiveRate: number | null; falsePositiveRate: number | null }[]; demographicParityDifference: number; demographicParityRatio: number; equalizedOddsDifference: number; equalOpportunityDifference: number }> };
};

describe('fairnessFigures against the second fixtures', () => {
  it.each(second.fairlearnAsserted.map((a) => [a.source, a] as const))('%s', (_source, a) => {
    const g = fairnessFigures(a.label.map((label, i) => ({ group: 'all', selected: a.selected[i]!, label }))).groups[0]!;
    const value = a.metric === 'selection' ? g.selection.value : a.metric === 'tpr' ? g.truePositiveRate.value : g.falsePositiveRate.value;
    // Where the group has no labelled positives (negatives), Fairlearn says 0 and we say there is no rate.
    if (value === null) expect([a.fairlearnExpected, a.metric === 'tpr' ? g.truePositiveRate.of : g.falsePositiveRate.of]).toEqual([0, 0]);
    else expect(value).toBeCloseTo(a.fairlearnExpected, 6);
  });

  it('Wilson intervals as Newcombe (1998) published them', () => {
    for (const w of second.wilsonPublished) {
      const [lo, hi] = wilson(w.successes, w.trials)!;
      expect([Math.round(lo * 1e4) / 1e4, Math.round(hi * 1e4) / 1e4]).toEqual(w.published);
    }
  });

  it.each(['sex', 'age_band', 'foreign_worker'] as const)('German Credit by %s (the second rule and bands)', (field) => {
    const expected = second.germanCredit.reports[field]!;
    const got = fairnessFigures(second.germanCredit.rows.map((r) => ({ group: r[field], selected: r.selected, label: r.label })));
    expect(got.groups.map((g) => [g.group, g.decisions, g.selection.count])).toEqual(expected.groups.map((g) => [g.group, g.count, g.selected]));
    expect(got.selectionDifference).toBeCloseTo(expected.demographicParityDifference, 12);
    expect(got.selectionRatio).toBeCloseTo(expected.demographicParityRatio, 12);
    expect(got.equalizedOddsDifference).toBeCloseTo(expected.equalizedOddsDifference, 12);
    expect(got.equalOpportunityDifference).toBeCloseTo(expected.equalOpportunityDifference, 12);
  });
});
