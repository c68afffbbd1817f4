import type { FallbackStepTrace } from '../decision.js';
import type { DecisionContext, Stage } from '../decision-context.js';
import type { FallbackStep } from '../fallback-chain.js';
import { callVersion } from './model-stages.js';

/**
 * Walks the service's fallback chain when the routed version failed (an error, an open breaker, a
 * broken contract, the deadline): the first step that answers gives the output. Steps that are not
 * models (rules, static, review) answer even after the deadline, at no cost.
 */
export const fallbackStage: Stage<unknown> = {
  name: 'fallback',
  applies: (ctx) => !ctx.skipModel && ctx.modelError !== undefined && ctx.service.resilience.fallback.length > 0,
  async run(ctx) {
    const cause = { ...ctx.modelError!, ...(ctx.outputIssues === undefined ? {} : { issues: ctx.outputIssues }) };
    const steps: FallbackStepTrace[] = [];
    for (const step of ctx.service.resilience.fallback) {
      if (ctx.route?.route === 'killed' && step.kind === 'version') {
        steps.push(trace(step, false, 'KILL_SWITCH_ENGAGED', 'not called: the kill switch is engaged'));
        continue;
      }
      if (ctx.signal?.aborted === true && step.kind === 'version') {
        steps.push(trace(step, false, 'DEADLINE_EXCEEDED', 'not called: the caller stopped waiting'));
        continue;
      }
      const answer = await tryStep(ctx, step);
      steps.push(answer.ok ? trace(step, true) : trace(step, false, answer.code, answer.message));
      if (!answer.ok) continue;
      ctx.fallback = { from: ctx.route!.version, cause, answeredBy: { step: step.index, kind: step.kind, name: step.name }, steps };
      // The routed version's broken output is in the trace; what is checked from here on is the fallback's.
      ctx.outputIssues = undefined;
      ctx.output = answer.output;
      return;
    }
    ctx.fallback = { from: ctx.route!.version, cause, answeredBy: null, steps };
  },
};

type StepAnswer = { readonly ok: true; readonly output: unknown } | { readonly ok: false; readonly code: string; readonly message: string };

async function tryStep(ctx: DecisionContext, step: FallbackStep): Promise<StepAnswer> {
  switch (step.kind) {
    case 'version': {
      const version = ctx.service.versions.get(step.version)!;
      const called = await callVersion(ctx, version);
      if (!called.ok) return { ok: false, ...called.error };
      ctx.result = called.result;
      ctx.servedVersion = version.name;
      return { ok: true, output: called.result.output };
    }
    case 'rules': {
      const evaluated = step.rules.evaluate({ input: ctx.input, context: ctx.request.context });
      if (!evaluated.ok) return { ok: false, code: evaluated.code, message: evaluated.message };
      const checked = ctx.service.contract.validateOutput(evaluated.output);
      if (!checked.ok) {
        return { ok: false, code: 'CONTRACT_INVALID_OUTPUT', message: `fallback rule ${evaluated.rule} gave an output that violates the output contract (${checked.issues.map((i) => `${i.pointer || '/'}: ${i.message}`).join('; ')})` };
      }
      ctx.servedVersion = null;
      return { ok: true, output: evaluated.output };
    }
    case 'static':
      ctx.servedVersion = null;
      return { ok: true, output: step.output };
    case 'review':
      return { ok: true, output: null };
  }
}

function trace(step: FallbackStep, answered: boolean, code?: string, message?: string): FallbackStepTrace {
  const base = { step: step.index, kind: step.kind, name: step.name, answered };
  return code === undefined ? base : { ...base, code, message: message ?? code };
}
