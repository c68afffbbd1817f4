import type { Stage } from '../decision-context.js';

/** Hard constraints and high-stakes conditions, before the model is called. */
export const preRulesStage: Stage<unknown> = {
  name: 'pre_rules',
  run(ctx) {
    const verdict = ctx.service.policy.evaluatePre({ input: ctx.input, context: ctx.request.context ?? {} });
    ctx.preFired = verdict.fired;
    ctx.skipModel = verdict.fired.some((rule) => rule.action === 'reject');
  },
};

/** Output sanity and business constraints that may override the model. */
export const postRulesStage: Stage<unknown> = {
  name: 'post_rules',
  // After the routed model or a fallback step that gave an output: business rules hold for both.
  applies: (ctx) => !ctx.skipModel && (ctx.modelError === undefined || (ctx.fallback?.answeredBy != null && ctx.fallback.answeredBy.kind !== 'review')),
  run(ctx) {
    const verdict = ctx.service.policy.evaluatePost({
      input: ctx.input,
      context: ctx.request.context ?? {},
      output: ctx.output,
      confidence: ctx.result?.confidence ?? null,
      version: ctx.servedVersion ?? null,
    });
    ctx.postFired = verdict.fired;
    ctx.output = verdict.output;
    if (verdict.fired.some((rule) => rule.action === 'override')) {
      // An override is configuration, not the model, but what it produces must still honour the contract.
      const checked = ctx.service.contract.validateOutput(ctx.output);
      if (!checked.ok) {
        ctx.outputIssues = checked.issues;
        ctx.output = null;
      }
    }
  },
};
