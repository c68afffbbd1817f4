// Everything the monitors need about one (service, version, segment, window), as a mergeable delta:
// the feature sketches, decision counts, labelled outcomes (confusion counts and calibration) and
// business signals, cross-check verdicts per checker. Counts in a delta may be negative (a corrected label takes its old pair back);
// the sum over all deltas of a window is what one process seeing all traffic would have counted.
import { FeatureSketchSet, SketchError, type FeatureSketchSetConfig, type SketchKey } from '../sketches/index.js';
import { CalibrationTable, ClassConfidenceCounts } from '../monitors/calibration-table.js';
import type { BusinessCounts } from '../monitors/types.js';
import { addVerdicts, crossChecksFromJSON, crossChecksToJSON, mergeCrossChecks, type CrossCheckCountsJSON, type CrossCheckVerdict, type MutableCrossCheckCounts } from './cross-check-counts.js';

export const windowOutcomes = ['auto', 'review', 'fallback', 'rejected'] as const;
export type WindowOutcome = (typeof windowOutcomes)[number];

export interface WindowCounts {
  decisions: number;
  byOutcome: Record<WindowOutcome, number>;
  modelErrors: number;
}

/** The window's business signals (monitors/types.ts `BusinessCounts` says what each counts). */
export type WindowBusiness = { -readonly [K in keyof BusinessCounts]: BusinessCounts[K] };

const businessSignals = ['decisions', 'overrides', 'complaints', 'appeals', 'overturned'] as const satisfies ReadonlyArray<keyof BusinessCounts>;

export const emptyBusiness = (): WindowBusiness => ({ decisions: 0, overrides: 0, complaints: 0, appeals: 0, overturned: 0 });

/** Adds `delta` to `into`, signal by signal. */
export function addBusiness(into: WindowBusiness, delta: BusinessCounts): void {
  for (const k of businessSignals) into[k] += delta[k];
}


/** The JSON body of a stored sketch delta. */
export interface WindowAccumulatorJSON {
  readonly type: 'window-accumulator';
  readonly version: 1;
  readonly sketch: unknown;
  readonly counts: WindowCounts;
  /** [predicted ('' when none), actual, count] */
  readonly confusion: ReadonlyArray<readonly [string, string, number]>;
  readonly calibration: { readonly total: readonly number[]; readonly correct: readonly number[]; readonly confidenceSum: readonly number[] };
  readonly business: WindowBusiness;
  /**
   * The window's predictions by predicted class (the reference's tracked output labels) and confidence bin, for CBPE
   * per class. Absent in deltas stored before it was kept: a window with such a delta has no per-class counts (CBPE
   * then calibrates by confidence only, and says so).
   */
  readonly predictions?: unknown;
  /** Cross-check verdicts per checker, sorted by name; absent when there were none (and in deltas stored before they were counted). */
  readonly crossChecks?: CrossCheckCountsJSON;
}

const emptyCounts = (): WindowCounts => ({ decisions: 0, byOutcome: { auto: 0, review: 0, fallback: 0, rejected: 0 }, modelErrors: 0 });

export class WindowAccumulator {
  readonly sketch: FeatureSketchSet;
  readonly counts: WindowCounts = emptyCounts();
  readonly confusion = new Map<string, number>();
  readonly calibration = new CalibrationTable();
  readonly business: WindowBusiness = emptyBusiness();
  /** Predictions by class and confidence bin; undefined once a delta without them was merged in (the counts would be short). */
  predictions: ClassConfidenceCounts | undefined;
  /** Cross-check verdicts by checker name. */
  readonly crossChecks = new Map<string, MutableCrossCheckCounts>();
  /** Wall-clock ms of the latest event counted (decision or feedback). */
  lastEventAt = 0;

  /** An empty accumulator over `sketch` (normally a new, empty set; fromJSON passes a stored one). */
  /** `predictions`: the stored counts; null when the delta had none (default: new, empty counts over the sketch's output labels). */
  constructor(sketch: FeatureSketchSet, predictions?: ClassConfidenceCounts | null) {
    this.sketch = sketch;
    this.predictions = predictions === undefined ? new ClassConfidenceCounts(sketch.outputLabels.categories) : (predictions ?? undefined);
  }

  static create(config: FeatureSketchSetConfig): WindowAccumulator {
    return new WindowAccumulator(new FeatureSketchSet(config));
  }

  get key(): SketchKey {
    return this.sketch.key;
  }

  /** Whether anything was counted since creation. */
  get dirty(): boolean {
    return this.sketch.eventCount > 0 || this.lastEventAt > 0;
  }

  /** Counts one decision's prediction for CBPE per class (the sketch counts its confidence alone). */
  addPrediction(label: string | null, confidence: number | null): void {
    this.predictions?.update(label, confidence);
  }

  /** Counts one decision's cross-check verdicts (from `verdictsOf(record.explanation)`). */
  addCrossChecks(verdicts: ReadonlyArray<readonly [string, CrossCheckVerdict]>): void {
    addVerdicts(this.crossChecks, verdicts);
  }

  addLabel(predicted: string | null, actual: string, confidence: number | null, weight: 1 | -1): void {
    const key = `${predicted ?? ''}\u0000${actual}`;
    this.confusion.set(key, (this.confusion.get(key) ?? 0) + weight);
    if (typeof confidence === 'number') {
      const bin = CalibrationTable.binOf(confidence);
      if (bin >= 0) {
        this.calibration.total[bin]! += weight;
        if (predicted === actual) this.calibration.correct[bin]! += weight;
        this.calibration.confidenceSum[bin]! += weight * confidence;
      }
    }
  }

  /** Adds another accumulator of the same key (from another checkpoint or process). */
  merge(other: WindowAccumulator): this {
    this.sketch.merge(other.sketch);
    this.counts.decisions += other.counts.decisions;
    this.counts.modelErrors += other.counts.modelErrors;
    for (const outcome of windowOutcomes) this.counts.byOutcome[outcome] += other.counts.byOutcome[outcome];
    for (const [key, n] of other.confusion) this.confusion.set(key, (this.confusion.get(key) ?? 0) + n);
    this.calibration.merge(other.calibration);
    if (this.predictions !== undefined && other.predictions !== undefined) this.predictions.merge(other.predictions);
    else this.predictions = undefined;
    addBusiness(this.business, other.business);
    mergeCrossChecks(this.crossChecks, other.crossChecks);
    this.lastEventAt = Math.max(this.lastEventAt, other.lastEventAt);
    return this;
  }

  /** Labelled pairs, expanded from the confusion counts (a pair whose count sums to zero or less is gone). */
  labelPairs(): Array<{ predicted: string | null; actual: string; score: null }> {
    const pairs: Array<{ predicted: string | null; actual: string; score: null }> = [];
    for (const [key, n] of [...this.confusion].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const [predicted, actual] = key.split('\u0000') as [string, string];
      for (let i = 0; i < n; i++) pairs.push({ predicted: predicted === '' ? null : predicted, actual, score: null });
    }
    return pairs;
  }

  toJSON(): WindowAccumulatorJSON {
    return {
      type: 'window-accumulator',
      version: 1,
      sketch: this.sketch.toJSON(),
      counts: { decisions: this.counts.decisions, byOutcome: { ...this.counts.byOutcome }, modelErrors: this.counts.modelErrors },
      confusion: [...this.confusion].filter(([, n]) => n !== 0).map(([key, n]) => [...(key.split('\u0000') as [string, string]), n] as const),
      calibration: { total: [...this.calibration.total], correct: [...this.calibration.correct], confidenceSum: [...this.calibration.confidenceSum] },
      business: { ...this.business },
      ...(this.predictions === undefined ? {} : { predictions: this.predictions.toJSON() }),
      ...(this.crossChecks.size === 0 ? {} : { crossChecks: crossChecksToJSON(this.crossChecks) }),
    };
  }

  /** Reads a stored delta; `vocabularies` restores text features' vocabularies (not serialised by the sketches). */
  static fromJSON(value: unknown, lastEventAt: number, vocabularies?: Readonly<Record<string, ReadonlySet<string>>>): WindowAccumulator {
    const json = value as Partial<WindowAccumulatorJSON> | null;
    if (json === null || typeof json !== 'object' || json.type !== 'window-accumulator' || json.version !== 1) throw new SketchError('not a window-accumulator, version 1');
    const sketch = FeatureSketchSet.fromJSON(json.sketch, { vocabularies });
    const predictions = json.predictions === undefined ? null : ClassConfidenceCounts.fromJSON(json.predictions);
    if (predictions !== null && (predictions.labels.length !== sketch.outputLabels.categories.length || predictions.labels.some((l, i) => l !== sketch.outputLabels.categories[i]))) {
      throw new SketchError('window-accumulator: predictions must count the output labels of the sketch');
    }
    const acc = new WindowAccumulator(sketch, predictions);
    const counts = json.counts;
    if (counts === undefined || !Number.isInteger(counts.decisions) || !Number.isInteger(counts.modelErrors)) throw new SketchError('window-accumulator: bad counts');
    acc.counts.decisions = counts.decisions;
    acc.counts.modelErrors = counts.modelErrors;
    for (const outcome of windowOutcomes) acc.counts.byOutcome[outcome] = integer(counts.byOutcome?.[outcome], `counts.byOutcome.${outcome}`);
    for (const entry of json.confusion ?? []) {
      const [predicted, actual, n] = entry;
      if (typeof predicted !== 'string' || typeof actual !== 'string') throw new SketchError('window-accumulator: bad confusion entry');
      acc.confusion.set(`${predicted}\u0000${actual}`, integer(n, 'confusion count'));
    }
    const calibration = json.calibration;
    const bins = acc.calibration.total.length;
    for (const field of ['total', 'correct', 'confidenceSum'] as const) {
      const values = calibration?.[field];
      if (!Array.isArray(values) || values.length !== bins || values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new SketchError(`window-accumulator: calibration.${field} must be ${bins} numbers`);
      values.forEach((v, i) => (acc.calibration[field][i] = v));
    }
    // Appeals were counted later: a delta stored before has none.
    for (const k of businessSignals) acc.business[k] = (k === 'appeals' || k === 'overturned') && json.business?.[k] === undefined ? 0 : integer(json.business?.[k], `business.${k}`);
    for (const [name, counts] of crossChecksFromJSON(json.crossChecks)) acc.crossChecks.set(name, counts);
    acc.lastEventAt = lastEventAt;
    return acc;
  }
}

function integer(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new SketchError(`window-accumulator: ${what} must be an integer`);
  return value;
}
