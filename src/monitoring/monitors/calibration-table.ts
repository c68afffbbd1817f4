// Labelled predictions counted by confidence bin: what CBPE and the calibration monitor need, as a mergeable statistic.
import { CONFIDENCE_EDGES } from '../sketches/index.js';
import { SketchError } from '../sketches/index.js';

export const CALIBRATION_TABLE_VERSION = 1;

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
}

/** Counts of (confidence, correct?) pairs per confidence bin; merges by adding. */
export class CalibrationTable {
  readonly edges: readonly number[] = CONFIDENCE_EDGES;
  readonly total: number[];
  readonly correct: number[];
  readonly confidenceSum: number[];

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

  /** Counts one labelled prediction; a confidence outside [0, 1] (or null) is ignored. */
  update(confidence: number | null | undefined, correct: boolean): void {
    if (typeof confidence !== 'number') return;
    const bin = CalibrationTable.binOf(confidence);
    if (bin < 0) return;
    this.total[bin]!++;
    if (correct) this.correct[bin]!++;
    this.confidenceSum[bin]! += confidence;
  }

  merge(other: CalibrationTable): this {
    for (let i = 0; i < this.total.length; i++) {
      this.total[i]! += other.total[i]!;
      this.correct[i]! += other.correct[i]!;
      this.confidenceSum[i]! += other.confidenceSum[i]!;
    }
    return this;
  }

  get count(): number {
    return this.total.reduce((a, b) => a + b, 0);
  }

  toJSON(): CalibrationTableJSON {
    return { type: 'calibration-table', version: CALIBRATION_TABLE_VERSION, edges: [...this.edges], total: [...this.total], correct: [...this.correct], confidenceSum: [...this.confidenceSum] };
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
    return table;
  }
}
