import type { ModelResult } from '../../adapters/index.js';
import { BallastError, type Issue } from '../../errors/index.js';
import { callResiliently } from '../../resilience/index.js';
import { assignRoute } from '../../routing/index.js';
import type { DecisionContext, Stage } from '../decision-context.js';
import type { ModelVersion } from '../service.js';

const modelStage = (ctx: { skipModel: boolean }) => !ctx.skipModel;

/** Picks the model version that serves this request. */
export const routeStage: Stage<unknown> = {
  name: 'route',
  applies: modelStage,
  run(ctx) {
    ctx.route = assignRoute(ctx.service.rollout, ctx.service.name, ctx.request.subjectKey);
  },
};

/** Calls the routed version (breaker, retries, deadline) and checks its output; a failure is recorded on the decision, never thrown past here. */
export const invokeStage: Stage<unknown> = {
  name: 'invoke',
  applies: modelStage,
  async run(ctx) {
    const version = ctx.service.versions.get(ctx.route!.version)!;
    const called = await callVersion(ctx, version);
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

/** Calls one version the resilient way; an output that breaks the contract is a failure of the call. */
export async function callVersion(ctx: DecisionContext, version: ModelVersion): Promise<VersionCall> {
  let issues: readonly Issue[] | undefined;
  const check = (result: ModelResult): BallastError | undefined => {
    const checked = ctx.service.contract.validateOutput(result.output);
    if (checked.ok) return undefined;
    issues = checked.issues;
    return new BallastError('CONTRACT_INVALID_OUTPUT', { detail: `the model's output violates the output contract (${checked.issues.map((i) => `${i.pointer || '/'}: ${i.message}`).join('; ')})` });
  };
  if (version.quality?.isOpen === true) {
    // Skipped before any call: the monitors found this version below its floor.
    ctx.attempts.push({ version: version.name, attempt: 1, code: 'QUALITY_BREAKER_OPEN', ms: 0 });
    return { ok: false, error: { code: 'QUALITY_BREAKER_OPEN', message: `model ${ctx.service.name}/${version.name} was not called: its quality breaker is open (${version.quality.snapshot().reason ?? 'opened'})` } };
  }
  const outcome = await callResiliently(version.plan, ctx.deadline, (signal) => version.adapter.invoke(ctx.input, { signal, decisionId: ctx.id }), { check, parent: ctx.signal });
  ctx.attempts.push(...outcome.attempts);
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
