// The demo's reviewers: people working the review queue through the API, each with their own key.
// A reviewer reads the item, knows the true answer (the demo's data sets are labelled) and gets it
// right most of the time; a deterministic hash of the item and the reviewer decides the slips, so a
// run is reproducible and two reviewers of a high-stakes item sometimes disagree (then a senior
// settles it). Each session takes at most `capacity` items per reviewer: the rest wait, as a real
// queue's backlog does, and some of it runs past its SLA.
import { createHash } from 'node:crypto';

export interface DemoReviewer {
  readonly principal: string;
  readonly token: string;
}

/** What a reviewer sees of an item (the API's ReviewItemView, the parts the demo reads). */
export interface SeenItem {
  readonly id: string;
  readonly kind: 'decision' | 'appeal';
  readonly decisionId: string;
  readonly service: string;
  readonly priority: number;
  readonly createdAt: string;
  readonly decision?: { readonly output?: unknown; readonly suggestionHidden: boolean };
}

export interface ReviewSessionOptions {
  readonly url: string;
  readonly reviewers: readonly DemoReviewer[];
  /** Only these services' items. */
  readonly services?: readonly string[];
  /** The true answer of a decision in the service's output shape, or undefined when the demo does not know it. */
  truth(item: SeenItem): unknown;
  /** Whether two answers give the same label (outputs carry scores besides it). */
  sameLabel(a: unknown, b: unknown): boolean;
  /** The other answer (what a reviewer who slips gives instead of a right one). */
  opposite(answer: unknown): unknown;
  /** Share of items a reviewer gets right. */
  readonly accuracy: number;
  /** Items per reviewer in this session (default: until the queue is empty). */
  readonly capacity?: number;
}

export interface ReviewSessionResult {
  readonly decided: number;
  readonly accepted: number;
  readonly overridden: number;
  /** Reviewers' decisions that left the item escalated (two who disagreed), not counting explicit escalations. */
  readonly escalations: number;
  /** Milliseconds from each item's creation to the reviewer's decision on it. */
  readonly waitsMs: readonly number[];
  readonly byReviewer: Readonly<Record<string, number>>;
}

/** A stable draw in [0, 1) from the item and the reviewer. */
function draw(itemId: string, reviewer: string): number {
  return createHash('sha256').update(`${itemId}\n${reviewer}`).digest().readUInt32BE(0) / 2 ** 32;
}

async function api(url: string, token: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  const json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (response.status >= 400) throw new Error(`${method} ${route} answered ${response.status} ${String(json.code ?? '')}: ${String(json.detail ?? text)}`);
  return { status: response.status, json };
}

/** The reviewers work the queue in parallel until it is empty for them or their capacity is used. */
export async function workReviewQueue(options: ReviewSessionOptions): Promise<ReviewSessionResult> {
  const counts = { decided: 0, accepted: 0, overridden: 0, escalations: 0 };
  const waitsMs: number[] = [];
  const byReviewer: Record<string, number> = {};
  const claimBody = options.services === undefined ? undefined : { services: options.services };
  await Promise.all(
    options.reviewers.map(async (reviewer) => {
      for (let n = 0; n < (options.capacity ?? Number.POSITIVE_INFINITY); n++) {
        const next = await api(options.url, reviewer.token, 'POST', '/v1/reviews/next', claimBody);
        if (next.status === 204) return;
        const item = next.json as unknown as SeenItem;
        const truth = options.truth(item);
        const suggestion = item.decision?.output;
        const right = draw(item.id, reviewer.principal) < options.accuracy;
        // With no known truth, or a suggestion that is right, a reviewer who gets it right accepts.
        const modelRight = truth === undefined || (suggestion !== undefined && options.sameLabel(suggestion, truth));
        const wrongAnswer = truth === undefined ? undefined : flipOf(truth, suggestion, options);
        let verdict: { decision: 'accept' | 'override'; label?: unknown; rationale?: string };
        if (right) verdict = modelRight && suggestion !== undefined ? { decision: 'accept' } : { decision: 'override', label: truth, rationale: item.kind === 'appeal' ? 'the appeal is right: re-decided on the evidence' : 'the model got this one wrong' };
        else verdict = modelRight && wrongAnswer !== undefined ? { decision: 'override', label: wrongAnswer, rationale: 'looks the other way to me' } : { decision: 'accept' };
        const decided = await api(options.url, reviewer.token, 'POST', `/v1/reviews/${item.id}/decision`, verdict);
        counts.decided += 1;
        byReviewer[reviewer.principal] = (byReviewer[reviewer.principal] ?? 0) + 1;
        waitsMs.push(Date.now() - Date.parse(item.createdAt));
        if (verdict.decision === 'accept') counts.accepted += 1;
        else counts.overridden += 1;
        if ((decided.json as { state?: string }).state === 'escalated') counts.escalations += 1;
      }
    }),
  );
  return { ...counts, waitsMs, byReviewer };
}

/** The wrong answer a slip gives: the truth's opposite when the model was right (a reviewer overriding a right answer). */
function flipOf(truth: unknown, suggestion: unknown, options: ReviewSessionOptions): unknown {
  if (suggestion === undefined || !options.sameLabel(suggestion, truth)) return undefined;
  return options.opposite(truth);
}
