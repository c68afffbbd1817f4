// Builds a reference profile from rows streamed in two passes: the first derives the bins (quantile
// edges, top categories, vocabularies), the second sketches every row with them. Between the passes
// only what the bins need is kept: numeric values and text lengths and token counts (8 bytes per
// value), and counts of distinct categories, tokens and labels; never the rows.
import { CalibrationTable } from '../monitors/calibration-table.js';
import {
  DEFAULT_BINS,
  DEFAULT_MAX_CATEGORIES,
  DEFAULT_OTHER_SAMPLE_SIZE,
  DEFAULT_REFERENCE_SAMPLE_SIZE,
  FeatureSketchSet,
  SketchError,
  categoryOf,
  DEFAULT_TEXT_MAX_CHARS,
  textLength,
  referenceRowId,
  quantileEdges,
  tokenize,
  type FeatureSpec,
  type SketchColumn,
  type SketchKey,
} from '../sketches/index.js';
import type { ReferenceFeature, SkippedField } from './reference-features.js';
import type { ReferenceAccuracy, ReferenceProfileRecord, ReferenceSource, StoredFeatureSpec } from './reference-profile-record.js';

export const DEFAULT_MAX_VOCABULARY = 20_000;

/** Rows pass 2 gathers before it sketches them as columns (updateColumns): bounded memory, tight loops. */
const SKETCH_CHUNK_ROWS = 4096;

/** Pass 2's rows not yet sketched, by column: the values are read when the row arrives, so rows are never held. */
interface PendingRows {
  ids: string[];
  input: unknown[][];
  outputLabel: unknown[];
  confidence: unknown[];
}

/** One reference row: the model input, and where known the true label, the model's predicted label and its confidence. */
export interface ReferenceRow {
  readonly input: Readonly<Record<string, unknown>>;
  readonly label?: unknown;
  readonly prediction?: unknown;
  readonly confidence?: unknown;
}

export interface ReferenceBuilderOptions {
  readonly service: string;
  readonly features: readonly ReferenceFeature[];
  /** Quantile bins of numeric and text features before duplicate edges merge; default 10. */
  readonly bins?: number;
  /** Categories tracked per categorical feature; default 100. */
  readonly maxCategories?: number;
  readonly otherSampleSize?: number;
  /** Predicted labels tracked; default 100. */
  readonly maxOutputLabels?: number;
  /** Tokens kept per text feature's vocabulary; default 20,000. */
  readonly maxVocabulary?: number;
  /** Raw values kept per numeric feature (a uniform sample, for exact tests on small windows); default 5,000. */
  readonly sampleSize?: number;
  /** Code units of each text tokenized (the prefix; the sketch of every window then reads the same); default DEFAULT_TEXT_MAX_CHARS. */
  readonly maxTextChars?: number;
}

/** What identifies a profile besides its statistics. */
export interface ReferenceRecordMeta {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly source: ReferenceSource;
}

/** The key of a reference's own sketch set. */
export function referenceSketchKey(service: string): SketchKey {
  return { service, modelVersion: 'reference', window: 'reference' };
}

/**
 * A label as a category: strings as they are, numbers and booleans as text, and an object's own
 * `label` property (`{ "label": "spam" }`); anything else has no label.
 */
export function labelOf(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, 'label')) return categoryOf((value as { label: unknown }).label);
  return categoryOf(value);
}

/** The `max` most frequent keys, by count descending then code-unit order (as topCategories). */
export function mostFrequent(counts: ReadonlyMap<string, number>, max: number): string[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([key]) => key);
}

/**
 * Tokens seen at least twice. The reference's own out-of-vocabulary rate is then the share of its
 * tokens seen once, which is the Good–Turing estimate of how often new text from the same source
 * meets a token outside the vocabulary: live text is compared with what it should show, not with the
 * 0% of a vocabulary that contains every token of the reference.
 */
function seenTwice(counts: ReadonlyMap<string, number>): Map<string, number> {
  const kept = new Map<string, number>();
  for (const [token, n] of counts) if (n >= 2) kept.set(token, n);
  return kept;
}

/** A growable array of doubles (a reference can have millions of rows). */
class Values {
  private data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

type Collector =
  | { readonly feature: ReferenceFeature; readonly kind: 'numeric'; readonly values: Values }
  | { readonly feature: ReferenceFeature; readonly kind: 'categorical'; readonly counts: Map<string, number> }
  | { readonly feature: ReferenceFeature; readonly kind: 'text'; readonly lengths: Values; readonly tokenCounts: Values; readonly tokens: Map<string, number> };

function collectorOf(feature: ReferenceFeature): Collector {
  switch (feature.kind) {
    case 'numeric':
      return { feature, kind: 'numeric', values: new Values() };
    case 'categorical':
      return { feature, kind: 'categorical', counts: new Map() };
    case 'text':
      return { feature, kind: 'text', lengths: new Values(), tokenCounts: new Values(), tokens: new Map() };
    default:
      throw new SketchError(`reference feature ${JSON.stringify(feature.name)}: unknown kind ${JSON.stringify(feature.kind)}`);
  }
}

function emptyPending(features: number): PendingRows {
  return { ids: [], input: Array.from({ length: features }, () => []), outputLabel: [], confidence: [] };
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/**
 * Two passes over the same rows: `observe` each row, `finishFirstPass()`, then `sketch` each row
 * again, then `build(meta)`. The result equals buildReferenceProfile over those rows (same specs,
 * byte-identical sketch JSON), plus vocabularies, calibration and accuracy.
 */
export class ReferenceBuilder {
  private readonly options: ReferenceBuilderOptions;
  private collectors: Collector[];
  private readonly outputCounts = new Map<string, number>();
  private observed = 0;
  private specs: FeatureSpec[] | undefined;
  private readonly skippedFeatures: SkippedField[] = [];
  private set: FeatureSketchSet | undefined;
  private pending: PendingRows | undefined;
  private readonly calibration = new CalibrationTable();
  private labelled = 0;
  private correct = 0;
  private readonly maxTextChars: number;

  constructor(options: ReferenceBuilderOptions) {
    if (new Set(options.features.map((f) => f.name)).size !== options.features.length) throw new SketchError('reference feature names must be distinct');
    this.options = options;
    this.maxTextChars = options.maxTextChars ?? DEFAULT_TEXT_MAX_CHARS;
    this.collectors = options.features.map(collectorOf);
  }

  /** Pass 1: counts what the bins are derived from. */
  observe(row: ReferenceRow): void {
    if (this.specs !== undefined) throw new SketchError('observe() after finishFirstPass()');
    this.observed++;
    const input = row.input;
    for (const c of this.collectors) {
      const value = Object.hasOwn(input, c.feature.name) ? input[c.feature.name] : undefined;
      if (c.kind === 'numeric') {
        if (typeof value === 'number' && Number.isFinite(value)) c.values.push(value);
      } else if (c.kind === 'categorical') {
        const category = categoryOf(value);
        if (category !== undefined) increment(c.counts, category);
      } else if (typeof value === 'string') {
        const tokens = tokenize(value, this.maxTextChars);
        c.lengths.push(textLength(value, this.maxTextChars));
        c.tokenCounts.push(tokens.length);
        for (const token of tokens) increment(c.tokens, token);
      }
    }
    const predicted = labelOf(row.prediction);
    if (predicted !== undefined) increment(this.outputCounts, predicted);
  }

  /** Rows seen in pass 1. */
  get firstPassRows(): number {
    return this.observed;
  }

  /** Rows sketched in pass 2. */
  get rows(): number {
    return (this.set?.eventCount ?? 0) + (this.pending?.ids.length ?? 0);
  }

  /** Features left out because the reference holds no usable value of them (known after pass 1). */
  get skipped(): readonly SkippedField[] {
    return this.skippedFeatures;
  }

  /** Ends pass 1: derives the specs and frees what pass 1 kept. Features without a usable value are skipped. */
  finishFirstPass(): readonly FeatureSpec[] {
    if (this.specs !== undefined) return this.specs;
    const bins = this.options.bins ?? DEFAULT_BINS;
    const specs: FeatureSpec[] = [];
    for (const c of this.collectors) {
      const { name } = c.feature;
      if (c.kind === 'numeric') {
        if (c.values.length === 0) this.skippedFeatures.push({ name, reason: 'no finite number in the reference' });
        else specs.push({ name, kind: 'numeric', edges: quantileEdges(c.values.view(), bins) });
      } else if (c.kind === 'categorical') {
        if (c.counts.size === 0) this.skippedFeatures.push({ name, reason: 'no value in the reference' });
        else specs.push({ name, kind: 'categorical', categories: mostFrequent(c.counts, this.options.maxCategories ?? DEFAULT_MAX_CATEGORIES), otherSampleSize: this.options.otherSampleSize ?? DEFAULT_OTHER_SAMPLE_SIZE });
      } else if (c.lengths.length === 0) {
        this.skippedFeatures.push({ name, reason: 'no string in the reference' });
      } else {
        specs.push({
          name,
          kind: 'text',
          lengthEdges: quantileEdges(c.lengths.view(), bins),
          tokenEdges: quantileEdges(c.tokenCounts.view(), bins),
          vocabulary: new Set(mostFrequent(seenTwice(c.tokens), this.options.maxVocabulary ?? DEFAULT_MAX_VOCABULARY)),
          maxChars: this.maxTextChars,
        });
      }
    }
    this.specs = specs;
    this.collectors = [];
    this.set = new FeatureSketchSet({
      key: referenceSketchKey(this.options.service),
      features: specs,
      outputLabels: mostFrequent(this.outputCounts, this.options.maxOutputLabels ?? DEFAULT_MAX_CATEGORIES),
      sampleSize: this.options.sampleSize ?? DEFAULT_REFERENCE_SAMPLE_SIZE,
    });
    this.outputCounts.clear();
    this.pending = emptyPending(specs.length);
    return specs;
  }

  /** Sketches the gathered rows: the same counts as one update() per row (updateColumns' contract). */
  private flush(): void {
    const set = this.set;
    const pending = this.pending;
    const specs = this.specs;
    if (set === undefined || pending === undefined || specs === undefined || pending.ids.length === 0) return;
    const input: Record<string, SketchColumn> = {};
    specs.forEach((spec, f) => (input[spec.name] = pending.input[f] as unknown[]));
    set.updateColumns({ input, ids: pending.ids, outputLabel: pending.outputLabel, confidence: pending.confidence }, pending.ids.length);
    this.pending = emptyPending(specs.length);
  }

  /** Pass 2: sketches a row with the specs of pass 1, and counts labelled predictions. */
  sketch(row: ReferenceRow): void {
    const pending = this.pending;
    const specs = this.specs;
    if (pending === undefined || specs === undefined) throw new SketchError('sketch() before finishFirstPass()');
    const predicted = labelOf(row.prediction);
    const input = row.input;
    // Sample keys from the row's content (as buildReferenceProfile), so any reading order gives the same profile.
    pending.ids.push(referenceRowId(input));
    for (let f = 0; f < specs.length; f++) {
      const name = (specs[f] as FeatureSpec).name;
      (pending.input[f] as unknown[]).push(Object.hasOwn(input, name) ? input[name] : undefined);
    }
    pending.outputLabel.push(predicted);
    pending.confidence.push(row.confidence);
    if (pending.ids.length >= SKETCH_CHUNK_ROWS) this.flush();
    const actual = labelOf(row.label);
    if (actual === undefined || predicted === undefined) return;
    this.labelled++;
    if (actual === predicted) this.correct++;
    this.calibration.update(typeof row.confidence === 'number' ? row.confidence : undefined, actual === predicted, predicted);
  }

  /** The stored form of the profile; throws a SketchError before pass 2 or when it sketched no row. */
  build(meta: ReferenceRecordMeta): ReferenceProfileRecord {
    const set = this.set;
    const specs = this.specs;
    if (set === undefined || specs === undefined) throw new SketchError('build() before finishFirstPass()');
    this.flush();
    if (set.eventCount === 0) throw new SketchError('the reference has no rows');
    const vocabularies: Record<string, string[]> = {};
    const features = specs.map((spec): StoredFeatureSpec => {
      if (spec.kind !== 'text') return spec;
      vocabularies[spec.name] = [...(spec.vocabulary ?? [])].sort();
      return { name: spec.name, kind: 'text', lengthEdges: spec.lengthEdges, tokenEdges: spec.tokenEdges, ...(spec.maxChars === undefined ? {} : { maxChars: spec.maxChars }) };
    });
    const accuracy: ReferenceAccuracy | null = this.labelled === 0 ? null : { labelled: this.labelled, correct: this.correct, accuracy: this.correct / this.labelled };
    return {
      id: meta.id,
      service: this.options.service,
      name: meta.name,
      createdAt: meta.createdAt,
      source: meta.source,
      rows: set.eventCount,
      features,
      sketch: set.toJSON(),
      vocabularies,
      calibration: this.calibration.count === 0 ? null : this.calibration.toJSON(),
      accuracy,
    };
  }
}

/** A source of reference rows that can be read from the start more than once (a file, a window of the log). */
export type ReadRows = () => AsyncIterable<ReferenceRow>;

/** Progress of a build: which pass is running. */
export type ReferencePass = 1 | 2;

export interface BuildReferenceOptions extends ReferenceBuilderOptions {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  /** Where the rows came from, given the number of rows sketched. */
  readonly source: (rows: number) => ReferenceSource;
  /** Told before each pass begins. */
  readonly onPass?: (pass: ReferencePass) => void;
  /** Told the rows of pass 1 before the bins are derived; throw to stop (an empty reference, a missing column). */
  readonly afterFirstPass?: (rows: number) => void;
}

/** Runs both passes of a ReferenceBuilder over `read()` and returns the profile and the features it left out. */
export async function buildReferenceRecord(read: ReadRows, options: BuildReferenceOptions): Promise<{ record: ReferenceProfileRecord; skipped: readonly SkippedField[] }> {
  const builder = new ReferenceBuilder(options);
  options.onPass?.(1);
  for await (const row of read()) builder.observe(row);
  options.afterFirstPass?.(builder.firstPassRows);
  builder.finishFirstPass();
  options.onPass?.(2);
  for await (const row of read()) builder.sketch(row);
  const record = builder.build({ id: options.id, name: options.name, createdAt: options.createdAt, source: options.source(builder.rows) });
  return { record, skipped: builder.skipped };
}
