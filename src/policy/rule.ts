// A compiled rule and what evaluating it yields. Rules never throw into the request: a failing
// rule becomes a FiredRule with an `error`, whose action is `review` (fail safe).
import type { ParseResult } from '@marcbachmann/cel-js';
import type { RuleAction, RuleStage } from './policy-config.js';

/** Rule (and checker) names are identifiers that stay readable in URLs, metrics and explanations. */
export const ruleNamePattern = '^[a-z0-9][a-z0-9_-]*$';

export const ruleErrorCodes = ['rule_runtime_error', 'rule_not_bool', 'rule_bad_value', 'rule_bad_output'] as const;
/** Why a rule could not be evaluated: it threw, its `when` was not a bool, a `set` value is not JSON, or the output is not an object. */
export type RuleErrorCode = (typeof ruleErrorCodes)[number];

/** A rule that fired (its `when` was true) or failed. */
export interface FiredRule {
  readonly name: string;
  readonly stage: RuleStage;
  /** The rule's action; `review` when the rule failed, whatever its configured action. */
  readonly action: RuleAction;
  readonly reason: string;
  /** Override only: the output fields it set. */
  readonly fields?: readonly string[];
  /** Present when the rule could not be evaluated; the message is CEL's. */
  readonly error?: { readonly code: RuleErrorCode; readonly message: string };
  /** `high` when the rule marks the case high stakes: its review goes first, to two reviewers. */
  readonly stakes?: 'high';
}

/** A rule with its expressions parsed once, at config time. */
export interface CompiledRule {
  readonly name: string;
  readonly stage: RuleStage;
  readonly action: RuleAction;
  readonly reason: string;
  readonly stakes?: 'high';
  readonly when: ParseResult;
  /** Override only: output field → parsed expression. */
  readonly set: readonly (readonly [string, ParseResult])[];
}

/** Evaluates `when`: true, false, or the error that stands in for it. */
export function evaluateWhen(rule: CompiledRule, vars: Readonly<Record<string, unknown>>): boolean | FiredRule {
  let result: unknown;
  try {
    result = rule.when(vars);
  } catch (error) {
    return failed(rule, 'rule_runtime_error', celMessage(error));
  }
  if (typeof result !== 'boolean') return failed(rule, 'rule_not_bool', `when yielded ${celTypeOf(result)}, not a bool`);
  return result;
}

/** The record of a rule that fired normally. */
export function fired(rule: CompiledRule, fields?: readonly string[]): FiredRule {
  const base = { name: rule.name, stage: rule.stage, action: rule.action, reason: rule.reason, ...stakesOf(rule) };
  return fields === undefined ? base : { ...base, fields };
}

/** The record of a rule that could not be evaluated: it forces review. */
export function failed(rule: CompiledRule, code: RuleErrorCode, message: string): FiredRule {
  // A high-stakes rule that cannot say whether the case is high stakes keeps the higher bar.
  return { name: rule.name, stage: rule.stage, action: 'review', reason: rule.reason, error: { code, message }, ...stakesOf(rule) };
}

function stakesOf(rule: CompiledRule): { stakes?: 'high' } {
  return rule.stakes === 'high' ? { stakes: 'high' } : {};
}

/** CEL's one-line summary of an error (its full message adds a source excerpt over several lines). */
export function celMessage(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'summary' in error && typeof error.summary === 'string') return error.summary;
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
}

function celTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'an int';
  if (typeof value === 'number') return 'a double';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}
