// The `rules` step of a fallback chain: CEL rules that compute an output without the model (a
// conservative default by segment). The first rule whose `when` holds answers; each field of its
// `output` is a CEL expression over `input` and `context`, like an override's `set`.
import { BallastError, type Issue } from '../errors/index.js';
import { celEnvironment } from './cel-environment.js';
import { celMessage, evaluateWhen, type CompiledRule } from './rule.js';
import { toJsonValue } from './to-json-value.js';

/** One rule of a fallback `rules` step as configured. */
export interface FallbackRuleConfig {
  readonly name: string;
  /** CEL over input and context; true picks this rule. Default: always. */
  readonly when?: string;
  /** Output field → CEL expression giving its value. */
  readonly output: Readonly<Record<string, string>>;
}

/** What a `rules` step produced: an output, or why it could not. */
export type FallbackRulesResult =
  | { readonly ok: true; readonly rule: string; readonly output: Record<string, unknown> }
  | { readonly ok: false; readonly code: 'FALLBACK_NO_RULE_MATCHED' | 'POLICY_RULE_FAILED'; readonly message: string; readonly rule?: string };

export interface FallbackRules {
  readonly names: readonly string[];
  /** Evaluates the rules in order; never throws. */
  evaluate(vars: { readonly input: Readonly<Record<string, unknown>>; readonly context?: Readonly<Record<string, unknown>> | null | undefined }): FallbackRulesResult;
}

export const fallbackRuleSchema = {
  type: 'object',
  required: ['name', 'output'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
    when: { type: 'string', minLength: 1, description: 'CEL over input and context; default true.' },
    output: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 }, description: 'Output field → CEL expression.' },
  },
} as const;

interface Compiled {
  readonly rule: CompiledRule;
  readonly fields: readonly (readonly [string, CompiledRule['when']])[];
}

/** Compiles a `rules` step; problems are CONFIG_INVALID with pointers inside the list (`/1/output/label`). */
export function compileFallbackRules(rules: readonly FallbackRuleConfig[]): FallbackRules {
  const issues: Issue[] = [];
  const names = new Set<string>();
  const env = celEnvironment('pre');
  const parse = (expression: string, pointer: string, mustBeBool: boolean) => {
    try {
      const parsed = env.parse(expression);
      const checked = parsed.check();
      if (!checked.valid) issues.push({ pointer, code: 'cel_type', message: `invalid CEL: ${celMessage(checked.error)}; fallback rules see only input and context` });
      else if (mustBeBool && checked.type !== 'bool' && checked.type !== 'dyn') issues.push({ pointer, code: 'cel_not_bool', message: `when must yield a bool, but this yields ${checked.type ?? 'another type'}` });
      return parsed;
    } catch (error) {
      issues.push({ pointer, code: 'cel_syntax', message: `invalid CEL: ${celMessage(error)}` });
      return undefined;
    }
  };
  const compiled: Compiled[] = rules.map((config, index) => {
    if (names.has(config.name)) issues.push({ pointer: `/${index}/name`, code: 'duplicate_name', message: `another fallback rule is already named ${config.name}` });
    names.add(config.name);
    const when = parse(config.when ?? 'true', `/${index}/when`, true);
    const fields = Object.entries(config.output).map(([field, expression]) => [field, parse(expression, `/${index}/output/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`, false)] as const);
    const rule: CompiledRule = { name: config.name, stage: 'pre', action: 'override', reason: config.name, when: when!, set: [] };
    return { rule, fields: fields as Compiled['fields'] };
  });
  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: 'the fallback rules are invalid', issues });

  return {
    names: rules.map((rule) => rule.name),
    evaluate(vars) {
      const scope = { input: vars.input, context: vars.context ?? {} };
      for (const { rule, fields } of compiled) {
        const verdict = evaluateWhen(rule, scope);
        if (verdict === false) continue;
        if (verdict !== true) return { ok: false, code: 'POLICY_RULE_FAILED', rule: rule.name, message: `fallback rule ${rule.name} could not be evaluated (${verdict.error?.message ?? 'error'})` };
        const output: Record<string, unknown> = {};
        for (const [field, expression] of fields) {
          let value: unknown;
          try {
            value = expression(scope);
          } catch (error) {
            return { ok: false, code: 'POLICY_RULE_FAILED', rule: rule.name, message: `fallback rule ${rule.name}: output ${field}: ${celMessage(error)}` };
          }
          const json = toJsonValue(value);
          if (!json.ok) return { ok: false, code: 'POLICY_RULE_FAILED', rule: rule.name, message: `fallback rule ${rule.name}: output ${field}: ${json.message}` };
          Object.defineProperty(output, field, { value: json.value, enumerable: true, writable: true, configurable: true });
        }
        return { ok: true, rule: rule.name, output };
      }
      return { ok: false, code: 'FALLBACK_NO_RULE_MATCHED', message: `no fallback rule matched (${rules.map((r) => r.name).join(', ')})` };
    },
  };
}
