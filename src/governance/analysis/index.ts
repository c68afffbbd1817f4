// The automated rollout analysis and experiment statistics: config, the pure verdict, and per-arm statistics.
export type { AnalysisVerdict, MetricVerdict, Observation, VerdictName } from './analysis-types.js';
export { analysisConfigSchema, forShadow, resolveAnalysisConfig, type AnalysisConfig, type ResolvedMetric, type MetricName, type BuiltinMetric, type Direction } from './analysis-config.js';
export { analyze, judgeDegradation, type AnalysisInput } from './analyze.js';
export { newcombeDifference, normalQuantile, quantileInterval, studentTQuantile, welchInterval, wilsonInterval, summarize, type MeanSummary } from './intervals.js';
export {
  armMetrics,
  banditWeights,
  judgeExperiment,
  sampleRatioMismatch,
  seededRandom,
  shadowAgreement,
  type ArmMetrics,
  type ArmStats,
  type BanditOptions,
  type RateWithInterval,
  type SampleRatioMismatch,
  type ShadowAgreement,
  type ShadowPair,
} from './experiments.js';
export { collectObservations, type CollectOptions, type CollectedObservations } from './collect.js';
