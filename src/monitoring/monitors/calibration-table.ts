// Labelled predictions counted by confidence bin (and by predicted class): what CBPE and the calibration monitor need,
// as mergeable statistics; and a window's predictions counted by predicted class and confidence bin, CBPE's input.
import { CONFIDENCE_EDGES } from '../sketches/index.js';
import { SketchError } from '../sketches/index.js';

export const CALIBRATION_TABLE_VERSION = 1;

/** One predicted class's labelled predictions per confidence bin. */
export interface CalibrationClassJSON {
  /** The predicted label (as `labelOf` reads it). */
  readonly label: string;
  readonly total: readonly number[];
  readonly correct: readonly number[];
  readonly confidenceSum: readonly number[];
}

/** Counts of one predicted class (or of all classes) per confidence bin. */
export interface BinCounts {
  readonly total: number[];
  readonly correct: number[];
  readonly confidenceSum: number[];
}

function emptyCounts(): BinCounts {
  const bins = CONFIDENCE_EDGES.length - 1;
  return { total: new Array<number>(bins).fill(0), correct: new Array<number>(bins).fill(0), confidenceSum: new Array<number>(bins).fill(0) };
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface CalibrationTableJSON {
  readonly type: 'calibration-table';
  readonly version: typeof CALIBRATION_TABLE_VERSION;
  /** Bin edges over confidence: CONFIDENCE_EDGES, bins [e_i, e_i+1) with the last closed. */
  readonly edges: readonly number[];
  /** Labelled predictions per bin. */
  readonly total: readonly number[];
  /** Of those, predictions whose label was right. */
  readonly correct: readonly number[];
  /** Sum of the confidences per bin (for ECE's mean confidence); not exact across merges in the last bits. */
  readonly confidenceSum: readonly number[];
  /**
   * The same counts per predicted class, sorted by label (code-unit order), for CBPE per class. Optional: absent in
   * profiles stored before it existed and in tables counted without predicted labels (CBPE then calibrates by
   * confidence only and says so). Per bin, the classes' counts sum to at most the pooled ones.
   */
  readonly classes?: readonly CalibrationClassJSON[];
}

/** Counts of (confidence, correct?) pairs per confidence bin, pooled and per predicted class; merges by adding. */
export class CalibrationTable {
  readonly edges: readonly number[] = CONFIDENCE_EDGES;
  readonly total: number[];
  readonly correct: number[];
  readonly confidenceSum: number[];
  /** Per predicted class (only predictions counted with their label). */
  readonly classes = new Map<string, BinCounts>();

  constructor() {
    const bins = CONFIDENCE_EDGES.length - 1;
    this.total = new Array<number>(bins).fill(0);
    this.correct = new Array<number>(bins).fill(0);
    this.confidenceSum = new Array<number>(bins).fill(0);
  }

  /** The bin of a confidence in [0, 1]; -1 for anything else (ignored). */
  static binOf(confidence: number): number {
    if (!(confidence >= 0 && confidence <= 1)) return -1;
    const bins = CONFIDENCE_EDGES.length - 1;
    let bin = Math.min(Math.floor(confidence * bins), bins - 1);
    // k/20 is correctly rounded, the product may not be: settle on the edges themselves.
    while (bin > 0 && confidence < (CONFIDENCE_EDGES[bin] as number)) bin--;
    while (bin < bins - 1 && confidence >= (CONFIDENCE_EDGES[bin + 1] as number)) bin++;
    return bin;
  }

  /**
   * Counts one labelled prediction, pooled and, given its predicted label, under that class; a confidence outside
   * [0, 1] (or null) is ignored.
   */
  update(confidence: number | null | undefined, correct: boolean, predicted?: string): void {
    if (typeof confidence !== 'number') return;
    const bin = CalibrationTable.binOf(confidence);
    if (bin < 0) return;
    const targets: BinCounts[] = [this];
    if (predicted !== undefined) {
      let counts = this.classes.get(predicted);
      if (counts === undefined) this.classes.set(predicted, (counts = emptyCounts()));
      targets.push(counts);
    }
    for (const t of targets) {
      t.total[bin]!++;
      if (correct) t.correct[bin]!++;
      t.confidenceSum[bin]! += confidence;
    }
  }

  merge(other: CalibrationTable): this {
    const add = (into: BinCounts, from: BinCounts) => {
      for (let i = 0; i < into.total.length; i++) {
        into.total[i]! += from.total[i]!;
        into.correct[i]! += from.correct[i]!;
        into.confidenceSum[i]! += from.confidenceSum[i]!;
      }
    };
    add(this, other);
    for (const [label, counts] of other.classes) {
      let mine = this.classes.get(label);
      if (mine === undefined) this.classes.set(label, (mine = emptyCounts()));
      add(mine, counts);
    }
    return this;
  }

  /** Whether every labelled prediction of the table was counted under its class (so CBPE can calibrate per class). */
  get hasClasses(): boolean {
    if (this.classes.size === 0) return false;
    for (let b = 0; b < this.total.length; b++) {
      let sum = 0;
      for (const counts of this.classes.values()) sum += counts.total[b]!;
      if (sum !== this.total[b]) return false;
    }
    return true;
  }

  get count(): number {
    return this.total.reduce((a, b) => a + b, 0);
  }

  /** The table as JSON; `classes` only when some prediction was counted under its class (so older readers see the same shape). */
  toJSON(): CalibrationTableJSON {
    const json = { type: 'calibration-table', version: CALIBRATION_TABLE_VERSION, edges: [...this.edges], total: [...this.total], correct: [...this.correct], confidenceSum: [...this.confidenceSum] } as const;
    if (this.classes.size === 0) return json;
    const classes = [...this.classes.keys()].sort(byCodeUnit).map((label) => {
      const c = this.classes.get(label)!;
      return { label, total: [...c.total], correct: [...c.correct], confidenceSum: [...c.confidenceSum] };
    });
    return { ...json, classes };
  }

  static fromJSON(json: unknown): CalibrationTable {
    const j = json as Partial<CalibrationTableJSON> | null;
    const bins = CONFIDENCE_EDGES.length - 1;
    if (j === null || typeof j !== 'object' || j.type !== 'calibration-table' || j.version !== CALIBRATION_TABLE_VERSION) throw new SketchError('not a calibration-table, version 1');
    if (!Array.isArray(j.edges) || j.edges.length !== CONFIDENCE_EDGES.length || j.edges.some((e, i) => e !== CONFIDENCE_EDGES[i])) throw new SketchError('calibration-table: edges differ from CONFIDENCE_EDGES');
    const table = new CalibrationTable();
    for (const field of ['total', 'correct', 'confidenceSum'] as const) {
      const values = j[field];
      if (!Array.isArray(values) || values.length !== bins || values.some((v) => typeof v !== 'number' || !(v >= 0))) throw new SketchError(`calibration-table: ${field} must be ${bins} numbers >= 0`);
      for (let i = 0; i < bins; i++) table[field][i] = values[i] as number;
    }
    for (let i = 0; i < bins; i++) {
      if (!Number.isInteger(table.total[i]) || !Number.isInteger(table.correct[i]) || table.correct[i]! > table.total[i]!) throw new SketchError(`calibration-table: bin ${i} has correct > total or non-integer counts`);
    }
    if (j.classes !== undefined) {
      if (!Array.isArray(j.classes)) throw new SketchError('calibration-table: classes must be an array');
      for (const entry of j.classes as unknown[]) {
        const c = entry as Partial<CalibrationClassJSON> | null;
        if (c === null || typeof c !== 'object' || typeof c.label !== 'string') throw new SketchError('calibration-table: a class needs a string label');
        if (table.classes.has(c.label)) throw new SketchError(`calibration-table: class ${JSON.stringify(c.label)} appears twice`);
        const counts = emptyCounts();
        for (const field of ['total', 'correct', 'confidenceSum'] as const) {
          const values = c[field];
          if (!Array.isArray(values) || values.length !== bins || values.some((v) => typeof v !== 'number' || !(v >= 0))) throw new SketchError(`calibration-table: class ${JSON.stringify(c.label)}: ${field} must be ${bins} numbers >= 0`);
          for (let i = 0; i < bins; i++) counts[field][i] = values[i] as number;
        }
        for (let i = 0; i < bins; i++) {
          if (!Number.isInteger(counts.total[i]) || !Number.isInteger(counts.correct[i]) || counts.correct[i]! > counts.total[i]!) throw new SketchError(`calibration-table: class ${JSON.stringify(c.label)}, bin ${i} has correct > total or non-integer counts`);
        }
        table.classes.set(c.label, counts);
      }
      for (let i = 0; i < bins; i++) {
        let total = 0;
        let correct = 0;
        for (const counts of table.classes.values()) {
          total += counts.total[i]!;
          correct += counts.correct[i]!;
        }
        if (total > table.total[i]! || correct > table.correct[i]!) throw new SketchError(`calibration-table: bin ${i}: the classes count more than the table`);
      }
    }
    return table;
  }
}

/**
 * A window's predictions counted by predicted class and confidence bin: what CBPE per class weighs the reference's
 * per-class calibration with. The classes are fixed at construction (the reference's, normally its tracked output
 * labels), so the size is bounded and parts merge exactly; a prediction of any other label is counted as `other`, one
 * without a label or a confidence in [0, 1] as `unusable`.
 */
export class ClassConfidenceCounts {
  readonly edges: readonly number[] = CONFIDENCE_EDGES;
  readonly labels: readonly string[];
  /** counts[i][b]: predictions of labels[i] in confidence bin b. */
  readonly counts: number[][];
  /** Predictions of an untracked label, per confidence bin. */
  readonly other: number[];
  /** Predictions without a label or without a confidence in [0, 1]. */
  unusable = 0;
  /** Row of each label: `update` runs once per decision and window on the hot path. */
  private readonly rowOf: ReadonlyMap<string, number>;

  constructor(labels: readonly string[]) {
    if (new Set(labels).size !== labels.length) throw new SketchError('class-confidence counts: labels must be distinct');
    const bins = CONFIDENCE_EDGES.length - 1;
    this.labels = [...labels];
    this.rowOf = new Map(labels.map((label, i) => [label, i]));
    this.counts = labels.map(() => new Array<number>(bins).fill(0));
    this.other = new Array<number>(bins).fill(0);
  }

  /** Counts one prediction. */
  update(label: string | null | undefined, confidence: number | null | undefined): void {
    const bin = typeof confidence === 'number' ? CalibrationTable.binOf(confidence) : -1;
    if (typeof label !== 'string' || bin < 0) {
      this.unusable++;
      return;
    }
    const i = this.rowOf.get(label);
    (i === undefined ? this.other : this.counts[i]!)[bin]!++;
  }

  merge(other: ClassConfidenceCounts): this {
    if (other.labels.length !== this.labels.length || other.labels.some((l, i) => l !== this.labels[i])) throw new SketchError('class-confidence counts: cannot merge different labels');
    this.counts.forEach((row, i) => row.forEach((_, b) => (row[b]! += other.counts[i]![b]!)));
    this.other.forEach((_, b) => (this.other[b]! += other.other[b]!));
    this.unusable += other.unusable;
    return this;
  }

  /** Predictions with a label and a confidence in [0, 1]. */
  get count(): number {
    let n = 0;
    for (const row of [...this.counts, this.other]) for (const v of row) n += v;
    return n;
  }

  toJSON(): { readonly type: 'class-confidence-counts'; readonly version: 1; readonly labels: readonly string[]; readonly counts: readonly (readonly number[])[]; readonly other: readonly number[]; readonly unusable: number } {
    return { type: 'class-confidence-counts', version: 1, labels: [...this.labels], counts: this.counts.map((r) => [...r]), other: [...this.other], unusable: this.unusable };
  }

  static fromJSON(json: unknown): ClassConfidenceCounts {
    const j = json as Partial<ReturnType<ClassConfidenceCounts['toJSON']>> | null;
    const bins = CONFIDENCE_EDGES.length - 1;
    if (j === null || typeof j !== 'object' || j.type !== 'class-confidence-counts' || j.version !== 1) throw new SketchError('not a class-confidence-counts, version 1');
    if (!Array.isArray(j.labels) || j.labels.some((l) => typeof l !== 'string')) throw new SketchError('class-confidence counts: labels must be strings');
    const result = new ClassConfidenceCounts(j.labels);
    const rows = [...(Array.isArray(j.counts) ? j.counts : []), j.other];
    if (rows.length !== j.labels.length + 1) throw new SketchError('class-confidence counts: one row of counts per label, and other');
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== bins || row.some((v) => !Number.isSafeInteger(v) || (v as number) < 0)) throw new SketchError(`class-confidence counts: every row must be ${bins} integers >= 0`);
      (i < j.labels!.length ? result.counts[i]! : result.other).splice(0, bins, ...(row as number[]));
    });
    if (!Number.isSafeInteger(j.unusable) || j.unusable! < 0) throw new SketchError('class-confidence counts: unusable must be an integer >= 0');
    result.unusable = j.unusable!;
    return result;
  }
}
