import { formatCrossChecks, summarizeCrossChecks, DEMO_CHECKER, type CrossCheckSummary } from './cross-check-report.js';
import { DEMO_MIN_SAMPLES } from './demo-config.js';
import type { ReplayedDecision, ReplayResult } from './replay.js';

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface AccuracyLine {
  readonly n: number;
  readonly correct: number;
  readonly accuracy: number;
}

function accuracyOf(decisions: readonly ReplayedDecision[]): AccuracyLine {
  const labelled = decisions.filter((d) => d.labelled && d.label !== null);
  const correct = labelled.filter((d) => d.label === d.truth).length;
  return { n: labelled.length, correct, accuracy: labelled.length === 0 ? Number.NaN : correct / labelled.length };
}

/** What the demo reports: outcomes, accuracy where labels came back, latency per stage, by month. */
export interface DemoSummary {
  readonly decisions: number;
  readonly refused: number;
  readonly feedbackSent: number;
  readonly throughputPerSecond: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly accuracy: { readonly all: AccuracyLine; readonly auto: AccuracyLine; readonly review: AccuracyLine };
  readonly byMonth: ReadonlyArray<{ readonly month: string; readonly n: number; readonly spamShare: number; readonly accuracy: AccuracyLine; readonly reviewShare: number }>;
  readonly stageLatency: ReadonlyArray<{ readonly stage: string; readonly p50: number; readonly p99: number }>;
  readonly clientLatency: { readonly p50: number; readonly p99: number };
  /** The naive Bayes cross-check's agreement by week, and what its disagreements sent to review. */
  readonly crossChecks: CrossCheckSummary;
}

/** `settled`: decision id → the label the reviewers settled it with (for the cross-check's account). */
export function summarize(result: ReplayResult, settled?: ReadonlyMap<string, string>): DemoSummary {
  const { decisions } = result;
  const byOutcome: Record<string, number> = {};
  for (const d of decisions) byOutcome[d.outcome] = (byOutcome[d.outcome] ?? 0) + 1;
  const months = new Map<string, ReplayedDecision[]>();
  for (const d of decisions) {
    const month = d.sentAt.slice(0, 7);
    months.set(month, [...(months.get(month) ?? []), d]);
  }
  const stages = [...new Set(decisions.flatMap((d) => Object.keys(d.timings)))];
  return {
    decisions: decisions.length,
    refused: result.refused.length,
    feedbackSent: result.feedbackSent,
    throughputPerSecond: decisions.length / (result.elapsedMs / 1000),
    byOutcome,
    accuracy: {
      all: accuracyOf(decisions),
      auto: accuracyOf(decisions.filter((d) => d.outcome === 'auto')),
      review: accuracyOf(decisions.filter((d) => d.outcome === 'review')),
    },
    byMonth: [...months.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([month, ds]) => ({
        month,
        n: ds.length,
        spamShare: ds.filter((d) => d.truth === 'spam').length / ds.length,
        accuracy: accuracyOf(ds),
        reviewShare: ds.filter((d) => d.outcome === 'review').length / ds.length,
      })),
    stageLatency: stages.map((stage) => {
      const values = decisions.map((d) => d.timings[stage]).filter((v): v is number => v !== undefined);
      return { stage, p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
    }),
    clientLatency: { p50: quantile(decisions.map((d) => d.clientMs), 0.5), p99: quantile(decisions.map((d) => d.clientMs), 0.99) },
    crossChecks: summarizeCrossChecks(decisions, DEMO_CHECKER, settled),
  };
}

const pct = (x: number) => (Number.isNaN(x) ? '   n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);
const ms = (x: number) => `${x.toFixed(3)} ms`;

/** The summary as lines of text for the terminal. */
export function formatSummary(summary: DemoSummary): string[] {
  const lines: string[] = [];
  lines.push(`Decisions: ${summary.decisions} (${summary.refused} refused by the API), ${summary.throughputPerSecond.toFixed(0)}/s over HTTP; labels sent back: ${summary.feedbackSent}`);
  lines.push(`By outcome: ${Object.entries(summary.byOutcome).map(([k, v]) => `${k} ${v} (${pct(v / summary.decisions).trim()})`).join(', ')}`);
  const a = summary.accuracy;
  lines.push(`Accuracy where labels came back: ${pct(a.all.accuracy).trim()} of ${a.all.n}; auto ${pct(a.auto.accuracy).trim()} of ${a.auto.n}; sent to review ${pct(a.review.accuracy).trim()} of ${a.review.n}`);
  lines.push('By month of the messages (the served part of the corpus drifts: watch the spam share):');
  lines.push('  month      n   spam   review  accuracy (labelled)');
  for (const m of summary.byMonth) {
    lines.push(`  ${m.month} ${String(m.n).padStart(5)} ${pct(m.spamShare)} ${pct(m.reviewShare)}  ${pct(m.accuracy.accuracy)} of ${m.accuracy.n}`);
  }
  lines.push('Latency per stage (server-side, p50 / p99):');
  for (const s of summary.stageLatency) lines.push(`  ${s.stage.padEnd(16)} ${ms(s.p50).padStart(12)} / ${ms(s.p99)}`);
  lines.push(`End to end as the client saw it: p50 ${ms(summary.clientLatency.p50)}, p99 ${ms(summary.clientLatency.p99)}`);
  lines.push(...formatCrossChecks(summary.crossChecks, DEMO_MIN_SAMPLES));
  return lines;
}

/** A breaker change as `GET /v1/services/:service/breakers` lists it. */
export interface BreakerChange {
  readonly kind: string;
  readonly version: string;
  readonly from: string;
  readonly to: string;
  /** Wall clock. */
  readonly at: string;
  readonly reason: string;
  /** For a quality breaker opened by the monitors: the monitor's figures, with the window (replay's clock) it judged. */
  readonly figures?: unknown;
}

/**
 * What the quality breaker did in the replay: which week's evaluation opened it and why (the monitor's
 * values), and what went to people since. Times are the replay's clock (the messages' dates); the
 * wall-clock instant is labelled as such. `cli` is how to run `ballast` from here.
 */
export function formatBreakerLines(history: readonly BreakerChange[], decisions: readonly Pick<ReplayedDecision, 'modelError' | 'sentAt'>[], url: string, cli: string): string[] {
  const opened = history.filter((t) => t.kind === 'quality' && t.to === 'open').sort((a, b) => a.at.localeCompare(b.at));
  const skipped = decisions.filter((d) => d.modelError === 'QUALITY_BREAKER_OPEN');
  if (opened.length === 0) return ['Quality breaker (accuracy floor 90%): stayed closed'];
  const first = skipped.map((d) => d.sentAt).sort()[0];
  const when = (t: BreakerChange) => {
    const start = (t.figures as { window?: { start?: unknown } } | undefined)?.window?.start;
    const wall = `${t.at.slice(0, 19)}Z wall clock`;
    return typeof start === 'string' ? `on judging the week of ${start.slice(0, 10)} (${wall})` : `at ${wall}`;
  };
  return [
    `Quality breaker (accuracy floor 90%): ${opened.map((t) => `opened ${when(t)} for ${t.version}: ${t.reason}`).join('; ')}`,
    `  from then on the model was not called: ${skipped.length} messages${first === undefined ? '' : ` (sent from ${first.slice(0, 10)} on)`} went to review; only an operator closes it:`,
    `  ${cli} breaker close --server ${url} --service spam-filter --version ${opened[0]!.version} --kind quality --reason '…'`,
  ];
}
