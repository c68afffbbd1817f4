// Pure statistics for drift and performance monitoring; published as the package subpath `ballast/stats`.
export { StatsInputError, STATS_INVALID_INPUT } from './stats-input-error.js';
export type { Sample, CountVector } from './validate.js';
export { alignCategoryCounts, type AlignedCounts, type CategoryCounts } from './category-counts.js';
export {
  DEFAULT_PSI_EPSILON,
  populationStabilityIndex,
  populationStabilityIndexFromSamples,
  type PsiOptions,
  type PsiFromSamplesOptions,
  type PsiFromSamplesResult,
} from './population-stability-index.js';
export { ks2samp, ksMethods, type KsMethod, type KsOptions, type KsResult } from './ks-2samp.js';
export {
  besselKScaled,
  cramerVonMises2samp,
  cramerVonMisesLimitCdf,
  cramerVonMisesMethods,
  type CramerVonMisesMethod,
  type CramerVonMisesResult,
} from './cramer-von-mises.js';
export { chiSquareHomogeneity, type ChiSquareResult } from './chi-square-test.js';
export {
  DEFAULT_MIN_REFERENCE_STD,
  hellingerDistance,
  jensenShannonDistance,
  normedWassersteinDistance,
  wassersteinDistance,
  type NormedWassersteinOptions,
} from './distances.js';
export { twoProportionZTest, type ProportionSample, type TwoProportionZTestResult } from './two-proportion-z-test.js';
export {
  brierScore,
  calibrationBinnings,
  expectedCalibrationError,
  type CalibrationBin,
  type CalibrationBinning,
  type CalibrationOptions,
  type CalibrationResult,
} from './calibration.js';
export {
  accuracy,
  binaryConfusion,
  f1Score,
  precision,
  recall,
  rocAuc,
  type BinaryOptions,
  type ConfusionCounts,
  type Label,
} from './classification-metrics.js';
export { chiSquareCdf, chiSquareSf, normalCdf, normalSf } from './distributions.js';
export { erf, erfc, logGamma, regularizedGammaP, regularizedGammaQ } from './special-functions.js';
export { kolmogorovSf, smirnovSf } from './kolmogorov-distribution.js';
export {
  bernoulliJensenShannon,
  jensenShannonMargins,
  jensenShannonMinimumEffect,
  ratioVariance,
  type MinimumEffectResult,
  type RateEstimate,
} from './minimum-effect.js';
export { Adwin, type AdwinOptions } from './adwin.js';
export { PageHinkley, pageHinkleyModes, type PageHinkleyMode, type PageHinkleyOptions } from './page-hinkley.js';
export { Ddm, type DdmOptions } from './ddm.js';
