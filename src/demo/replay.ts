import { createHash } from 'node:crypto';
import { Pool } from 'undici';
import { crossChecksOf, reviewReasonsOf, type DemoCrossCheck } from './cross-check-record.js';
import type { SpamMessage } from './spam-corpus.js';

/** What the replay learned about one message: the decision the API returned and the truth. */
export interface ReplayedDecision {
  readonly messageId: string;
  readonly sentAt: string;
  readonly truth: 'spam' | 'ham';
  readonly id: string;
  readonly outcome: string;
  readonly label: string | null;
  readonly confidence: number | null;
  readonly timings: Readonly<Record<string, number>>;
  /** The code of the model failure behind the decision (e.g. QUALITY_BREAKER_OPEN), if any. */
  readonly modelError: string | null;
  /** Milliseconds from sending the request to reading the answer, as the client saw it. */
  readonly clientMs: number;
  /** Whether the true label was sent back as feedback. */
  readonly labelled: boolean;
  /** The model version that answered, and the rollout arm it was routed to (null outside a rollout). */
  readonly version: string | null;
  readonly arm: string | null;
  /** The cross-checks that ran on the decision (explanation.crossChecks), and the `kind/code` of each reason that sent it to review. */
  readonly crossChecks: readonly DemoCrossCheck[];
  readonly reviewReasons: readonly string[];
  /** performance.now() when the request was sent and when its answer was read. */
  readonly sentAtMs: number;
  readonly doneAtMs: number;
}

export interface ReplayResult {
  readonly decisions: readonly ReplayedDecision[];
  /** Requests the API refused (status and code), which should be none for the corpus. */
  readonly refused: ReadonlyArray<{ readonly messageId: string; readonly status: number; readonly code: string }>;
  readonly feedbackSent: number;
  /** Wall time of the replay, the weekly pauses (onWeekEnd) left out. */
  readonly elapsedMs: number;
}

export interface ReplayOptions {
  readonly url: string;
  readonly messages: readonly SpamMessage[];
  readonly concurrency: number;
  /** Share of messages whose true label comes back as feedback, chosen by a hash of the message id. */
  readonly labelShare: number;
  /** Labels arrive this many decisions after their decision, as real ground truth arrives late. */
  readonly labelDelay?: number;
  /** API keys: a decider's for the decisions, a labeler's for the feedback. */
  readonly keys: { readonly decider: string; readonly labeler: string };
  onProgress?(done: number, total: number): void;
  /**
   * Called after each week of messages (Monday to Sunday by the date sent) with every label of that
   * week sent back: the replay waits for it, as traffic would wait for a weekly review of the monitors.
   */
  onWeekEnd?(week: string, messages: number): Promise<void>;
}

/** The Monday (UTC, yyyy-mm-dd) of the week a date falls in. */
export function weekOf(date: Date): string {
  const day = (date.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day)).toISOString().slice(0, 10);
}

/** Whether a message's label comes back: a stable function of its id, so reruns label the same ones. */
export function isLabelled(messageId: string, share: number): boolean {
  const h = createHash('sha256').update(messageId).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < share;
}

/** Sends the messages, in date order, through the real HTTP API; sends delayed labels as feedback. */
export async function replayTraffic(options: ReplayOptions): Promise<ReplayResult> {
  const pool = new Pool(options.url, { connections: options.concurrency });
  const decisions: ReplayedDecision[] = [];
  const refused: Array<{ messageId: string; status: number; code: string }> = [];
  const pendingLabels: Array<{ id: string; truth: string }> = [];
  const labelDelay = options.labelDelay ?? 200;
  let feedbackSent = 0;
  let next = 0;
  const started = performance.now();

  const post = async (path: string, body: unknown, key: string) => {
    const response = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };
  const sendLabels = async (keep: number) => {
    while (pendingLabels.length > keep) {
      const { id, truth } = pendingLabels.shift()!;
      const answer = await post(`/v1/decisions/${id}/feedback`, { kind: 'label', value: { label: truth }, source: 'demo-mailbox' }, options.keys.labeler);
      if (answer.status !== 201) throw new Error(`feedback for ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      feedbackSent++;
    }
  };

  let batch: readonly SpamMessage[] = [];
  let done = 0;
  const worker = async () => {
    while (next < batch.length) {
      const message = batch[next++]!;
      const sentAt = message.date!.toISOString();
      const t0 = performance.now();
      const answer = await post('/v1/services/spam-filter/decisions', {
        input: { subject: message.subject, body: message.body, from: message.from, sent_at: sentAt },
        subjectKey: message.from,
      }, options.keys.decider);
      const doneAtMs = performance.now();
      const clientMs = doneAtMs - t0;
      if (answer.status !== 200) {
        refused.push({ messageId: message.id, status: answer.status, code: String(answer.body.code) });
      } else {
        const output = answer.body.output as { label?: string } | null;
        const labelled = isLabelled(message.id, options.labelShare);
        decisions.push({
          messageId: message.id,
          sentAt,
          truth: message.label,
          id: String(answer.body.id),
          outcome: String(answer.body.outcome),
          label: output?.label ?? null,
          confidence: (answer.body.confidence as number | null) ?? null,
          timings: answer.body.timings as Record<string, number>,
          modelError: (answer.body.explanation as { modelError?: { code?: string } } | undefined)?.modelError?.code ?? null,
          clientMs,
          labelled,
          version: typeof answer.body.version === 'string' ? answer.body.version : null,
          arm: (answer.body.explanation as { routing?: { arm?: string } } | undefined)?.routing?.arm ?? null,
          crossChecks: crossChecksOf(answer.body.explanation),
          reviewReasons: reviewReasonsOf(answer.body.explanation),
          sentAtMs: t0,
          doneAtMs,
        });
        if (labelled) pendingLabels.push({ id: String(answer.body.id), truth: message.label });
        await sendLabels(labelDelay);
      }
      options.onProgress?.(++done, options.messages.length);
    }
  };

  // Week by week (the messages are in date order): the workers finish a week before the next begins.
  const weeks: SpamMessage[][] = [];
  for (const message of options.messages) {
    const last = weeks.at(-1);
    if (last !== undefined && weekOf(last[0]!.date!) === weekOf(message.date!)) last.push(message);
    else weeks.push([message]);
  }
  let pausedMs = 0;
  try {
    for (const week of weeks) {
      batch = week;
      next = 0;
      await Promise.all(Array.from({ length: options.concurrency }, worker));
      if (options.onWeekEnd !== undefined) {
        await sendLabels(0);
        const paused = performance.now();
        await options.onWeekEnd(weekOf(week[0]!.date!), week.length);
        pausedMs += performance.now() - paused;
      }
    }
    await sendLabels(0);
  } finally {
    await pool.close();
  }
  return { decisions, refused, feedbackSent, elapsedMs: performance.now() - started - pausedMs };
}
