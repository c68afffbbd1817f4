// The `monitoring:` block of a service: its JSON Schema, every default in one place, durations and windows.
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { BallastError, type Issue } from '../../errors/index.js';
import { alertRulesSchema, resolveAlertRule, type AlertRuleConfig, type AlertRuleInput } from '../alerts/alert-config.js';

/** Drift methods a feature can be compared with; `auto` picks one by kind and sample size (see drift.ts). */
export const driftMethods = ['chi-square', 'ks', 'cramer-von-mises', 'psi', 'jensen-shannon', 'hellinger', 'wasserstein'] as const;
export type DriftMethod = (typeof driftMethods)[number];
export type DriftMethodChoice = DriftMethod | 'auto';

/** How the false-alarm rate over the p-value features of one window is controlled. */
export const driftCorrections = ['benjamini-hochberg', 'bonferroni', 'none'] as const;
export type DriftCorrection = (typeof driftCorrections)[number];

/** Bounds of one monitor; which side is bad (above or below) is fixed per monitor (README). */
export interface Thresholds {
  readonly warning?: number;
  readonly alert?: number;
}

export interface FeatureDriftOverride {
  /** Absent: the drift block's method (which falls back to auto where it does not apply to the feature's kind). */
  readonly method?: DriftMethodChoice;
  /** Distance methods only: drifted when the distance is at or above it; default the method's (or drift.threshold). */
  readonly threshold?: number;
  readonly enabled: boolean;
}

export interface ResolvedDriftConfig {
  readonly method: DriftMethodChoice;
  /** Replaces every distance method's default threshold when set. */
  readonly threshold?: number;
  /** The whole input counts as drifted when at least this share of the compared features drifted. */
  readonly share: number;
  readonly correction: DriftCorrection;
  /** Significance level of the p-value methods, after the correction (false discovery rate for Benjamini–Hochberg). */
  readonly alpha: number;
  /** Raw values kept per numeric feature and window: up to this many values, KS compares raw values (exact), beyond it bins. */
  readonly sampleSize: number;
  readonly features: Readonly<Record<string, FeatureDriftOverride>>;
}

export interface AccuracyThresholds extends Thresholds {
  /** Used when `warning` is absent and the reference has an accuracy: warning below reference − warningDrop. */
  readonly warningDrop: number;
  /** Used when `alert` is absent and the reference has an accuracy: alert below reference − alertDrop. */
  readonly alertDrop: number;
}

export interface ResolvedPerformanceConfig {
  readonly labelDelay: string;
  readonly labelDelayMs: number;
  /** The label precision, recall and F1 count as positive; default the minority actual label of the window. */
  readonly positiveLabel?: string;
  /** Lower bounds on accuracy and estimated accuracy. */
  readonly accuracy: AccuracyThresholds;
}

export interface ResolvedMonitoringConfig {
  readonly window: string;
  readonly windowMs: number;
  /** JSON pointer into the input giving the event time; absent: the decision's time. */
  readonly timestamp?: string;
  /** Input fields (categorical) whose values split traffic into segments monitored on their own. */
  readonly segments: readonly string[];
  /** JSON pointer into the output giving the predicted label. */
  readonly outputLabel?: string;
  readonly evaluateEvery: string;
  readonly evaluateEveryMs: number;
  /** A monitor with fewer samples than this in its window is `unknown`. */
  readonly minSamples: number;
  readonly drift: ResolvedDriftConfig;
  readonly performance: ResolvedPerformanceConfig;
  /** Upper bounds on the expected calibration error. */
  readonly calibration: Thresholds;
  /** Upper bounds in milliseconds on the window's p95 latency, per stage (`total` for the whole decision). */
  readonly latency: Readonly<Record<string, Thresholds>>;
  /** Upper bounds on shares of the window's decisions. */
  readonly rates: { readonly error: Thresholds; readonly fallback: Thresholds; readonly reject: Thresholds; readonly review: Thresholds };
  /**
   * Upper bounds on the shares of the window's decisions overridden and complained about, and on the share of its
   * decided appeals overturned (`appeal_overturn_rate`, unknown below `minAppeals` decided appeals).
   */
  readonly business: { readonly override: Thresholds; readonly complaint: Thresholds; readonly appealOverturn: Thresholds; readonly minAppeals: number };
  /** Lower bounds on each checker's agreement with the served model (`agreement/<checker>`). */
  readonly agreement: Thresholds;
  readonly hysteresis: HysteresisConfig;
  readonly alerts: readonly AlertRuleConfig[];
}

export interface HysteresisConfig {
  /** A level is reached after this many consecutive evaluations at or above it. */
  readonly raiseAfter: number;
  /** A level is left after this many consecutive evaluations below it. */
  readonly clearAfter: number;
}

/** Every default of the `monitoring:` block (documented in docs/configuration.md). */
export const monitoringDefaults = {
  window: '1h',
  evaluateEvery: '1m',
  minSamples: 30,
  drift: { method: 'auto', share: 0.5, correction: 'benjamini-hochberg', alpha: 0.05, sampleSize: 1000 },
  performance: { labelDelay: '1d', accuracy: { warningDrop: 0.05, alertDrop: 0.1 } },
  calibration: { warning: 0.05, alert: 0.1 },
  rates: { error: { warning: 0.01, alert: 0.05 }, fallback: { warning: 0.05, alert: 0.1 }, reject: {}, review: {} },
  business: { override: { warning: 0.1, alert: 0.2 }, complaint: {}, appealOverturn: {}, minAppeals: 10 },
  agreement: { warning: 0.9, alert: 0.8 },
  hysteresis: { raiseAfter: 1, clearAfter: 2 },
} as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const units: Readonly<Record<string, number>> = { s: 1000, m: MINUTE, h: HOUR, d: DAY, w: WEEK };
const durationPattern = '^[1-9][0-9]{0,5}[smhdw]$';
const durationRegExp = new RegExp(durationPattern);

/** Milliseconds of a duration such as `30s`, `15m`, `1h`, `1d`, `7d`, `1w`; throws CONFIG_INVALID otherwise. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string' || !durationRegExp.test(text)) {
    throw new BallastError('CONFIG_INVALID', { detail: `${JSON.stringify(text)} is not a duration: a positive integer followed by s, m, h, d or w (e.g. 15m, 1h, 7d)` });
  }
  return Number(text.slice(0, -1)) * (units[text.slice(-1)] as number);
}

/** 1970-01-05T00:00Z, the first Monday after the Unix epoch (a Thursday): weeks align to it. */
const FIRST_MONDAY_MS = 4 * DAY;

/**
 * The window [start, end) that holds `timeMs`, as ISO 8601 UTC: windows are aligned to the Unix epoch, except that a window
 * whose length is a whole number of weeks (`1w`, `7d`, `2w`, `14d`) starts on a Monday 00:00 UTC.
 */
export function windowOf(timeMs: number, windowMs: number): { readonly start: string; readonly end: string } {
  if (!Number.isFinite(timeMs)) throw new RangeError(`time must be a finite number of milliseconds (got ${String(timeMs)})`);
  if (!Number.isInteger(windowMs) || windowMs <= 0) throw new RangeError(`window must be a positive integer number of milliseconds (got ${String(windowMs)})`);
  const origin = windowMs % WEEK === 0 ? FIRST_MONDAY_MS : 0;
  const start = Math.floor((timeMs - origin) / windowMs) * windowMs + origin;
  return { start: new Date(start).toISOString(), end: new Date(start + windowMs).toISOString() };
}

const duration = { type: 'string', pattern: durationPattern, description: 'A positive integer followed by s, m, h, d or w, e.g. 15m, 1h, 7d.' } as const;
const jsonPointer = { type: 'string', pattern: '^(/([^~/]|~[01])*)*$', description: 'An RFC 6901 JSON pointer; "" is the whole value.' } as const;
const fieldPointer = { type: 'string', pattern: '^(/([^~/]|~[01])*)+$', description: 'An RFC 6901 JSON pointer to a field.' } as const;
const probability = { type: 'number', minimum: 0, maximum: 1 } as const;
const nonNegative = { type: 'number', minimum: 0 } as const;
const methodChoice = { enum: ['auto', ...driftMethods] } as const;

function thresholdsSchema(bound: typeof probability | typeof nonNegative) {
  return { type: 'object', additionalProperties: false, properties: { warning: bound, alert: bound } } as const;
}

/** JSON Schema 2020-12 of a service's `monitoring:` block (embeddable: no $id, no $schema). */
export const monitoringConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    window: duration,
    timestamp: fieldPointer,
    segments: { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 } },
    outputLabel: jsonPointer,
    evaluateEvery: duration,
    minSamples: { type: 'integer', minimum: 1 },
    drift: {
      type: 'object',
      additionalProperties: false,
      properties: {
        method: methodChoice,
        threshold: { type: 'number', exclusiveMinimum: 0 },
        share: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        correction: { enum: driftCorrections },
        alpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        sampleSize: { type: 'integer', minimum: 0, maximum: 100000, description: 'Raw values kept per numeric feature and window (0: none, always binned).' },
        features: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { method: methodChoice, threshold: { type: 'number', exclusiveMinimum: 0 }, enabled: { type: 'boolean' } },
          },
        },
      },
    },
    performance: {
      type: 'object',
      additionalProperties: false,
      properties: {
        labelDelay: duration,
        positiveLabel: { type: 'string' },
        accuracy: {
          type: 'object',
          additionalProperties: false,
          properties: { warning: probability, alert: probability, warningDrop: probability, alertDrop: probability },
        },
      },
    },
    calibration: thresholdsSchema(probability),
    latency: {
      type: 'object',
      propertyNames: { type: 'string', minLength: 1 },
      additionalProperties: { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, thresholdsSchema(nonNegative)] },
      description: 'Budget in milliseconds on the p95 latency per stage: a number (alert above it) or {warning, alert}.',
    },
    rates: {
      type: 'object',
      additionalProperties: false,
      properties: { error: thresholdsSchema(probability), fallback: thresholdsSchema(probability), reject: thresholdsSchema(probability), review: thresholdsSchema(probability) },
    },
    business: {
      type: 'object',
      additionalProperties: false,
      properties: {
        override: thresholdsSchema(probability),
        complaint: thresholdsSchema(probability),
        appealOverturn: thresholdsSchema(probability),
        minAppeals: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Decided appeals a window needs before appeal_overturn_rate is judged.' },
      },
    },
    agreement: { ...thresholdsSchema(probability), description: "Lower bounds on each cross-checker's agreement with the served model (agreement/<checker>)." },
    hysteresis: {
      type: 'object',
      additionalProperties: false,
      properties: { raiseAfter: { type: 'integer', minimum: 1, maximum: 1000 }, clearAfter: { type: 'integer', minimum: 1, maximum: 1000 } },
    },
    alerts: alertRulesSchema,
  },
} as const;

let validator: ReturnType<Ajv2020['compile']> | undefined;

function validate(raw: unknown): Issue[] {
  validator ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, logger: false }).compile(monitoringConfigSchema);
  if (validator(raw)) return [];
  return (validator.errors ?? []).map(issueOf);
}

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function issueOf(error: ErrorObject): Issue {
  const params = error.params as Record<string, unknown>;
  let pointer = error.instancePath;
  if (error.keyword === 'required') pointer += `/${escape(String(params.missingProperty))}`;
  if (error.keyword === 'additionalProperties') pointer += `/${escape(String(params.additionalProperty))}`;
  const what = pointer === '' ? 'monitoring' : pointer.slice(1);
  const message = error.keyword === 'additionalProperties' ? `${what} is not an allowed property` : `${what} ${error.message ?? 'is invalid'}`;
  return { pointer, code: error.keyword, message };
}

type RawThresholds = { warning?: number; alert?: number };
interface RawConfig {
  window?: string;
  timestamp?: string;
  segments?: string[];
  outputLabel?: string;
  evaluateEvery?: string;
  minSamples?: number;
  drift?: { method?: DriftMethodChoice; threshold?: number; share?: number; correction?: DriftCorrection; alpha?: number; sampleSize?: number; features?: Record<string, { method?: DriftMethodChoice; threshold?: number; enabled?: boolean }> };
  performance?: { labelDelay?: string; positiveLabel?: string; accuracy?: RawThresholds & { warningDrop?: number; alertDrop?: number } };
  calibration?: RawThresholds;
  latency?: Record<string, number | RawThresholds>;
  rates?: { error?: RawThresholds; fallback?: RawThresholds; reject?: RawThresholds; review?: RawThresholds };
  business?: { override?: RawThresholds; complaint?: RawThresholds; appealOverturn?: RawThresholds; minAppeals?: number };
  agreement?: RawThresholds;
  hysteresis?: { raiseAfter?: number; clearAfter?: number };
  alerts?: AlertRuleInput[];
}

/** Copies the bounds that are set; `given` wins over `defaults` per bound only when `given` is absent as a whole. */
function thresholds(given: RawThresholds | undefined, defaults: RawThresholds): Thresholds {
  const source = given ?? defaults;
  return { ...(source.warning === undefined ? {} : { warning: source.warning }), ...(source.alert === undefined ? {} : { alert: source.alert }) };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Validates a `monitoring:` block against monitoringConfigSchema, applies every default and returns a deeply frozen
 * config; `undefined` or `null` (no block, or an empty one in YAML) gives all defaults. Throws CONFIG_INVALID with pointers inside the block.
 * `stages`: the names a `latency` budget may use (`total` and the pipeline's stages; the pipeline's to know, not monitoring's); unchecked when absent.
 */
export function resolveMonitoringConfig(raw: unknown | undefined, options: { readonly stages?: readonly string[] } = {}): ResolvedMonitoringConfig {
  const value = raw ?? {};
  const schemaIssues = validate(value);
  if (schemaIssues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: 'the monitoring block is invalid', issues: schemaIssues });
  const c = value as RawConfig;
  const issues: Issue[] = [];
  const d = monitoringDefaults;

  const ordered = (pointer: string, t: Thresholds, bad: 'above' | 'below'): void => {
    if (t.warning === undefined || t.alert === undefined) return;
    if (bad === 'above' ? t.warning > t.alert : t.warning < t.alert) {
      issues.push({ pointer, code: 'thresholds', message: `${pointer.slice(1)}: warning (${t.warning}) must be ${bad === 'above' ? 'at most' : 'at least'} alert (${t.alert}), the milder bound` });
    }
  };

  const accuracyRaw = c.performance?.accuracy ?? {};
  const accuracy: AccuracyThresholds = {
    ...thresholds(accuracyRaw, {}),
    warningDrop: accuracyRaw.warningDrop ?? d.performance.accuracy.warningDrop,
    alertDrop: accuracyRaw.alertDrop ?? d.performance.accuracy.alertDrop,
  };
  ordered('/performance/accuracy', accuracy, 'below');
  if (accuracy.warningDrop > accuracy.alertDrop) {
    issues.push({ pointer: '/performance/accuracy', code: 'thresholds', message: `performance/accuracy: warningDrop (${accuracy.warningDrop}) must be at most alertDrop (${accuracy.alertDrop})` });
  }

  const calibration = thresholds(c.calibration, d.calibration);
  ordered('/calibration', calibration, 'above');

  const latency: Record<string, Thresholds> = {};
  for (const [stage, budget] of Object.entries(c.latency ?? {})) {
    // A budget on a stage the pipeline does not have would stay `unknown` forever.
    if (options.stages !== undefined && !options.stages.includes(stage)) {
      issues.push({ pointer: `/latency/${escape(stage)}`, code: 'unknownStage', message: `there is no stage named '${stage}'; the stages are ${options.stages.join(', ')}` });
    }
    latency[stage] = typeof budget === 'number' ? { alert: budget } : thresholds(budget, {});
    ordered(`/latency/${escape(stage)}`, latency[stage] as Thresholds, 'above');
  }

  const rates = {
    error: thresholds(c.rates?.error, d.rates.error),
    fallback: thresholds(c.rates?.fallback, d.rates.fallback),
    reject: thresholds(c.rates?.reject, d.rates.reject),
    review: thresholds(c.rates?.review, d.rates.review),
  };
  const businessBounds = {
    override: thresholds(c.business?.override, d.business.override),
    complaint: thresholds(c.business?.complaint, d.business.complaint),
    appealOverturn: thresholds(c.business?.appealOverturn, d.business.appealOverturn),
  };
  for (const [name, t] of Object.entries(rates)) ordered(`/rates/${name}`, t, 'above');
  for (const [name, t] of Object.entries(businessBounds)) ordered(`/business/${name}`, t, 'above');
  const business = { ...businessBounds, minAppeals: c.business?.minAppeals ?? d.business.minAppeals };
  const agreement = thresholds(c.agreement, d.agreement);
  ordered('/agreement', agreement, 'below');

  const features: Record<string, FeatureDriftOverride> = {};
  for (const [name, f] of Object.entries(c.drift?.features ?? {})) {
    features[name] = { ...(f.method === undefined ? {} : { method: f.method }), ...(f.threshold === undefined ? {} : { threshold: f.threshold }), enabled: f.enabled ?? true };
  }

  const alertNames = new Set<string>();
  const alerts: AlertRuleConfig[] = (c.alerts ?? []).map((rule, i) => {
    if (alertNames.has(rule.name)) issues.push({ pointer: `/alerts/${i}/name`, code: 'uniqueName', message: `alerts/${i}/name: ${rule.name} is used by an earlier rule` });
    alertNames.add(rule.name);
    try {
      return resolveAlertRule(rule, `alerts/${i}`);
    } catch (error) {
      issues.push({ pointer: `/alerts/${i}`, code: 'alertRule', message: error instanceof BallastError ? error.detail : String(error) });
      return undefined;
    }
  }).filter((rule): rule is AlertRuleConfig => rule !== undefined);

  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: 'the monitoring block is invalid', issues });

  const window = c.window ?? d.window;
  const evaluateEvery = c.evaluateEvery ?? d.evaluateEvery;
  const labelDelay = c.performance?.labelDelay ?? d.performance.labelDelay;
  return deepFreeze({
    window,
    windowMs: parseDuration(window),
    ...(c.timestamp === undefined ? {} : { timestamp: c.timestamp }),
    segments: [...(c.segments ?? [])],
    ...(c.outputLabel === undefined ? {} : { outputLabel: c.outputLabel }),
    evaluateEvery,
    evaluateEveryMs: parseDuration(evaluateEvery),
    minSamples: c.minSamples ?? d.minSamples,
    drift: {
      method: c.drift?.method ?? d.drift.method,
      ...(c.drift?.threshold === undefined ? {} : { threshold: c.drift.threshold }),
      share: c.drift?.share ?? d.drift.share,
      correction: c.drift?.correction ?? d.drift.correction,
      alpha: c.drift?.alpha ?? d.drift.alpha,
      sampleSize: c.drift?.sampleSize ?? d.drift.sampleSize,
      features,
    },
    performance: {
      labelDelay,
      labelDelayMs: parseDuration(labelDelay),
      ...(c.performance?.positiveLabel === undefined ? {} : { positiveLabel: c.performance.positiveLabel }),
      accuracy,
    },
    calibration,
    latency,
    rates,
    business,
    agreement,
    hysteresis: { raiseAfter: c.hysteresis?.raiseAfter ?? d.hysteresis.raiseAfter, clearAfter: c.hysteresis?.clearAfter ?? d.hysteresis.clearAfter },
    alerts,
  });
}

/** True once `labelDelay` has passed since the end of the window (the time of its last possible event): its labels are ripe. */
export function labelsRipe(window: { readonly end: string }, nowMs: number, config: Pick<ResolvedMonitoringConfig, 'performance'>): boolean {
  return Date.parse(window.end) + config.performance.labelDelayMs <= nowMs;
}
