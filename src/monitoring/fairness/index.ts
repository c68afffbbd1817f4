// Fairness across protected attributes: figures by Fairlearn's definitions, a live monitor, a report.
export { fairnessConfigOf, fairnessConfigSchema, fairnessDefaults, resolveFairnessConfig, type FairnessBounds, type FairnessConfig, type ResolvedFairnessConfig } from './fairness-config.js';
export { fairnessBreaches, fairnessFigures, wilson, type FairnessBreach, type FairnessFigures, type FairnessInput, type GroupFigures, type Rate } from './fairness-metrics.js';
export { atPointer, fairnessRows, isFavourable, type FairnessRow } from './fairness-rows.js';
export { createFairnessWatch, fairnessReport, type FairnessReport, type FairnessState, type FairnessTransition, type FairnessWatch, type FieldFairness } from './fairness-watch.js';
