// Advisory mode's question: could the model have decided these alone? Over the settled reviews of
// decisions made in advisory mode, model–human agreement by confidence band, and the lowest
// confidence threshold at which the decisions at or above it disagree with the humans at no more
// than a chosen error rate, judged by the upper end of a 95% Wilson interval (so that a lucky
// handful of agreements does not pass for a safe threshold).
import { BallastError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { agreesWithModel } from './review-queue.js';

/** One settled advisory decision: the model's confidence and whether the humans agreed with its answer. */
export interface AdvisoryPoint {
  readonly confidence: number;
  readonly agreed: boolean;
}

export interface AdvisoryBand {
  /** [from, to): the last band includes 1. */
  readonly from: number;
  readonly to: number;
  readonly decisions: number;
  readonly agreed: number;
  readonly agreement: number | null;
  /** 95% Wilson interval of the agreement rate. */
  readonly interval: readonly [number, number] | null;
}

export interface ThresholdPoint {
  readonly threshold: number;
  /** Decisions at or above the threshold: those that would have gone through automatically. */
  readonly automated: number;
  readonly errors: number;
  readonly errorRate: number;
  /** Upper end of the 95% Wilson interval of the error rate. */
  readonly errorUpper: number;
}

export interface AdvisoryReport {
  readonly decisions: number;
  readonly agreed: number;
  readonly agreement: number | null;
  readonly bands: readonly AdvisoryBand[];
  readonly maxErrorRate: number;
  readonly minDecisions: number;
  /** The lowest threshold that meets maxErrorRate (most automation), or null when none does. */
  readonly recommendation: (ThresholdPoint & { readonly coverage: number }) | null;
  /** One sentence with the numbers. */
  readonly summary: string;
}

const z95 = 1.959963984540054;

/** The 95% Wilson score interval of k successes in n trials. */
export function wilsonInterval(k: number, n: number): readonly [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z95 * z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The report over points (pure): bands of `bandWidth`, and the threshold for `maxErrorRate`. */
export function advisoryReport(points: readonly AdvisoryPoint[], options: { readonly maxErrorRate: number; readonly minDecisions?: number; readonly bandWidth?: number }): AdvisoryReport {
  const { maxErrorRate } = options;
  const minDecisions = options.minDecisions ?? 30;
  const width = options.bandWidth ?? 0.1;
  if (!(maxErrorRate > 0 && maxErrorRate < 1)) throw new BallastError('REQUEST_INVALID', { detail: 'maxErrorRate must be between 0 and 1', issues: [{ pointer: '/maxErrorRate', code: 'range', message: `got ${maxErrorRate}` }] });
  const bandCount = Math.round(1 / width);
  const bands: AdvisoryBand[] = [];
  for (let b = 0; b < bandCount; b++) {
    const from = b / bandCount;
    const to = (b + 1) / bandCount;
    const inBand = points.filter((p) => p.confidence >= from && (b === bandCount - 1 ? p.confidence <= 1 : p.confidence < to));
    const agreed = inBand.filter((p) => p.agreed).length;
    bands.push({ from, to, decisions: inBand.length, agreed, agreement: inBand.length === 0 ? null : agreed / inBand.length, interval: inBand.length === 0 ? null : wilsonInterval(agreed, inBand.length) });
  }
  // Every distinct confidence is a candidate threshold; descending, the automated set only grows.
  const sorted = [...points].sort((a, b) => b.confidence - a.confidence);
  let best: ThresholdPoint | undefined;
  let automated = 0;
  let errors = 0;
  for (let i = 0; i < sorted.length; i++) {
    automated += 1;
    if (!sorted[i]!.agreed) errors += 1;
    // Ties: a threshold takes all decisions of its confidence at once.
    if (i + 1 < sorted.length && sorted[i + 1]!.confidence === sorted[i]!.confidence) continue;
    if (automated < minDecisions) continue;
    const errorUpper = wilsonInterval(errors, automated)[1];
    if (errorUpper <= maxErrorRate) best = { threshold: sorted[i]!.confidence, automated, errors, errorRate: errors / automated, errorUpper };
  }
  const agreed = points.filter((p) => p.agreed).length;
  const recommendation = best === undefined ? null : { ...best, coverage: best.automated / points.length };
  const summary =
    points.length === 0
      ? 'no settled advisory decisions yet'
      : recommendation === null
        ? `no threshold keeps the disagreement with reviewers at or under ${pct(maxErrorRate)} (95% upper bound, at least ${minDecisions} decisions) over ${points.length} settled advisory decisions; overall agreement ${pct(agreed / points.length)}`
        : `with confidence ≥ ${recommendation.threshold.toFixed(3)}, ${recommendation.automated} of ${points.length} decisions (${pct(recommendation.coverage)}) would have gone through automatically with ${recommendation.errors} disagreements with reviewers (${pct(recommendation.errorRate)}, at most ${pct(recommendation.errorUpper)} at 95%), within the ${pct(maxErrorRate)} asked`;
  return { decisions: points.length, agreed, agreement: points.length === 0 ? null : agreed / points.length, bands, maxErrorRate, minDecisions, recommendation, summary };
}

/** The settled advisory decisions of `service` made in [since, until), read from the store. */
export async function advisoryPoints(store: Store, options: { readonly service: string; readonly since?: string; readonly until?: string }): Promise<AdvisoryPoint[]> {
  const points: AdvisoryPoint[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.reviews.list({ service: options.service, state: 'decided', limit: 500, ...(after === undefined ? {} : { after }) });
    for (const item of page) {
      if (item.kind !== 'decision') continue;
      if (options.since !== undefined && item.createdAt < options.since) continue;
      if (options.until !== undefined && item.createdAt >= options.until) continue;
      const decision = await store.decisions.get(item.decisionId);
      const explanation = decision?.explanation as { reasons?: readonly { kind?: string }[] } | undefined;
      if (decision === undefined || decision.confidence === null || explanation?.reasons?.[0]?.kind !== 'advisory') continue;
      const last = (await store.reviews.get(item.id))?.decisions.at(-1);
      const agreed = last === undefined ? null : agreesWithModel(last, decision.output);
      if (agreed !== null) points.push({ confidence: decision.confidence, agreed });
    }
    if (page.length < 500) return points;
    after = page.at(-1)!.id;
  }
}
