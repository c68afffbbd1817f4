import { describe, expect, it } from 'vitest';
import { compileContract, compilePolicy, type ContractConfig, type PolicyConfig } from '../index.js';
import { CREDIT_FIRST_VERSION, CREDIT_LARGE_AMOUNT, creditCategories, creditRanges, creditRequestInput, creditServiceConfig } from './credit-config.js';
import { loadGermanCredit } from './credit-data.js';
import { creditCategoricalFeatures, creditNumericFeatures } from './credit-model.js';

const rows = loadGermanCredit();
const block = creditServiceConfig('/tmp/credit-model.json', { modulePath: '/x/credit-model-module.js' });
const contractConfig = block.contract as ContractConfig;
const contract = compileContract(contractConfig, { redactionKey: 'test' });
const policy = compilePolicy(block.policy as PolicyConfig);

describe('credit-precheck config', () => {
  it('marks exactly the three protected attributes protected, and nothing pii', () => {
    const fields = contractConfig.input.fields!;
    expect(Object.entries(fields).filter(([, f]) => f.protected === true).map(([name]) => name).sort()).toEqual(['age_band', 'foreign_worker', 'sex']);
    expect(Object.values(fields).some((f) => f.pii === true)).toBe(false);
    // The model's features and the protected ones, nothing else: raw age and personal_status are not sent.
    expect(Object.keys(fields).sort()).toEqual([...creditNumericFeatures, ...creditCategoricalFeatures, 'age_band', 'sex', 'foreign_worker'].sort());
  });

  it('accepts every row of the data set without a quality flag, and flags what lies outside it', () => {
    for (const row of rows) {
      const input = creditRequestInput(row);
      const checked = contract.validateInput(input);
      expect(checked.ok).toBe(true);
      expect(contract.checkQuality(input)).toEqual([]);
    }
    const input = creditRequestInput(rows[0]!);
    expect(contract.checkQuality({ ...input, purpose: 'spaceship' }).map((f) => f.field)).toEqual(['purpose']);
    expect(contract.checkQuality({ ...input, credit_amount: 50_000 }).map((f) => f.field)).toEqual(['credit_amount']);
    expect(contract.validateInput({ ...input, sex: 'other' }).ok).toBe(false);
    const { age_band: _dropped, ...missing } = input;
    expect(contract.validateInput(missing).ok).toBe(false);
  });

  it('lists the data set’s categories and ranges exactly', () => {
    for (const name of Object.keys(creditCategories) as (keyof typeof creditCategories)[]) expect(new Set(rows.map((r) => r[name]))).toEqual(new Set(creditCategories[name]));
    for (const name of Object.keys(creditRanges) as (keyof typeof creditRanges)[]) {
      const values = rows.map((r) => r[name]);
      expect({ min: Math.min(...values), max: Math.max(...values) }).toEqual(creditRanges[name]);
    }
  });

  it('sends a large loan to high-stakes review before the model runs', () => {
    const input = creditRequestInput(rows[0]!);
    const fired = policy.evaluatePre({ input: { ...input, credit_amount: CREDIT_LARGE_AMOUNT + 1 } }).fired;
    expect(fired).toEqual([expect.objectContaining({ name: 'large-amount', action: 'review', stakes: 'high' })]);
    expect(policy.evaluatePre({ input: { ...input, credit_amount: CREDIT_LARGE_AMOUNT } }).fired).toEqual([]);
    // 4% of the applicants.
    expect(rows.filter((r) => r.credit_amount > CREDIT_LARGE_AMOUNT)).toHaveLength(40);
  });

  it('lets the model decline alone only at 90% confidence; approvals need the 0.8 threshold only', () => {
    const input = creditRequestInput(rows[0]!);
    const post = (label: string, confidence: number | null) => policy.evaluatePost({ input, output: { label, good_probability: 0.5 }, confidence, version: CREDIT_FIRST_VERSION }).fired.map((f) => f.name);
    expect(post('decline', 0.85)).toEqual(['decline-needs-confidence']);
    expect(post('decline', null)).toEqual(['decline-needs-confidence']);
    expect(post('decline', 0.9)).toEqual([]);
    expect(post('approve', 0.85)).toEqual([]);
    expect(policy.thresholds).toEqual({ auto: 0.8 });
    expect(policy.reviewOnQualityFlags).toBe(true);
  });

  it('segments monitoring by the protected attributes and judges fairness on approvals', () => {
    expect(block.monitoring).toMatchObject({ segments: ['sex', 'age_band', 'foreign_worker'], outputLabel: '/label' });
    expect(block.fairness).toEqual({ favourable: { pointer: '/label', equals: 'approve' }, fields: ['sex', 'age_band', 'foreign_worker'] });
    expect(creditServiceConfig('/w.json', { monitoring: { window: '1d' } }).monitoring).toMatchObject({ window: '1d', segments: ['sex', 'age_band', 'foreign_worker'] });
    const adapter = (block.models as Record<string, { adapter: Record<string, unknown> }>)[CREDIT_FIRST_VERSION]!.adapter;
    expect(adapter).toEqual({ kind: 'module', path: '/x/credit-model-module.js', export: 'createModel', options: { weightsPath: '/tmp/credit-model.json' } });
    expect(block.live).toBe(CREDIT_FIRST_VERSION);
  });
});
