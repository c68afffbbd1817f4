// The demo's account of its cross-check: how often the naive Bayes checker agreed with the served
// model, week by week of the messages, and what the disagreements sent to people. Computed from the
// decisions the replay made (each answer's explanation.crossChecks), so the counts are exact.
import { weekOf, type ReplayedDecision } from './replay.js';

export { crossChecksOf, reviewReasonsOf, type DemoCrossCheck } from './cross-check-record.js';

/** The demo's checker: naive Bayes, a model version of the spam filter (demo-config.ts). */
export const DEMO_CHECKER = 'bayes';
export const DEMO_CHECKER_VERSION = 'bayes-v1';

export interface CrossCheckWeek {
  /** The Monday of the messages' week. */
  readonly week: string;
  /** Decisions whose served answer the checker compared (it answered, and so did the model). */
  readonly checked: number;
  readonly agreed: number;
  /** agreed / checked. */
  readonly rate: number;
  /** Disagreements that sent the decision to review. */
  readonly toReview: number;
}

export interface CrossCheckSummary {
  readonly name: string;
  readonly weeks: readonly CrossCheckWeek[];
  readonly total: { readonly checked: number; readonly agreed: number; readonly rate: number };
  /** Decisions the model did not answer (its breaker open: people sorted the mail), so there was nothing to compare. */
  readonly notCompared: number;
  /** Decisions where the checker ran but failed (it timed out, erred or its breaker was open). */
  readonly unavailable: number;
  /** Decisions with no entry for the checker (sampled out, or not due). */
  readonly notChecked: number;
  /** What the disagreements sent to review, judged against the messages' true labels and the reviewers' final answers. */
  readonly review: {
    readonly sent: number;
    /** Of `sent`: no other reason would have sent it to review (the model alone was sure). */
    readonly alone: number;
    /** Of `sent`: the served model's label was wrong (the checker caught a mistake), and the checker's was. */
    readonly servedWrong: number;
    readonly checkerWrong: number;
    /** Of `sent`: settled by the reviewers, and of those settled to the true label. */
    readonly settled: number;
    readonly settledRight: number;
  };
}

/**
 * Summarises one checker over the replay's decisions; `settled` maps a decision id to the label the
 * reviewers settled it with (from the review queue), when known.
 */
export function summarizeCrossChecks(decisions: readonly ReplayedDecision[], name: string = DEMO_CHECKER, settled: ReadonlyMap<string, string> = new Map()): CrossCheckSummary {
  const weeks = new Map<string, { checked: number; agreed: number; toReview: number }>();
  const counts = { notCompared: 0, unavailable: 0, notChecked: 0 };
  const review = { sent: 0, alone: 0, servedWrong: 0, checkerWrong: 0, settled: 0, settledRight: 0 };
  for (const d of decisions) {
    // With the model not called there is no served answer; any check of it compares nothing.
    if (d.modelError !== null) {
      counts.notCompared++;
      continue;
    }
    const check = d.crossChecks.find((c) => c.name === name);
    if (check === undefined) {
      counts.notChecked++;
      continue;
    }
    if (check.verdict === 'unavailable') {
      counts.unavailable++;
      continue;
    }
    const week = weekOf(new Date(d.sentAt));
    const row = weeks.get(week) ?? { checked: 0, agreed: 0, toReview: 0 };
    weeks.set(week, row);
    row.checked++;
    if (check.verdict === 'agree') {
      row.agreed++;
      continue;
    }
    if (check.action !== 'review' || d.outcome !== 'review') continue;
    row.toReview++;
    review.sent++;
    if (d.reviewReasons.every((r) => r.startsWith('cross_check/'))) review.alone++;
    if (d.label !== d.truth) review.servedWrong++;
    if (check.label !== d.truth) review.checkerWrong++;
    const final = settled.get(d.id);
    if (final !== undefined) {
      review.settled++;
      if (final === d.truth) review.settledRight++;
    }
  }
  const rows = [...weeks.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([week, r]) => ({ week, ...r, rate: r.agreed / r.checked }));
  const checked = rows.reduce((n, r) => n + r.checked, 0);
  const agreed = rows.reduce((n, r) => n + r.agreed, 0);
  return { name, weeks: rows, total: { checked, agreed, rate: checked === 0 ? Number.NaN : agreed / checked }, ...counts, review };
}

const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/**
 * The summary's cross-check section. Weeks with fewer than `minChecked` checks are folded into one
 * line: a rate over a handful of messages says nothing.
 */
export function formatCrossChecks(summary: CrossCheckSummary, minChecked: number): string[] {
  const lines = [`Cross-check '${summary.name}' (naive Bayes, ${DEMO_CHECKER_VERSION}, trained on the same older messages) against the served model's label, by week of the messages; a disagreement goes to review:`];
  if (summary.total.checked === 0) lines.push('  no decision was compared');
  else {
    lines.push('    week        checked  agreed    rate  to review');
    const shown = summary.weeks.filter((w) => w.checked >= minChecked);
    const folded = summary.weeks.filter((w) => w.checked < minChecked);
    for (const w of shown) lines.push(`    ${w.week} ${String(w.checked).padStart(9)} ${String(w.agreed).padStart(7)} ${pct(w.rate).padStart(7)} ${String(w.toReview).padStart(10)}`);
    if (folded.length > 0) {
      const n = folded.reduce((s, w) => s + w.checked, 0);
      const a = folded.reduce((s, w) => s + w.agreed, 0);
      lines.push(`    ${folded.length} week${folded.length === 1 ? '' : 's'} with fewer than ${minChecked} checks, together: ${n} checked, ${a} agreed (${pct(a / n)}), ${folded.reduce((s, w) => s + w.toReview, 0)} to review`);
    }
    lines.push(`    all weeks: ${summary.total.checked} checked, ${summary.total.agreed} agreed (${pct(summary.total.rate)})`);
  }
  if (summary.notCompared > 0) lines.push(`  not compared: ${summary.notCompared} decisions the model did not answer (its quality breaker was open: people sorted that mail), so there was no answer to check`);
  if (summary.unavailable > 0) lines.push(`  checker unavailable on ${summary.unavailable} decisions (the answer stood unchecked)`);
  if (summary.notChecked > 0) lines.push(`  not checked: ${summary.notChecked} decisions (sampled out or not due)`);
  const r = summary.review;
  if (r.sent > 0) {
    lines.push(
      `  the disagreements sent ${r.sent} decisions to review (${r.alone} of them the model alone would have decided); by the true labels the served model was wrong on ${r.servedWrong} and ${summary.name} on ${r.checkerWrong}; the reviewers settled ${r.settled}, ${r.settledRight} to the true label`,
    );
  }
  return lines;
}

/**
 * What the reviewers settled the disagreements among `decisions` with: decision id → final label. The
 * list of decided items (GET /v1/reviews) gives their ids, each item (GET /v1/reviews/:id) its outcome.
 */
export async function fetchSettledLabels(url: string, token: string, service: string, decisions: readonly ReplayedDecision[]): Promise<Map<string, string>> {
  const wanted = new Set(decisions.filter((d) => d.crossChecks.some((c) => c.verdict === 'disagree')).map((d) => d.id));
  const get = async <T>(route: string): Promise<T> => {
    const response = await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET ${route} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  const items: string[] = [];
  for (let after: string | null = null; wanted.size > 0; ) {
    const page: { items: { id: string; kind: string; decisionId: string }[]; next: string | null } = await get(`/v1/reviews?service=${encodeURIComponent(service)}&state=decided&limit=1000${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
    for (const item of page.items) if (item.kind === 'decision' && wanted.has(item.decisionId)) items.push(item.id);
    if (page.next === null) break;
    after = page.next;
  }
  const settled = new Map<string, string>();
  for (const id of items) {
    const item = await get<{ decisionId: string; outcome: { output?: { label?: unknown } | null } | null }>(`/v1/reviews/${encodeURIComponent(id)}`);
    const label = item.outcome?.output?.label;
    if (typeof label === 'string') settled.set(item.decisionId, label);
  }
  return settled;
}
