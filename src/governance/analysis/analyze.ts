// The automated analysis of one rollout step: candidate against stable over the same window, per metric and per
// segment, each a pass / fail / inconclusive with its interval. Pure: the observations come from collectObservations.
//
// The rule for every metric: take an interval of the candidate's degradation (in the metric's bad direction) at the
// configured confidence; PASS when the whole interval is below the tolerated bound, FAIL when the whole interval is
// beyond it, INCONCLUSIVE otherwise or when there are too few observations, so too little data can never pass.
//
// Intervals: rates and accuracy use Newcombe's hybrid score interval (method 10 of Newcombe 1998); latency_p95 the
// ratio of the two p95s with a distribution-free order-statistic interval for each quantile, each at 1 − α/2 so the
// ratio's interval [c_lo / s_hi, c_hi / s_lo] covers with ≥ 1 − α (Bonferroni); output_distribution the total
// variation distance with a Bretagnolle–Huber–Carol bound on each arm's L1 estimation error plus Pearson's
// chi-square of homogeneity; business metrics Welch's interval on the difference of means.
//
// Segments: each value of each configured field with ≥ segmentMinDecisions in both arms is judged on every metric.
// With m such comparisons every segment interval is widened to confidence 1 − α/m (Bonferroni), so the chance that
// any segment fails falsely stays ≤ α however many segments there are. A segment that fails fails the whole
// verdict; an inconclusive segment does not block a pass (the summary says so).
import { chiSquareHomogeneity } from '../../monitoring/stats/index.js';
import type { AnalysisConfig, ResolvedMetric } from './analysis-config.js';
import type { AnalysisVerdict, MetricVerdict, Observation, VerdictName } from './analysis-types.js';
import { newcombeDifference, quantileInterval, summarize, welchInterval } from './intervals.js';

export interface AnalysisInput {
  readonly stable: readonly Observation[];
  readonly candidate: readonly Observation[];
  readonly window: { readonly since: string; readonly until: string };
  readonly stableVersion: string;
  readonly candidateVersion: string;
}

interface Judged {
  readonly verdict: MetricVerdict;
  /** Too few observations to judge at all (for an optional metric this does not block a pass). */
  readonly insufficient: boolean;
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(4));
const signed = (x: number): string => (x >= 0 ? `+${fmt(x)}` : fmt(x));
const pct = (c: number): string => `${Number((c * 100).toFixed(3))}%`;

/** pass / fail / inconclusive from an interval of the degradation (positive = worse) and the tolerated bound. */
export function judgeDegradation(degradation: readonly [number, number], bound: number): VerdictName {
  if (degradation[1] < bound) return 'pass';
  if (degradation[0] > bound) return 'fail';
  return 'inconclusive';
}

function insufficient(metric: ResolvedMetric, segment: string | undefined, bound: number, sn: number, cn: number, need: number, what: string): Judged {
  const reason =
    sn === 0 && cn === 0 && what === 'labelled decisions'
      ? 'no labels'
      : `too few ${what}: stable ${sn}, candidate ${cn}, need ${need} per arm`;
  return {
    insufficient: true,
    verdict: {
      metric: metric.metric,
      ...(segment === undefined ? {} : { segment }),
      verdict: 'inconclusive',
      stable: { n: sn, value: null },
      candidate: { n: cn, value: null },
      difference: null,
      interval: null,
      bound,
      reason,
    },
  };
}

function reasonFor(verdict: VerdictName, metric: string, difference: number, interval: readonly [number, number], bound: number, confidence: number, relative: boolean): string {
  const unit = relative ? ' (relative)' : '';
  const ci = `${pct(confidence)} CI [${signed(interval[0])}, ${signed(interval[1])}]`;
  if (verdict === 'pass') return `${metric} ${signed(difference)}${unit}, ${ci}: within the tolerated ${fmt(bound)}`;
  if (verdict === 'fail') return `${metric} ${signed(difference)}${unit}, ${ci}: clearly beyond the tolerated ${fmt(bound)}`;
  return `${metric} ${signed(difference)}${unit}, ${ci}: the interval straddles the tolerated ${fmt(bound)}`;
}

/** Orients an interval of candidate − stable so that positive is worse. */
function degradationOf(direction: 'lower' | 'higher', interval: readonly [number, number]): [number, number] {
  return direction === 'lower' ? [interval[0], interval[1]] : [-interval[1], -interval[0]];
}

function rateMetric(
  metric: ResolvedMetric,
  segment: string | undefined,
  stable: readonly Observation[],
  candidate: readonly Observation[],
  confidence: number,
  bound: number,
  need: number,
  pick: (o: Observation) => boolean | null,
  what: string,
): Judged {
  let sn = 0;
  let se = 0;
  let cn = 0;
  let ce = 0;
  for (const o of stable) {
    const v = pick(o);
    if (v === null) continue;
    sn++;
    if (v) se++;
  }
  for (const o of candidate) {
    const v = pick(o);
    if (v === null) continue;
    cn++;
    if (v) ce++;
  }
  if (sn < need || cn < need) return insufficient(metric, segment, bound, sn, cn, need, what);
  const { difference, interval } = newcombeDifference(ce, cn, se, sn, confidence);
  const verdict = judgeDegradation(degradationOf(metric.direction, interval), bound);
  return {
    insufficient: false,
    verdict: {
      metric: metric.metric,
      ...(segment === undefined ? {} : { segment }),
      verdict,
      stable: { n: sn, value: se / sn },
      candidate: { n: cn, value: ce / cn },
      difference,
      interval,
      bound,
      reason: reasonFor(verdict, metric.metric, difference, interval, bound, confidence, false),
    },
  };
}

function latencyMetric(metric: ResolvedMetric, segment: string | undefined, stable: readonly Observation[], candidate: readonly Observation[], confidence: number, bound: number, need: number): Judged {
  const values = (arm: readonly Observation[]): number[] =>
    arm.flatMap((o) => (o.latencyMs === null || !Number.isFinite(o.latencyMs) ? [] : [o.latencyMs])).sort((a, b) => a - b);
  const s = values(stable);
  const c = values(candidate);
  if (s.length < need || c.length < need) return insufficient(metric, segment, bound, s.length, c.length, need, 'latency samples');
  // Each quantile at 1 − α/2: the ratio's interval then covers with probability ≥ 1 − α.
  const each = 1 - (1 - confidence) / 2;
  const sq = quantileInterval(s, 0.95, each);
  const cq = quantileInterval(c, 0.95, each);
  const base = {
    metric: metric.metric,
    ...(segment === undefined ? {} : { segment }),
    stable: { n: s.length, value: sq?.estimate ?? null },
    candidate: { n: c.length, value: cq?.estimate ?? null },
    bound,
  };
  if (sq === null || cq === null || sq.interval[0] <= 0 || sq.estimate <= 0) {
    return {
      insufficient: sq === null || cq === null,
      verdict: { ...base, verdict: 'inconclusive', difference: null, interval: null, reason: 'latency_p95: too few samples for an order-statistic interval of the p95, or a zero stable p95' },
    };
  }
  const ratio = cq.estimate / sq.estimate;
  const ratioInterval: [number, number] = [cq.interval[0] / sq.interval[1], cq.interval[1] / sq.interval[0]];
  // Relative change candidate/stable − 1; when higher is better the degradation is 1 − ratio.
  const difference = ratio - 1;
  const interval: [number, number] = [ratioInterval[0] - 1, ratioInterval[1] - 1];
  const verdict = judgeDegradation(degradationOf(metric.direction, interval), bound);
  return {
    insufficient: false,
    verdict: { ...base, verdict, difference, interval, reason: `${reasonFor(verdict, metric.metric, difference, interval, bound, confidence, true)} (p95 ${fmt(sq.estimate)} → ${fmt(cq.estimate)} ms)` },
  };
}

/** Half the Bretagnolle–Huber–Carol bound on ‖p̂ − p‖₁ over k categories at error probability δ: P(‖p̂−p‖₁ ≥ ε) ≤ 2^k e^{−nε²/2}. */
function tvdEstimationError(n: number, k: number, delta: number): number {
  return Math.sqrt((2 * (k * Math.LN2 + Math.log(1 / delta))) / n) / 2;
}

function distributionMetric(metric: ResolvedMetric, segment: string | undefined, stable: readonly Observation[], candidate: readonly Observation[], confidence: number, bound: number, need: number): Judged {
  const counts = (arm: readonly Observation[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const o of arm) if (o.outputLabel !== null) m.set(o.outputLabel, (m.get(o.outputLabel) ?? 0) + 1);
    return m;
  };
  const sc = counts(stable);
  const cc = counts(candidate);
  const sn = [...sc.values()].reduce((a, b) => a + b, 0);
  const cn = [...cc.values()].reduce((a, b) => a + b, 0);
  if (sn < need || cn < need) return insufficient(metric, segment, bound, sn, cn, need, 'labelled outputs');
  const categories = new Set([...sc.keys(), ...cc.keys()]);
  let l1 = 0;
  for (const k of categories) l1 += Math.abs((sc.get(k) ?? 0) / sn - (cc.get(k) ?? 0) / cn);
  const tvd = l1 / 2;
  const alpha = 1 - confidence;
  // α split over the two arms; TVD is a metric, so |TVD(p,q) − TVD(p̂,q̂)| ≤ TVD(p,p̂) + TVD(q,q̂).
  const k = categories.size;
  const slack = tvdEstimationError(sn, k, alpha / 2) + tvdEstimationError(cn, k, alpha / 2);
  const interval: [number, number] = [Math.max(0, tvd - slack), Math.min(1, tvd + slack)];
  const test = chiSquareHomogeneity(sc, cc);
  let verdict: VerdictName;
  let reason: string;
  const ci = `${pct(confidence)} upper bound ${fmt(interval[1])}`;
  if (tvd > bound && test.pValue < alpha) {
    verdict = 'fail';
    reason = `output_distribution TVD ${fmt(tvd)} beyond the tolerated ${fmt(bound)} and the chi-square test is significant (p = ${test.pValue.toExponential(2)})`;
  } else if (interval[1] < bound) {
    verdict = 'pass';
    reason = `output_distribution TVD ${fmt(tvd)}, ${ci}: within the tolerated ${fmt(bound)}`;
  } else {
    verdict = 'inconclusive';
    reason = `output_distribution TVD ${fmt(tvd)}, ${ci} (chi-square p = ${test.pValue.toPrecision(3)}): not clearly within or beyond ${fmt(bound)}`;
  }
  return {
    insufficient: false,
    verdict: {
      metric: metric.metric,
      ...(segment === undefined ? {} : { segment }),
      verdict,
      stable: { n: sn, value: null },
      candidate: { n: cn, value: null },
      difference: tvd,
      interval,
      bound,
      reason,
    },
  };
}

function businessMetric(metric: ResolvedMetric, segment: string | undefined, stable: readonly Observation[], candidate: readonly Observation[], confidence: number, bound: number, need: number): Judged {
  const name = metric.metric.slice('business:'.length);
  const values = (arm: readonly Observation[]): number[] => arm.flatMap((o) => {
    const v = o.business[name];
    return v === undefined || !Number.isFinite(v) ? [] : [v];
  });
  const s = summarize(values(stable));
  const c = summarize(values(candidate));
  const min = Math.max(2, need);
  if (s.n < min || c.n < min) return insufficient(metric, segment, bound, s.n, c.n, min, `${name} outcomes`);
  const welch = welchInterval(c, s, confidence);
  if (welch === null) return insufficient(metric, segment, bound, s.n, c.n, min, `${name} outcomes`);
  const verdict = judgeDegradation(degradationOf(metric.direction, welch.interval), bound);
  return {
    insufficient: false,
    verdict: {
      metric: metric.metric,
      ...(segment === undefined ? {} : { segment }),
      verdict,
      stable: { n: s.n, value: s.mean },
      candidate: { n: c.n, value: c.mean },
      difference: welch.difference,
      interval: welch.interval,
      bound,
      reason: reasonFor(verdict, metric.metric, welch.difference, welch.interval, bound, confidence, false),
    },
  };
}

function judgeMetric(metric: ResolvedMetric, segment: string | undefined, stable: readonly Observation[], candidate: readonly Observation[], confidence: number, bound: number, need: number): Judged {
  switch (metric.metric) {
    case 'error_rate':
      return rateMetric(metric, segment, stable, candidate, confidence, bound, need, (o) => o.error, 'decisions');
    case 'fallback_rate':
      return rateMetric(metric, segment, stable, candidate, confidence, bound, need, (o) => o.fallback, 'decisions');
    case 'review_rate':
      return rateMetric(metric, segment, stable, candidate, confidence, bound, need, (o) => o.review, 'decisions');
    case 'accuracy':
      return rateMetric(metric, segment, stable, candidate, confidence, bound, need, (o) => o.correct, 'labelled decisions');
    case 'latency_p95':
      return latencyMetric(metric, segment, stable, candidate, confidence, bound, need);
    case 'output_distribution':
      return distributionMetric(metric, segment, stable, candidate, confidence, bound, need);
    default:
      return businessMetric(metric, segment, stable, candidate, confidence, bound, need);
  }
}

function groupBy(arm: readonly Observation[], field: string): Map<string, Observation[]> {
  const groups = new Map<string, Observation[]>();
  for (const o of arm) {
    const value = o.segments[field];
    if (value === undefined) continue;
    let list = groups.get(value);
    if (list === undefined) groups.set(value, (list = []));
    list.push(o);
  }
  return groups;
}

/** Candidate against stable: one verdict per metric overall and per judged segment, and the step's verdict. */
export function analyze(config: AnalysisConfig, input: AnalysisInput): AnalysisVerdict {
  const { stable, candidate } = input;
  const overall: Judged[] = [];
  const tooFew = stable.length < config.minDecisions || candidate.length < config.minDecisions;
  for (const metric of config.metrics) {
    if (tooFew) overall.push(insufficient(metric, undefined, metric.bound, stable.length, candidate.length, config.minDecisions, 'decisions'));
    else overall.push(judgeMetric(metric, undefined, stable, candidate, config.confidence, metric.bound, metric.minSamples));
  }

  const segmentResults: Judged[] = [];
  if (!tooFew) {
    const cells: { field: string; value: string; stable: Observation[]; candidate: Observation[] }[] = [];
    for (const field of config.segments) {
      const s = groupBy(stable, field);
      const c = groupBy(candidate, field);
      for (const [value, sArm] of [...s].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const cArm = c.get(value);
        if (cArm === undefined || sArm.length < config.segmentMinDecisions || cArm.length < config.segmentMinDecisions) continue;
        cells.push({ field, value, stable: sArm, candidate: cArm });
      }
    }
    const comparisons = cells.length * config.metrics.length;
    const segmentConfidence = comparisons === 0 ? config.confidence : 1 - (1 - config.confidence) / comparisons;
    for (const cell of cells) {
      for (const metric of config.metrics) {
        segmentResults.push(judgeMetric(metric, `${cell.field}=${cell.value}`, cell.stable, cell.candidate, segmentConfidence, metric.bound * config.segmentBound, config.segmentMinDecisions));
      }
    }
  }

  const all = [...overall, ...segmentResults];
  const failed = all.filter((j) => j.verdict.verdict === 'fail');
  const blocking = overall.filter((j, i) => j.verdict.verdict !== 'pass' && !(config.metrics[i]?.optional === true && j.insufficient));
  const verdict: VerdictName = failed.length > 0 ? 'fail' : blocking.length === 0 && overall.length > 0 ? 'pass' : 'inconclusive';

  const label = (j: Judged): string => (j.verdict.segment === undefined ? j.verdict.reason : `segment ${j.verdict.segment}: ${j.verdict.reason}`);
  let summary: string;
  if (verdict === 'fail') {
    summary = `fail: ${failed.map(label).join('; ')}`;
  } else if (verdict === 'pass') {
    const passed = overall.filter((j) => j.verdict.verdict === 'pass').map((j) => j.verdict.reason);
    const skipped = overall.filter((j) => j.verdict.verdict !== 'pass').map((j) => `${j.verdict.metric} not judged (${j.verdict.reason}; optional)`);
    const openSegments = segmentResults.filter((j) => j.verdict.verdict === 'inconclusive').map((j) => `${j.verdict.segment}/${j.verdict.metric}`);
    summary = `pass: ${[...passed, ...skipped].join('; ')}`;
    if (openSegments.length > 0) summary += `; inconclusive in segments ${openSegments.join(', ')} (does not block a pass)`;
  } else if (tooFew) {
    summary = `inconclusive: too few decisions (stable ${stable.length}, candidate ${candidate.length}, need ${config.minDecisions} per arm)`;
  } else {
    summary = `inconclusive: ${blocking.map(label).join('; ')}`;
  }
  return {
    verdict,
    window: input.window,
    stable: { version: input.stableVersion, decisions: stable.length },
    candidate: { version: input.candidateVersion, decisions: candidate.length },
    metrics: all.map((j) => j.verdict),
    summary,
    ...(tooFew ? { tooFewDecisions: true } : {}),
  };
}
