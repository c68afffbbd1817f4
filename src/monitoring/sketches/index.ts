// Streaming sketches for drift monitoring: fixed memory, pure, and merge-exact across processes.
export { SketchError, SKETCH_INVALID } from './sketch-error.js';
export {
  NumericHistogram,
  quantileEdges,
  randomSampleKey,
  requireEdges,
  NUMERIC_HISTOGRAM_VERSION,
  SAMPLE_KEY_LIMIT,
  type NumericHistogramJSON,
  type NumericHistogramOptions,
} from './numeric-histogram.js';
export {
  CategoryCounter,
  categoryOf,
  CATEGORY_COUNTER_VERSION,
  DEFAULT_MAX_CATEGORIES,
  DEFAULT_OTHER_SAMPLE_SIZE,
  OTHER_CATEGORY,
  type CategoryCounterJSON,
  type CategoryCounterOptions,
} from './category-counter.js';
export { TextStats, codePointLength, DEFAULT_TEXT_MAX_CHARS, textLength, tokenize, tokenizedEnd, vocabularyFingerprint, TEXT_STATS_VERSION, type TextStatsConfig, type TextStatsJSON } from './text-stats.js';
export {
  FeatureSketchSet,
  featureKinds,
  CONFIDENCE_EDGES,
  LATENCY_EDGES_MS,
  DEFAULT_STAGES,
  DEFAULT_SAMPLE_SIZE,
  FEATURE_SKETCH_SET_VERSION,
  type FeatureKind,
  type FeatureSpec,
  type NumericFeatureSpec,
  type CategoricalFeatureSpec,
  type TextFeatureSpec,
  type SketchKey,
  type SketchEvent,
  type FeatureSketchSetConfig,
  type FeatureSketchSetJSON,
  type FeatureSketchSetFromJSONOptions,
  type MaskedColumn,
  type SketchColumn,
  type SketchColumns,
} from './feature-sketch-set.js';
export {
  buildReferenceProfile,
  referenceRowId,
  topCategories,
  DEFAULT_BINS,
  DEFAULT_REFERENCE_SAMPLE_SIZE,
  type ReferenceFeatureOptions,
  type ReferenceProfile,
  type ReferenceProfileOptions,
} from './reference-profile.js';
