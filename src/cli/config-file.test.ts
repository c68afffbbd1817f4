// The configuration file's checks beyond its schema: a rollout:, risk: and gates: block that a rollout
// would refuse is refused when the file is read, with every problem at its pointer and line.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from './config-file.js';

const service = (extra: string) => `services:
  loans:
    contract:
      input: { schema: { type: object } }
      output: { schema: { type: object } }
    models:
      v1: { adapter: { kind: http, url: 'http://127.0.0.1:9/p' } }
    live: v1
${extra}`;

function problems(text: string): { pointer: string; line?: number }[] {
  try {
    parseConfigText(text, 'ballast.yaml', '/tmp');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => ({ pointer: p.pointer, ...(p.line === undefined ? {} : { line: p.line }) }));
    throw error;
  }
  return [];
}

describe('the safe-change blocks of a config file', () => {
  it('accepts valid rollout, risk and gates blocks', () => {
    expect(problems(service(`    risk: medium
    gates: { approvals: 2, evaluation: { accuracy: { min: 0.9 } } }
    rollout:
      steps: [{ weight: 0.1 }, { weight: 0.5 }, { weight: 1 }]
      analysis: { minDecisions: 50, metrics: [{ metric: accuracy, bound: 0.02 }] }
`))).toEqual([]);
  });

  it('refuses falling steps, an unknown analysis setting and approvals below the tier, each at its place', () => {
    const found = problems(service(`    risk: high
    owners: [credit-team]
    gates: { approvals: 1 }
    rollout:
      steps: [{ weight: 0.5 }, { weight: 0.2 }]
      analysis: { minDecisons: 50 }
`));
    expect(found.map((p) => p.pointer).sort()).toEqual(['/services/loans/gates/approvals', '/services/loans/rollout/analysis/minDecisons', '/services/loans/rollout/steps/1/weight']);
    expect(found.find((p) => p.pointer.endsWith('/steps/1/weight'))?.line).toBe(13);
  });

  it('refuses a gate bound whose min is above its max', () => {
    expect(problems(service(`    gates: { evaluation: { accuracy: { min: 0.9, max: 0.8 } } }
`)).map((p) => p.pointer)).toEqual(['/services/loans/gates/evaluation/accuracy']);
  });
});
