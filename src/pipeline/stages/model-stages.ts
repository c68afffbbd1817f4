import type { ModelResult } from '../../adapters/index.js';
import { BallastError, type Issue } from '../../errors/index.js';
import { callResiliently, type Attempt } from '../../resilience/index.js';
import { assignRoute, type RoutingPlan } from '../../routing/index.js';
import type { ShadowRunner } from '../shadow-runner.js';
import type { DecisionContext, Stage } from '../decision-context.js';
import type { ModelVersion } from '../service.js';

const modelStage = (ctx: { skipModel: boolean }) => !ctx.skipModel;

/** What the route stage reads beside the request: the rollouts' routing, and where shadow copies go. */
export interface RouteEnv {
  /** The routing of a service now (a rollout in progress, the kill switch); undefined: its live version serves everything. */
  routing?(service: string): RoutingPlan | undefined;
  readonly shadow?: ShadowRunner;
}

/**
 * Picks the model version that serves this request. The stable version is the pinned revision's `live`; a
 * rollout's candidate is honoured only when that revision has it (a rollout never routes to a version the
 * request's revision does not know).
 */
export const routeStage: Stage<RouteEnv> = {
  name: 'route',
  applies: modelStage,
  run(ctx, env) {
    const { service } = ctx;
    const live = service.config.live;
    const plan = env.routing?.(service.name);
    if (plan === undefined || (plan.rollout === undefined && plan.killed === undefined)) {
      ctx.route = { version: live, route: 'stable' };
      return;
    }
    const rollout = plan.rollout !== undefined && plan.rollout.candidate !== live && service.versions.has(plan.rollout.candidate) ? plan.rollout : undefined;
    const pinned: RoutingPlan = { stable: live, ...(rollout === undefined ? {} : { rollout }), ...(plan.killed === undefined ? {} : { killed: plan.killed }) };
    ctx.route = assignRoute(pinned, service.name, { decisionId: ctx.id, ...(ctx.request.subjectKey === undefined ? {} : { subjectKey: ctx.request.subjectKey }) });
    if (rollout !== undefined) ctx.rolloutStrategy = rollout.strategy;
  },
};

/** Calls the routed version (breaker, retries, deadline) and checks its output; a failure is recorded on the decision, never thrown past here. */
export const invokeStage: Stage<RouteEnv> = {
  name: 'invoke',
  applies: modelStage,
  async run(ctx, env) {
    const route = ctx.route!;
    if (route.route === 'killed') {
      // The kill switch: no model is called; the fallback chain's rules, static answer or people answer.
      const since = env.routing?.(ctx.service.name)?.killed;
      ctx.modelError = { code: 'KILL_SWITCH_ENGAGED', message: `no model of ${ctx.service.name} was called: its kill switch is engaged${since === undefined ? '' : ` (since ${since.since}: ${since.reason})`}` };
      ctx.output = null;
      return;
    }
    const version = ctx.service.versions.get(route.version)!;
    const called = await callVersion(ctx, version);
    if (route.shadow !== undefined && route.rollout !== undefined && env.shadow !== undefined) {
      const candidate = ctx.service.versions.get(route.shadow);
      // A copy for the shadowed candidate, once the served answer is known: it never delays this one.
      if (candidate !== undefined) env.shadow.run({ decisionId: ctx.id, service: ctx.service, version: candidate, rolloutId: route.rollout, revision: ctx.revision, input: ctx.input, ...(called.ok ? { served: called.result.output } : {}) });
    }
    if (called.ok) {
      ctx.result = called.result;
      ctx.output = called.result.output;
      ctx.servedVersion = version.name;
    } else {
      ctx.modelError = called.error;
      if (called.issues !== undefined) ctx.outputIssues = called.issues;
      ctx.output = null;
    }
  },
};

/** What calling one version gave: its result, or the failure in words fit for the explanation. */
export type VersionCall = { readonly ok: true; readonly result: ModelResult } | { readonly ok: false; readonly error: { readonly code: string; readonly message: string }; readonly issues?: readonly Issue[] };

/**
 * Calls one version the resilient way; an output that breaks the contract is a failure of the call. Its
 * attempts go to `attempts` (default the decision's: a cross-check keeps its own).
 */
export async function callVersion(ctx: DecisionContext, version: ModelVersion, attempts: Attempt[] = ctx.attempts, signal: AbortSignal | undefined = ctx.signal): Promise<VersionCall> {
  let issues: readonly Issue[] | undefined;
  const check = (result: ModelResult): BallastError | undefined => {
    const checked = ctx.service.contract.validateOutput(result.output);
    if (checked.ok) return undefined;
    issues = checked.issues;
    return new BallastError('CONTRACT_INVALID_OUTPUT', { detail: `the model's output violates the output contract (${checked.issues.map((i) => `${i.pointer || '/'}: ${i.message}`).join('; ')})` });
  };
  if (version.quality?.isOpen === true) {
    // Skipped before any call: the monitors found this version below its floor.
    attempts.push({ version: version.name, attempt: 1, code: 'QUALITY_BREAKER_OPEN', ms: 0 });
    return { ok: false, error: { code: 'QUALITY_BREAKER_OPEN', message: `model ${ctx.service.name}/${version.name} was not called: its quality breaker is open (${version.quality.snapshot().reason ?? 'opened'})` } };
  }
  const outcome = await callResiliently(version.plan, ctx.deadline, (signal) => version.adapter.invoke(ctx.input, { signal, decisionId: ctx.id }), { check, parent: signal });
  attempts.push(...outcome.attempts);
  if (outcome.ok) return { ok: true, result: outcome.value };
  // An upstream may echo the request in its error: no pii value leaves in the message.
  const message = ctx.service.contract.scrubPii(outcome.error.detail, ctx.input, ctx.request.context);
  const error = { code: outcome.error.code, message: stopNote(message, outcome.stop, outcome.attempts.length) };
  return outcome.error.code === 'CONTRACT_INVALID_OUTPUT' && issues !== undefined ? { ok: false, error, issues } : { ok: false, error };
}

function stopNote(message: string, stop: string, attempts: number): string {
  switch (stop) {
    case 'retry_budget':
      return `${message} (not retried: the version's retry budget is spent)`;
    case 'deadline':
      return attempts > 1 ? `${message} (no further retry: the request's deadline would pass)` : message;
    case 'attempts_used':
      return attempts > 1 ? `${message} (after ${attempts} attempts)` : message;
    default:
      return message;
  }
}
