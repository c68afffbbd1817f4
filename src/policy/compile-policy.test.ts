import { describe, expect, it } from 'vitest';
import { BallastError } from '../errors/index.js';
import { compilePolicy } from './compile-policy.js';
import type { PolicyConfig, RuleConfig } from './policy-config.js';

const pre = (name: string, when: string, action: RuleConfig['action'] = 'review', extra: Partial<RuleConfig> = {}): RuleConfig => ({ name, stage: 'pre', when, action, ...extra });
const post = (name: string, when: string, action: RuleConfig['action'] = 'review', extra: Partial<RuleConfig> = {}): RuleConfig => ({ name, stage: 'post', when, action, ...extra });

function firing(rules: RuleConfig[], input: Record<string, unknown>, context?: Record<string, unknown>) {
  return compilePolicy({ rules })
    .evaluatePre({ input, context })
    .fired.map((rule) => (rule.error ? `${rule.name}:error` : rule.name));
}

describe('compilePolicy applies the defaults', () => {
  it('in one place', () => {
    const policy = compilePolicy({});
    expect(policy.thresholds).toEqual({ auto: 0.5 });
    expect([policy.missingConfidence, policy.reviewOnQualityFlags, policy.onModelError]).toEqual(['review', false, 'review']);
    expect(policy.evaluatePre({ input: {} }).fired).toEqual([]);
  });
});

describe('CEL in rules', () => {
  it('compares JSON numbers (doubles) with int and double literals alike', () => {
    const rules = [pre('over-int', 'input.amount > 50000'), pre('over-double', 'input.amount > 50000.0'), pre('equal-int', 'input.amount == 50001')];
    expect(firing(rules, { amount: 50001 })).toEqual(['over-int', 'over-double', 'equal-int']);
    expect(firing(rules, { amount: 50001.5 })).toEqual(['over-int', 'over-double']);
    expect(firing(rules, { amount: 50000 })).toEqual([]);
    expect(firing(rules, { amount: 49999.99 })).toEqual([]);
  });

  it('does arithmetic across ints and doubles', () => {
    const rules = [pre('double-it', 'input.amount * 2 > 100'), pre('plus-one', '1 + input.amount == 8'), pre('half', 'input.amount / 2 == 3.5')];
    expect(firing(rules, { amount: 7 })).toEqual(['plus-one', 'half']);
    expect(firing(rules, { amount: 51 })).toEqual(['double-it']);
  });

  it('has string functions', () => {
    const rules = [pre('free', 'input.subject.contains("FREE")'), pre('re', 'input.subject.matches("^RE:")'), pre('long', 'size(input.subject) > 10')];
    expect(firing(rules, { subject: 'RE: FREE money' })).toEqual(['free', 're', 'long']);
    expect(firing(rules, { subject: 'hello' })).toEqual([]);
  });

  it('has has(), for input and for a context that was not given', () => {
    const rules = [pre('has-x', 'has(input.x)'), pre('vip', 'has(context.vip) && context.vip == true')];
    expect(firing(rules, { x: null })).toEqual(['has-x']);
    expect(firing(rules, {})).toEqual([]);
    expect(firing(rules, {}, { vip: true })).toEqual(['vip']);
  });

  it('lists and membership', () => {
    expect(firing([pre('in', 'input.channel in ["fax", "post"]'), pre('n', 'input.tags.exists(t, t == "urgent")')], { channel: 'fax', tags: ['urgent'] })).toEqual(['in', 'n']);
  });
});

describe('rules never crash a request', () => {
  it('a missing field, a type error and a non-bool result force review with the CEL message', () => {
    const policy = compilePolicy({ rules: [pre('missing', 'input.amount > 5', 'reject'), pre('typed', 'input.subject > 5', 'flag'), pre('not-bool', 'input.subject')] });
    const fired = policy.evaluatePre({ input: { subject: 'hi' } }).fired;
    expect(fired).toEqual([
      { name: 'missing', stage: 'pre', action: 'review', reason: 'missing', error: { code: 'rule_runtime_error', message: 'No such key: amount' } },
      { name: 'typed', stage: 'pre', action: 'review', reason: 'typed', error: { code: 'rule_runtime_error', message: expect.stringContaining('no such overload') } },
      { name: 'not-bool', stage: 'pre', action: 'review', reason: 'not-bool', error: { code: 'rule_not_bool', message: 'when yielded a string, not a bool' } },
    ]);
  });

  it('a null confidence compared as a number is a rule error, not a crash', () => {
    const policy = compilePolicy({ rules: [post('low', 'confidence < 0.3', 'reject'), post('guarded', 'confidence != null && confidence < 0.3', 'reject')] });
    const fired = policy.evaluatePost({ input: {}, output: {}, confidence: null, version: 'v1' }).fired;
    expect(fired.map((rule) => [rule.name, rule.action, rule.error?.code])).toEqual([['low', 'review', 'rule_runtime_error']]);
  });
});

describe('actions', () => {
  const policy = compilePolicy({
    rules: [
      pre('big', 'input.amount > 100', 'reject', { reason: 'Too big' }),
      pre('mid', 'input.amount > 10', 'review'),
      pre('note', 'input.amount > 1', 'flag'),
      post('ham-for-friends', 'has(context.friend) && output.label == "spam"', 'override', { set: { label: '"ham"', score: 'confidence * 0', note: '"by " + version', n: '1 + 2' } }),
      post('v2-only', 'version == "v2"', 'flag'),
    ],
  });

  it('fire in config order with their reasons (the name by default)', () => {
    expect(policy.evaluatePre({ input: { amount: 500 } }).fired).toEqual([
      { name: 'big', stage: 'pre', action: 'reject', reason: 'Too big' },
      { name: 'mid', stage: 'pre', action: 'review', reason: 'mid' },
      { name: 'note', stage: 'pre', action: 'flag', reason: 'note' },
    ]);
  });

  it('override returns a new output and keeps the original intact', () => {
    const original = Object.freeze({ label: 'spam', score: 0.9, extra: [1] });
    const result = policy.evaluatePost({ input: {}, context: { friend: true }, output: original, confidence: 0.9, version: 'v2' });
    expect(result.output).toEqual({ label: 'ham', score: 0, note: 'by v2', n: 3, extra: [1] });
    expect(original).toEqual({ label: 'spam', score: 0.9, extra: [1] });
    expect(result.fired).toEqual([
      { name: 'ham-for-friends', stage: 'post', action: 'override', reason: 'ham-for-friends', fields: ['label', 'score', 'note', 'n'] },
      { name: 'v2-only', stage: 'post', action: 'flag', reason: 'v2-only' },
    ]);
  });

  it('leaves the output itself when no override fires', () => {
    const output = { label: 'spam' };
    expect(policy.evaluatePost({ input: {}, output, confidence: 0.9, version: 'v1' }).output).toBe(output);
  });

  it('an override on an output that is not an object is a rule error', () => {
    const always = compilePolicy({ rules: [post('always', 'true', 'override', { set: { label: '"ham"' } })] });
    const result = always.evaluatePost({ input: {}, output: 'spam', confidence: 0.9, version: 'v1' });
    expect(result.output).toBe('spam');
    expect(result.fired).toEqual([
      { name: 'always', stage: 'post', action: 'review', reason: 'always', error: { code: 'rule_bad_output', message: 'an override needs an output that is an object' } },
    ]);
  });

  it('a later override wins on the same field; every rule sees the model output', () => {
    const two = compilePolicy({
      rules: [post('first', 'output.label == "spam"', 'override', { set: { label: '"ham"' } }), post('second', 'output.label == "spam"', 'override', { set: { label: '"eggs"' } })],
    });
    const result = two.evaluatePost({ input: {}, output: { label: 'spam' }, confidence: 0.9, version: 'v1' });
    expect(result.output).toEqual({ label: 'eggs' });
    expect(result.fired.map((r) => r.name)).toEqual(['first', 'second']);
  });

  it('an override whose value cannot be JSON is a rule error and changes nothing', () => {
    const bytes = compilePolicy({ rules: [post('b', 'true', 'override', { set: { label: '"ok"', raw: 'b"abc"' } })] });
    const result = bytes.evaluatePost({ input: {}, output: { label: 'x' }, confidence: 1, version: 'v1' });
    expect(result.output).toEqual({ label: 'x' });
    expect(result.fired[0]?.error).toEqual({ code: 'rule_bad_value', message: 'set raw: a bytes value cannot be stored as JSON' });
  });
});

describe('compilePolicy rejects bad config with pointers into the block', () => {
  function configIssues(config: unknown) {
    try {
      compilePolicy(config as PolicyConfig);
    } catch (error) {
      expect(error).toBeInstanceOf(BallastError);
      expect((error as BallastError).code).toBe('CONFIG_INVALID');
      return (error as BallastError).issues.map((i) => ({ at: `${i.pointer} ${i.code}`, message: i.message }));
    }
    throw new Error('expected CONFIG_INVALID');
  }
  const at = (config: unknown) => configIssues(config).map((i) => i.at);

  it('a CEL syntax error, with the CEL message', () => {
    expect(configIssues({ rules: [pre('a', 'true'), pre('b', 'true'), pre('c', 'input.amount >')] })).toEqual([
      { at: '/rules/2/when cel_syntax', message: 'invalid CEL: Unexpected token: EOF (at character 15)' },
    ]);
  });

  it('an unknown variable, and a post variable in a pre rule', () => {
    expect(configIssues({ rules: [pre('a', 'inptu.x == 1'), pre('b', 'output.label == "spam"')] })).toEqual([
      { at: '/rules/0/when cel_type', message: 'invalid CEL: Unknown variable: inptu (at character 1)' },
      { at: '/rules/1/when cel_type', message: 'invalid CEL: Unknown variable: output (at character 1); pre rules run before the model and see only input and context' },
    ]);
  });

  it('a when that cannot yield a bool', () => {
    expect(configIssues({ rules: [pre('a', '1 + 2')] })).toEqual([{ at: '/rules/0/when cel_not_bool', message: 'when must yield a bool, but this yields int' }]);
  });

  it('an override on a pre rule, set without override, override without set, a duplicate name', () => {
    expect(
      at({
        rules: [
          pre('a', 'true', 'override', { set: { label: '"x"' } }),
          post('b', 'true', 'review', { set: { label: '"x"' } }),
          post('c', 'true', 'override'),
          pre('a', 'true'),
          post('d', 'true', 'override', { set: { label: '"x" +' } }),
        ],
      }),
    ).toEqual(['/rules/0/action override_before_model', '/rules/1/set set_without_override', '/rules/2/set override_without_set', '/rules/3/name duplicate_name', '/rules/4/set/label cel_syntax']);
  });

  it('reject at or above auto', () => {
    expect(at({ thresholds: { auto: 0.6, reject: 0.6 } })).toEqual(['/thresholds/reject threshold_order']);
    expect(compilePolicy({ thresholds: { auto: 0.6, reject: 0.59 } }).thresholds).toEqual({ auto: 0.6, reject: 0.59 });
  });

  it('a block that does not match policyConfigSchema', () => {
    expect(at({ thresholds: { auto: 1.5 }, onModelError: 'ignore', rules: [{ name: 'Bad Name', stage: 'mid', when: 'true', action: 'review', extra: 1 }] })).toEqual([
      '/thresholds/auto maximum',
      '/onModelError enum',
      '/rules/0/extra additionalProperties',
      '/rules/0/name pattern',
      '/rules/0/stage enum',
    ]);
  });
});

describe('high-stakes rules', () => {
  const rules: RuleConfig[] = [
    pre('large-amount', 'input.amount > 10000', 'review', { stakes: 'high' }),
    pre('new-customer', 'input.new == true', 'flag', { stakes: 'normal' }),
    pre('broken', 'input.missing.deep > 1', 'flag', { stakes: 'high' }),
  ];
  it('mark what they fire as high stakes, and only when they fire', () => {
    const fired = compilePolicy({ rules: rules.slice(0, 2) }).evaluatePre({ input: { amount: 20000, new: true } }).fired;
    expect(fired.map((r) => [r.name, r.stakes])).toEqual([['large-amount', 'high'], ['new-customer', undefined]]);
    expect(compilePolicy({ rules: rules.slice(0, 2) }).evaluatePre({ input: { amount: 100, new: true } }).fired.map((r) => r.stakes)).toEqual([undefined]);
  });
  it('keep the higher bar when they cannot be evaluated', () => {
    const fired = compilePolicy({ rules: [rules[2]!] }).evaluatePre({ input: {} }).fired;
    expect(fired).toHaveLength(1);
    expect([fired[0]!.action, fired[0]!.stakes, fired[0]!.error?.code]).toEqual(['review', 'high', 'rule_runtime_error']);
  });
  it('refuse an unknown stakes value', () => {
    expect(() => compilePolicy({ rules: [pre('x', 'true', 'review', { stakes: 'urgent' as never })] })).toThrow(BallastError);
  });
});
