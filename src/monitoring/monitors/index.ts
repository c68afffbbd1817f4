// Pure monitor evaluation: the monitoring config, drift, performance with and without labels, calibration, latency,
// rates, states with hysteresis, and evaluateWindow that runs them all over one window.
export {
  driftCorrections,
  driftMethods,
  labelsRipe,
  monitoringConfigSchema,
  monitoringDefaults,
  parseDuration,
  resolveMonitoringConfig,
  windowOf,
  type AccuracyThresholds,
  type DriftCorrection,
  type DriftMethod,
  type DriftMethodChoice,
  type FeatureDriftOverride,
  type HysteresisConfig,
  type ResolvedDriftConfig,
  type ResolvedMonitoringConfig,
  type ResolvedPerformanceConfig,
  type Thresholds,
} from './monitoring-config.js';
export {
  AUTO_TEST_MAX_SAMPLES,
  adjustPValues,
  autoMethod,
  binnedKs,
  binnedNormedWasserstein,
  binnedWasserstein,
  compareConfidenceDrift,
  compareFeature,
  compareOutputDrift,
  defaultDistanceThresholds,
  evaluateInputDrift,
  featureOptions,
  isTestMethod,
  testMethods,
  type CompareOptions,
  type FeatureDrift,
  type FeatureSketch,
  type InputDrift,
} from './drift.js';
export { computePerformance, type LabelledPair, type Performance, type PerformanceOptions } from './performance.js';
export { CBPE_MAX_THIN_SHARE, CBPE_MIN_REFERENCE_COUNT, CBPE_PRIOR, estimateAccuracy, type CbpeCell, type CbpeEstimate, type CbpeOptions } from './cbpe.js';
export { calibrationFromTable, type CalibrationBinSummary, type CalibrationSummary } from './calibration.js';
export { CalibrationTable, CALIBRATION_TABLE_VERSION, ClassConfidenceCounts, type BinCounts, type CalibrationClassJSON, type CalibrationTableJSON } from './calibration-table.js';
export { histogramQuantile, summarizeLatency, type LatencySummary } from './latency.js';
export { rateWithInterval, Z_95, type Rate } from './rates.js';
export { judgeAbove, judgeBelow, type JudgedState } from './judge.js';
export { monitorStates, nextState, parseMonitorStatus, type MonitorState, type MonitorStatus } from './state.js';
export { evaluateWindow } from './evaluate.js';
export { windowOutcomes, type BusinessCounts, type CrossCheckCounts, type MonitorEvaluation, type MonitorWindow, type ReferenceInput, type WindowInput, type WindowOutcome } from './types.js';
