// The demo's second service, credit-precheck, end to end through the API: the model trained on 70% of
// German Credit, the other 30% sent as applications, every outcome labelled (the data set knows who
// repaid), the review queue worked by people, an appeal filed for a declined applicant and decided by
// someone who did not decide them before, and the fairness report per protected group.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CREDIT_SERVICE, creditRequestInput } from './credit-config.js';
import { creditLabelOf, loadGermanCredit, splitCreditRows, type CreditRow } from './credit-data.js';
import { evaluateCreditModel, trainCreditModel, type CreditEvaluation } from './credit-model.js';

export interface PreparedCredit {
  readonly weightsPath: string;
  readonly train: readonly CreditRow[];
  readonly live: readonly CreditRow[];
  readonly heldOut: CreditEvaluation;
  readonly trainMs: number;
}

/** Trains the credit model on the training rows and writes its weights into `dir`. */
export function prepareCredit(dir: string): PreparedCredit {
  const rows = loadGermanCredit();
  const { train, live } = splitCreditRows(rows);
  const started = performance.now();
  const weights = trainCreditModel(train);
  const trainMs = performance.now() - started;
  mkdirSync(dir, { recursive: true });
  const weightsPath = path.join(dir, 'credit-model.json');
  writeFileSync(weightsPath, JSON.stringify(weights));
  return { weightsPath, train, live, heldOut: evaluateCreditModel(weights, live), trainMs };
}

export interface CreditDecision {
  readonly id: string;
  readonly row: CreditRow;
  readonly outcome: string;
  readonly label: string | null;
  readonly reviewId: string | null;
}

async function call(url: string, token: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${route} answered ${response.status} ${String(json.code ?? '')}: ${String(json.detail ?? '')}`);
  return json;
}

/** Sends every live row as an application (`concurrency` at a time), then its true outcome as a label. */
export async function replayCredit(options: { readonly url: string; readonly rows: readonly CreditRow[]; readonly decider: string; readonly labeler: string; readonly concurrency: number }): Promise<CreditDecision[]> {
  const decisions: CreditDecision[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.rows.length) {
        const row = options.rows[next++]!;
        const d = await call(options.url, options.decider, 'POST', `/v1/services/${CREDIT_SERVICE}/decisions`, { input: creditRequestInput(row), subjectKey: `applicant-${row.index}` });
        const output = d.output as { label?: string } | null;
        decisions.push({ id: d.id as string, row, outcome: d.outcome as string, label: output?.label ?? null, reviewId: (d.review as { id?: string } | undefined)?.id ?? null });
      }
    }),
  );
  // The data set knows who repaid: every decision gets its label (a real lender learns it only for the approved).
  for (const d of decisions) await call(options.url, options.labeler, 'POST', `/v1/decisions/${d.id}/feedback`, { kind: 'label', value: { label: creditLabelOf(d.row) } });
  return decisions;
}

/** The answer a reviewer gives for a row: its true outcome, in the output's shape. */
export function creditAnswer(label: 'approve' | 'decline'): { label: 'approve' | 'decline'; good_probability: number } {
  return { label, good_probability: label === 'approve' ? 1 : 0 };
}

/** Files an appeal for the first declined applicant whose credit was in truth good; returns its id, or null when there is none. */
export async function fileCreditAppeal(options: { readonly url: string; readonly decider: string; readonly decisions: readonly CreditDecision[] }): Promise<{ readonly appealId: string; readonly decision: CreditDecision; readonly declinedBy: string } | null> {
  for (const d of options.decisions) {
    if (creditLabelOf(d.row) !== 'approve') continue;
    // The final answer: a settled review's, or the model's when it decided alone.
    let final = d.label;
    let declinedBy = 'the model';
    if (d.reviewId !== null) {
      const item = await call(options.url, options.decider, 'GET', `/v1/reviews/${d.reviewId}`);
      const outcome = item.outcome as { output?: { label?: string }; reviewers?: string[] } | null;
      if (outcome === null) continue;
      final = outcome.output?.label ?? null;
      declinedBy = (outcome.reviewers ?? []).join(' and ');
    }
    if (final !== 'decline') continue;
    const filed = await call(options.url, options.decider, 'POST', `/v1/decisions/${d.id}/appeals`, { statement: 'I repaid my previous loans in full and on time; my bank statements show it.', filedBy: 'subject', reference: `case-${d.row.index}` });
    return { appealId: filed.id as string, decision: d, declinedBy };
  }
  return null;
}

/** GET /v1/services/:service/fairness, the parts the demo shows. */
export interface DemoFairnessReport {
  readonly state: string;
  readonly decisions: number;
  readonly fields: readonly {
    readonly field: string;
    readonly state: string;
    readonly labelled: number;
    readonly message: string;
    readonly figures: {
      readonly selectionRatio: number | null;
      readonly equalOpportunityDifference: number | null;
      readonly insufficient: readonly string[];
      readonly groups: readonly { readonly group: string; readonly decisions: number; readonly selection: { readonly value: number | null; readonly interval: readonly [number, number] | null }; readonly truePositiveRate: { readonly value: number | null } }[];
    };
  }[];
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

/** Lines for the fairness report. */
export function formatFairness(report: DemoFairnessReport): string[] {
  const lines = [`  fairness over ${report.decisions} decisions (favourable: approve; labels: every applicant's true outcome): ${report.state}`];
  for (const f of report.fields) {
    const groups = f.figures.groups.map((g) => `${g.group} ${pct(g.selection.value)} of ${g.decisions} [${g.selection.interval === null ? '–' : `${pct(g.selection.interval[0])}–${pct(g.selection.interval[1])}`}], TPR ${pct(g.truePositiveRate.value)}`);
    lines.push(`    ${f.field} (${f.state}): approved ${groups.join('; ')}`);
    lines.push(`      selection-rate ratio ${f.figures.selectionRatio?.toFixed(3) ?? '–'} (four-fifths rule: ≥ 0.8), equal-opportunity difference ${f.figures.equalOpportunityDifference?.toFixed(3) ?? '–'}${f.figures.insufficient.length > 0 ? `; too few to judge: ${f.figures.insufficient.join(', ')}` : ''}`);
    if (f.state === 'alert') lines.push(`      ${f.message}`);
  }
  return lines;
}
