// Appeals: a data subject (or someone for them) contests a decision. The appeal is an item of the
// review queue with its own SLA, never given to a reviewer who decided that decision before; its
// re-decision is feedback of kind `appeal`, linked to what it re-decides, and the subject hears it
// through the service's review webhook (`appeal.decided`). Filing is audited, and it is a complaint:
// in the same transaction it writes feedback of kind `outcome` `{ complaint: true, appeal }`, which the
// monitors count once per decision (`complaint_rate`). The item keeps the answer appealed against
// (`detail.appealed`: the latest human answer, else the model's): accepting the appeal item upholds
// that answer; an override with another answer overturns it (`appeal_overturn_rate`).
import { BallastError, type Issue } from '../errors/index.js';
import { auditEvent, type Principal } from '../governance/index.js';
import { newId, type Store, type StoredDecision, type StoredFeedback, type StoredReviewItem } from '../store/index.js';
import type { ResolvedReviewConfig } from './review-config.js';

/** An appeal item's priority: after high stakes, before ordinary reviews (a person is waiting on it). */
export const appealPriority = 5;

/** What an appeal says, as filed. */
export interface AppealInput {
  /** The subject's statement: why the decision is wrong. */
  readonly statement: string;
  /** `subject` (the data subject themselves) or `representative` (someone for them: support staff, a lawyer). */
  readonly filedBy: 'subject' | 'representative';
  /** A reference the caller keeps for the subject (a ticket or case number), never the subject's identity. */
  readonly reference?: string;
}

/** Reads `{ statement, filedBy?, reference? }`; REQUEST_INVALID with pointers otherwise. */
export function readAppeal(body: Record<string, unknown>): AppealInput {
  const issues: Issue[] = [];
  for (const key of Object.keys(body)) if (!['statement', 'filedBy', 'reference'].includes(key)) issues.push({ pointer: `/${key}`, code: 'additionalProperties', message: 'is not a property of an appeal' });
  const statement = typeof body.statement === 'string' ? body.statement.trim() : '';
  if (statement.length === 0) issues.push({ pointer: '/statement', code: 'required', message: 'an appeal must say why the decision is wrong' });
  if (statement.length > 10_000) issues.push({ pointer: '/statement', code: 'maxLength', message: 'must be at most 10000 characters' });
  const filedBy = body.filedBy ?? 'subject';
  if (filedBy !== 'subject' && filedBy !== 'representative') issues.push({ pointer: '/filedBy', code: 'enum', message: 'must be subject or representative' });
  if (body.reference !== undefined && (typeof body.reference !== 'string' || body.reference.length > 200)) issues.push({ pointer: '/reference', code: 'type', message: 'must be a string of at most 200 characters' });
  if (issues.length > 0) throw new BallastError('REQUEST_INVALID', { detail: 'the appeal is not valid', issues });
  return { statement, filedBy: filedBy as AppealInput['filedBy'], ...(body.reference === undefined ? {} : { reference: body.reference as string }) };
}

/** The answer an appeal contests: the latest human answer on the decision (a review's, an earlier appeal's), else the model's. */
export interface AppealedAnswer {
  readonly output: unknown;
  /** `model`, or the kind of the feedback row that gave it (`override`, `appeal`). */
  readonly by: 'model' | 'override' | 'appeal';
  readonly feedbackId: string | null;
}

/** The answer standing on `decision` given its feedback: what an appeal contests, and what accepting the appeal keeps. */
export function standingAnswer(decision: Pick<StoredDecision, 'output'>, feedback: readonly StoredFeedback[]): AppealedAnswer {
  let latest: StoredFeedback | undefined;
  for (const f of feedback) {
    if (f.kind !== 'override' && f.kind !== 'appeal') continue;
    if (latest === undefined || f.createdAt > latest.createdAt || (f.createdAt === latest.createdAt && f.id > latest.id)) latest = f;
  }
  return latest === undefined ? { output: decision.output, by: 'model', feedbackId: null } : { output: latest.value, by: latest.kind as 'override' | 'appeal', feedbackId: latest.id };
}

/** The answer an appeal item contests, as filed (items filed before it was kept: undefined). */
export function appealedAnswerOf(item: Pick<StoredReviewItem, 'kind' | 'detail'>): AppealedAnswer | undefined {
  if (item.kind !== 'appeal' || item.detail === null || typeof item.detail !== 'object') return undefined;
  const appealed = (item.detail as Record<string, unknown>).appealed;
  if (appealed === null || typeof appealed !== 'object' || !('output' in appealed)) return undefined;
  return appealed as AppealedAnswer;
}

export interface Appeals {
  /**
   * Opens an appeal of `decisionId`: DECISION_NOT_FOUND; APPEAL_PENDING while an earlier appeal of it
   * is undecided. Excludes every reviewer who decided on the decision before.
   */
  file(actor: Principal, decisionId: string, input: AppealInput, requestId?: string | null): Promise<StoredReviewItem>;
  /** The appeals of a decision, oldest first. */
  list(decisionId: string): Promise<StoredReviewItem[]>;
}

export interface AppealsDeps {
  readonly store: Store;
  config(service: string): ResolvedReviewConfig | undefined;
  readonly now?: () => Date;
  /** Called with the complaint feedback a filing wrote (once durable), its decision and all the decision's feedback (monitoring). */
  readonly onFeedback?: (feedback: StoredFeedback, decision: StoredDecision, all: readonly StoredFeedback[]) => void;
  readonly onError?: (error: unknown, what: string) => void;
}

export function createAppeals(deps: AppealsDeps): Appeals {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    async file(actor, decisionId, input, requestId = null) {
      const decision = await store.decisions.get(decisionId);
      if (decision === undefined) throw new BallastError('DECISION_NOT_FOUND', { detail: `no decision with id '${decisionId}'` });
      const config = deps.config(decision.service);
      if (config === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `the service '${decision.service}' of decision ${decisionId} is not being served` });
      const items = await store.reviews.listForDecision(decisionId);
      const open = items.find((i) => i.kind === 'appeal' && i.state !== 'decided');
      if (open !== undefined) throw new BallastError('APPEAL_PENDING', { detail: `decision ${decisionId} has the appeal ${open.id}, not decided yet` });
      // Whoever decided on this decision before (its review, earlier appeals) does not judge the appeal.
      const earlier = new Set<string>();
      for (const item of items) for (const d of (await store.reviews.get(item.id))?.decisions ?? []) earlier.add(d.reviewer);
      const earlierFeedback = await store.feedback.listForDecision(decisionId);
      const at = now().toISOString();
      const id = newId('rvw');
      const detail = {
        statement: input.statement,
        filedBy: input.filedBy,
        filedByPrincipal: actor.principal,
        ...(input.reference === undefined ? {} : { reference: input.reference }),
        appealOf: items.at(-1)?.id ?? null,
        originalOutcome: decision.outcome,
        appealed: standingAnswer(decision, earlierFeedback),
      };
      const complaint: StoredFeedback = { id: newId('fb'), decisionId, kind: 'outcome', value: { complaint: true, appeal: id }, source: actor.principal, note: null, supersedes: null, createdAt: at };
      const audit = auditEvent({
        actor: { principal: actor.principal, keyId: actor.keyId, role: actor.role },
        action: 'appeal.filed',
        resource: { kind: 'review', id },
        service: decision.service,
        after: { decisionId, filedBy: input.filedBy, reference: input.reference ?? null, excludedReviewers: [...earlier].sort(), complaintFeedbackId: complaint.id },
        requestId,
        at,
      });
      const item = await store.reviews.create(
        {
          id,
          decisionId,
          service: decision.service,
          version: decision.version,
          createdAt: at,
          priority: appealPriority,
          reasons: [{ kind: 'appeal', code: 'appeal', message: `appeal by the ${input.filedBy === 'subject' ? 'data subject' : "subject's representative"}: ${input.statement.slice(0, 200)}` }],
          dueAt: new Date(Date.parse(at) + config.appealSlaMs).toISOString(),
          requiredReviews: 1,
          kind: 'appeal',
          detail,
          excludedReviewers: [...earlier],
        },
        audit,
        complaint,
      );
      try {
        deps.onFeedback?.(complaint, decision, [...earlierFeedback, complaint]);
      } catch (error) {
        deps.onError?.(error, 'observing an appeal');
      }
      return item;
    },

    async list(decisionId) {
      return (await store.reviews.listForDecision(decisionId)).filter((i) => i.kind === 'appeal');
    },
  };
}
