// Compiles a policy once at config time: every CEL expression parsed and type-checked, every
// cross-field rule checked, so that only runtime data can make a rule fail on the hot path.
import type { ParseResult } from '@marcbachmann/cel-js';
import { appendPointer, createSchemaValidator, type SchemaValidator } from '../contracts/index.js';
import { BallastError, type Issue } from '../errors/index.js';
import { celEnvironment } from './cel-environment.js';
import { compileCrossChecks, type CrossChecker } from './cross-check.js';
import { evaluatePostRules, evaluatePreRules, type PostEvaluation, type PostRuleInput, type PreEvaluation, type PreRuleInput } from './evaluate-rules.js';
import { policyConfigSchema, resolvePolicyConfig, type PolicyConfig, type ResolvedPolicyConfig, type RuleConfig, type RuleStage } from './policy-config.js';
import { celMessage, type CompiledRule } from './rule.js';

/** A compiled decision policy: its settings with defaults applied, and rule evaluation per stage. */
export interface Policy extends Omit<ResolvedPolicyConfig, 'crossChecks'> {
  /** The checkers, compiled (their versions are checked against the service's models when it is compiled). */
  readonly crossChecks: readonly CrossChecker[];
  /** The rules as configured, each with its `reason` filled in (serializable, for explanations and the API). */
  readonly rules: readonly RuleConfig[];
  /** Runs the pre rules (vars: input, context) and returns those that fired or failed. */
  evaluatePre(vars: PreRuleInput): PreEvaluation;
  /** Runs the post rules and returns those that fired or failed, and the output after overrides. */
  evaluatePost(vars: PostRuleInput): PostEvaluation;
}

let configValidator: SchemaValidator<PolicyConfig> | undefined;

/** Compiles a policy block; a bad one throws CONFIG_INVALID with pointers inside the block (`/rules/2/when`). */
export function compilePolicy(config: PolicyConfig): Policy {
  configValidator ??= createSchemaValidator<PolicyConfig>(policyConfigSchema, { subject: 'the policy' });
  const shape = configValidator(config);
  if (!shape.ok) throw invalid(shape.issues);
  const resolved = resolvePolicyConfig(config);
  const issues: Issue[] = [];
  const { auto, reject } = resolved.thresholds;
  if (reject !== undefined && reject >= auto) {
    issues.push({ pointer: '/thresholds/reject', code: 'threshold_order', message: `the reject threshold ${reject} must be below the auto threshold ${auto}` });
  }
  const names = new Set<string>();
  const rules = resolved.rules.map((rule, index) => {
    const pointer = `/rules/${index}`;
    if (names.has(rule.name)) issues.push({ pointer: `${pointer}/name`, code: 'duplicate_name', message: `another rule is already named ${rule.name}` });
    names.add(rule.name);
    issues.push(...checkActionAndSet(rule, pointer));
    return compileRule(rule, pointer, issues);
  });
  const crossChecks = compileCrossChecks(resolved.crossChecks, issues);
  if (issues.length > 0) throw invalid(issues);
  const pre = rules.filter((rule) => rule.stage === 'pre');
  const post = rules.filter((rule) => rule.stage === 'post');
  return Object.freeze({
    thresholds: resolved.thresholds,
    missingConfidence: resolved.missingConfidence,
    reviewOnQualityFlags: resolved.reviewOnQualityFlags,
    onModelError: resolved.onModelError,
    advisory: resolved.advisory,
    crossChecks: Object.freeze(crossChecks),
    rules: Object.freeze(resolved.rules.map((rule) => Object.freeze({ ...rule, reason: rule.reason ?? rule.name }))),
    evaluatePre: (vars: PreRuleInput) => evaluatePreRules(pre, vars),
    evaluatePost: (vars: PostRuleInput) => evaluatePostRules(post, vars),
  });
}

function checkActionAndSet(rule: RuleConfig, pointer: string): Issue[] {
  if (rule.action === 'override' && rule.stage === 'pre') {
    return [{ pointer: `${pointer}/action`, code: 'override_before_model', message: `rule ${rule.name}: override is for post rules; there is no output before the model` }];
  }
  if (rule.set !== undefined && rule.action !== 'override') {
    return [{ pointer: `${pointer}/set`, code: 'set_without_override', message: `rule ${rule.name}: set needs action override` }];
  }
  if (rule.set === undefined && rule.action === 'override') {
    return [{ pointer: `${pointer}/set`, code: 'override_without_set', message: `rule ${rule.name}: an override needs set (output field → expression)` }];
  }
  return [];
}

// Pushes problems onto `issues` and still returns a rule, so that one pass reports every problem.
function compileRule(rule: RuleConfig, pointer: string, issues: Issue[]): CompiledRule {
  const when = compileExpression(rule.stage, rule.when, `${pointer}/when`, issues, true);
  const set = Object.entries(rule.set ?? {}).map(
    ([field, expression]) => [field, compileExpression(rule.stage, expression, appendPointer(`${pointer}/set`, field), issues, false)] as const,
  );
  return { name: rule.name, stage: rule.stage, action: rule.action, reason: rule.reason ?? rule.name, ...(rule.stakes === 'high' ? { stakes: 'high' as const } : {}), when, set };
}

const unusable = Object.assign(() => undefined, { ast: undefined, check: () => ({ valid: false }) }) as unknown as ParseResult;

function compileExpression(stage: RuleStage, expression: string, pointer: string, issues: Issue[], mustBeBool: boolean): ParseResult {
  let parsed: ParseResult;
  try {
    parsed = celEnvironment(stage).parse(expression);
  } catch (error) {
    issues.push({ pointer, code: 'cel_syntax', message: `invalid CEL: ${celMessage(error)}${where(error)}` });
    return unusable;
  }
  const checked = parsed.check();
  if (!checked.valid) {
    issues.push({ pointer, code: 'cel_type', message: `invalid CEL: ${celMessage(checked.error)}${where(checked.error)}${stageHint(stage, checked.error)}` });
  } else if (mustBeBool && checked.type !== 'bool' && checked.type !== 'dyn') {
    issues.push({ pointer, code: 'cel_not_bool', message: `when must yield a bool, but this yields ${checked.type ?? 'another type'}` });
  }
  return parsed;
}

function where(error: unknown): string {
  const start = error !== null && typeof error === 'object' && 'range' in error ? (error.range as { start?: number } | undefined)?.start : undefined;
  return start === undefined ? '' : ` (at character ${start + 1})`;
}

function stageHint(stage: RuleStage, error: unknown): string {
  const unknownPostVariable = stage === 'pre' && /Unknown variable: (output|confidence|version)\b/.test(celMessage(error));
  return unknownPostVariable ? '; pre rules run before the model and see only input and context' : '';
}

function invalid(issues: readonly Issue[]): BallastError {
  return new BallastError('CONFIG_INVALID', { detail: 'the policy is invalid', issues });
}
