// Group fairness of binary decisions, by Fairlearn's definitions (fairlearn.metrics, "between_groups"):
// selection rate per group; demographic parity difference (max − min) and ratio (min / max, the
// four-fifths rule's); true- and false-positive rates on labelled rows; equalized odds difference
// (the larger of the TPR and FPR differences) and ratio (the smaller of their ratios); equal
// opportunity difference (the TPR difference). Each rate with its count and a 95% Wilson interval.
// One deliberate difference: a group with no labelled positives (negatives) has no TPR (FPR) here,
// null, and is left out of that rate's difference, where scikit-learn's normalised confusion matrix
// would call it 0 and Fairlearn would count it.

export interface FairnessInput {
  readonly group: string;
  readonly selected: boolean;
  /** The true favourable outcome, when known. */
  readonly label?: boolean | null;
}

export interface Rate {
  readonly value: number | null;
  /** Rows it is a share of. */
  readonly of: number;
  readonly count: number;
  readonly interval: readonly [number, number] | null;
}

export interface GroupFigures {
  readonly group: string;
  readonly decisions: number;
  readonly selection: Rate;
  /** Selected among the labelled positives. */
  readonly truePositiveRate: Rate;
  /** Selected among the labelled negatives. */
  readonly falsePositiveRate: Rate;
  /** This group's selection rate over the most selected group's (the four-fifths rule as regulators read it). */
  readonly selectionRatioToMax: number | null;
}

export interface FairnessFigures {
  readonly groups: readonly GroupFigures[];
  readonly selectionDifference: number | null;
  readonly selectionRatio: number | null;
  readonly truePositiveRateDifference: number | null;
  readonly falsePositiveRateDifference: number | null;
  readonly equalizedOddsDifference: number | null;
  readonly equalizedOddsRatio: number | null;
  readonly equalOpportunityDifference: number | null;
  /** Groups the figures above were computed over (those with at least `minGroupCount` decisions). */
  readonly judged: readonly string[];
  /** Groups with fewer decisions than `minGroupCount`: shown, never judged. */
  readonly insufficient: readonly string[];
}

const z95 = 1.959963984540054;

/** The 95% Wilson score interval of `k` of `n`. */
export function wilson(k: number, n: number): readonly [number, number] | null {
  if (n === 0) return null;
  const p = k / n;
  const z2 = z95 * z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

const rate = (count: number, of: number): Rate => ({ value: of === 0 ? null : count / of, of, count, interval: wilson(count, of) });

function spread(values: readonly (number | null)[]): { difference: number | null; ratio: number | null } {
  const known = values.filter((v): v is number => v !== null);
  if (known.length < 2) return { difference: null, ratio: null };
  const max = Math.max(...known);
  const min = Math.min(...known);
  return { difference: max - min, ratio: max === 0 ? null : min / max };
}

/** The figures of one protected field over `rows`; groups with fewer than `minGroupCount` decisions are not judged. */
export function fairnessFigures(rows: readonly FairnessInput[], minGroupCount = 1): FairnessFigures {
  const by = new Map<string, { n: number; sel: number; pos: number; tp: number; neg: number; fp: number }>();
  for (const row of rows) {
    const g = by.get(row.group) ?? { n: 0, sel: 0, pos: 0, tp: 0, neg: 0, fp: 0 };
    g.n += 1;
    if (row.selected) g.sel += 1;
    if (row.label === true) {
      g.pos += 1;
      if (row.selected) g.tp += 1;
    } else if (row.label === false) {
      g.neg += 1;
      if (row.selected) g.fp += 1;
    }
    by.set(row.group, g);
  }
  const names = [...by.keys()].sort();
  const judged = names.filter((name) => by.get(name)!.n >= minGroupCount);
  const insufficient = names.filter((name) => by.get(name)!.n < minGroupCount);
  const selectionOf = (name: string) => by.get(name)!.sel / by.get(name)!.n;
  const maxSelection = judged.length === 0 ? null : Math.max(...judged.map(selectionOf));
  const groups: GroupFigures[] = names.map((name) => {
    const g = by.get(name)!;
    return {
      group: name,
      decisions: g.n,
      selection: rate(g.sel, g.n),
      truePositiveRate: rate(g.tp, g.pos),
      falsePositiveRate: rate(g.fp, g.neg),
      selectionRatioToMax: maxSelection === null || maxSelection === 0 || !judged.includes(name) ? null : selectionOf(name) / maxSelection,
    };
  });
  const of = (pick: (g: GroupFigures) => number | null) => groups.filter((g) => judged.includes(g.group)).map(pick);
  const selection = spread(of((g) => g.selection.value));
  const tpr = spread(of((g) => g.truePositiveRate.value));
  const fpr = spread(of((g) => g.falsePositiveRate.value));
  return {
    groups,
    selectionDifference: selection.difference,
    selectionRatio: selection.ratio,
    truePositiveRateDifference: tpr.difference,
    falsePositiveRateDifference: fpr.difference,
    equalizedOddsDifference: tpr.difference === null || fpr.difference === null ? null : Math.max(tpr.difference, fpr.difference),
    equalizedOddsRatio: tpr.ratio === null || fpr.ratio === null ? null : Math.min(tpr.ratio, fpr.ratio),
    equalOpportunityDifference: tpr.difference,
    judged,
    insufficient,
  };
}

/** One bound a field's figures break. */
export interface FairnessBreach {
  readonly metric: 'selectionRatio' | 'selectionDifference' | 'equalizedOddsDifference' | 'equalOpportunityDifference';
  readonly value: number;
  readonly bound: number;
  readonly message: string;
}

/** The bounds `figures` break (a figure that cannot be computed breaks nothing, and says so elsewhere). */
export function fairnessBreaches(
  field: string,
  figures: FairnessFigures,
  bounds: { readonly minSelectionRatio?: number; readonly maxSelectionDifference?: number; readonly maxEqualizedOddsDifference?: number; readonly maxEqualOpportunityDifference?: number },
): FairnessBreach[] {
  const out: FairnessBreach[] = [];
  const lowest = (pick: (g: GroupFigures) => number | null) => {
    const rows = figures.groups.filter((g) => figures.judged.includes(g.group) && pick(g) !== null);
    return rows.length === 0 ? '' : ` (${rows.map((g) => `${g.group} ${(100 * pick(g)!).toFixed(1)}%`).join(', ')})`;
  };
  const f = (x: number) => x.toFixed(3);
  if (bounds.minSelectionRatio !== undefined && figures.selectionRatio !== null && figures.selectionRatio < bounds.minSelectionRatio) {
    out.push({ metric: 'selectionRatio', value: figures.selectionRatio, bound: bounds.minSelectionRatio, message: `${field}: selection-rate ratio ${f(figures.selectionRatio)} < ${bounds.minSelectionRatio}${lowest((g) => g.selection.value)}` });
  }
  if (bounds.maxSelectionDifference !== undefined && figures.selectionDifference !== null && figures.selectionDifference > bounds.maxSelectionDifference) {
    out.push({ metric: 'selectionDifference', value: figures.selectionDifference, bound: bounds.maxSelectionDifference, message: `${field}: selection-rate difference ${f(figures.selectionDifference)} > ${bounds.maxSelectionDifference}${lowest((g) => g.selection.value)}` });
  }
  if (bounds.maxEqualizedOddsDifference !== undefined && figures.equalizedOddsDifference !== null && figures.equalizedOddsDifference > bounds.maxEqualizedOddsDifference) {
    out.push({ metric: 'equalizedOddsDifference', value: figures.equalizedOddsDifference, bound: bounds.maxEqualizedOddsDifference, message: `${field}: equalized-odds difference ${f(figures.equalizedOddsDifference)} > ${bounds.maxEqualizedOddsDifference}` });
  }
  if (bounds.maxEqualOpportunityDifference !== undefined && figures.equalOpportunityDifference !== null && figures.equalOpportunityDifference > bounds.maxEqualOpportunityDifference) {
    out.push({ metric: 'equalOpportunityDifference', value: figures.equalOpportunityDifference, bound: bounds.maxEqualOpportunityDifference, message: `${field}: equal-opportunity difference ${f(figures.equalOpportunityDifference)} > ${bounds.maxEqualOpportunityDifference}${lowest((g) => g.truePositiveRate.value)}` });
  }
  return out;
}
