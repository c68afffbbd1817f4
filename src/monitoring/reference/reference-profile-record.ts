// A reference profile as stored: statistics of a service's reference (never raw rows), and how to load it back.
import type { StoredReference } from '../../store/index.js';
import { CalibrationTable, type CalibrationTableJSON } from '../monitors/calibration-table.js';
import {
  FeatureSketchSet,
  SketchError,
  type CategoricalFeatureSpec,
  type FeatureSketchSetJSON,
  type FeatureSpec,
  type NumericFeatureSpec,
  type TextFeatureSpec,
} from '../sketches/index.js';

/** Where a reference's rows came from. */
export type ReferenceSource =
  | { readonly kind: 'file'; readonly path: string; readonly format: 'csv' | 'jsonl'; readonly rows: number }
  | { readonly kind: 'window'; readonly since: string; readonly until: string; readonly decisions: number };

/** A feature spec as stored: a text feature's vocabulary lives in `vocabularies`, not in the spec. */
export type StoredFeatureSpec = NumericFeatureSpec | CategoricalFeatureSpec | Omit<TextFeatureSpec, 'vocabulary'>;

/** Predictions whose true label the reference knows. */
export interface ReferenceAccuracy {
  readonly labelled: number;
  readonly correct: number;
  /** correct / labelled. */
  readonly accuracy: number;
}

/** A stored reference profile with its JSON given meaning (the store keeps the same fields as opaque JSON). */
export interface ReferenceProfileRecord extends StoredReference {
  readonly source: ReferenceSource;
  readonly features: readonly StoredFeatureSpec[];
  readonly sketch: FeatureSketchSetJSON;
  /** Per text feature: the reference's most frequent lower-case tokens, sorted by code unit. */
  readonly vocabularies: Readonly<Record<string, readonly string[]>>;
  /** Labelled predictions with a confidence, per confidence bin; null when the reference had none. */
  readonly calibration: CalibrationTableJSON | null;
  readonly accuracy: ReferenceAccuracy | null;
}

/** A reference profile ready for the monitors: the specs live sketches use and the reference's own statistics. */
export interface LoadedReferenceProfile {
  readonly id: string;
  /** Specs for live sketch sets: `new FeatureSketchSet({ ...config, key, stages })`. */
  readonly config: { readonly features: readonly FeatureSpec[]; readonly outputLabels: readonly string[] };
  readonly sketch: FeatureSketchSet;
  readonly vocabularies: Readonly<Record<string, ReadonlySet<string>>>;
  readonly calibration?: CalibrationTable;
  /** Share of labelled reference predictions that were right. */
  readonly accuracy?: number;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function readVocabularies(value: unknown): Record<string, ReadonlySet<string>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SketchError('reference vocabularies must be an object');
  const vocabularies: Record<string, ReadonlySet<string>> = {};
  for (const [name, words] of Object.entries(value)) {
    if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw new SketchError(`reference vocabulary ${JSON.stringify(name)} must be an array of strings`);
    vocabularies[name] = new Set(words as string[]);
  }
  return vocabularies;
}

function readAccuracy(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const a = value as Partial<ReferenceAccuracy>;
  const ok = typeof a === 'object' && Number.isSafeInteger(a.labelled) && Number.isSafeInteger(a.correct) && a.labelled! > 0 && a.correct! >= 0 && a.correct! <= a.labelled!;
  if (!ok) throw new SketchError('reference accuracy must have integer labelled > 0 and correct <= labelled');
  return a.correct! / a.labelled!;
}

/**
 * Restores a stored profile: the sketch set with its text vocabularies, the specs (checked against
 * the sketch), the calibration table and the accuracy. Throws a SketchError when they disagree.
 */
export function loadReferenceProfile(record: StoredReference): LoadedReferenceProfile {
  const vocabularies = readVocabularies(record.vocabularies);
  const sketch = FeatureSketchSet.fromJSON(record.sketch, { vocabularies });
  if (!Array.isArray(record.features)) throw new SketchError('reference features must be an array');
  const stored = record.features as StoredFeatureSpec[];
  if (stored.length !== sketch.featureNames.length) throw new SketchError('reference features and sketch disagree');
  const features = stored.map((spec, i): FeatureSpec => {
    const name = sketch.featureNames[i] as string;
    const mismatch = () => new SketchError(`reference feature ${JSON.stringify(name)}: spec and sketch disagree`);
    if (spec === null || typeof spec !== 'object' || spec.name !== name) throw mismatch();
    switch (spec.kind) {
      case 'numeric':
        if (!Array.isArray(spec.edges) || !sameNumbers(spec.edges, sketch.numeric(name).edges)) throw mismatch();
        return { name, kind: 'numeric', edges: sketch.numeric(name).edges };
      case 'categorical': {
        const counter = sketch.categorical(name);
        if (!Array.isArray(spec.categories) || !sameStrings(spec.categories, counter.categories) || spec.otherSampleSize !== counter.otherSampleSize) throw mismatch();
        return { name, kind: 'categorical', categories: counter.categories, otherSampleSize: counter.otherSampleSize };
      }
      case 'text': {
        const text = sketch.text(name);
        if (!Array.isArray(spec.lengthEdges) || !Array.isArray(spec.tokenEdges)) throw mismatch();
        if (!sameNumbers(spec.lengthEdges, text.lengthHistogram.edges) || !sameNumbers(spec.tokenEdges, text.tokenCountHistogram.edges)) throw mismatch();
        const vocabulary = vocabularies[name];
        if ((spec.maxChars ?? undefined) !== text.maxChars) throw mismatch();
        return { name, kind: 'text', lengthEdges: text.lengthHistogram.edges, tokenEdges: text.tokenCountHistogram.edges, ...(vocabulary === undefined ? {} : { vocabulary }), ...(text.maxChars === undefined ? {} : { maxChars: text.maxChars }) };
      }
      default:
        throw mismatch();
    }
  });
  const accuracy = readAccuracy(record.accuracy);
  return {
    id: record.id,
    config: { features, outputLabels: sketch.outputLabels.categories },
    sketch,
    vocabularies,
    ...(record.calibration === null || record.calibration === undefined ? {} : { calibration: CalibrationTable.fromJSON(record.calibration) }),
    ...(accuracy === undefined ? {} : { accuracy }),
  };
}
