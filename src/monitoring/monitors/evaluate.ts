// Runs every monitor over one window: plain data in (sketches, counts, labels, reference), verdicts out.
import type { NumericHistogram } from '../sketches/index.js';
import { calibrationFromTable } from './calibration.js';
import { estimateAccuracy } from './cbpe.js';
import { compareConfidenceDrift, compareOutputDrift, evaluateInputDrift, type CompareOptions, type FeatureDrift } from './drift.js';
import { formatNumber, formatPercent, judgeAbove, judgeBelow, type JudgedState } from './judge.js';
import { histogramQuantile, summarizeLatency } from './latency.js';
import type { DriftMethod, ResolvedMonitoringConfig, Thresholds } from './monitoring-config.js';
import { computePerformance } from './performance.js';
import { rateWithInterval } from './rates.js';
import { nextState, parseMonitorStatus, type MonitorState, type MonitorStatus } from './state.js';
import type { MonitorEvaluation, ReferenceInput, WindowInput } from './types.js';

/** A monitor's verdict before hysteresis. */
interface Observation {
  readonly monitor: string;
  readonly observed: MonitorState;
  readonly value: number | null;
  readonly threshold: Thresholds;
  readonly samples: number;
  readonly message: string;
  readonly values: Readonly<Record<string, unknown>>;
}

const methodNames: Readonly<Record<DriftMethod, string>> = {
  'chi-square': 'chi-square',
  ks: 'KS',
  'cramer-von-mises': 'Cramér–von Mises',
  psi: 'PSI',
  'jensen-shannon': 'Jensen–Shannon',
  hellinger: 'Hellinger',
  wasserstein: 'normed Wasserstein',
};

const correctionNames = { 'benjamini-hochberg': 'Benjamini–Hochberg', bonferroni: 'Bonferroni', none: '' } as const;

function unknown(monitor: string, label: string, reason: string, samples: number, values: Record<string, unknown> = {}, threshold: Thresholds = {}): Observation {
  return { monitor, observed: 'unknown', value: null, threshold, samples, message: `${label} unknown: ${reason}`, values: { ...values, reason } };
}

function fewSamples(count: number, what: string, minSamples: number, setting = 'minSamples'): string {
  return `only ${count} ${what} in the window, fewer than ${setting} (${minSamples})`;
}

/** "> alert bound 5.0%" / "≤ warning bound 1.0%" / "no bound set", for a judged value. */
function boundWords(state: JudgedState, thresholds: Thresholds, side: 'above' | 'below', format: (v: number) => string): string {
  const [bad, good] = side === 'above' ? ['>', '≤'] : ['<', '≥'];
  if (state === 'alert') return `${bad} alert bound ${format(thresholds.alert as number)}`;
  if (state === 'warning') return `${bad} warning bound ${format(thresholds.warning as number)}`;
  const mildest = thresholds.warning ?? thresholds.alert;
  if (mildest === undefined) return 'no bound set';
  return `${good} ${thresholds.warning === undefined ? 'alert' : 'warning'} bound ${format(mildest)}`;
}

/** The sentence fragment of a drift comparison: "PSI 0.31 ≥ 0.2" or "KS p 0.0012 < 0.05 (Benjamini–Hochberg adjusted)". */
function driftWords(d: FeatureDrift, correction?: keyof typeof correctionNames): string {
  const component = d.kind === 'text' && typeof d.detail.component === 'string' ? `${String(d.detail.component).replace(/-/g, ' ')} ` : '';
  const name = `${component}${methodNames[d.method]}`;
  if (d.pValue !== null) {
    const p = d.adjustedPValue ?? d.pValue;
    const adjusted = correction !== undefined && correction !== 'none' ? ` (${correctionNames[correction]} adjusted)` : '';
    return `${name} p ${formatNumber(p)} ${d.drifted ? '<' : '≥'} ${formatNumber(d.threshold)}${adjusted}`;
  }
  return `${name} ${formatNumber(d.statistic as number)} ${d.drifted ? '≥' : '<'} ${formatNumber(d.threshold)}`;
}

function driftValue(d: FeatureDrift): number | null {
  return d.pValue !== null ? (d.adjustedPValue ?? d.pValue) : d.statistic;
}

function driftValues(d: FeatureDrift): Record<string, unknown> {
  return {
    method: d.method,
    comparison: d.pValue !== null ? 'p-value below threshold' : 'distance at or above threshold',
    statistic: d.statistic,
    pValue: d.pValue,
    adjustedPValue: d.adjustedPValue,
    threshold: d.threshold,
    drifted: d.drifted,
    referenceCount: d.referenceCount,
    currentCount: d.currentCount,
    ...d.detail,
  };
}

function inputDrift(input: WindowInput, reference: ReferenceInput | undefined, config: ResolvedMonitoringConfig): Observation[] {
  const features = (reference?.sketch ?? input.sketch).featureNames.filter((f) => config.drift.features[f]?.enabled !== false);
  const featureMonitor = (f: string) => `feature_drift/${f}`;
  const events = input.sketch.eventCount;
  if (reference === undefined) {
    const reason = 'no reference profile to compare with';
    return [unknown('input_drift', 'input drift', reason, events), ...features.map((f) => unknown(featureMonitor(f), `feature \`${f}\` drift`, reason, 0))];
  }
  const result = evaluateInputDrift(reference.sketch, input.sketch, config);
  const perFeature = result.features.map((d): Observation => {
    const monitor = featureMonitor(d.feature);
    const label = `feature \`${d.feature}\``;
    if (d.statistic === null) return unknown(monitor, `${label} drift`, String(d.detail.reason), d.currentCount, driftValues(d), { warning: d.threshold });
    return {
      monitor,
      observed: d.drifted ? 'warning' : 'ok',
      value: driftValue(d),
      threshold: { warning: d.threshold },
      samples: d.currentCount,
      message: `${label} ${d.drifted ? 'drifted' : 'stable'}: ${driftWords(d, result.correction)}`,
      values: driftValues(d),
    };
  });
  const threshold = { alert: config.drift.share };
  const summary = {
    driftedShare: result.driftedShare,
    compared: result.compared,
    drifted: result.features.filter((d) => d.drifted).map((d) => d.feature),
    correction: result.correction,
    alpha: result.alpha,
    share: result.share,
    features: result.features.map((d) => ({ feature: d.feature, method: d.method, statistic: d.statistic, pValue: d.pValue, adjustedPValue: d.adjustedPValue, threshold: d.threshold, drifted: d.drifted })),
  };
  let overall: Observation;
  if (events < config.minSamples) overall = unknown('input_drift', 'input drift', fewSamples(events, 'decisions', config.minSamples), events, summary, threshold);
  else if (result.driftedShare === null) overall = unknown('input_drift', 'input drift', 'no feature could be compared', events, summary, threshold);
  else {
    const names = summary.drifted.map((f) => `\`${f}\``).join(', ');
    const count = `${summary.drifted.length} of ${result.compared} features drifted`;
    overall = {
      monitor: 'input_drift',
      observed: result.drifted ? 'alert' : 'ok',
      value: result.driftedShare,
      threshold,
      samples: events,
      message: result.drifted
        ? `input drifted: ${count} (${formatPercent(result.driftedShare)} ≥ ${formatPercent(result.share)}): ${names}`
        : `input stable: ${count} (${formatPercent(result.driftedShare)} < ${formatPercent(result.share)})${names === '' ? '' : `: ${names}`}`,
      values: summary,
    };
  }
  return [overall, ...perFeature];
}

function singleDrift(monitor: string, label: string, compare: () => FeatureDrift, reference: ReferenceInput | undefined, samples: number, config: ResolvedMonitoringConfig, describe: (d: FeatureDrift) => string): Observation {
  if (reference === undefined) return unknown(monitor, label, 'no reference profile to compare with', samples);
  if (samples < config.minSamples) return unknown(monitor, label, fewSamples(samples, 'values', config.minSamples), samples);
  const d = compare();
  if (d.statistic === null) return unknown(monitor, label, String(d.detail.reason), samples, driftValues(d), { alert: d.threshold });
  return {
    monitor,
    observed: d.drifted ? 'alert' : 'ok',
    value: driftValue(d),
    threshold: { alert: d.threshold },
    samples,
    message: `${label.replace(/ drift$/, '')} ${d.drifted ? 'drifted' : 'stable'}: ${driftWords(d)}${describe(d)}`,
    values: driftValues(d),
  };
}

function driftOptions(config: ResolvedMonitoringConfig): CompareOptions {
  return { method: config.drift.method, ...(config.drift.threshold === undefined ? {} : { threshold: config.drift.threshold }), alpha: config.drift.alpha, fallback: true };
}

function outputDrift(input: WindowInput, reference: ReferenceInput | undefined, config: ResolvedMonitoringConfig): Observation {
  const labels = input.sketch.outputLabels.counts;
  return singleDrift('output_drift', 'output drift', () => compareOutputDrift(reference!.sketch, input.sketch, driftOptions(config)), reference, labels.tracked + labels.other, config, (d) => {
    const top = (d.detail.largestShifts as { category: string; reference: number; current: number }[] | undefined)?.[0];
    return top === undefined ? '' : ` (\`${top.category}\` ${formatPercent(top.reference)} → ${formatPercent(top.current)})`;
  });
}

function confidenceDrift(input: WindowInput, reference: ReferenceInput | undefined, config: ResolvedMonitoringConfig): Observation {
  const confidence = input.sketch.confidenceHistogram.counts.finite;
  return singleDrift('confidence_drift', 'confidence drift', () => compareConfidenceDrift(reference!.sketch, input.sketch, driftOptions(config)), reference, confidence, config, (d) =>
    typeof d.detail.referenceMean === 'number' && typeof d.detail.currentMean === 'number' ? ` (mean ${formatNumber(d.detail.referenceMean)} → ${formatNumber(d.detail.currentMean)})` : '',
  );
}

/** The accuracy bounds: absolute ones from the config, else the reference's accuracy minus the configured drops. */
function accuracyBounds(config: ResolvedMonitoringConfig, reference: ReferenceInput | undefined): { thresholds: Thresholds; referenceAccuracy: number | null; source: string } {
  const a = config.performance.accuracy;
  const table = reference?.calibration;
  const referenceAccuracy = reference?.accuracy ?? (table !== undefined && table.count > 0 ? table.correct.reduce((x, y) => x + y, 0) / table.count : null);
  const relative = (drop: number) => (referenceAccuracy === null ? undefined : referenceAccuracy - drop);
  const warning = a.warning ?? relative(a.warningDrop);
  const alert = a.alert ?? relative(a.alertDrop);
  const thresholds = { ...(warning === undefined ? {} : { warning }), ...(alert === undefined ? {} : { alert }) };
  const source = a.warning !== undefined || a.alert !== undefined ? 'config' : referenceAccuracy === null ? 'none' : `reference ${formatNumber(referenceAccuracy)} − ${formatNumber(a.warningDrop)} / ${formatNumber(a.alertDrop)}`;
  return { thresholds, referenceAccuracy, source };
}

function accuracy(input: WindowInput, reference: ReferenceInput | undefined, config: ResolvedMonitoringConfig): Observation {
  const { thresholds, referenceAccuracy, source } = accuracyBounds(config, reference);
  if (input.labels === undefined) return unknown('accuracy', 'accuracy', `labels are not ripe yet (judged ${config.performance.labelDelay} after the window's last event)`, 0, {}, thresholds);
  // A decision the model gave no output for (it failed, its breaker was open, a fallback answered) has no prediction to judge.
  const labels = input.labels.filter((pair) => pair.predicted !== null);
  const n = labels.length;
  if (n < config.minSamples) return unknown('accuracy', 'accuracy', fewSamples(n, 'labelled decisions', config.minSamples), n, {}, thresholds);
  const p = computePerformance(labels, config.performance.positiveLabel === undefined ? {} : { positiveLabel: config.performance.positiveLabel })!;
  const observed = judgeBelow(p.accuracy, thresholds);
  const interval = rateWithInterval(p.correct, p.count);
  const basis = source === 'config' || source === 'none' ? '' : ` (${source})`;
  return {
    monitor: 'accuracy',
    observed,
    value: p.accuracy,
    threshold: thresholds,
    samples: n,
    message: `accuracy ${formatNumber(p.accuracy)} ${boundWords(observed, thresholds, 'below', formatNumber)}${basis} on ${n} labelled decisions`,
    values: { ...p, interval: { lower: interval.lower, upper: interval.upper }, referenceAccuracy, thresholdSource: source },
  };
}

function estimatedAccuracy(input: WindowInput, reference: ReferenceInput | undefined, config: ResolvedMonitoringConfig): Observation {
  const { thresholds, referenceAccuracy, source } = accuracyBounds(config, reference);
  const label = 'estimated accuracy';
  const confidences = input.sketch.confidenceHistogram;
  if (reference === undefined) return unknown('estimated_accuracy', label, 'no reference profile to calibrate with', 0, {}, thresholds);
  if (reference.calibration === undefined || reference.calibration.count === 0) return unknown('estimated_accuracy', label, 'the reference has no labelled predictions with a confidence', 0, {}, thresholds);
  // Per predicted class when the window counts its predictions by class; else by confidence only (values say why).
  const estimate = estimateAccuracy(reference.calibration, input.predictions ?? confidences);
  const n = estimate?.count ?? 0;
  if (estimate === null || n < config.minSamples) return unknown('estimated_accuracy', label, fewSamples(n, 'predictions with a confidence', config.minSamples), n, {}, thresholds);
  if (estimate.unknownReason !== null) return unknown('estimated_accuracy', label, `the reference is too thin for this window: ${estimate.unknownReason}`, n, { ...estimate, referenceAccuracy, thresholdSource: source }, thresholds);
  const observed = judgeBelow(estimate.estimatedAccuracy, thresholds);
  const basis = source === 'config' || source === 'none' ? '' : ` (${source})`;
  return {
    monitor: 'estimated_accuracy',
    observed,
    value: estimate.estimatedAccuracy,
    threshold: thresholds,
    samples: n,
    message: `estimated accuracy ${formatNumber(estimate.estimatedAccuracy)} ± ${formatNumber(estimate.standardError)} (CBPE ${estimate.calibratedBy === 'class' ? 'per class' : 'by confidence only'}${estimate.borrowedCount > 0 ? `; ${estimate.borrowedCount} calibrated from neighbouring confidence bins` : ''}) ${boundWords(observed, thresholds, 'below', formatNumber)}${basis} on ${n} predictions`,
    values: { ...estimate, referenceAccuracy, thresholdSource: source },
  };
}

function calibration(input: WindowInput, config: ResolvedMonitoringConfig): Observation {
  const thresholds = config.calibration;
  if (input.calibration === undefined) return unknown('calibration', 'calibration', `labels are not ripe yet (judged ${config.performance.labelDelay} after the window's last event)`, 0, {}, thresholds);
  const summary = calibrationFromTable(input.calibration);
  const n = summary?.count ?? 0;
  if (summary === null || n < config.minSamples) return unknown('calibration', 'calibration', fewSamples(n, 'labelled predictions with a confidence', config.minSamples), n, {}, thresholds);
  const observed = judgeAbove(summary.ece, thresholds);
  return {
    monitor: 'calibration',
    observed,
    value: summary.ece,
    threshold: thresholds,
    samples: n,
    message: `expected calibration error ${formatNumber(summary.ece)} ${boundWords(observed, thresholds, 'above', formatNumber)} on ${n} labelled predictions (accuracy ${formatNumber(summary.accuracy)}, mean confidence ${formatNumber(summary.meanConfidence)})`,
    values: { ...summary },
  };
}

function latency(input: WindowInput, config: ResolvedMonitoringConfig): Observation[] {
  const stages = [...new Set(['total', ...Object.keys(config.latency)])];
  const ms = (v: number) => `${formatNumber(v)} ms`;
  return stages.map((stage): Observation => {
    const monitor = `latency/${stage}`;
    const label = `p95 latency of \`${stage}\``;
    const thresholds = config.latency[stage] ?? {};
    let histogram: NumericHistogram;
    try {
      histogram = input.sketch.latencyOf(stage);
    } catch {
      return unknown(monitor, label, `the stage \`${stage}\` is not timed in the sketches`, 0, {}, thresholds);
    }
    const summary = summarizeLatency(histogram);
    if (summary.count < config.minSamples) return unknown(monitor, label, fewSamples(summary.count, 'timings', config.minSamples), summary.count, { ...summary }, thresholds);
    const p95 = histogramQuantile(histogram, 0.95) as number;
    const observed = judgeAbove(p95, thresholds);
    return {
      monitor,
      observed,
      value: p95,
      threshold: thresholds,
      samples: summary.count,
      message: `${label} ≤ ${ms(p95)} ${boundWords(observed, thresholds, 'above', ms).replace('bound', 'budget')} over ${summary.count} decisions`,
      values: { ...summary, quantile: 0.95, note: 'quantiles are the upper edge of the histogram bin that holds them' },
    };
  });
}

function rate(monitor: string, label: string, numerator: number, denominator: number, what: string, thresholds: Thresholds, minSamples: number, setting?: string): Observation {
  if (denominator < minSamples) return unknown(monitor, label, fewSamples(denominator, what, minSamples, setting), denominator, { numerator, denominator }, thresholds);
  if (numerator > denominator) return unknown(monitor, label, `${numerator} events among ${denominator} ${what}: the counts are inconsistent`, denominator, { numerator, denominator }, thresholds);
  const r = rateWithInterval(numerator, denominator);
  const value = r.rate as number;
  const observed = judgeAbove(value, thresholds);
  return {
    monitor,
    observed,
    value,
    threshold: thresholds,
    samples: denominator,
    message: `${label} ${formatPercent(value)} (95% CI ${formatPercent(r.lower)}–${formatPercent(r.upper)}) ${boundWords(observed, thresholds, 'above', formatPercent)} over ${denominator} ${what}`,
    values: { ...r },
  };
}

function rates(input: WindowInput, config: ResolvedMonitoringConfig): Observation[] {
  const { decisions, byOutcome, modelErrors } = input.counts;
  const b = input.business;
  return [
    rate('error_rate', 'error rate', modelErrors, decisions, 'decisions', config.rates.error, config.minSamples),
    rate('fallback_rate', 'fallback rate', byOutcome.fallback, decisions, 'decisions', config.rates.fallback, config.minSamples),
    rate('reject_rate', 'reject rate', byOutcome.rejected, decisions, 'decisions', config.rates.reject, config.minSamples),
    rate('review_rate', 'review rate', byOutcome.review, decisions, 'decisions', config.rates.review, config.minSamples),
    // Over the window's decisions, not over those with outcome feedback (a decision nobody reported on was not
    // overridden); feedback counts in its decision's window however late it arrives, so overrides ≤ decisions.
    rate('override_rate', 'override rate', b.overrides, decisions, 'decisions', config.business.override, config.minSamples),
    rate('complaint_rate', 'complaint rate', b.complaints, decisions, 'decisions', config.business.complaint, config.minSamples),
    // Over the appeals decided about the window's decisions (each counts in its decision's window), not its decisions.
    rate('appeal_overturn_rate', 'appeal overturn rate', b.overturned, b.appeals, 'decided appeals', config.business.appealOverturn, config.business.minAppeals, 'business.minAppeals'),
  ];
}

/**
 * `agreement/<checker>` per checker with verdicts in the window, by name: the share of compared checks (agree +
 * disagree) that agreed, judged below the bounds. Unavailable checks (the checker failed, timed out or was skipped)
 * compare nothing: they are not in the share, only reported beside it.
 */
function agreement(input: WindowInput, config: ResolvedMonitoringConfig): Observation[] {
  const thresholds = config.agreement;
  const names = [...(input.crossChecks?.keys() ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name): Observation => {
    const { agree, disagree, unavailable } = input.crossChecks!.get(name)!;
    const monitor = `agreement/${name}`;
    const label = `agreement with \`${name}\``;
    const compared = agree + disagree;
    const checks = compared + unavailable;
    const counts = { agree, disagree, unavailable, compared, unavailableShare: checks === 0 ? null : unavailable / checks };
    const unavailableWords = unavailable === 0 ? '' : ` (${unavailable} unavailable, ${formatPercent(unavailable / checks)} of its checks)`;
    if (![agree, disagree, unavailable].every((n) => Number.isInteger(n) && n >= 0)) return unknown(monitor, label, 'the counts are not whole numbers of checks', 0, counts, thresholds);
    if (compared < config.minSamples) return unknown(monitor, label, `${fewSamples(compared, 'compared checks', config.minSamples)}${unavailableWords}`, compared, counts, thresholds);
    const r = rateWithInterval(agree, compared);
    const value = r.rate as number;
    const observed = judgeBelow(value, thresholds);
    return {
      monitor,
      observed,
      value,
      threshold: thresholds,
      samples: compared,
      message: `${label} ${formatPercent(value)} (95% CI ${formatPercent(r.lower)}–${formatPercent(r.upper)}) ${boundWords(observed, thresholds, 'below', formatPercent)} over ${compared} compared checks${unavailableWords}`,
      values: { ...counts, rate: value, lower: r.lower, upper: r.upper },
    };
  });
}

/** Errors of unusable data (a SketchError, a StatsInputError, a RangeError) make a monitor unknown; anything else is a bug and is thrown. */
function guarded(monitors: readonly string[], label: string, run: () => Observation[]): Observation[] {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return monitors.map((m) => unknown(m, label, `could not be evaluated: ${error.message}`, 0, { error: error.message }));
  }
}

/**
 * Every monitor over one window, in a stable order: input_drift, feature_drift/<field>…, output_drift, confidence_drift,
 * accuracy, estimated_accuracy, calibration, latency/<stage>…, error_rate, fallback_rate, reject_rate, review_rate,
 * override_rate, complaint_rate, appeal_overturn_rate, agreement/<checker>… (by name). `previous` holds the statuses of the same (service, version, segment) by monitor name,
 * as returned last time (a value that is not a status counts as none). A monitor without the data it needs is
 * `unknown`, with a message saying why.
 */
export function evaluateWindow(input: WindowInput, reference: ReferenceInput | undefined, config: ResolvedMonitoringConfig, previous: ReadonlyMap<string, MonitorStatus>): MonitorEvaluation[] {
  const observations: Observation[] = [
    ...guarded(['input_drift'], 'input drift', () => inputDrift(input, reference, config)),
    ...guarded(['output_drift'], 'output drift', () => [outputDrift(input, reference, config)]),
    ...guarded(['confidence_drift'], 'confidence drift', () => [confidenceDrift(input, reference, config)]),
    ...guarded(['accuracy'], 'accuracy', () => [accuracy(input, reference, config)]),
    ...guarded(['estimated_accuracy'], 'estimated accuracy', () => [estimatedAccuracy(input, reference, config)]),
    ...guarded(['calibration'], 'calibration', () => [calibration(input, config)]),
    ...latency(input, config),
    ...rates(input, config),
    ...agreement(input, config),
  ];
  return observations.map((o) => ({
    monitor: o.monitor,
    service: input.service,
    version: input.version,
    ...(input.segment === undefined ? {} : { segment: input.segment }),
    window: { start: input.window.start, end: input.window.end },
    observed: o.observed,
    status: nextState(parseMonitorStatus(previous.get(o.monitor)), o.observed, config.hysteresis),
    value: o.value,
    threshold: o.threshold,
    samples: o.samples,
    message: o.message,
    values: o.values,
  }));
}
