// The demo's second service, credit-precheck, end to end through the API: the model trained on 70% of
// German Credit, the other 30% sent as applications, every outcome labelled (the data set knows who
// repaid), the review queue worked by people, an appeal filed for a declined applicant and decided by
// someone who did not decide them before, and the fairness report per protected group.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { CREDIT_SERVICE, creditModelEntry, creditRequestInput } from './credit-config.js';
import { creditLabelOf, loadGermanCredit, splitCreditRows, type CreditRow } from './credit-data.js';
import { evaluateCreditModel, trainCreditModel, type CreditEvaluation, type LabelledCreditInput } from './credit-model.js';

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

/** The second credit version's name. */
export const CREDIT_SECOND_VERSION = 'credit-logreg-v2';

export interface CreditRetrain {
  readonly file: string;
  readonly manifest: { readonly sha256: string; readonly rows: number; readonly labels: Readonly<Record<string, number>> };
  /** SHA-256 of the file as saved here, to compare with the manifest's. */
  readonly savedSha256: string;
  readonly trainedOn: number;
  readonly registered: { readonly digest: string; readonly trainingData: { readonly ref: string; readonly sha256: string | null; readonly rows?: number } };
}

/**
 * Exports the service's labelled decisions (an auditor's key: the file holds inputs), trains the next
 * version on the first version's training rows plus those, and registers it (an operator's key) with the
 * export as its training data: the registry hashes the file and must find the manifest's digest.
 */
export async function exportAndRetrain(options: { readonly url: string; readonly auditor: string; readonly operator: string; readonly dir: string; readonly train: readonly CreditRow[]; readonly since: string; readonly until: string }): Promise<CreditRetrain> {
  const query = new URLSearchParams({ since: options.since, until: options.until, format: 'jsonl' });
  const response = await fetch(`${options.url}/v1/services/${CREDIT_SERVICE}/dataset?${query.toString()}`, { headers: { authorization: `Bearer ${options.auditor}` } });
  if (!response.ok) throw new Error(`the dataset export answered ${response.status}: ${await response.text()}`);
  const manifest = JSON.parse(Buffer.from(response.headers.get('ballast-manifest') ?? '', 'base64url').toString('utf8')) as CreditRetrain['manifest'];
  const body = Buffer.from(await response.arrayBuffer());
  const file = path.join(options.dir, 'credit-precheck-dataset.jsonl');
  writeFileSync(file, body);
  writeFileSync(`${file}.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  const exported = body
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { input: Record<string, unknown>; label: { label?: string } | null })
    .filter((row) => row.label?.label === 'approve' || row.label?.label === 'decline')
    .map((row) => ({ ...row.input, class: row.label!.label === 'approve' ? 'good' : 'bad' }) as unknown as LabelledCreditInput);
  const weights = trainCreditModel([...options.train, ...exported]);
  const weightsPath = path.join(options.dir, 'credit-model-v2.json');
  writeFileSync(weightsPath, JSON.stringify(weights));
  const entry = creditModelEntry(weightsPath, 'the first version retrained with the labelled decisions of its first days, exported by Ballast', {
    registry: { trainingData: { ref: file, sha256: manifest.sha256, rows: options.train.length + exported.length, description: `the ${options.train.length} original training applicants and ${exported.length} exported decisions with their final labels` } },
  });
  const { timeoutMs: _timeout, ...spec } = entry;
  const registered = await call(options.url, options.operator, 'POST', `/v1/services/${CREDIT_SERVICE}/models`, { name: CREDIT_SECOND_VERSION, spec, reason: 'retrained on the export' });
  const version = registered.version as { digest: string; spec: { trainingData: CreditRetrain['registered']['trainingData'] } } | undefined;
  const shown = version ?? (await call(options.url, options.operator, 'GET', `/v1/services/${CREDIT_SERVICE}/models/${CREDIT_SECOND_VERSION}`) as unknown as { digest: string; spec: { trainingData: CreditRetrain['registered']['trainingData'] } });
  return { file, manifest, savedSha256: createHash('sha256').update(body).digest('hex'), trainedOn: options.train.length + exported.length, registered: { digest: shown.digest, trainingData: shown.spec.trainingData } };
}
