// Derives sketch specs (quantile edges, top-k categories) from reference rows and records the reference's own sketches.
import { DEFAULT_MAX_CATEGORIES, DEFAULT_OTHER_SAMPLE_SIZE, categoryOf } from './category-counter.js';
import { DEFAULT_STAGES, FeatureSketchSet, type FeatureKind, type FeatureSketchSetConfig, type FeatureSpec, type SketchColumn, type SketchEvent, type SketchKey } from './feature-sketch-set.js';
import { quantileEdges } from './numeric-histogram.js';
import { SketchError } from './sketch-error.js';
import { DEFAULT_TEXT_MAX_CHARS, textLength, tokenize } from './text-stats.js';

export const DEFAULT_BINS = 10;

/**
 * Raw values a reference keeps per numeric feature (a uniform sample, all of them in a smaller reference), for exact tests
 * against small windows: 5,000 keeps the KS test's effective size n·m/(n+m) within 17% of what the whole reference would
 * give a 1,000-value window, at about 200 kB of JSON per feature.
 */
export const DEFAULT_REFERENCE_SAMPLE_SIZE = 5000;

/** What to derive for one input field. */
export interface ReferenceFeatureOptions {
  readonly name: string;
  readonly kind: FeatureKind;
  /** Numeric and text features: quantile bins before duplicate edges merge; default 10. */
  readonly bins?: number;
  /** Categorical features: how many of the reference's most frequent categories to track; default 100. */
  readonly maxCategories?: number;
  readonly otherSampleSize?: number;
  /** Text features: lower-case tokens the reference knows. */
  readonly vocabulary?: ReadonlySet<string>;
  /** Text features: code units of each text tokenized; default DEFAULT_TEXT_MAX_CHARS. */
  readonly maxChars?: number;
}

export interface ReferenceProfileOptions {
  /** Key of the reference's own sketch set (its window is typically "reference"). */
  readonly key: SketchKey;
  readonly stages?: readonly string[];
  /** How many of the reference's most frequent output labels to track; default 100. */
  readonly maxOutputLabels?: number;
  /** Raw values kept per numeric feature; default DEFAULT_REFERENCE_SAMPLE_SIZE. */
  readonly sampleSize?: number;
}

export interface ReferenceProfile {
  /** Specs for live sketch sets: `new FeatureSketchSet({ ...profile.config, key })`. */
  readonly config: Omit<FeatureSketchSetConfig, 'key'>;
  /** The reference rows sketched with those specs: compare live sketches with it. */
  readonly sketch: FeatureSketchSet;
}

/**
 * The sample key source of a reference row: its input as JSON (bigints as text). The numeric samples of a reference are
 * then the same whatever order its rows are read in (identical rows share a key and are kept or left together).
 */
export function referenceRowId(input: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(input, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
}

/** The at most `max` most frequent categories, by count descending then by value (code-unit order), so the choice is deterministic. */
export function topCategories(values: Iterable<unknown>, max = DEFAULT_MAX_CATEGORIES): string[] {
  if (!Number.isInteger(max) || max < 0) throw new SketchError(`maxCategories must be an integer >= 0 (got ${String(max)})`);
  const counts = new Map<string, number>();
  for (const value of values) {
    const category = categoryOf(value);
    if (category !== undefined) counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([category]) => category);
}

/** One field of every row (undefined where a row does not hold it). */
function columnOf(rows: readonly SketchEvent[], name: string): unknown[] {
  return rows.map((row) => (Object.hasOwn(row.input, name) ? row.input[name] : undefined));
}

function deriveSpec(values: readonly unknown[], options: ReferenceFeatureOptions): FeatureSpec {
  const { name } = options;
  const bins = options.bins ?? DEFAULT_BINS;
  const fail = (what: string): never => {
    throw new SketchError(`reference feature ${JSON.stringify(name)}: ${what}`);
  };
  switch (options.kind) {
    case 'numeric': {
      const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (numbers.length === 0) fail('no finite number in the reference');
      return { name, kind: 'numeric', edges: quantileEdges(numbers, bins) };
    }
    case 'categorical':
      return { name, kind: 'categorical', categories: topCategories(values, options.maxCategories), otherSampleSize: options.otherSampleSize ?? DEFAULT_OTHER_SAMPLE_SIZE };
    case 'text': {
      const texts = values.filter((v): v is string => typeof v === 'string');
      const maxChars = options.maxChars ?? DEFAULT_TEXT_MAX_CHARS;
      if (texts.length === 0) fail('no string in the reference');
      return {
        name,
        kind: 'text',
        lengthEdges: quantileEdges(texts.map((t) => textLength(t, maxChars)), bins),
        tokenEdges: quantileEdges(texts.map((t) => tokenize(t, maxChars).length), bins),
        vocabulary: options.vocabulary,
        maxChars,
      };
    }
    default:
      return fail(`unknown kind ${JSON.stringify(options.kind)}`);
  }
}

/** Specs derived from reference rows (quantile edges, top-k categories and labels), plus the reference's own sketch set. */
export function buildReferenceProfile(rows: readonly SketchEvent[], features: readonly ReferenceFeatureOptions[], options: ReferenceProfileOptions): ReferenceProfile {
  if (rows.length === 0) throw new SketchError('the reference has no rows');
  // Each field's values are read once, for its spec and for the sketch (the columnar path, equal to update() per row).
  const input: Record<string, SketchColumn> = {};
  for (const f of features) if (!Object.hasOwn(input, f.name)) input[f.name] = columnOf(rows, f.name);
  const config: Omit<FeatureSketchSetConfig, 'key'> = {
    features: features.map((f) => deriveSpec(input[f.name] as unknown[], f)),
    outputLabels: topCategories(
      rows.map((r) => r.outputLabel),
      options.maxOutputLabels ?? DEFAULT_MAX_CATEGORIES,
    ),
    stages: options.stages,
  };
  const sketch = new FeatureSketchSet({ ...config, key: options.key, sampleSize: options.sampleSize ?? DEFAULT_REFERENCE_SAMPLE_SIZE });
  const stages = options.stages ?? DEFAULT_STAGES;
  const timings: Record<string, SketchColumn> = {};
  for (const stage of stages) timings[stage] = rows.map((row) => (row.timings !== undefined && Object.hasOwn(row.timings, stage) ? row.timings[stage] : undefined));
  sketch.updateColumns(
    {
      input,
      ids: rows.map((row) => referenceRowId(row.input)),
      outputLabel: rows.map((row) => row.outputLabel),
      confidence: rows.map((row) => row.confidence),
      timings,
    },
    rows.length,
  );
  return { config, sketch };
}
