// Reference profiles: a service's reference (training data or a window of live traffic) kept as statistics.
export { referenceFeaturesOf, DEFAULT_REFERENCE_NAME, PII_SKIP_REASON, referenceNamePattern, type ReferenceFeature, type SkippedField, type FieldAnnotationLike } from './reference-features.js';
export {
  ReferenceBuilder,
  buildReferenceRecord,
  labelOf,
  mostFrequent,
  referenceSketchKey,
  DEFAULT_MAX_VOCABULARY,
  type BuildReferenceOptions,
  type ReadRows,
  type ReferenceBuilderOptions,
  type ReferencePass,
  type ReferenceRecordMeta,
  type ReferenceRow,
} from './reference-builder.js';
export {
  loadReferenceProfile,
  type LoadedReferenceProfile,
  type ReferenceAccuracy,
  type ReferenceProfileRecord,
  type ReferenceSource,
  type StoredFeatureSpec,
} from './reference-profile-record.js';
export {
  ReferenceFileReader,
  formatOfPath,
  parseNumericCell,
  referenceFileFormats,
  type ReferenceFileFormat,
  type ReferenceFileOptions,
  type ReferenceFileRecord,
} from './reference-files.js';
export { decisionWindowRows, windowLabels, type DecisionWindowOptions } from './decision-window.js';
