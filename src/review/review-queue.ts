// The review queue as people work it: the next item under a lease, a decision (accept, override,
// escalate) with its rationale, and what a final decision writes with it in one transaction: the
// human label as feedback (never an edit of the decision), the audit event, and the signed webhook
// that tells the caller the outcome. SLA breaches are escalated once each by a sweep that any
// replica may run (the store's guarded update makes the second one write nothing).
import { BallastError, type Issue } from '../errors/index.js';
import { auditEvent, digestOf, type Principal } from '../governance/index.js';
import {
  newId,
  type Actor,
  type NewAlertDelivery,
  type ReviewChange,
  type ReviewItemWithDecisions,
  type ReviewListOptions,
  type ReviewState,
  type ReviewVerdict,
  type Store,
  type StoredAlert,
  type StoredDecision,
  type StoredFeedback,
  type StoredReviewDecision,
  type StoredReviewItem,
  type WebhookEventType,
} from '../store/index.js';
import { appealedAnswerOf, type AppealedAnswer } from './appeals.js';
import type { ResolvedReviewConfig } from './review-config.js';

/** The events the caller's webhook receives. */
export type ReviewEventType = Extract<WebhookEventType, 'review.decided' | 'appeal.decided' | 'review.sla_breached'>;

/** What a reviewer asks to record. */
export interface ReviewVerdictInput {
  readonly decision: ReviewVerdict;
  /** An override's answer, in the shape of the service's output. */
  readonly label?: unknown;
  readonly rationale?: string;
}

/** An item's final outcome, once decided. */
export interface ReviewOutcome {
  /** `accept`: the answer under review stands (the model's; an appeal's: the answer appealed); `override`: the reviewers' label replaces it. */
  readonly verdict: 'accept' | 'override';
  /** The final answer. */
  readonly output: unknown;
  /** An appeal's: the answer it contested, and whether the final answer differs from it. */
  readonly appealed?: AppealedAnswer;
  readonly overturned?: boolean;
  readonly decidedAt: string;
  /** Everyone who decided on the item, in order. */
  readonly reviewers: readonly string[];
  readonly rationale: string;
  /** The feedback row that records it. */
  readonly feedbackId: string | null;
}

/** An item as the API shows it. `decision` only to those who may read inputs; the suggestion hidden when the service says so. */
export interface ReviewItemView {
  readonly id: string;
  readonly kind: 'decision' | 'appeal';
  readonly decisionId: string;
  readonly service: string;
  readonly version: string | null;
  readonly state: ReviewState;
  readonly priority: number;
  readonly createdAt: string;
  readonly dueAt: string;
  readonly requiredReviews: number;
  readonly reasons: readonly unknown[];
  readonly escalationRole: string | null;
  readonly slaBreachedAt: string | null;
  readonly lease: { readonly holder: string; readonly until: string } | null;
  readonly detail: unknown;
  readonly outcome: ReviewOutcome | null;
  readonly decisions?: readonly StoredReviewDecision[];
  readonly decision?: {
    readonly input: unknown;
    readonly context: unknown;
    readonly createdAt: string;
    /** Absent while the suggestion is hidden from this reviewer. */
    readonly output?: unknown;
    readonly confidence?: number | null;
    readonly explanation?: unknown;
    readonly suggestionHidden: boolean;
  };
}

export interface ReviewQueueDeps {
  readonly store: Store;
  /** The resolved `review:` block of a service; undefined when there is no such service. */
  config(service: string): ResolvedReviewConfig | undefined;
  /** The services being served (for a claim from any of them). */
  services(): Iterable<string>;
  readonly now?: () => Date;
  /** Called when a sweep escalated SLA breaches (metrics), and on sweep errors. */
  readonly onBreaches?: (items: readonly StoredReviewItem[]) => void;
  readonly onError?: (error: unknown, what: string) => void;
  /** Called once a write that queued webhook deliveries is durable (to wake the outbox's delivery loop). */
  readonly onDeliveries?: () => void;
  /** Called with every human decision once durable (metrics). */
  readonly onDecided?: (item: StoredReviewItem, decision: ReviewVerdict) => void;
  /** Called with the feedback a settling decision wrote (once durable), its decision and all the decision's feedback (monitoring). */
  readonly onFeedback?: (feedback: StoredFeedback, decision: StoredDecision, all: readonly StoredFeedback[]) => void;
  /** Milliseconds between SLA sweeps once started (default 5000). */
  readonly sweepEveryMs?: number;
}

export interface ReviewQueue {
  /** Leases the next item `actor` may take (of `services` when given) and shows it, or undefined when none. */
  next(actor: Principal, options?: { readonly services?: readonly string[] }): Promise<ReviewItemView | undefined>;
  renew(actor: Principal, itemId: string): Promise<ReviewItemView>;
  release(actor: Principal, itemId: string): Promise<ReviewItemView>;
  /** Records the lease holder's decision; REQUEST_INVALID (with pointers) for a bad verdict, REVIEW_LEASE_LOST, REVIEW_NOT_FOUND. */
  decide(actor: Principal, itemId: string, verdict: ReviewVerdictInput, requestId?: string | null): Promise<ReviewItemView>;
  /** The item; `withInput` adds the decision (input, and the suggestion unless hidden from `actor`). */
  get(itemId: string, options: { readonly actor?: Principal; readonly withInput: boolean }): Promise<ReviewItemView>;
  /** The stored item (service checks before showing anything); undefined when unknown. */
  find(itemId: string): Promise<StoredReviewItem | undefined>;
  /** Items oldest first, without inputs. */
  list(options: ReviewListOptions): Promise<StoredReviewItem[]>;
  /** Escalates every breached SLA not yet escalated; returns how many. */
  sweep(): Promise<number>;
  /** Starts the periodic SLA sweep (idempotent). */
  start(): void;
  stop(): Promise<void>;
}

const systemActor: Actor = { principal: 'system:review-queue', keyId: null, role: null };

function actorOf(p: Principal): Actor {
  return { principal: p.principal, keyId: p.keyId, role: p.role };
}

/** Checks a verdict's shape: an override needs a label and a rationale, an escalation a rationale, an accept no label. */
export function checkVerdict(input: ReviewVerdictInput): void {
  const issues: Issue[] = [];
  const rationale = input.rationale?.trim() ?? '';
  if (input.decision === 'override') {
    if (input.label === undefined || input.label === null) issues.push({ pointer: '/label', code: 'required', message: 'an override must give the label that replaces the model answer' });
    if (rationale.length === 0) issues.push({ pointer: '/rationale', code: 'required', message: 'an override must say why' });
  } else if (input.decision === 'escalate') {
    if (rationale.length === 0) issues.push({ pointer: '/rationale', code: 'required', message: 'an escalation must say why' });
    if (input.label !== undefined && input.label !== null) issues.push({ pointer: '/label', code: 'unexpected', message: 'an escalation carries no label' });
  } else if (input.decision === 'accept') {
    if (input.label !== undefined && input.label !== null) issues.push({ pointer: '/label', code: 'unexpected', message: "an accept keeps the model's answer; send decision 'override' to change it" });
  } else {
    issues.push({ pointer: '/decision', code: 'enum', message: 'must be one of accept, override, escalate' });
  }
  if (rationale.length > 10_000) issues.push({ pointer: '/rationale', code: 'maxLength', message: 'must be at most 10000 characters' });
  if (issues.length > 0) throw new BallastError('REQUEST_INVALID', { detail: 'the review decision is not valid', issues });
}

/**
 * What an accept keeps: the model's answer; on an appeal item, the answer appealed (the latest human answer when it
 * was filed, else the model's; an appeal filed before that was kept: the model's, as it was then written).
 */
export function acceptedOutput(item: Pick<StoredReviewItem, 'kind' | 'detail'>, decision: Pick<StoredDecision, 'output'> | undefined): unknown {
  const appealed = appealedAnswerOf(item);
  return appealed !== undefined ? appealed.output : (decision?.output ?? null);
}

/** The outcome of a decided item: the last decision settles it (agreeing reviewers, or the escalation role). */
export function outcomeOf(item: ReviewItemWithDecisions, decision: StoredDecision | undefined, feedbackId: string | null): ReviewOutcome | null {
  if (item.state !== 'decided') return null;
  const last = item.decisions.at(-1);
  if (last === undefined || last.decision === 'escalate') return null;
  const output = last.decision === 'override' ? last.label : acceptedOutput(item, decision);
  const appealed = appealedAnswerOf(item);
  return {
    verdict: last.decision,
    output,
    ...(appealed === undefined ? {} : { appealed, overturned: !sameJson(output, appealed.output) }),
    decidedAt: last.at,
    reviewers: [...new Set(item.decisions.map((d) => d.reviewer))],
    rationale: last.rationale,
    feedbackId,
  };
}

/**
 * Whether a human decision gives the model's answer: an accept of it, or an override whose label is the model's answer.
 * `accepted` is what an accept keeps (an appeal's: the answer appealed, which may be a reviewer's).
 */
export function agreesWithModel(d: Pick<StoredReviewDecision, 'decision' | 'label'>, modelOutput: unknown, accepted: unknown = modelOutput): boolean | null {
  if (d.decision === 'escalate') return null;
  return sameJson(d.decision === 'accept' ? accepted : d.label, modelOutput);
}

/** An appeal item's detail without the answer it contests (kept: who gave it, its feedback row). */
function withoutAppealedOutput(detail: unknown): unknown {
  if (detail === null || typeof detail !== 'object' || !('appealed' in detail)) return detail;
  const { output: _hidden, ...rest } = (detail as { appealed: AppealedAnswer }).appealed;
  return { ...detail, appealed: { ...rest, outputHidden: true } };
}

/** Whether two answers are the same JSON value (by digest of the canonical form). */
export const sameJson = (a: unknown, b: unknown): boolean => digestOf(a ?? null) === digestOf(b ?? null);

export function createReviewQueue(deps: ReviewQueueDeps): ReviewQueue {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const configOf = (service: string): ResolvedReviewConfig => {
    const config = deps.config(service);
    if (config === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service '${service}' is being served` });
    return config;
  };

  async function load(itemId: string): Promise<ReviewItemWithDecisions> {
    const item = await store.reviews.get(itemId);
    if (item === undefined) throw new BallastError('REVIEW_NOT_FOUND', { detail: `no review item '${itemId}'` });
    return item;
  }

  /** The feedback row that records the item's outcome: the newest of its kind for the decision, at or after the outcome. */
  async function outcomeFeedback(item: ReviewItemWithDecisions): Promise<string | null> {
    if (item.state !== 'decided') return null;
    const kind = item.kind === 'appeal' ? 'appeal' : 'override';
    const last = item.decisions.at(-1);
    const rows = await store.feedback.listForDecision(item.decisionId);
    return rows.filter((f) => f.kind === kind && f.createdAt === last?.at).at(-1)?.id ?? null;
  }

  async function view(item: ReviewItemWithDecisions, options: { readonly actor?: Principal; readonly withInput: boolean }): Promise<ReviewItemView> {
    const decision = await store.decisions.get(item.decisionId);
    const base: ReviewItemView = {
      id: item.id,
      kind: item.kind,
      decisionId: item.decisionId,
      service: item.service,
      version: item.version,
      state: item.state,
      priority: item.priority,
      createdAt: item.createdAt,
      dueAt: item.dueAt,
      requiredReviews: item.requiredReviews,
      reasons: item.reasons,
      escalationRole: item.escalationRole,
      slaBreachedAt: item.slaBreachedAt,
      lease: item.state === 'claimed' && item.leaseHolder !== null && item.leaseUntil !== null ? { holder: item.leaseHolder, until: item.leaseUntil } : null,
      detail: item.detail,
      outcome: outcomeOf(item, decision, await outcomeFeedback(item)),
    };
    if (!options.withInput) return base;
    const config = deps.config(item.service);
    // Against automation bias: a reviewer sees the model's answer only once they have decided the item.
    const decidedByActor = options.actor !== undefined && item.decisions.some((d) => d.reviewer === options.actor!.principal);
    const hidden = (config?.hideSuggestion ?? false) && item.state !== 'decided' && !decidedByActor;
    // The answer an appeal contests is a suggestion too (the model's, or an earlier reviewer's): hidden alike.
    const detail = hidden ? withoutAppealedOutput(base.detail) : base.detail;
    return {
      ...base,
      detail,
      decisions: item.decisions,
      ...(decision === undefined
        ? {}
        : {
            decision: {
              input: decision.input,
              context: decision.context,
              createdAt: decision.createdAt,
              suggestionHidden: hidden,
              ...(hidden ? {} : { output: decision.output, confidence: decision.confidence, explanation: decision.explanation }),
            },
          }),
    };
  }

  function delivery(config: ResolvedReviewConfig, type: ReviewEventType, body: Record<string, unknown>, at: string): NewAlertDelivery[] {
    if (config.webhook === null) return [];
    const id = newId('whd');
    return [{ id, type, url: config.webhook.url, secretName: config.webhook.secret, timeoutMs: config.webhook.timeoutMs, body: JSON.stringify({ type, timestamp: at, ...body }), createdAt: at }];
  }

  function servicesFor(actor: Principal, asked: readonly string[] | undefined): readonly string[] | null {
    const scoped = actor.service === null ? null : [actor.service];
    if (asked === undefined || asked.length === 0) return scoped;
    return scoped === null ? asked : asked.filter((s) => scoped.includes(s));
  }

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  const queue: ReviewQueue = {
    async next(actor, options = {}) {
      const services = servicesFor(actor, options.services);
      for (const s of services ?? []) configOf(s);
      // One lease for the claim: the shortest of the services it may come from (renewing extends it).
      const leases = [...(services ?? deps.services())].flatMap((s) => { const c = deps.config(s); return c === undefined ? [] : [c.leaseMs]; });
      const leaseMs = leases.length > 0 ? Math.min(...leases) : 15 * 60_000;
      const claimed = await store.reviews.claimNext({ reviewer: actor.principal, role: actor.role, services, now: now().toISOString(), leaseMs }, (item) => leaseAudit(actor, 'review.claimed', item));
      if (claimed === undefined) return undefined;
      return view(await load(claimed.id), { actor, withInput: true });
    },

    async renew(actor, itemId) {
      const item = await load(itemId);
      await store.reviews.renew({ itemId, reviewer: actor.principal, now: now().toISOString(), leaseMs: configOf(item.service).leaseMs });
      return view(await load(itemId), { actor, withInput: true });
    },

    async release(actor, itemId) {
      await store.reviews.release({ itemId, reviewer: actor.principal, now: now().toISOString() }, (item) => leaseAudit(actor, 'review.released', item));
      return view(await load(itemId), { actor, withInput: false });
    },

    async decide(actor, itemId, verdict, requestId = null) {
      checkVerdict(verdict);
      const item = await load(itemId);
      const config = configOf(item.service);
      const decision = await store.decisions.get(item.decisionId);
      const earlier = await store.feedback.listForDecision(item.decisionId);
      const at = now().toISOString();
      const rationale = verdict.rationale?.trim() ?? '';
      let written: StoredFeedback | undefined;
      await store.reviews.decide(
        { itemId, reviewer: actor.principal, role: actor.role, decision: verdict.decision, label: verdict.label ?? null, rationale, now: at, escalateTo: config.escalateTo },
        (change) => {
          const effects = effectsOf(change, { actor, config, decision, earlier, requestId });
          written = effects.feedback;
          return effects;
        },
      );
      deps.onDecided?.(item, verdict.decision);
      if (written !== undefined && config.webhook !== null) deps.onDeliveries?.();
      if (written !== undefined && decision !== undefined) {
        try {
          deps.onFeedback?.(written, decision, [...earlier, written]);
        } catch (error) {
          deps.onError?.(error, 'observing a review outcome');
        }
      }
      return view(await load(itemId), { actor, withInput: true });
    },

    async get(itemId, options) {
      return view(await load(itemId), options);
    },

    find: (itemId) => store.reviews.get(itemId),

    list: (options) => store.reviews.list(options),

    sweep() {
      // One sweep at a time in this process; other replicas are kept out by the store's guard.
      sweeping ??= (async () => {
        try {
          let total = 0;
          for (;;) {
            const at = now().toISOString();
            const items = await store.reviews.escalateOverdue({
              now: at,
              limit: 100,
              escalateTo: (item) => deps.config(item.service)?.escalateTo ?? 'senior-reviewer',
              effects: (item) => breachEffects(item, at),
            });
            total += items.length;
            if (items.length > 0) {
              deps.onBreaches?.(items);
              deps.onDeliveries?.();
            }
            if (items.length < 100) return total;
          }
        } finally {
          sweeping = undefined;
        }
      })();
      return sweeping;
    },

    start() {
      if (timer !== undefined) return;
      const every = deps.sweepEveryMs ?? 5000;
      const tick = () => {
        queue.sweep().catch((error: unknown) => deps.onError?.(error, 'review SLA sweep'));
      };
      timer = setInterval(tick, every);
      timer.unref();
      tick();
    },

    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await sweeping?.catch(() => undefined);
    },
  };

  // Taking an item shows a person the decision's input: it is data access, audited as a change is.
  function leaseAudit(actor: Principal, action: 'review.claimed' | 'review.released', item: StoredReviewItem) {
    return auditEvent({
      actor: actorOf(actor),
      action,
      resource: { kind: 'review', id: item.id },
      service: item.service,
      after: { state: item.state, leaseUntil: item.leaseUntil, decisionId: item.decisionId },
      at: item.updatedAt,
    });
  }

  function effectsOf(
    change: ReviewChange,
    ctx: { actor: Principal; config: ResolvedReviewConfig; decision: StoredDecision | undefined; earlier: readonly StoredFeedback[]; requestId: string | null },
  ) {
    const { after, decision: made } = change;
    const finalState = after.state === 'decided';
    const action = made.decision === 'escalate' || (after.state === 'escalated' && change.before.escalationRole === null) ? 'review.escalated' : finalState ? 'review.decided' : 'review.recorded';
    const audit = auditEvent({
      actor: actorOf(ctx.actor),
      action,
      resource: { kind: 'review', id: after.id },
      service: after.service,
      before: { state: change.before.state, escalationRole: change.before.escalationRole },
      after: { state: after.state, escalationRole: after.escalationRole, decision: made.decision, label: made.label, rationale: made.rationale },
      requestId: ctx.requestId,
      at: made.at,
    });
    if (!finalState || made.decision === 'escalate') return { audit: [audit] };
    const kind = after.kind === 'appeal' ? ('appeal' as const) : ('override' as const);
    const output = made.decision === 'override' ? made.label : acceptedOutput(after, ctx.decision);
    const appealed = appealedAnswerOf(after);
    // The human's answer supersedes the latest human answer before it (an appeal's, the review's).
    const previous = ctx.earlier.filter((f) => f.kind === 'override' || f.kind === 'appeal').at(-1);
    const feedback: StoredFeedback = {
      id: newId('fb'),
      decisionId: after.decisionId,
      kind,
      value: output,
      source: made.reviewer,
      note: made.rationale.length > 0 ? made.rationale : null,
      supersedes: previous?.id ?? null,
      createdAt: made.at,
    };
    const type: ReviewEventType = after.kind === 'appeal' ? 'appeal.decided' : 'review.decided';
    const body = {
      id: after.id,
      decisionId: after.decisionId,
      service: after.service,
      version: after.version,
      verdict: made.decision,
      output,
      modelOutput: ctx.decision?.output ?? null,
      ...(appealed === undefined ? {} : { appealed, overturned: !sameJson(output, appealed.output) }),
      decidedAt: made.at,
      feedbackId: feedback.id,
    };
    return { audit: [audit], feedback, deliveries: delivery(ctx.config, type, body, made.at) };
  }

  function breachEffects(item: StoredReviewItem, at: string) {
    const audit = auditEvent({
      actor: systemActor,
      action: 'review.sla_breached',
      resource: { kind: 'review', id: item.id },
      service: item.service,
      after: { dueAt: item.dueAt, state: item.state, escalationRole: item.escalationRole },
      at,
    });
    const alert: StoredAlert = {
      id: newId('alt'),
      rule: 'review-sla',
      service: item.service,
      monitor: 'review_sla',
      version: '*',
      segment: item.id,
      severity: 'alert',
      state: 'firing',
      firedAt: at,
      resolvedAt: null,
      summary: `review item ${item.id} of ${item.service} was not decided by ${item.dueAt}; escalated to ${item.escalationRole ?? '?'}`,
      values: { itemId: item.id, decisionId: item.decisionId, dueAt: item.dueAt, escalatedTo: item.escalationRole, kind: item.kind },
    };
    const config = deps.config(item.service);
    const body = { id: item.id, decisionId: item.decisionId, service: item.service, dueAt: item.dueAt, escalatedTo: item.escalationRole, alertId: alert.id };
    return { audit: [audit], alert, deliveries: config === undefined ? [] : delivery(config, 'review.sla_breached', body, at) };
  }

  return queue;
}
