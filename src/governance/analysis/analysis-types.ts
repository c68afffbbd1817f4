// The contract between the rollout controller and the analysis: what one decision contributes to a
// comparison, and the verdict with its numbers.

/** One decision (or shadow decision), reduced to what the analysis compares. */
import type { ArmMetrics, SampleRatioMismatch } from './experiments.js';
export interface Observation {
  readonly decisionId: string;
  readonly createdAt: string;
  /** The model call failed (modelError set), whatever answered afterwards. */
  readonly error: boolean;
  /** outcome `fallback`. */
  readonly fallback: boolean;
  /** outcome `review`. */
  readonly review: boolean;
  /** The invoke stage's milliseconds (the model call, retries included); null when not called. */
  readonly latencyMs: number | null;
  /** The output's label (by the service's output-label pointer) as a string; null when none. */
  readonly outputLabel: string | null;
  /** Against the latest ground-truth label: true / false, or null when no label came (yet). */
  readonly correct: boolean | null;
  /** Segment field → value (from the input or context), for per-segment verdicts. */
  readonly segments: Readonly<Record<string, string>>;
  /** Business outcomes (feedback of kind `outcome` with a numeric value), by name. */
  readonly business: Readonly<Record<string, number>>;
}

export type VerdictName = 'pass' | 'fail' | 'inconclusive';

/** One metric compared over the whole traffic or one segment. */
export interface MetricVerdict {
  readonly metric: string;
  /** `field=value`, or absent for the whole traffic. */
  readonly segment?: string;
  readonly verdict: VerdictName;
  readonly stable: { readonly n: number; readonly value: number | null };
  readonly candidate: { readonly n: number; readonly value: number | null };
  /** candidate − stable (or the metric's own comparison statistic), with its confidence interval. */
  readonly difference: number | null;
  readonly interval: readonly [number, number] | null;
  /** The tolerated degradation in the metric's bad direction. */
  readonly bound: number;
  /** One sentence with the numbers: why pass, fail or inconclusive. */
  readonly reason: string;
}

/** The analysis of one step: candidate against stable over the same window. */
export interface AnalysisVerdict {
  readonly verdict: VerdictName;
  readonly window: { readonly since: string; readonly until: string };
  readonly stable: { readonly version: string; readonly decisions: number };
  readonly candidate: { readonly version: string; readonly decisions: number };
  readonly metrics: readonly MetricVerdict[];
  /** One sentence: the deciding metrics. */
  readonly summary: string;
  /** Set when an arm had fewer than minDecisions decisions: the step is not judged yet (inconclusive, waiting for data). */
  readonly tooFewDecisions?: true;
  /** An experiment's: the sample-ratio-mismatch check of its arms' counts against its weight (a mismatch fails the step). */
  readonly srm?: SampleRatioMismatch;
  /** An experiment's: every arm's rates with their confidence intervals. */
  readonly arms?: Readonly<Record<string, ArmMetrics>>;
  /** A shadow rollout's: how far the copies agreed with the answers served (same output, confidence, accuracy with labels). */
  readonly agreement?: ShadowAgreementSummary;
}

/** The shape of shadowAgreement's result, as kept with a verdict. */
export interface ShadowAgreementSummary {
  readonly n: number;
  readonly sameOutput: { readonly events: number; readonly n: number; readonly rate: number | null };
  readonly meanConfidenceDifference: number | null;
  readonly stableAccuracy: { readonly events: number; readonly n: number; readonly rate: number | null };
  readonly candidateAccuracy: { readonly events: number; readonly n: number; readonly rate: number | null };
}
