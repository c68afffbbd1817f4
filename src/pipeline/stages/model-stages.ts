import { classifyError } from '../../errors/index.js';
import { withDeadline } from '../../resilience/index.js';
import { assignRoute } from '../../routing/index.js';
import type { Stage } from '../decision-context.js';

const modelStage = (ctx: { skipModel: boolean }) => !ctx.skipModel;

/** Picks the model version that serves this request. */
export const routeStage: Stage<unknown> = {
  name: 'route',
  applies: modelStage,
  run(ctx) {
    ctx.route = assignRoute(ctx.service.rollout, ctx.service.name, ctx.request.subjectKey);
  },
};

/** Calls the model within its timeout; a failure is recorded on the decision, never thrown past here. */
export const invokeStage: Stage<unknown> = {
  name: 'invoke',
  applies: modelStage,
  async run(ctx) {
    const version = ctx.service.versions.get(ctx.route!.version)!;
    try {
      const deadline = { timeoutMs: version.timeoutMs, what: `model ${ctx.service.name}/${version.name}`, parent: ctx.signal };
      ctx.result = await withDeadline(deadline, (signal) => version.adapter.invoke(ctx.input, { signal, decisionId: ctx.id }));
      ctx.output = ctx.result.output;
    } catch (error) {
      const failure = classifyError(error);
      // An upstream may echo the request in its error: no pii value leaves in the message.
      ctx.modelError = { code: failure.code, message: ctx.service.contract.scrubPii(failure.detail, ctx.input, ctx.request.context) };
      ctx.output = null;
    }
  },
};

/** Checks the model's output against the contract; a violation counts as a model failure. */
export const validateOutputStage: Stage<unknown> = {
  name: 'validate_output',
  applies: (ctx) => !ctx.skipModel && ctx.modelError === undefined,
  run(ctx) {
    const result = ctx.service.contract.validateOutput(ctx.output);
    if (!result.ok) {
      ctx.outputIssues = result.issues;
      ctx.modelError = { code: 'CONTRACT_INVALID_OUTPUT', message: `the model's output violates the output contract (${result.issues.map((i) => `${i.pointer || '/'}: ${i.message}`).join('; ')})` };
      ctx.output = null;
    }
  },
};
