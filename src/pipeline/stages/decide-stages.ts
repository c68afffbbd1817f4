import { decideOutcome } from '../../policy/index.js';
import type { DecisionRecord, DecisionSink, Notice, ReviewTicket, RoutingRecord } from '../decision.js';
import type { Service } from '../service.js';
import type { RouteEnv } from './model-stages.js';
import type { Stage } from '../decision-context.js';

/** Turns confidence, rules, quality flags and failures into an outcome with every reason behind it. */
export const decideStage: Stage<unknown> = {
  name: 'decide',
  run(ctx) {
    const verdict = decideOutcome({
      policy: ctx.service.policy,
      confidence: ctx.skipModel ? undefined : ctx.result?.confidence,
      modelSkipped: ctx.skipModel,
      preFired: ctx.preFired,
      postFired: ctx.postFired,
      qualityFlags: ctx.quality,
      modelError: ctx.modelError,
      outputIssues: ctx.outputIssues,
      fallback: fallbackVerdict(ctx),
      advisory: advisoryFor(ctx.service.policy.advisory, servedVersion(ctx)),
      ...(ctx.crossCheckVerdicts === undefined ? {} : { crossChecks: ctx.crossCheckVerdicts }),
    });
    ctx.outcome = verdict.outcome;
    ctx.reasons = verdict.reasons;
  },
};

function advisoryFor(advisory: boolean | readonly string[], version: string | null): boolean {
  return advisory === true || (Array.isArray(advisory) && version !== null && advisory.includes(version));
}

function fallbackVerdict(ctx: Parameters<Stage<unknown>['run']>[0]) {
  const answeredBy = ctx.fallback?.answeredBy;
  if (answeredBy == null) return undefined;
  const failed = ctx.fallback!.steps.filter((step) => !step.answered).map((step) => `${step.name}: ${step.code ?? 'failed'}`);
  const after = [`${ctx.fallback!.from}: ${ctx.fallback!.cause.code}`, ...failed].join(', ');
  const number = answeredBy.step + 1;
  if (answeredBy.kind === 'review') {
    // The step's configured reason is what the reviewer reads first: why the case came to them.
    const step = ctx.service.resilience.fallback[answeredBy.step];
    const reason = step?.kind === 'review' ? step.reason : 'the fallback chain sends the case to a human';
    return { kind: answeredBy.kind, name: answeredBy.name, message: `${reason} (fallback step ${number}, after ${after})` };
  }
  return { kind: answeredBy.kind, name: answeredBy.name, message: `fallback step ${number} (${answeredBy.name}) answered after ${after}` };
}

/** Gathers what explains the decision: version, route, thresholds, rules, quality, attributions. */
export const explainStage: Stage<RecordEnv> = {
  name: 'explain',
  run(ctx, env) {
    const notices = env.notices?.(ctx.service.name, ctx.route?.version ?? null, ctx.input) ?? [];
    const { policy, contract } = ctx.service;
    const overridden = ctx.postFired.some((rule) => rule.action === 'override');
    ctx.explanation = {
      service: ctx.service.name,
      revision: ctx.revision,
      contractVersion: contract.version,
      version: servedVersion(ctx),
      route: ctx.route?.route ?? null,
      ...routingRecord(ctx),
      confidence: ctx.result?.confidence ?? null,
      thresholds: { auto: policy.thresholds.auto, reject: policy.thresholds.reject ?? null },
      reasons: ctx.reasons,
      rules: [...ctx.preFired, ...ctx.postFired],
      quality: ctx.quality,
      attributions: ctx.result?.attributions ?? [],
      ...(overridden ? { modelOutput: ctx.result?.output } : {}),
      ...(ctx.modelError ? { modelError: ctx.modelError } : {}),
      ...(ctx.outputIssues ? { outputIssues: ctx.outputIssues } : {}),
      ...(ctx.result?.meta ? { modelMeta: ctx.result.meta } : {}),
      ...(notices.length > 0 ? { notices } : {}),
      ...(ctx.attempts.length > 0 ? { attempts: ctx.attempts } : {}),
      ...(ctx.fallback ? { fallback: ctx.fallback } : {}),
      ...breakerStates(ctx),
      ...(ctx.crossChecks === undefined ? {} : { crossChecks: ctx.crossChecks }),
    };
  },
};

function routingRecord(ctx: Parameters<Stage<unknown>['run']>[0]): { routing?: RoutingRecord } {
  const r = ctx.route;
  if (r?.rollout === undefined || ctx.rolloutStrategy === undefined) return {};
  return { routing: { rollout: r.rollout, strategy: ctx.rolloutStrategy, step: r.step ?? 0, weight: r.weight ?? 0, ...(r.arm === undefined ? {} : { arm: r.arm }), ...(r.shadow === undefined ? {} : { shadowed: r.shadow }) } };
}

export interface RecordEnv extends RouteEnv {
  readonly sink: DecisionSink;
  /** Keyed hash of a subject key, so the key itself is never stored. */
  hashSubject(key: string): string;
  /** Notices for the explanation (active alerts concerning this service, version and input); must be cheap and synchronous. */
  notices?(service: string, version: string | null, input: Readonly<Record<string, unknown>>): readonly Notice[];
  /** The review item of a decision that goes to review (the review module's plan); synchronous, must not throw for a valid service. */
  planReview?(service: Service, record: DecisionRecord): ReviewTicket;
}

/** Appends the decision, redacted, to the log; resolves once it is durable. */
export const recordStage: Stage<RecordEnv> = {
  name: 'record',
  async run(ctx, env) {
    const { contract } = ctx.service;
    const record: DecisionRecord = {
      id: ctx.id,
      service: ctx.service.name,
      version: servedVersion(ctx),
      createdAt: ctx.createdAt,
      outcome: ctx.outcome!,
      confidence: ctx.result?.confidence ?? null,
      subjectHash: ctx.request.subjectKey === undefined ? null : env.hashSubject(ctx.request.subjectKey),
      input: contract.redactInput(ctx.input),
      context: ctx.request.context == null ? null : contract.redactContext(ctx.request.context),
      output: ctx.output === null || ctx.output === undefined ? null : contract.redactOutput(ctx.output),
      explanation: redactExplanation(ctx),
      timings: { ...ctx.timings },
    };
    const review = record.outcome === 'review' ? env.planReview?.(ctx.service, record) : undefined;
    const recorded = review === undefined ? record : { ...record, review };
    await env.sink.append(recorded);
    ctx.record = recorded;
  },
};

/**
 * The version the decision is recorded under: the one whose output answers (the routed one, or a
 * fallback version); none when a rules or static step answered; the routed one when nothing did.
 */
export function servedVersion(ctx: Parameters<Stage<unknown>['run']>[0]): string | null {
  return ctx.servedVersion !== undefined ? ctx.servedVersion : (ctx.route?.version ?? null);
}

// Only breakers that are not closed are worth a line; a closed one is the normal case.
function breakerStates(ctx: Parameters<Stage<unknown>['run']>[0]) {
  const seen = new Set(ctx.attempts.map((attempt) => attempt.version));
  const states: { version: string; state: 'open' | 'half_open' }[] = [];
  for (const name of seen) {
    const state = ctx.service.versions.get(name)?.breaker?.snapshot().state;
    if (state !== undefined && state !== 'closed') states.push({ version: name, state });
  }
  return states.length > 0 ? { breakers: states } : {};
}

/** Attributions and quality flags may quote pii fields; keep only what the contract allows. */
function redactExplanation(ctx: Parameters<Stage<unknown>['run']>[0]) {
  const explanation = ctx.explanation!;
  const pii = new Set([...ctx.service.contract.inputFields].filter(([, field]) => field.pii).map(([name]) => name));
  if (pii.size === 0) return explanation;
  return {
    ...explanation,
    attributions: explanation.attributions.filter((a) => !pii.has(a.feature)),
    ...(explanation.modelOutput === undefined ? {} : { modelOutput: ctx.service.contract.redactOutput(explanation.modelOutput) }),
  };
}
