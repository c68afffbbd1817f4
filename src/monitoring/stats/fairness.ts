// Group fairness of binary decisions by Fairlearn's definitions (fairlearn.metrics, method
// "between_groups", agg "worst_case"; commit ebf8fa75): per group the selection rate, TPR and FPR
// with Wilson 95% intervals; across groups max − min and min / max of each rate.
//
// Edge cases, each a decision (Fairlearn's behaviour in brackets):
// - no rows: StatsInputError [selection_rate raises on empty input]. A group exists only through its
//   rows, so no group is ever empty.
// - unlabelled rows (label null or absent) count toward the selection rate only [Fairlearn needs
//   y_true on every row; it has no such rows].
// - a group with no labelled positives has TPR null (no negatives: FPR null) and is left out of that
//   rate's difference and ratio [scikit-learn's normalize="true" turns 0/0 into 0 via nan_to_num, so
//   Fairlearn calls it 0 and counts it: a group with no positives would read as "never approves the
//   deserving"].
// - one group with a rate: difference 0, ratio 1 [min and max over one value]; none: both null.
// - all rates 0: ratio null [pandas 0/0 = NaN]; difference 0.
// - equalized odds: null if either the TPR or the FPR side is null [Fairlearn's Python max/min over
//   a Series holding NaN depends on the order; we do not judge on half the evidence].

import { StatsInputError } from './stats-input-error.js';

export interface FairnessRow {
  readonly group: string;
  /** The favourable prediction. */
  readonly selected: boolean;
  /** The true favourable outcome, when known. */
  readonly label?: boolean | null;
}

export interface WilsonInterval {
  readonly low: number;
  readonly high: number;
}

/** `count` of `of`, with `rate` null when `of` is 0. */
export interface GroupRate {
  readonly count: number;
  readonly of: number;
  readonly rate: number | null;
  readonly interval: WilsonInterval | null;
}

export interface FairnessGroup {
  readonly group: string;
  readonly count: number;
  /** Rows with a label. */
  readonly labelled: number;
  /** Selected of all rows. */
  readonly selection: GroupRate;
  /** Selected of the rows labelled favourable. */
  readonly truePositiveRate: GroupRate;
  /** Selected of the rows labelled unfavourable. */
  readonly falsePositiveRate: GroupRate;
  /** Selection rate over the most-selected group's (the four-fifths rule as regulators read it); null when every rate is 0. */
  readonly selectionRatioToMax: number | null;
}

/** Between-groups spread of one rate over the groups where it is defined. */
export interface Disparity {
  /** max − min (Fairlearn `.difference(method="between_groups")`). */
  readonly difference: number | null;
  /** min / max (Fairlearn `.ratio(method="between_groups")`); null when max is 0. */
  readonly ratio: number | null;
  /** Groups holding the min and max (first by name on ties). */
  readonly minGroup: string | null;
  readonly maxGroup: string | null;
  /** Groups the rate is defined for. */
  readonly groupsWithRate: number;
}

export interface EqualizedOdds {
  /** max(TPR difference, FPR difference) = Fairlearn equalized_odds_difference. */
  readonly difference: number | null;
  /** min(TPR ratio, FPR ratio) = Fairlearn equalized_odds_ratio. */
  readonly ratio: number | null;
  /** The side that gives `difference` (TPR on ties). */
  readonly differenceFrom: 'truePositiveRate' | 'falsePositiveRate' | null;
}

export interface FairnessReport {
  /** Sorted by name (code-unit order). */
  readonly groups: readonly FairnessGroup[];
  readonly rows: number;
  readonly unlabelled: number;
  readonly mostSelectedGroup: string | null;
  /** Selection rate: demographic_parity_difference / demographic_parity_ratio. */
  readonly demographicParity: Disparity;
  readonly truePositiveRate: Disparity;
  readonly falsePositiveRate: Disparity;
  /** The TPR spread: equal_opportunity_difference / equal_opportunity_ratio. */
  readonly equalOpportunity: Disparity;
  readonly equalizedOdds: EqualizedOdds;
}

// Φ⁻¹(0.975), as scipy.stats.norm.ppf(0.975).
const Z95 = 1.959963984540054;

/** Wilson score 95% interval for `successes` of `trials` (no continuity correction); null when trials is 0. */
export function wilsonInterval(successes: number, trials: number): WilsonInterval | null {
  if (!Number.isInteger(trials) || trials < 0) throw new StatsInputError(`trials must be an integer >= 0 (got ${String(trials)})`);
  if (!Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new StatsInputError(`successes must be an integer in [0, ${trials}] (got ${String(successes)})`);
  }
  if (trials === 0) return null;
  const p = successes / trials;
  const z2 = Z95 * Z95;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // Exact ends at 0 and n, where rounding would leave ±1e-17.
  return { low: successes === 0 ? 0 : Math.max(0, centre - half), high: successes === trials ? 1 : Math.min(1, centre + half) };
}

const groupRate = (count: number, of: number): GroupRate => ({ count, of, rate: of === 0 ? null : count / of, interval: wilsonInterval(count, of) });

function disparity(groups: readonly FairnessGroup[], pick: (g: FairnessGroup) => number | null): Disparity {
  let min: { group: string; value: number } | null = null;
  let max: { group: string; value: number } | null = null;
  let defined = 0;
  for (const g of groups) {
    const value = pick(g);
    if (value === null) continue;
    defined += 1;
    if (min === null || value < min.value) min = { group: g.group, value };
    if (max === null || value > max.value) max = { group: g.group, value };
  }
  if (min === null || max === null) return { difference: null, ratio: null, minGroup: null, maxGroup: null, groupsWithRate: 0 };
  return { difference: max.value - min.value, ratio: max.value === 0 ? null : min.value / max.value, minGroup: min.group, maxGroup: max.group, groupsWithRate: defined };
}

interface Tally {
  n: number;
  selected: number;
  positives: number;
  truePositives: number;
  negatives: number;
  falsePositives: number;
}

// Cross-group figures over `groups` only; fairnessBreaches calls it again on the groups it judges.
function summarise(groups: readonly FairnessGroup[], rows: number, unlabelled: number): FairnessReport {
  const demographicParity = disparity(groups, (g) => g.selection.rate);
  const top = demographicParity.maxGroup === null ? null : groups.find((g) => g.group === demographicParity.maxGroup)!.selection.rate;
  const rescaled = groups.map((g) => ({ ...g, selectionRatioToMax: top === null || top === 0 ? null : g.selection.rate! / top }));
  const tpr = disparity(rescaled, (g) => g.truePositiveRate.rate);
  const fpr = disparity(rescaled, (g) => g.falsePositiveRate.rate);
  const both = tpr.difference !== null && fpr.difference !== null;
  return {
    groups: rescaled,
    rows,
    unlabelled,
    mostSelectedGroup: demographicParity.maxGroup,
    demographicParity,
    truePositiveRate: tpr,
    falsePositiveRate: fpr,
    equalOpportunity: tpr,
    equalizedOdds: {
      difference: both ? Math.max(tpr.difference!, fpr.difference!) : null,
      ratio: tpr.ratio === null || fpr.ratio === null ? null : Math.min(tpr.ratio, fpr.ratio),
      differenceFrom: both ? (tpr.difference! >= fpr.difference! ? 'truePositiveRate' : 'falsePositiveRate') : null,
    },
  };
}

/** Per-group rates and Fairlearn's between-groups disparities of one protected attribute. */
export function fairnessReport(rows: readonly FairnessRow[]): FairnessReport {
  if (rows.length === 0) throw new StatsInputError('fairnessReport needs at least one row');
  const tallies = new Map<string, Tally>();
  let unlabelled = 0;
  rows.forEach((row, i) => {
    if (typeof row.group !== 'string') throw new StatsInputError(`rows[${i}].group must be a string`);
    if (typeof row.selected !== 'boolean') throw new StatsInputError(`rows[${i}].selected must be a boolean`);
    const label = row.label ?? null;
    if (label !== null && typeof label !== 'boolean') throw new StatsInputError(`rows[${i}].label must be a boolean, null or absent`);
    let t = tallies.get(row.group);
    if (t === undefined) {
      t = { n: 0, selected: 0, positives: 0, truePositives: 0, negatives: 0, falsePositives: 0 };
      tallies.set(row.group, t);
    }
    t.n += 1;
    if (row.selected) t.selected += 1;
    if (label === true) {
      t.positives += 1;
      if (row.selected) t.truePositives += 1;
    } else if (label === false) {
      t.negatives += 1;
      if (row.selected) t.falsePositives += 1;
    } else {
      unlabelled += 1;
    }
  });
  const names = [...tallies.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const groups = names.map((group): FairnessGroup => {
    const t = tallies.get(group)!;
    return {
      group,
      count: t.n,
      labelled: t.positives + t.negatives,
      selection: groupRate(t.selected, t.n),
      truePositiveRate: groupRate(t.truePositives, t.positives),
      falsePositiveRate: groupRate(t.falsePositives, t.negatives),
      selectionRatioToMax: null,
    };
  });
  return summarise(groups, rows.length, unlabelled);
}

export interface FairnessBounds {
  /** Breach when the selection-rate ratio (min / max) is below this; 0.8 is the four-fifths rule. */
  readonly minSelectionRatio?: number;
  /** Breach when demographic parity difference exceeds this. */
  readonly maxSelectionDifference?: number;
  readonly maxEqualizedOddsDifference?: number;
  readonly maxEqualOpportunityDifference?: number;
  /** Groups with fewer rows are insufficient: left out of every figure, never a pass or a breach. Default 1. */
  readonly minGroupCount?: number;
}

export type FairnessMetric = 'selectionRatio' | 'selectionDifference' | 'equalizedOddsDifference' | 'equalOpportunityDifference';

export interface FairnessBreach {
  readonly metric: FairnessMetric;
  readonly value: number;
  readonly bound: number;
  /**
   * selectionRatio: the judged groups whose ratio to the most-selected group is below the bound, by
   * name, then the most-selected group. The differences: the min group, then the max group.
   */
  readonly groups: readonly string[];
}

export interface InsufficientGroup {
  readonly group: string;
  readonly count: number;
  readonly minGroupCount: number;
}

export interface FairnessBreaches {
  readonly breaches: readonly FairnessBreach[];
  readonly insufficient: readonly InsufficientGroup[];
  /** Groups the figures were computed over. */
  readonly judged: readonly string[];
  /** Bounded metrics that could not be computed over the judged groups (no labels, rates all 0, no groups): neither pass nor breach. */
  readonly undetermined: readonly FairnessMetric[];
  /** The report restricted to the judged groups (the figures the breaches were read from). */
  readonly figures: FairnessReport;
}

function requireBound(value: number | undefined, name: string, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new StatsInputError(`${name} must be a number in [0, ${max}] (got ${String(value)})`);
  }
}

/** The bounds `report` breaks, judged over the groups with at least `minGroupCount` rows. Strict: ratio < bound, difference > bound. */
export function fairnessBreaches(report: FairnessReport, bounds: FairnessBounds): FairnessBreaches {
  requireBound(bounds.minSelectionRatio, 'minSelectionRatio', 1);
  requireBound(bounds.maxSelectionDifference, 'maxSelectionDifference', 1);
  requireBound(bounds.maxEqualizedOddsDifference, 'maxEqualizedOddsDifference', 1);
  requireBound(bounds.maxEqualOpportunityDifference, 'maxEqualOpportunityDifference', 1);
  const minGroupCount = bounds.minGroupCount ?? 1;
  if (!Number.isInteger(minGroupCount) || minGroupCount < 0) throw new StatsInputError(`minGroupCount must be an integer >= 0 (got ${String(minGroupCount)})`);

  const kept = report.groups.filter((g) => g.count >= minGroupCount);
  const insufficient = report.groups.filter((g) => g.count < minGroupCount).map((g) => ({ group: g.group, count: g.count, minGroupCount }));
  const keptRows = kept.reduce((s, g) => s + g.count, 0);
  const figures = summarise(kept, keptRows, kept.reduce((s, g) => s + g.count - g.labelled, 0));

  const breaches: FairnessBreach[] = [];
  const undetermined: FairnessMetric[] = [];
  const pair = (d: Disparity) => [d.minGroup!, d.maxGroup!];
  const check = (metric: FairnessMetric, bound: number | undefined, value: number | null, breaks: (v: number, b: number) => boolean, groups: () => string[]) => {
    if (bound === undefined) return;
    if (value === null) undetermined.push(metric);
    else if (breaks(value, bound)) breaches.push({ metric, value, bound, groups: groups() });
  };
  check('selectionRatio', bounds.minSelectionRatio, figures.demographicParity.ratio, (v, b) => v < b, () => [
    ...figures.groups.filter((g) => g.selectionRatioToMax !== null && g.selectionRatioToMax < bounds.minSelectionRatio!).map((g) => g.group),
    figures.mostSelectedGroup!,
  ]);
  check('selectionDifference', bounds.maxSelectionDifference, figures.demographicParity.difference, (v, b) => v > b, () => pair(figures.demographicParity));
  check('equalizedOddsDifference', bounds.maxEqualizedOddsDifference, figures.equalizedOdds.difference, (v, b) => v > b, () =>
    pair(figures.equalizedOdds.differenceFrom === 'falsePositiveRate' ? figures.falsePositiveRate : figures.truePositiveRate),
  );
  check('equalOpportunityDifference', bounds.maxEqualOpportunityDifference, figures.equalOpportunity.difference, (v, b) => v > b, () => pair(figures.equalOpportunity));
  return { breaches, insufficient, judged: kept.map((g) => g.group), undetermined, figures };
}
