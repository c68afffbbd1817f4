// The rollout spec: defaults, start options over the service's block, and refusals with pointers.
import { describe, expect, it } from 'vitest';
import { resolveRolloutSpec } from './rollout-spec.js';

describe('resolveRolloutSpec', () => {
  it('defaults to a canary of 5%, 25%, 50%, 100% with 100 decisions each', () => {
    const spec = resolveRolloutSpec(undefined);
    expect(spec).toMatchObject({ strategy: 'canary', failureLimit: 1, inconclusiveLimit: 3, onInconclusive: 'pause', shadowShare: 0, analysis: {} });
    expect(spec.steps.map((s) => [s.weight, s.pause.minDecisions, s.pause.durationMs])).toEqual([
      [0.05, 100, 0],
      [0.25, 100, 0],
      [0.5, 100, 0],
      [1, 100, 0],
    ]);
  });

  it('lets start options override the block field by field, analysis passed through', () => {
    const spec = resolveRolloutSpec({ failureLimit: 2, steps: [{ weight: 0.1 }, { weight: 1 }], analysis: { metrics: { error_rate: { bound: 0.01 } } } }, { inconclusiveLimit: 5 });
    expect(spec).toMatchObject({ failureLimit: 2, inconclusiveLimit: 5, analysis: { metrics: { error_rate: { bound: 0.01 } } } });
    expect(spec.steps.map((s) => s.weight)).toEqual([0.1, 1]);
  });

  it("applies a start's pause to every step of the block's canary, and not when the start brings its own steps", () => {
    const block = { steps: [{ weight: 0.1, pause: { minDecisions: 50, durationMs: 1000 } }, { weight: 1 }] };
    const paused = resolveRolloutSpec(block, { pause: { minDecisions: 500 } });
    expect(paused.steps.map((s) => [s.weight, s.pause.minDecisions, s.pause.durationMs])).toEqual([
      [0.1, 500, 1000],
      [1, 500, 0],
    ]);
    const own = resolveRolloutSpec(block, { steps: [{ weight: 0.2 }, { weight: 1 }], pause: { minDecisions: 500 } });
    expect(own.steps.map((s) => s.pause.minDecisions)).toEqual([100, 100]);
  });

  it('resolves shadow and experiment into one step', () => {
    expect(resolveRolloutSpec({ strategy: 'shadow' })).toMatchObject({ strategy: 'shadow', shadowShare: 1, steps: [{ weight: 0 }] });
    expect(resolveRolloutSpec({}, { strategy: 'experiment', bandit: { floor: 0.1 }, pause: { durationMs: 3_600_000 } })).toMatchObject({
      strategy: 'experiment',
      srm: true,
      bandit: { floor: 0.1 },
      steps: [{ weight: 0.5, pause: { durationMs: 3_600_000, minDecisions: 100 } }],
    });
  });

  it('refuses bad blocks with CONFIG_INVALID and bad options with REQUEST_INVALID, with pointers', () => {
    expect(() => resolveRolloutSpec({ steps: [{ weight: 1.5 }] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', issues: [expect.objectContaining({ pointer: '/steps/0/weight' })] }));
    expect(() => resolveRolloutSpec({}, { strategy: 'blue-green' })).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
    expect(() => resolveRolloutSpec({}, { steps: [{ weight: 0.5 }, { weight: 0.25 }] })).toThrow(
      expect.objectContaining({ code: 'REQUEST_INVALID', issues: [expect.objectContaining({ pointer: '/steps/1/weight', code: 'increasing' })] }),
    );
  });
});
