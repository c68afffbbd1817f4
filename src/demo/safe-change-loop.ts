// The demo's safe-change loop: a second model version trained on the older messages plus the labels
// that came back in the first weeks of serving, registered with its lineage by applying a new revision
// to the running server, shadowed, then canaried with analysis on live mail, promoted or rolled back on
// its merit, with a timed rollback drill on the way. Everything goes through the public HTTP API.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { demoConfig, spamModelCard, spamModelEntry, type DemoAlertTarget } from './demo-config.js';
import { isLabelled, weekOf, type ReplayedDecision } from './replay.js';
import type { SpamMessage } from './spam-corpus.js';
import { Worker } from 'node:worker_threads';
import { evaluateSpamModel, resolveSpamHyperParameters, type LabelledSpamInput, type SpamEvaluation, type SpamModelWeights, type SpamTrainOptions } from './spam-model.js';

export const DEMO_SECOND_VERSION = 'logreg-v2';

/** The replayed mail in three parts: the first version alone, the second in shadow, then its canary. */
export interface LoopPhases {
  readonly first: readonly SpamMessage[];
  readonly shadow: readonly SpamMessage[];
  readonly canary: readonly SpamMessage[];
}

/** The index nearest `target` where a week begins, if one is within `slack`; else `target`. */
function cutNear(messages: readonly SpamMessage[], target: number, slack: number): number {
  let best = target;
  let distance = Infinity;
  for (let i = 1; i < messages.length; i++) {
    if (weekOf(messages[i - 1]!.date!) === weekOf(messages[i]!.date!)) continue;
    const d = Math.abs(i - target);
    if (d <= slack && d < distance) [best, distance] = [i, d];
  }
  return best;
}

/**
 * Splits the mail (oldest first): the first ~20% for the first version alone, its cut moved to the nearest
 * week boundary within 10% of the mail (its labels train the second version: whole weeks of them), the
 * next ~6% for the shadow, the rest for the canary.
 */
export function planPhases(messages: readonly SpamMessage[], shares = { first: 0.2, shadow: 0.06 }): LoopPhases {
  const n = messages.length;
  const a = Math.max(1, Math.min(n, cutNear(messages, Math.round(shares.first * n), Math.round(0.1 * n))));
  const b = Math.min(n, a + Math.max(1, Math.round(shares.shadow * n)));
  return { first: messages.slice(0, a), shadow: messages.slice(a, b), canary: messages.slice(b) };
}

export interface SecondVersion {
  readonly weightsPath: string;
  readonly trainingDataPath: string;
  /** Rows it was trained on: the older messages plus the labels returned (minus the holdout). */
  readonly rows: number;
  readonly older: number;
  readonly returned: number;
  /** Labels returned but kept out of training, to compare both versions on. */
  readonly holdout: { readonly n: number; readonly first: SpamEvaluation; readonly second: SpamEvaluation };
  readonly weeks: readonly string[];
  readonly trainMs: number;
}

/** Whether a returned label is kept out of the second version's training, for its evaluation: a stable 25% by id. */
export const inHoldout = (messageId: string): boolean => isLabelled(`${messageId}:holdout`, 0.25);

/** Trains in a worker thread, so the serving process's event loop stays free. */
function trainInWorker(messages: readonly LabelledSpamInput[], options: SpamTrainOptions): Promise<{ weights: SpamModelWeights; trainMs: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./train-worker.js', import.meta.url), { workerData: { messages, options } });
    worker.once('message', (result: { weights: SpamModelWeights; trainMs: number }) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the training worker exited with code ${code}`));
    });
  });
}

/** One JSON line per training row: what a version learned from, hashed by the registry as its training data. */
async function writeTrainingData(file: string, rows: readonly { readonly id: string; readonly label: string; readonly source: string }[]): Promise<void> {
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
}

/** The first version's training data file (its lineage in the registry). */
export async function writeFirstTrainingData(dir: string, train: readonly SpamMessage[]): Promise<string> {
  const file = path.join(dir, 'training-data-v1.jsonl');
  await writeTrainingData(file, train.map((m) => ({ id: m.id, label: m.label, source: 'older' })));
  return file;
}

/**
 * Trains the second version on the older messages plus the labels that came back for `served`
 * (decisions whose label was sent), keeping a quarter of those labels out to evaluate both versions on.
 */
export async function trainSecondVersion(options: {
  readonly dir: string;
  readonly train: readonly SpamMessage[];
  readonly served: readonly SpamMessage[];
  readonly decisions: readonly ReplayedDecision[];
  readonly first: SpamModelWeights;
  readonly cutDate: Date;
}): Promise<SecondVersion> {
  const labelled = new Set(options.decisions.filter((d) => d.labelled).map((d) => d.messageId));
  const returned = options.served.filter((m) => labelled.has(m.id));
  const holdout = returned.filter((m) => inHoldout(m.id));
  const added = returned.filter((m) => !inHoldout(m.id));
  const { weights, trainMs } = await trainInWorker([...options.train, ...added].map((m) => ({ subject: m.subject, body: m.body, label: m.label, date: m.date })), { ...resolveSpamHyperParameters(), cutDate: options.cutDate });
  const weightsPath = path.join(options.dir, 'spam-model-v2.json');
  await writeFile(weightsPath, JSON.stringify(weights), 'utf8');
  const trainingDataPath = path.join(options.dir, 'training-data-v2.jsonl');
  await writeTrainingData(trainingDataPath, [...options.train.map((m) => ({ id: m.id, label: m.label, source: 'older' })), ...added.map((m) => ({ id: m.id, label: m.label, source: 'label returned' }))]);
  return {
    weightsPath,
    trainingDataPath,
    rows: options.train.length + added.length,
    older: options.train.length,
    returned: added.length,
    holdout: { n: holdout.length, first: evaluateSpamModel(options.first, holdout), second: evaluateSpamModel(weights, holdout) },
    weeks: [...new Set(options.served.map((m) => weekOf(m.date!)))],
    trainMs,
  };
}

const metricsOf = (e: SpamEvaluation) => ({ accuracy: round(e.accuracy), precision: round(e.precision), recall: round(e.recall) });
const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The second version's entry in the configuration: the model, its training data and its evaluation. */
export function secondVersionEntry(v2: SecondVersion): Record<string, unknown> {
  return {
    [DEMO_SECOND_VERSION]: spamModelEntry(v2.weightsPath, 'logreg-v1 trained again with the labels returned in the first weeks of serving', {
      trainingData: { ref: v2.trainingDataPath, rows: v2.rows, description: `${v2.older} older messages + ${v2.returned} labels returned for mail of the weeks of ${v2.weeks.join(', ')}` },
      evaluation: { dataset: `holdout: ${v2.holdout.n} returned labels kept out of training`, metrics: metricsOf(v2.holdout.second) },
      card: { ...spamModelCard, basedOn: 'logreg-v1' },
    }),
  };
}

/** The text of the configuration with the second version added: what `ballast apply -f` would send. */
export function secondRevisionText(weightsPath: string, alerts: DemoAlertTarget | undefined, first: Readonly<Record<string, unknown>>, v2: SecondVersion, services?: Readonly<Record<string, unknown>>, checker?: string): string {
  return stringify(demoConfig(weightsPath, alerts, { first, more: secondVersionEntry(v2), ...(services === undefined ? {} : { services }), ...(checker === undefined ? {} : { checker }) }), { lineWidth: 0 });
}

/** A thin client of the API with one key. */
export function apiClient(url: string, token: string) {
  return async <T = Record<string, unknown>>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as T & { code?: string; detail?: string };
    if (!response.ok) throw new Error(`${method} ${route} answered ${response.status} ${json.code ?? ''}: ${json.detail ?? JSON.stringify(json)}`);
    return json;
  };
}

/** The rollback drill as measured from the decisions around the rollback command. */
export interface RollbackDrill {
  /** The rollback request's own round trip (client's clock). */
  readonly commandMs: number;
  /** The server's time to roll back (the answer's tookMs). */
  readonly tookMs: number | null;
  /** From sending the command to the completion of the last decision the candidate served (0 when none came after it). */
  readonly lastCandidateMs: number;
  /** Decisions the candidate served that were sent after the rollback answered: must be 0. */
  readonly candidateAfter: number;
  readonly candidateBefore: number;
  readonly decisions: number;
}

/** Measures a rollback from the replayed decisions and the instants the command was sent and answered. */
export function measureRollback(decisions: readonly ReplayedDecision[], sentAtMs: number, answeredAtMs: number, tookMs: number | null): RollbackDrill {
  const candidate = decisions.filter((d) => d.arm === 'candidate');
  const lastDone = Math.max(-Infinity, ...candidate.map((d) => d.doneAtMs));
  return {
    commandMs: answeredAtMs - sentAtMs,
    tookMs,
    lastCandidateMs: Number.isFinite(lastDone) ? Math.max(0, lastDone - sentAtMs) : 0,
    candidateAfter: candidate.filter((d) => d.sentAtMs > answeredAtMs).length,
    candidateBefore: candidate.filter((d) => d.sentAtMs <= sentAtMs).length,
    decisions: decisions.length,
  };
}

interface Verdict {
  readonly verdict: string;
  readonly summary: string;
  readonly stable: { readonly decisions: number };
  readonly candidate: { readonly decisions: number };
  readonly agreement?: {
    readonly n: number;
    readonly sameOutput: { readonly events: number; readonly n: number; readonly rate: number | null };
    readonly meanConfidenceDifference: number | null;
    readonly stableAccuracy: { readonly n: number; readonly rate: number | null };
    readonly candidateAccuracy: { readonly n: number; readonly rate: number | null };
  };
}

/** A rollout's status as GET /v1/services/:service/rollout answers it (the fields the summary reads). */
export interface RolloutStatus {
  readonly rollout: { readonly id: string; readonly strategy: string; readonly state: string; readonly step: number; readonly weight: number; readonly candidate: string; readonly stable: string; readonly retryOf: string | null; readonly status: { readonly reason: string | null; readonly awaiting: string | null } };
  readonly events: ReadonlyArray<{ readonly kind: string; readonly at: string; readonly actor: string; readonly step: number | null; readonly weight: number | null; readonly detail: { readonly verdict?: Verdict; readonly reason?: string } }>;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

/** The summary lines of one rollout: each analysis with its verdict and numbers, and how it ended. */
export function formatRollout(status: RolloutStatus, title: string): string[] {
  const r = status.rollout;
  const lines = [`  ${title}: rollout ${r.id} (${r.strategy}${r.retryOf === null ? '' : `, a retry of ${r.retryOf}`}) ${r.stable} → ${r.candidate}: ${r.state}${r.status.reason === null ? '' : ` (${r.status.reason})`}`];
  for (const e of status.events) {
    const v = e.detail.verdict;
    if (e.kind === 'analysis' && v !== undefined) {
      lines.push(`    analysis at ${pct(e.weight)} (step ${(e.step ?? 0) + 1}): ${v.verdict.toUpperCase()}: ${r.stable} ${v.stable.decisions} decisions, ${r.candidate} ${v.candidate.decisions}; ${v.summary}`);
      const a = v.agreement;
      if (a !== undefined) {
        lines.push(
          `    agreement: the same label on ${pct(a.sameOutput.rate)} of ${a.sameOutput.n} copies; mean confidence difference ${a.meanConfidenceDifference === null ? '-' : a.meanConfidenceDifference.toFixed(3)}; accuracy where labels came back: ${r.stable} ${pct(a.stableAccuracy.rate)} of ${a.stableAccuracy.n}, ${r.candidate} ${pct(a.candidateAccuracy.rate)} of ${a.candidateAccuracy.n}`,
        );
      }
    } else if (['promoted', 'rolled-back', 'completed', 'paused', 'aborted', 'step', 'resumed'].includes(e.kind)) {
      lines.push(`    ${e.kind} by ${e.actor}${e.weight === null ? '' : ` at ${pct(e.weight)}`}${e.detail.reason === undefined ? '' : `: ${e.detail.reason}`}`);
    }
  }
  return lines;
}
