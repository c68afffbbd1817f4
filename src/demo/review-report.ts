// The demo's account of the human side: what each service's queue saw, from the API's statistics.
import type { ReviewSessionResult } from './review-team.js';

/** GET /v1/reviews/stats, the parts the demo shows. */
export interface DemoReviewStats {
  readonly queue: { readonly open: number; readonly claimed: number; readonly decided: number; readonly escalated: number; readonly overdue: number; readonly slaBreaches: number };
  readonly settled: number;
  readonly accepted: number;
  readonly overridden: number;
  readonly overrideRate: number | null;
  readonly queueTimeMs: { readonly p50: number | null; readonly p95: number | null; readonly max: number | null };
  readonly appeals: { readonly settled: number; readonly overturned: number; readonly overturnRate: number | null };
  readonly reviewers: readonly { readonly reviewer: string; readonly decisions: number; readonly overrides: number; readonly escalations: number; readonly agreementWithModel: number | null; readonly medianDecideMs: number | null }[];
}

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const secs = (ms: number | null) => (ms === null ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** Lines for one service's queue. */
export function formatReviewStats(service: string, stats: DemoReviewStats, sessions: readonly ReviewSessionResult[], webhook: { readonly outcomes: number; readonly breaches: number; readonly received: number; readonly valid: number }, sla: string): string[] {
  const q = stats.queue;
  const total = q.open + q.claimed + q.decided + q.escalated;
  const lines = [
    `  ${service}: ${total} items (${q.decided} decided, ${q.open + q.claimed} waiting, ${q.escalated} escalated); ${stats.settled} settled: ${stats.accepted} accepted, ${stats.overridden} overridden (override rate ${pct(stats.overrideRate)})`,
    `    time in the queue until settled: median ${secs(stats.queueTimeMs.p50)}, p95 ${secs(stats.queueTimeMs.p95)}; SLA ${sla}: ${q.slaBreaches} breached and escalated (once each), ${q.overdue} still overdue`,
    `    ${sessions.reduce((n, s) => n + s.decided, 0)} human decisions in ${sessions.length} sessions, ${sessions.reduce((n, s) => n + s.escalations, 0)} left escalated by a disagreement; the caller heard ${webhook.outcomes} outcomes and ${webhook.breaches} SLA breaches by signed webhook (${webhook.valid} of ${webhook.received} signatures valid)`,
  ];
  for (const r of stats.reviewers) lines.push(`    ${r.reviewer}: ${r.decisions} decisions, ${r.overrides} overrides, agreement with the model ${pct(r.agreementWithModel)}, median ${secs(r.medianDecideMs)} to decide`);
  if (stats.appeals.settled > 0) lines.push(`    appeals: ${stats.appeals.settled} decided, ${stats.appeals.overturned} overturned (${pct(stats.appeals.overturnRate)})`);
  return lines;
}

/** What the demo reads of a hub evaluation: each window's monitors, the service-wide ones without a segment. */
export interface DemoWindowEvaluation {
  readonly segment?: string;
  readonly evaluations: ReadonlyArray<{ readonly monitor: string; readonly values: Readonly<Record<string, unknown>> }>;
}

/**
 * One line: what the people-facing monitors counted over every decision window of the service (numerators and
 * denominators summed over the windows and versions: each decision and each appeal counts in one window).
 */
export function formatPeopleMonitors(results: readonly DemoWindowEvaluation[]): string {
  const sum = (monitor: string) => {
    let numerator = 0;
    let denominator = 0;
    for (const r of results) {
      if (r.segment !== undefined) continue;
      const values = r.evaluations.find((e) => e.monitor === monitor)?.values;
      numerator += typeof values?.numerator === 'number' ? values.numerator : 0;
      denominator += typeof values?.denominator === 'number' ? values.denominator : 0;
    }
    return { numerator, denominator };
  };
  const overridden = sum('override_rate');
  const complaints = sum('complaint_rate');
  const overturned = sum('appeal_overturn_rate');
  return `    monitors over its decision windows: override_rate ${overridden.numerator} of ${overridden.denominator} decisions (outcome rows and people's answers that were not the model's), complaint_rate ${complaints.numerator} of ${complaints.denominator} (outcome rows and appeals filed), appeal_overturn_rate ${overturned.numerator} of ${overturned.denominator} decided appeals (judged from business.minAppeals a window)`;
}
