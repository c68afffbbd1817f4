// The gate and its configuration: tier defaults, refused configurations, and each check on its own
// (approvals by distinct non-authors on this digest and revision, refusals, analysis, evaluation bounds).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSchemaValidator } from '../../contracts/index.js';
import type { StoredApproval } from '../../store/index.js';
import { evaluateGate, type GateInput } from './gate.js';
import { gatesConfigSchema, resolveGates, type GatesConfig, type ResolvedGates, type RiskTier } from './gates-config.js';

const digest = 'd'.repeat(64);

function gates(risk: RiskTier, config?: GatesConfig): ResolvedGates {
  const resolved = resolveGates(risk, config);
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
  return resolved.value;
}

function decision(principal: string, overrides: Partial<StoredApproval> = {}): StoredApproval {
  return { id: `apv_${principal}`, service: 'spam-filter', version: 'v2', digest, revision: 7, principal, decision: 'approve', reason: 'ok', at: '2026-12-07T06:00:00.000Z', ...overrides };
}

function input(risk: RiskTier, overrides: Partial<GateInput> = {}): GateInput {
  return {
    risk,
    gates: gates(risk),
    version: { name: 'v2', digest, author: 'alice', evaluation: { metrics: { accuracy: 0.93, latency_p95_ms: 40 }, subgroups: { 'lang=en': { accuracy: 0.95 }, 'lang=de': { accuracy: 0.88 } } } },
    revision: 7,
    lastAnalysis: { verdict: 'pass', at: '2026-12-07T05:00:00.000Z', rolloutId: 'rol_1' },
    approvals: { approvals: [], refusals: [] },
    ...overrides,
  };
}

const checkOf = (result: ReturnType<typeof evaluateGate>, name: string) => result.checks.find((c) => c.check === name);

describe('resolveGates', () => {
  it('applies the tier defaults', () => {
    expect(gates('low')).toMatchObject({ risk: 'low', approvals: 0, analysis: 'optional', evaluation: {}, subgroups: {} });
    expect(gates('medium')).toMatchObject({ approvals: 1, analysis: 'required' });
    expect(gates('high')).toMatchObject({ approvals: 2, analysis: 'required' });
    const none = resolveGates(undefined, undefined);
    expect(none.ok && none.value.risk).toBe('low');
  });

  it('lets a service ask for more, never for fewer approvals than its tier', () => {
    expect(gates('low', { approvals: 3, analysis: 'required' })).toMatchObject({ approvals: 3, analysis: 'required' });
    expect(gates('medium', { analysis: 'optional' })).toMatchObject({ approvals: 1, analysis: 'optional' });
    expect(resolveGates('high', { approvals: 1 })).toEqual({ ok: false, issues: [expect.objectContaining({ pointer: '/gates/approvals', code: 'minimum' })] });
  });

  it('separates subgroup bounds from metric bounds and refuses a min above its max', () => {
    expect(gates('low', { evaluation: { accuracy: { min: 0.9 }, subgroups: { accuracy: { min: 0.85 } } } })).toMatchObject({ evaluation: { accuracy: { min: 0.9 } }, subgroups: { accuracy: { min: 0.85 } } });
    const bad = resolveGates('low', { evaluation: { 'a/b': { min: 2, max: 1 } } });
    expect(bad).toEqual({ ok: false, issues: [expect.objectContaining({ pointer: '/gates/evaluation/a~1b', code: 'bounds' })] });
  });

  it('has a schema that refuses unknown keys (fairness is not checked yet) and empty bounds', () => {
    const validate = createSchemaValidator(gatesConfigSchema);
    expect(validate({ evaluation: { accuracy: { min: 0.9 }, subgroups: { accuracy: { max: 1 } } }, analysis: 'required', approvals: 2 }).ok).toBe(true);
    expect(validate({ fairness: { maxGap: 0.1 } }).ok).toBe(false);
    expect(validate({ evaluation: { accuracy: {} } }).ok).toBe(false);
    expect(validate({ evaluation: { accuracy: { min: 0.9, typo: 1 } } }).ok).toBe(false);
    expect(validate({ analysis: 'sometimes' }).ok).toBe(false);
    expect(validate({ approvals: 1.5 }).ok).toBe(false);
  });
});

describe('evaluateGate', () => {
  it('lets a low-risk version through with nothing configured, even without an analysis', () => {
    const result = evaluateGate(input('low', { lastAnalysis: undefined }));
    expect(result).toMatchObject({ ok: true, issues: [] });
    expect(result.checks.map((c) => c.check)).toEqual(['approvals', 'refusals', 'analysis']);
  });

  it('medium needs one approval by someone other than the author', () => {
    expect(evaluateGate(input('medium')).ok).toBe(false);
    expect(evaluateGate(input('medium')).issues).toEqual([expect.objectContaining({ pointer: '/gates/approvals', code: 'approvals' })]);
    expect(evaluateGate(input('medium', { approvals: { approvals: [decision('alice')], refusals: [] } })).ok).toBe(false);
    expect(evaluateGate(input('medium', { approvals: { approvals: [decision('bo')], refusals: [] } })).ok).toBe(true);
  });

  it('high needs two distinct principals, neither the author', () => {
    const two = (a: string, b: string) => evaluateGate(input('high', { approvals: { approvals: [decision(a), decision(b, { id: 'apv_second' })], refusals: [] } }));
    expect(two('bo', 'bo').ok).toBe(false);
    expect(two('bo', 'alice').ok).toBe(false);
    expect(checkOf(two('bo', 'alice'), 'approvals')!.detail).toContain('1 of 2');
    expect(two('bo', 'cy').ok).toBe(true);
  });

  it('counts only approvals on this digest and revision', () => {
    const stale = [decision('bo', { digest: 'e'.repeat(64) }), decision('cy', { revision: 6 })];
    expect(evaluateGate(input('medium', { approvals: { approvals: stale, refusals: [] } })).ok).toBe(false);
  });

  it('a refusal blocks whatever the approvals', () => {
    const result = evaluateGate(input('medium', { approvals: { approvals: [decision('bo'), decision('cy')], refusals: [decision('dee', { decision: 'refuse' })] } }));
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([expect.objectContaining({ code: 'refusals', message: expect.stringContaining('dee') })]);
  });

  it('requires a passed analysis when the tier or the config says so', () => {
    const approved = { approvals: [decision('bo')], refusals: [] };
    for (const verdict of ['fail', 'inconclusive'] as const) {
      const result = evaluateGate(input('medium', { approvals: approved, lastAnalysis: { verdict, at: '2026-12-07T05:00:00.000Z', rolloutId: 'rol_1' } }));
      expect(result.issues).toEqual([expect.objectContaining({ pointer: '/gates/analysis', code: 'analysis' })]);
    }
    expect(evaluateGate(input('medium', { approvals: approved, lastAnalysis: undefined })).ok).toBe(false);
    expect(evaluateGate(input('medium', { approvals: approved })).ok).toBe(true);
    expect(evaluateGate(input('medium', { approvals: approved, gates: gates('medium', { analysis: 'optional' }), lastAnalysis: undefined })).ok).toBe(true);
    expect(evaluateGate(input('low', { gates: gates('low', { analysis: 'required' }), lastAnalysis: undefined })).ok).toBe(false);
  });

  it('checks evaluation bounds, inclusive, and fails a metric the version did not register', () => {
    const at = (config: GatesConfig) => evaluateGate(input('low', { gates: gates('low', config) }));
    expect(at({ evaluation: { accuracy: { min: 0.93 } } }).ok).toBe(true);
    expect(at({ evaluation: { accuracy: { min: 0.931 } } }).issues).toEqual([expect.objectContaining({ pointer: '/gates/evaluation/accuracy', code: 'evaluation' })]);
    expect(at({ evaluation: { latency_p95_ms: { max: 40 } } }).ok).toBe(true);
    expect(at({ evaluation: { latency_p95_ms: { max: 39.9 } } }).ok).toBe(false);
    expect(at({ evaluation: { accuracy: { min: 0.9, max: 0.92 } } }).ok).toBe(false);
    expect(at({ evaluation: { recall: { min: 0.5 } } }).issues[0]!.message).toContain('registered no evaluation of recall');
    expect(evaluateGate(input('low', { gates: gates('low', { evaluation: { accuracy: { min: 0.5 } } }), version: { name: 'v2', digest, author: 'alice' } })).ok).toBe(false);
  });

  it('checks every subgroup against its bound and names the ones that miss it', () => {
    const at = (config: GatesConfig) => evaluateGate(input('low', { gates: gates('low', config) }));
    expect(at({ evaluation: { subgroups: { accuracy: { min: 0.88 } } } }).ok).toBe(true);
    const miss = at({ evaluation: { subgroups: { accuracy: { min: 0.9 } } } });
    expect(miss.issues).toEqual([expect.objectContaining({ pointer: '/gates/evaluation/subgroups/accuracy', code: 'subgroups', message: expect.stringContaining('lang=de 0.88') })]);
    expect(miss.issues[0]!.message).not.toContain('lang=en');
    expect(at({ evaluation: { subgroups: { recall: { min: 0.1 } } } }).ok).toBe(false);
  });

  it('is ok exactly when every check is, with one issue per failed check', () => {
    const principal = fc.constantFrom('alice', 'bo', 'cy', 'dee');
    const arbDecision = fc.record({ principal, decision: fc.constantFrom('approve' as const, 'refuse' as const), stale: fc.boolean() });
    fc.assert(
      fc.property(fc.constantFrom<RiskTier>('low', 'medium', 'high'), fc.array(arbDecision, { maxLength: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), (risk, ds, min) => {
        const all = ds.map((d, i) => decision(d.principal, { id: `apv_${i}`, decision: d.decision, revision: d.stale ? 6 : 7 }));
        const result = evaluateGate(input(risk, { gates: gates(risk, { evaluation: { accuracy: { min } } }), approvals: { approvals: all.filter((d) => d.decision === 'approve'), refusals: all.filter((d) => d.decision === 'refuse') } }));
        expect(result.ok).toBe(result.checks.every((c) => c.ok));
        expect(result.issues.length).toBe(result.checks.filter((c) => !c.ok).length);
        // Independently: distinct current non-author approvers against the tier, no current refusal, the bound.
        const approvers = new Set(all.filter((d) => d.decision === 'approve' && d.revision === 7 && d.principal !== 'alice').map((d) => d.principal));
        const refused = all.some((d) => d.decision === 'refuse' && d.revision === 7);
        const expected = approvers.size >= { low: 0, medium: 1, high: 2 }[risk] && !refused && 0.93 >= min;
        expect(result.ok).toBe(expected);
      }),
    );
  });
});
