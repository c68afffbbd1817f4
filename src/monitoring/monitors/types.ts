// What the monitors are given (one window of one service, version and segment; a reference) and what they return.
import type { FeatureSketchSet } from '../sketches/index.js';
import type { CalibrationTable, ClassConfidenceCounts } from './calibration-table.js';
import type { Thresholds } from './monitoring-config.js';
import type { LabelledPair } from './performance.js';
import type { MonitorState, MonitorStatus } from './state.js';

export const windowOutcomes = ['auto', 'review', 'fallback', 'rejected'] as const;
export type WindowOutcome = (typeof windowOutcomes)[number];

/** One checker's verdicts over a window's decisions (each decision the checker ran on counts once). */
export interface CrossCheckCounts {
  readonly agree: number;
  readonly disagree: number;
  /** The checker failed, timed out or was skipped by its breaker: no verdict to compare. */
  readonly unavailable: number;
}

/** The window [start, end) as ISO 8601 UTC instants. */
export interface MonitorWindow {
  readonly start: string;
  readonly end: string;
}

/** The data of one (service, version, segment, window), merged over every writer. */
export interface WindowInput {
  readonly service: string;
  /** A model version, or 'all' for the service's whole traffic. */
  readonly version: string;
  readonly segment?: string;
  readonly window: MonitorWindow;
  /** The window's sketches, over the reference's bins. */
  readonly sketch: FeatureSketchSet;
  /** The window's predictions by predicted class and confidence bin; with it CBPE calibrates per class, without it by confidence only. */
  readonly predictions?: ClassConfidenceCounts;
  readonly counts: {
    readonly decisions: number;
    readonly byOutcome: Readonly<Record<WindowOutcome, number>>;
    /** Decisions whose model call failed (timeout, upstream error, broken output). */
    readonly modelErrors: number;
  };
  /** Labelled decisions; present only once the window is ripe (labelDelay has passed since its last event). */
  readonly labels?: readonly LabelledPair[];
  /** This window's labelled predictions by confidence bin; present with `labels`. */
  readonly calibration?: CalibrationTable;
  readonly business: BusinessCounts;
  /** Cross-check verdicts by checker name (`explanation.crossChecks` of the window's decisions); absent or empty: no checks. */
  readonly crossChecks?: ReadonlyMap<string, CrossCheckCounts>;
}

/**
 * Business signals of a window's decisions, each decision in its own window however late its feedback comes:
 * `decisions` with outcome feedback; `overrides` overridden (an outcome row saying so, or a person's answer other than
 * the model's) and `complaints` complained about (an outcome row saying so, or an appeal filed), each decision once;
 * `appeals` decided and of those `overturned` (the final answer is not the one appealed), each appeal once. Override and
 * complaint rates are over `counts.decisions`, the overturn rate over `appeals`.
 */
export interface BusinessCounts {
  readonly decisions: number;
  readonly overrides: number;
  readonly complaints: number;
  readonly appeals: number;
  readonly overturned: number;
}

/** The reference the window is compared with. */
export interface ReferenceInput {
  readonly sketch: FeatureSketchSet;
  /** The reference's labelled predictions by confidence bin (CBPE needs it). */
  readonly calibration?: CalibrationTable;
  /** The model's accuracy on the reference (its evaluation), for accuracy bounds relative to it. */
  readonly accuracy?: number;
}

/** One monitor's verdict on one window. */
export interface MonitorEvaluation {
  /** Stable name: input_drift, feature_drift/<field>, output_drift, confidence_drift, accuracy, estimated_accuracy, calibration, latency/<stage>, error_rate, …, agreement/<checker> */
  readonly monitor: string;
  readonly service: string;
  readonly version: string;
  readonly segment?: string;
  readonly window: MonitorWindow;
  /** What this window shows on its own. */
  readonly observed: MonitorState;
  /** The debounced status after hysteresis (pass it back as `previous` next time). */
  readonly status: MonitorStatus;
  /** The number judged (a share, a distance, an adjusted p-value, milliseconds, …); null when unknown. */
  readonly value: number | null;
  /** The bounds `value` was judged against (which side is bad is fixed per monitor, see README). */
  readonly threshold: Thresholds;
  /** Observations behind `value` (decisions, labelled decisions, values of the feature, timings). */
  readonly samples: number;
  /** One human sentence, e.g. "feature `body` drifted: PSI 0.31 ≥ 0.2". */
  readonly message: string;
  /** The numbers behind it. */
  readonly values: Readonly<Record<string, unknown>>;
}
