import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QualityFlag } from '../contracts/index.js';
import { compilePolicy } from './compile-policy.js';
import { decideOutcome, type DecideOptions, type DecisionOutcome } from './decide.js';
import type { PolicyConfig } from './policy-config.js';
import type { FiredRule } from './rule.js';

const base = (config: PolicyConfig = { thresholds: { auto: 0.8, reject: 0.2 } }): DecideOptions => ({ policy: compilePolicy(config), preFired: [], postFired: [], qualityFlags: [] });
const decide = (extra: Partial<DecideOptions>, config?: PolicyConfig) => decideOutcome({ ...base(config), ...extra });
const outcomeAt = (confidence: number, config?: PolicyConfig) => decide({ confidence }, config).outcome;
const rank: Record<DecisionOutcome, number> = { auto: 0, fallback: 0.5, review: 1, rejected: 2 };

const rule = (name: string, action: FiredRule['action'], extra: Partial<FiredRule> = {}): FiredRule => ({ name, stage: 'post', action, reason: name, ...extra });
const flag: QualityFlag = { field: 'amount', pointer: '/amount', code: 'out_of_range', message: 'amount is 9e9, outside the expected range [0, 20000]', value: 9e9 };

describe('thresholds', () => {
  it('decide at and around the boundaries', () => {
    expect([0.8, 0.81, 1].map((c) => outcomeAt(c))).toEqual(['auto', 'auto', 'auto']);
    expect([0.7999, 0.5, 0.2].map((c) => outcomeAt(c))).toEqual(['review', 'review', 'review']);
    expect([0.1999, 0.1, 0].map((c) => outcomeAt(c))).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('without a reject threshold, low confidence goes to review', () => {
    expect(outcomeAt(0, { thresholds: { auto: 0.8 } })).toBe('review');
    expect(outcomeAt(0.5, {})).toBe('auto');
  });

  it('say why, with the numbers', () => {
    expect(decide({ confidence: 0.62 }).reasons).toEqual([
      { kind: 'threshold', code: 'confidence_below_auto', message: 'confidence 0.62 is below the auto threshold 0.80', effect: 'review' },
    ]);
    expect(decide({ confidence: 0.91 }).reasons[0]?.message).toBe('confidence 0.91 is at or above the auto threshold 0.80');
    expect(decide({ confidence: 0.05 }).reasons[0]).toMatchObject({ code: 'confidence_below_reject', message: 'confidence 0.05 is below the reject threshold 0.20', effect: 'rejected' });
    // Never "0.80 is below 0.80": digits are added until the two differ.
    expect(decide({ confidence: 0.7999 }).reasons[0]?.message).toBe('confidence 0.7999 is below the auto threshold 0.8000');
  });

  it('outcome is monotone in confidence (higher confidence is never a worse outcome)', () => {
    const thresholds = fc
      .tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean())
      .map(([a, b, withReject]) => ({ auto: Math.max(a, b), reject: withReject && Math.min(a, b) < Math.max(a, b) ? Math.min(a, b) : undefined }));
    const confidence = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(thresholds, confidence, confidence, ({ auto, reject }, c1, c2) => {
        const config = { thresholds: reject === undefined ? { auto } : { auto, reject } };
        const [low, high] = c1 <= c2 ? [c1, c2] : [c2, c1];
        expect(rank[outcomeAt(high, config)]).toBeLessThanOrEqual(rank[outcomeAt(low, config)]);
      }),
      { numRuns: 500 },
    );
  });

  it('an impossible confidence goes to review', () => {
    for (const confidence of [Number.NaN, -0.1, 1.5]) expect(decide({ confidence }).reasons[0]).toMatchObject({ kind: 'missing_confidence', code: 'confidence_invalid', effect: 'review' });
  });
});

describe('missing confidence', () => {
  it('goes to review by default, or auto when the policy says so', () => {
    expect(decide({})).toEqual({ outcome: 'review', reasons: [{ kind: 'missing_confidence', code: 'confidence_missing', message: 'the model gave no confidence; a human reviews it', effect: 'review' }] });
    expect(decide({}, { missingConfidence: 'auto' }).outcome).toBe('auto');
  });

  it('is not a reason when a pre rule rejected and the model was skipped', () => {
    const preFired = [{ ...rule('blocked', 'reject'), stage: 'pre' as const }];
    expect(decide({ modelSkipped: true, preFired }).reasons.map((r) => r.kind)).toEqual(['rule']);
  });
});

describe('rules', () => {
  it('reject beats review beats auto, and every reason is listed, deciding ones first', () => {
    const result = decide({ confidence: 0.95, postFired: [rule('note', 'flag', { reason: 'Worth a look' }), rule('check', 'review'), rule('stop', 'reject', { reason: 'Sanctioned country' })] });
    expect(result.outcome).toBe('rejected');
    expect(result.reasons).toEqual([
      { kind: 'rule', code: 'stop', message: 'Sanctioned country', effect: 'rejected', rule: 'stop' },
      { kind: 'rule', code: 'check', message: 'rule check matched', effect: 'review', rule: 'check' },
      { kind: 'threshold', code: 'confidence_at_or_above_auto', message: 'confidence 0.95 is at or above the auto threshold 0.80', effect: 'auto' },
      { kind: 'rule', code: 'note', message: 'Worth a look', effect: 'none', rule: 'note' },
    ]);
  });

  it('a flag or an override adds a reason without changing the outcome', () => {
    const result = decide({ confidence: 0.95, postFired: [rule('note', 'flag'), rule('fix', 'override', { fields: ['label'] })] });
    expect(result.outcome).toBe('auto');
    expect(result.reasons.map((r) => [r.code, r.message])).toEqual([
      ['confidence_at_or_above_auto', 'confidence 0.95 is at or above the auto threshold 0.80'],
      ['note', 'rule note matched'],
      ['fix', 'rule fix matched (set label)'],
    ]);
  });

  it('a rule error forces review, whatever the rule meant to do', () => {
    const broken = rule('stop', 'review', { error: { code: 'rule_runtime_error', message: 'No such key: country' } });
    expect(decide({ confidence: 0.95, postFired: [broken] })).toEqual({
      outcome: 'review',
      reasons: [
        { kind: 'rule_error', code: 'rule_runtime_error', message: 'rule stop could not be evaluated (No such key: country); a human reviews the case', effect: 'review', rule: 'stop' },
        { kind: 'threshold', code: 'confidence_at_or_above_auto', message: 'confidence 0.95 is at or above the auto threshold 0.80', effect: 'auto' },
      ],
    });
  });
});

describe('quality flags', () => {
  it('force review only when the policy says so', () => {
    expect(decide({ confidence: 0.95, qualityFlags: [flag] }).outcome).toBe('auto');
    const strict = decide({ confidence: 0.95, qualityFlags: [flag] }, { reviewOnQualityFlags: true });
    expect(strict.outcome).toBe('review');
    expect(strict.reasons[0]).toEqual({ kind: 'quality', code: 'out_of_range', message: flag.message, effect: 'review', field: 'amount' });
  });
});

describe('model failures', () => {
  it('a model error yields onModelError (review by default)', () => {
    expect(decide({ modelError: { code: 'UPSTREAM_TIMEOUT', message: 'no answer within 1000 ms' } })).toEqual({
      outcome: 'review',
      reasons: [{ kind: 'model_error', code: 'UPSTREAM_TIMEOUT', message: 'the model failed: no answer within 1000 ms', effect: 'review' }],
    });
    expect(decide({ modelError: { code: 'MODEL_ERROR', message: 'boom' } }, { onModelError: 'reject' }).outcome).toBe('rejected');
  });

  it('an invalid output yields onModelError, one reason per issue, and ignores its confidence', () => {
    const outputIssues = [{ pointer: '/label', code: 'enum', message: 'label must be one of "spam", "ham"' }];
    expect(decide({ confidence: 0.99, outputIssues }, { onModelError: 'reject' })).toEqual({
      outcome: 'rejected',
      reasons: [{ kind: 'output_invalid', code: 'enum', message: 'the model\'s output broke the contract: label must be one of "spam", "ham"', effect: 'rejected', field: '/label' }],
    });
  });
});

describe('a fallback answer', () => {
  const failure = { code: 'UPSTREAM_TIMEOUT', message: 'no answer within 200 ms' };
  it('is fallback for a rules or static step, and the model failure only informs', () => {
    for (const kind of ['rules', 'static'] as const) {
      const verdict = decide({ modelError: failure, fallback: { kind, name: kind, message: `fallback step 1 (${kind}) answered` } });
      expect(verdict.outcome).toBe('fallback');
      expect(verdict.reasons[0]).toMatchObject({ kind: 'fallback', code: kind, effect: 'fallback' });
      expect(verdict.reasons.find((r) => r.kind === 'model_error')).toMatchObject({ code: 'UPSTREAM_TIMEOUT', effect: 'none' });
      expect(verdict.reasons.some((r) => r.kind === 'missing_confidence')).toBe(false);
    }
  });

  it('from another version is held to the thresholds: confident is fallback, unsure is review, very unsure is rejected', () => {
    const fallback = { kind: 'version', name: 'v0', message: 'fallback step 1 (v0) answered' } as const;
    expect(decide({ modelError: failure, fallback, confidence: 0.9 }).outcome).toBe('fallback');
    expect(decide({ modelError: failure, fallback, confidence: 0.5 }).outcome).toBe('review');
    expect(decide({ modelError: failure, fallback, confidence: 0.1 }).outcome).toBe('rejected');
    expect(decide({ modelError: failure, fallback }).outcome).toBe('review');
  });

  it('is review for a review step, whatever onModelError says', () => {
    const verdict = decide({ modelError: failure, fallback: { kind: 'review', name: 'review', message: 'the chain sends the case to review' } }, { onModelError: 'reject' });
    expect(verdict.outcome).toBe('review');
  });

  it('still loses to a reject rule and to an override that broke the contract', () => {
    const fallback = { kind: 'static', name: 'static', message: 'fallback step 1 (static) answered' } as const;
    expect(decide({ modelError: failure, fallback, postFired: [rule('never', 'reject')] }).outcome).toBe('rejected');
    expect(decide({ modelError: failure, fallback, outputIssues: [{ pointer: '/label', code: 'enum', message: 'must be one of spam, ham' }] }).outcome).toBe('review');
  });
});

describe('advisory mode', () => {
  it("sends what the model alone would decide to review, with that verdict as the first reason", () => {
    const auto = decide({ confidence: 0.95, advisory: true });
    expect(auto.outcome).toBe('review');
    expect(auto.reasons.map((r) => [r.kind, r.code, r.effect])).toEqual([
      ['advisory', 'advisory_auto', 'review'],
      ['threshold', 'confidence_at_or_above_auto', 'auto'],
    ]);
    expect(decide({ confidence: 0.1, advisory: true }).reasons[0]).toMatchObject({ kind: 'advisory', code: 'advisory_rejected' });
    // Already going to a human: nothing to add.
    expect(decide({ confidence: 0.5, advisory: true }).reasons.map((r) => r.kind)).toEqual(['threshold']);
    // Off: as before.
    expect(decide({ confidence: 0.95, advisory: false }).outcome).toBe('auto');
  });

  it("leaves a rule's reject and a failure's outcome as they are", () => {
    expect(decide({ confidence: 0.95, advisory: true, preFired: [rule('sanctioned', 'reject')] }).outcome).toBe('rejected');
    const failed = decide({ advisory: true, modelError: { code: 'UPSTREAM_TIMEOUT', message: 'timed out' } }, { thresholds: { auto: 0.8 }, onModelError: 'reject' });
    expect([failed.outcome, failed.reasons.some((r) => r.kind === 'advisory')]).toEqual(['rejected', false]);
  });
});
