// All sketches of one (service, model version, window, segment): inputs by kind, output labels, confidence, latency per stage.
import { CategoryCounter, type CategoryCounterJSON } from './category-counter.js';
import { requireCount, requireHeader, requireObject, requireString, requireStringArray } from './json-checks.js';
import { hash53 } from './hash.js';
import { NumericHistogram, randomSampleKey, type NumericHistogramJSON } from './numeric-histogram.js';
import { SketchError } from './sketch-error.js';
import { TextStats, type TextStatsJSON } from './text-stats.js';

export const FEATURE_SKETCH_SET_VERSION = 1;

export const featureKinds = ['numeric', 'categorical', 'text'] as const;
export type FeatureKind = (typeof featureKinds)[number];

export interface NumericFeatureSpec {
  readonly name: string;
  readonly kind: 'numeric';
  readonly edges: readonly number[];
  /** Raw values kept per window (a bottom-k sample, see NumericHistogram); default the set's sampleSize. */
  readonly sampleSize?: number;
}

export interface CategoricalFeatureSpec {
  readonly name: string;
  readonly kind: 'categorical';
  /** Tracked categories (the reference's most frequent); every other value counts as "other". */
  readonly categories: readonly string[];
  readonly otherSampleSize?: number;
}

export interface TextFeatureSpec {
  readonly name: string;
  readonly kind: 'text';
  readonly lengthEdges: readonly number[];
  readonly tokenEdges: readonly number[];
  readonly vocabulary?: ReadonlySet<string>;
  /** The cap on each text's tokenized prefix, in code units (TextStatsConfig.maxChars); absent: whole texts. */
  readonly maxChars?: number;
}

/** How one input field is sketched; normally produced by buildReferenceProfile. */
export type FeatureSpec = NumericFeatureSpec | CategoricalFeatureSpec | TextFeatureSpec;

/** Which traffic a sketch set describes; sets merge only with sets of the same key. */
export interface SketchKey {
  readonly service: string;
  readonly modelVersion: string;
  /** An identifier of the time window, e.g. "2025-01-01T10:00:00Z/PT1H" or "reference". */
  readonly window: string;
  readonly segment?: string;
}

export interface FeatureSketchSetConfig {
  readonly key: SketchKey;
  readonly features: readonly FeatureSpec[];
  /** Tracked output labels; any other label counts as "other". */
  readonly outputLabels: readonly string[];
  /** Stage names whose timings are kept; timings of other stages are ignored. Default ['total']. */
  readonly stages?: readonly string[];
  /** Raw values kept per numeric input feature (all of them while the set has at most this many); default DEFAULT_SAMPLE_SIZE. */
  readonly sampleSize?: number;
}

/**
 * Raw values a live window keeps per numeric feature by default: up to this many, drift compares raw values (exact KS);
 * it is also where `auto` moves from tests to distances (AUTO_TEST_MAX_SAMPLES), so a larger window would not use them.
 */
export const DEFAULT_SAMPLE_SIZE = 1000;

/** One prediction as the sketches see it; timings in milliseconds per stage. */
export interface SketchEvent {
  /** What identifies the event (a decision id): its values' sample key is hash53(id), so samples merge exactly. Random when absent. */
  readonly id?: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly outputLabel?: unknown;
  readonly confidence?: number | null;
  readonly timings?: Readonly<Record<string, number>>;
}

/** Confidence bins [0, 0.05), …, [0.95, 1] (k/20 is correctly rounded, so every process computes the same edges). */
export const CONFIDENCE_EDGES: readonly number[] = Object.freeze(Array.from({ length: 21 }, (_, k) => k / 20));

/** Latency bins in milliseconds on a 1-2-5 log scale from 0.01 ms to 10 s, written as literals so every platform parses the same doubles. */
export const LATENCY_EDGES_MS: readonly number[] = Object.freeze([
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
]);

export const DEFAULT_STAGES: readonly string[] = Object.freeze(['total']);

type FeatureSketch = NumericHistogram | CategoryCounter | TextStats;
type FeatureSketchJSON = NumericHistogramJSON | CategoryCounterJSON | TextStatsJSON;

export interface FeatureSketchSetJSON {
  readonly type: 'feature-sketch-set';
  readonly version: typeof FEATURE_SKETCH_SET_VERSION;
  readonly key: SketchKey;
  readonly events: number;
  readonly features: readonly { readonly name: string; readonly kind: FeatureKind; readonly sketch: FeatureSketchJSON }[];
  readonly output: CategoryCounterJSON;
  readonly confidence: NumericHistogramJSON;
  readonly latency: readonly { readonly stage: string; readonly sketch: NumericHistogramJSON }[];
}

export interface FeatureSketchSetFromJSONOptions {
  /** The vocabularies of text features by feature name, as given when the set was built. */
  readonly vocabularies?: Readonly<Record<string, ReadonlySet<string>>>;
}

/** A typed column with a mask: `missing[i] !== 0` marks row i absent (its value is not read). */
export interface MaskedColumn {
  readonly values: Float64Array;
  readonly missing: Uint8Array;
}

/**
 * One field's values by row. A Float64Array holds numbers only (NaN and ±Infinity count as non-finite, as those numbers
 * do in update()); a MaskedColumn adds missing rows; any other array holds values of any type (undefined or a hole:
 * missing), each counted as update() counts it.
 */
export type SketchColumn = Float64Array | MaskedColumn | readonly unknown[];

/** Predictions as columns for FeatureSketchSet.updateColumns: what SketchEvent holds per event, by field. */
export interface SketchColumns {
  /** By input field; an absent field counts as missing in every row. */
  readonly input: Readonly<Record<string, SketchColumn | undefined>>;
  /** Row i's event id (its sample key is hash53(id)); a row without one gets a random key, as an event without an id. */
  readonly ids?: readonly (string | undefined)[];
  readonly outputLabel?: readonly unknown[];
  readonly confidence?: SketchColumn;
  /** By stage, in milliseconds; an absent stage counts as missing. */
  readonly timings?: Readonly<Record<string, SketchColumn | undefined>>;
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || value instanceof Float64Array;
}

function requireColumn(column: SketchColumn | undefined, rows: number, name: string): SketchColumn | undefined {
  if (column === undefined) return undefined;
  const length = column instanceof Float64Array || Array.isArray(column) ? column.length : isMasked(column) ? Math.min(column.values.length, column.missing.length) : -1;
  if (length < 0) throw new SketchError(`column ${name} must be a Float64Array, { values, missing } or an array`);
  if (length < rows) throw new SketchError(`column ${name} holds ${length} values, fewer than the ${rows} rows`);
  return column;
}

function isMasked(column: unknown): column is MaskedColumn {
  const c = column as Partial<MaskedColumn> | null;
  return typeof c === 'object' && c !== null && c.values instanceof Float64Array && c.missing instanceof Uint8Array;
}

/** Missing in every row: what update() counts for a field no event holds. */
const NO_VALUES: readonly unknown[] = Object.freeze([]);

function updateNumeric(sketch: NumericHistogram, column: SketchColumn | undefined, rows: number, keys: Float64Array | undefined): void {
  if (column === undefined) sketch.updateMissing(rows);
  else if (column instanceof Float64Array) sketch.updateColumn(column, rows, undefined, keys);
  else if (isMasked(column)) sketch.updateColumn(column.values, rows, column.missing, keys);
  else sketch.updateValues(column, rows, keys);
}

function updateCategorical(sketch: CategoryCounter, column: SketchColumn | undefined, rows: number): void {
  if (column === undefined) sketch.updateMissing(rows);
  else if (column instanceof Float64Array) sketch.updateValues(column, rows);
  else if (isMasked(column)) sketch.updateValues(column.values, rows, column.missing);
  else sketch.updateValues(column, rows);
}

/** Text has no batch form: one update() per row, so the counts are those of the per-event path by construction. */
function updatePerValue(sketch: TextStats, column: SketchColumn | undefined, rows: number): void {
  if (column !== undefined && isMasked(column)) {
    for (let i = 0; i < rows; i++) sketch.update(column.missing[i] !== 0 ? undefined : column.values[i]);
  } else {
    const values: ArrayLike<unknown> = column ?? NO_VALUES;
    for (let i = 0; i < rows; i++) sketch.update(values[i]);
  }
}

function createSketch(spec: FeatureSpec, sampleSize: number): FeatureSketch {
  switch (spec.kind) {
    case 'numeric':
      return new NumericHistogram(spec.edges, { sampleSize: spec.sampleSize ?? sampleSize });
    case 'categorical':
      return new CategoryCounter(spec.categories, { otherSampleSize: spec.otherSampleSize });
    case 'text':
      return new TextStats(spec);
    default:
      throw new SketchError(`unknown feature kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

function sameKey(a: SketchKey, b: SketchKey): boolean {
  return a.service === b.service && a.modelVersion === b.modelVersion && a.window === b.window && a.segment === b.segment;
}

function describeKey(key: SketchKey): string {
  return `${key.service}/${key.modelVersion}/${key.window}${key.segment === undefined ? '' : `/${key.segment}`}`;
}

/** The sketches of one (service, model version, window, segment); memory is fixed by the specs, never by traffic. */
export class FeatureSketchSet {
  readonly key: SketchKey;
  private events = 0;
  private readonly names: readonly string[];
  private readonly kinds: readonly FeatureKind[];
  private readonly features: FeatureSketch[];
  private readonly output: CategoryCounter;
  private readonly confidence = new NumericHistogram(CONFIDENCE_EDGES);
  private readonly stages: readonly string[];
  private readonly latency: NumericHistogram[];
  /** Whether a numeric feature keeps a sample (then each event gets a sample key). */
  private readonly sampled: boolean;

  constructor(config: FeatureSketchSetConfig) {
    const key = config.key;
    for (const field of ['service', 'modelVersion', 'window'] as const) requireString(key[field], `key.${field}`);
    if (key.segment !== undefined) requireString(key.segment, 'key.segment');
    this.key = Object.freeze(key.segment === undefined ? { service: key.service, modelVersion: key.modelVersion, window: key.window } : { ...key });
    this.names = Object.freeze(config.features.map((f) => f.name));
    if (new Set(this.names).size !== this.names.length) throw new SketchError('feature names must be distinct');
    this.kinds = Object.freeze(config.features.map((f) => f.kind));
    this.features = config.features.map((spec) => createSketch(spec, config.sampleSize ?? DEFAULT_SAMPLE_SIZE));
    this.sampled = this.features.some((f) => f instanceof NumericHistogram && f.sampleSize > 0);
    this.output = new CategoryCounter(config.outputLabels);
    this.stages = Object.freeze(requireStringArray(config.stages ?? DEFAULT_STAGES, 'stages').slice());
    if (new Set(this.stages).size !== this.stages.length) throw new SketchError('stages must be distinct');
    this.latency = this.stages.map(() => new NumericHistogram(LATENCY_EDGES_MS));
  }

  /** Counts one prediction; an absent input field, label, confidence or stage timing counts as missing. */
  update(event: SketchEvent): void {
    this.events++;
    const input = event.input;
    const key = this.sampled ? (event.id === undefined ? randomSampleKey() : hash53(event.id)) : undefined;
    for (let i = 0; i < this.features.length; i++) {
      const name = this.names[i] as string;
      const sketch = this.features[i] as FeatureSketch;
      const value = Object.hasOwn(input, name) ? input[name] : undefined;
      if (sketch instanceof NumericHistogram) sketch.update(value, key);
      else sketch.update(value);
    }
    this.output.update(event.outputLabel);
    this.confidence.update(event.confidence);
    const timings = event.timings;
    for (let i = 0; i < this.stages.length; i++) {
      const stage = this.stages[i] as string;
      (this.latency[i] as NumericHistogram).update(timings !== undefined && Object.hasOwn(timings, stage) ? timings[stage] : undefined);
    }
  }

  /**
   * Counts `rows` predictions given as columns: the same sketches, counts and JSON as update() with one event per row
   * (row i's input holds each column's value i, absent where the column is absent or marks it missing). For reference
   * builds and backfills, where whole columns exist: one tight loop per column, no object per row. Throws a SketchError
   * when a column is shorter than `rows` (nothing is counted then).
   */
  updateColumns(columns: SketchColumns, rows: number): void {
    if (!Number.isSafeInteger(rows) || rows < 0) throw new SketchError(`rows must be an integer >= 0 (got ${String(rows)})`);
    const input = columns.input;
    const timings = columns.timings;
    const inputs = this.names.map((name) => (Object.hasOwn(input, name) ? requireColumn(input[name], rows, `input.${name}`) : undefined));
    const stages = this.stages.map((stage) => (timings !== undefined && Object.hasOwn(timings, stage) ? requireColumn(timings[stage], rows, `timings.${stage}`) : undefined));
    const outputLabel = columns.outputLabel === undefined ? undefined : requireColumn(columns.outputLabel, rows, 'outputLabel');
    const confidence = columns.confidence === undefined ? undefined : requireColumn(columns.confidence, rows, 'confidence');
    const ids = columns.ids;
    if (ids !== undefined && (!isArrayLike(ids) || ids.length < rows)) throw new SketchError(`ids must hold at least ${rows} entries`);
    // One sample key per row shared by its numeric features, as update() derives one per event.
    let keys: Float64Array | undefined;
    if (this.sampled) {
      keys = new Float64Array(rows);
      for (let i = 0; i < rows; i++) {
        const id = ids?.[i];
        keys[i] = id === undefined ? randomSampleKey() : hash53(id);
      }
    }
    this.events += rows;
    for (let f = 0; f < this.features.length; f++) {
      const sketch = this.features[f] as FeatureSketch;
      const column = inputs[f];
      if (sketch instanceof NumericHistogram) updateNumeric(sketch, column, rows, keys);
      else if (sketch instanceof CategoryCounter) updateCategorical(sketch, column, rows);
      else updatePerValue(sketch, column, rows);
    }
    updateCategorical(this.output, outputLabel, rows);
    updateNumeric(this.confidence, confidence, rows, undefined);
    for (let s = 0; s < this.stages.length; s++) updateNumeric(this.latency[s] as NumericHistogram, stages[s], rows, undefined);
  }

  /** Adds another set's counts; throws a SketchError unless key, features, labels and stages are identical. */
  merge(other: FeatureSketchSet): this {
    if (!sameKey(this.key, other.key)) throw new SketchError(`cannot merge sketches of ${describeKey(this.key)} and ${describeKey(other.key)}`);
    const sameFeatures = this.names.length === other.names.length && this.names.every((n, i) => n === other.names[i] && this.kinds[i] === other.kinds[i]);
    if (!sameFeatures) throw new SketchError('cannot merge sketch sets over different features');
    if (this.stages.length !== other.stages.length || this.stages.some((s, i) => s !== other.stages[i])) throw new SketchError('cannot merge sketch sets over different stages');
    this.features.forEach((sketch, i) => {
      // Kinds match, so each pair has the same class.
      (sketch as { merge(o: FeatureSketch): unknown }).merge(other.features[i] as FeatureSketch);
    });
    this.output.merge(other.output);
    this.confidence.merge(other.confidence);
    this.latency.forEach((h, i) => h.merge(other.latency[i] as NumericHistogram));
    this.events += other.events;
    return this;
  }

  get eventCount(): number {
    return this.events;
  }

  get featureNames(): readonly string[] {
    return this.names;
  }

  /** The sketch of one input field; throws a SketchError for an unknown name. */
  feature(name: string): FeatureSketch {
    const at = this.names.indexOf(name);
    if (at < 0) throw new SketchError(`no feature named ${JSON.stringify(name)}`);
    return this.features[at] as FeatureSketch;
  }

  numeric(name: string): NumericHistogram {
    return this.ofClass(name, NumericHistogram);
  }

  categorical(name: string): CategoryCounter {
    return this.ofClass(name, CategoryCounter);
  }

  text(name: string): TextStats {
    return this.ofClass(name, TextStats);
  }

  private ofClass<T extends FeatureSketch>(name: string, type: abstract new (...args: never[]) => T): T {
    const sketch = this.feature(name);
    if (!(sketch instanceof type)) throw new SketchError(`feature ${JSON.stringify(name)} is not sketched as ${type.name}`);
    return sketch;
  }

  get outputLabels(): CategoryCounter {
    return this.output;
  }

  get confidenceHistogram(): NumericHistogram {
    return this.confidence;
  }

  /** Latency histogram of one stage (ms); throws a SketchError for a stage not configured. */
  latencyOf(stage: string): NumericHistogram {
    const at = this.stages.indexOf(stage);
    if (at < 0) throw new SketchError(`no stage named ${JSON.stringify(stage)}`);
    return this.latency[at] as NumericHistogram;
  }

  toJSON(): FeatureSketchSetJSON {
    return {
      type: 'feature-sketch-set',
      version: FEATURE_SKETCH_SET_VERSION,
      key: { ...this.key },
      events: this.events,
      features: this.features.map((sketch, i) => ({ name: this.names[i] as string, kind: this.kinds[i] as FeatureKind, sketch: sketch.toJSON() })),
      output: this.output.toJSON(),
      confidence: this.confidence.toJSON(),
      latency: this.latency.map((h, i) => ({ stage: this.stages[i] as string, sketch: h.toJSON() })),
    };
  }

  /** Reads a set back from toJSON's form; text features with a vocabulary need it again in options. */
  static fromJSON(value: unknown, options: FeatureSketchSetFromJSONOptions = {}): FeatureSketchSet {
    const json = requireObject(value, 'feature sketch set');
    requireHeader(json, 'feature-sketch-set', FEATURE_SKETCH_SET_VERSION);
    const key = requireObject(json.key, 'key') as unknown as SketchKey;
    if (!Array.isArray(json.features) || !Array.isArray(json.latency)) throw new SketchError('features and latency must be arrays');
    const features = json.features.map((entry: unknown) => {
      const f = requireObject(entry, 'feature');
      const name = requireString(f.name, 'feature name');
      switch (f.kind) {
        case 'numeric':
          return { name, kind: 'numeric' as const, sketch: NumericHistogram.fromJSON(f.sketch) };
        case 'categorical':
          return { name, kind: 'categorical' as const, sketch: CategoryCounter.fromJSON(f.sketch) };
        case 'text':
          return { name, kind: 'text' as const, sketch: TextStats.fromJSON(f.sketch, options.vocabularies?.[name]) };
        default:
          throw new SketchError(`feature ${JSON.stringify(name)} has unknown kind ${JSON.stringify(f.kind)}`);
      }
    });
    const latency = json.latency.map((entry: unknown) => {
      const l = requireObject(entry, 'latency');
      return { stage: requireString(l.stage, 'stage'), sketch: NumericHistogram.fromJSON(l.sketch) };
    });
    const output = CategoryCounter.fromJSON(json.output);
    const set = new FeatureSketchSet({
      key,
      features: features.map(specOfSketch(options)),
      outputLabels: output.categories,
      stages: latency.map((l) => l.stage),
    });
    features.forEach((f, i) => (set.features[i] as { merge(o: FeatureSketch): unknown }).merge(f.sketch));
    set.output.merge(output);
    set.confidence.merge(NumericHistogram.fromJSON(json.confidence));
    latency.forEach((l, i) => (set.latency[i] as NumericHistogram).merge(l.sketch));
    set.events = requireCount(json.events, 'events');
    return set;
  }
}

function specOfSketch(options: FeatureSketchSetFromJSONOptions) {
  return (f: { name: string; kind: FeatureKind; sketch: FeatureSketch }): FeatureSpec => {
    const { name, sketch } = f;
    if (sketch instanceof NumericHistogram) return { name, kind: 'numeric', edges: sketch.edges, sampleSize: sketch.sampleSize };
    if (sketch instanceof CategoryCounter) return { name, kind: 'categorical', categories: sketch.categories, otherSampleSize: sketch.otherSampleSize };
    return { name, kind: 'text', lengthEdges: sketch.lengthHistogram.edges, tokenEdges: sketch.tokenCountHistogram.edges, vocabulary: options.vocabularies?.[name], ...(sketch.maxChars === undefined ? {} : { maxChars: sketch.maxChars }) };
  };
}
