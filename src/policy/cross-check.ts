// Cross-checks: a second opinion on the served model's answer, from another model version or from
// CEL rules that compute the expected output. This file holds what a checker is (its config and JSON
// Schema), when it runs, how two answers are compared field by field, and the reasons a
// disagreement adds to the decision. Calling a version is the pipeline's work (it owns adapters).
import type { ParseResult } from '@marcbachmann/cel-js';
import { appendPointer, canonicalJson, pointerTokens, valueAtTokens } from '../contracts/index.js';
import type { Issue } from '../errors/index.js';
import { celEnvironment } from './cel-environment.js';
import { celMessage, ruleNamePattern } from './rule.js';
import { toJsonValue } from './to-json-value.js';

/** When a checker runs: on every decision, only when the served confidence is below the auto threshold, or only when a high-stakes pre rule fired. */
export const crossCheckWhen = ['always', 'low-confidence', 'high-stakes'] as const;
export type CrossCheckWhen = (typeof crossCheckWhen)[number];

/** What a disagreement does: send the case to review, reject it, only record it, or answer with the preferred version's output. */
export const crossCheckActions = ['review', 'reject', 'flag', 'prefer'] as const;
export type CrossCheckAction = (typeof crossCheckActions)[number];

/**
 * How one output field is compared: `equal` (the same JSON value), `{ within }` (numbers at most that far
 * apart), `{ json }` (the field holds JSON text, as an LLM's answer does: compare the value at the pointer
 * inside it, equal or `within`).
 */
export type FieldAgreementConfig = 'equal' | { readonly within: number } | { readonly json: string; readonly within?: number };

/** One checker as written in `policy.crossChecks`. */
export interface CrossCheckConfig {
  readonly name: string;
  /** A model version of the same service (a key of `models:`) whose answer is compared with the served one. */
  readonly version?: string;
  /** Or: output field → CEL expression (over input and context) computing the expected value. */
  readonly expect?: Readonly<Record<string, string>>;
  /** Output field (a JSON pointer into the output) → how it is compared. At least one. */
  readonly agree: Readonly<Record<string, FieldAgreementConfig>>;
  /** Default `review`. */
  readonly onDisagree?: CrossCheckAction;
  /** With `onDisagree: prefer`: the version whose answer is given on a disagreement (the checker's or the live one). */
  readonly prefer?: string;
  /** Default `always`. */
  readonly when?: CrossCheckWhen;
  /** Share of the eligible decisions checked, in (0, 1]; default 1. Chosen by a hash of the decision id. */
  readonly sample?: number;
}

const pointerPattern = '^(/([^~/]|~[01])*)+$';

const fieldAgreementSchema = {
  anyOf: [
    { const: 'equal' },
    { type: 'object', additionalProperties: false, required: ['within'], properties: { within: { type: 'number', minimum: 0 } } },
    { type: 'object', additionalProperties: false, required: ['json'], properties: { json: { type: 'string', pattern: pointerPattern }, within: { type: 'number', minimum: 0 } } },
  ],
} as const;

/** JSON Schema 2020-12 of `policy.crossChecks` (cross-field rules, and versions against `models:`, are checked when compiled). */
export const crossChecksSchema = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'agree'],
    properties: {
      name: { type: 'string', pattern: ruleNamePattern, maxLength: 100 },
      version: { type: 'string', minLength: 1 },
      expect: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
      agree: { type: 'object', minProperties: 1, propertyNames: { pattern: pointerPattern }, additionalProperties: fieldAgreementSchema },
      onDisagree: { enum: crossCheckActions, default: 'review' },
      prefer: { type: 'string', minLength: 1 },
      when: { enum: crossCheckWhen, default: 'always' },
      sample: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1 },
    },
  },
} as const;

/** A field comparison, compiled. */
interface FieldRule {
  readonly field: string;
  readonly path: readonly string[];
  readonly within?: number;
  /** `{ json }`: the path inside the field's JSON text. */
  readonly inner?: readonly string[];
}

/** A checker ready to use: its settings with defaults applied and its comparisons compiled. */
export interface CrossChecker {
  readonly name: string;
  readonly kind: 'version' | 'rules';
  readonly version?: string;
  readonly onDisagree: CrossCheckAction;
  readonly prefer?: string;
  readonly when: CrossCheckWhen;
  readonly sample: number;
  /** kind `rules`: the expected output, or why it could not be computed. */
  expected(vars: { readonly input: Readonly<Record<string, unknown>>; readonly context: Readonly<Record<string, unknown>> }): { ok: true; output: Record<string, unknown> } | { ok: false; message: string };
  /** The compared fields' pointers, parsed, in the order of Comparison.fields. */
  readonly fieldPaths: readonly (readonly string[])[];
  /** Compares the served output with the checker's, field by field. */
  compare(served: unknown, checker: unknown): Comparison;
}

/** One field's comparison: the values compared (as found, before redaction) and whether they agree. */
export interface FieldComparison {
  readonly field: string;
  readonly agree: boolean;
  readonly served: unknown;
  readonly checker: unknown;
  /** Why the values could not be compared (a JSON field whose text is not JSON). */
  readonly note?: string;
}

export interface Comparison {
  readonly agree: boolean;
  readonly fields: readonly FieldComparison[];
}

/** Compiles `policy.crossChecks`; problems are pushed onto `issues` with pointers under `/crossChecks`. */
export function compileCrossChecks(configs: readonly CrossCheckConfig[], issues: Issue[]): readonly CrossChecker[] {
  const names = new Set<string>();
  return configs.map((config, index) => {
    const pointer = `/crossChecks/${index}`;
    if (names.has(config.name)) issues.push({ pointer: `${pointer}/name`, code: 'duplicate_name', message: `another checker is already named ${config.name}` });
    names.add(config.name);
    if ((config.version === undefined) === (config.expect === undefined)) {
      issues.push({ pointer, code: 'checker_kind', message: `checker ${config.name}: give either version (another model version) or expect (CEL rules), not ${config.version === undefined ? 'neither' : 'both'}` });
    }
    const onDisagree = config.onDisagree ?? 'review';
    if (onDisagree === 'prefer' && config.prefer === undefined) issues.push({ pointer: `${pointer}/prefer`, code: 'prefer_missing', message: `checker ${config.name}: onDisagree prefer needs prefer (the version whose answer is given)` });
    if (onDisagree !== 'prefer' && config.prefer !== undefined) issues.push({ pointer: `${pointer}/prefer`, code: 'prefer_without_action', message: `checker ${config.name}: prefer needs onDisagree: prefer` });
    if (onDisagree === 'prefer' && config.expect !== undefined) issues.push({ pointer: `${pointer}/onDisagree`, code: 'prefer_rules', message: `checker ${config.name}: rules compute an expectation, not an answer to give; prefer needs a version checker` });
    const expect = Object.entries(config.expect ?? {}).map(([field, expression]) => [field, compileExpectation(expression, appendPointer(`${pointer}/expect`, field), issues)] as const);
    const fields: FieldRule[] = Object.entries(config.agree).map(([field, rule]) => ({
      field,
      path: pointerTokens(field)!,
      ...(rule !== 'equal' && rule.within !== undefined ? { within: rule.within } : {}),
      ...(rule !== 'equal' && 'json' in rule ? { inner: pointerTokens(rule.json)! } : {}),
    }));
    if (config.expect !== undefined) {
      for (const f of fields) {
        if (f.path.length === 0 || !Object.hasOwn(config.expect, f.path[0]!)) {
          issues.push({ pointer: appendPointer(`${pointer}/agree`, f.field), code: 'field_not_expected', message: `checker ${config.name} compares ${f.field}, but expect computes no ${f.path[0] ?? 'field'}` });
        }
      }
    }
    return Object.freeze({
      name: config.name,
      kind: config.version !== undefined ? ('version' as const) : ('rules' as const),
      ...(config.version === undefined ? {} : { version: config.version }),
      onDisagree,
      ...(config.prefer === undefined ? {} : { prefer: config.prefer }),
      when: config.when ?? 'always',
      sample: config.sample ?? 1,
      expected: (vars: Parameters<CrossChecker['expected']>[0]) => evaluateExpectations(expect, vars),
      fieldPaths: fields.map((f) => f.path),
      compare: (served: unknown, checker: unknown) => compareFields(fields, served, checker),
    });
  });
}

function compileExpectation(expression: string, pointer: string, issues: Issue[]): ParseResult | undefined {
  try {
    const parsed = celEnvironment('pre').parse(expression);
    const checked = parsed.check();
    if (!checked.valid) issues.push({ pointer, code: 'cel_type', message: `invalid CEL: ${celMessage(checked.error)}` });
    return parsed;
  } catch (error) {
    issues.push({ pointer, code: 'cel_syntax', message: `invalid CEL: ${celMessage(error)}` });
    return undefined;
  }
}

function evaluateExpectations(expect: readonly (readonly [string, ParseResult | undefined])[], vars: Parameters<CrossChecker['expected']>[0]): ReturnType<CrossChecker['expected']> {
  const output: Record<string, unknown> = {};
  for (const [field, expression] of expect) {
    if (expression === undefined) return { ok: false, message: `expect ${field} did not compile` };
    let value: unknown;
    try {
      value = expression(vars);
    } catch (error) {
      return { ok: false, message: `expect ${field}: ${celMessage(error)}` };
    }
    const json = toJsonValue(value);
    if (!json.ok) return { ok: false, message: `expect ${field}: ${json.message}` };
    Object.defineProperty(output, field, { value: json.value, enumerable: true, writable: true, configurable: true });
  }
  return { ok: true, output };
}

function compareFields(fields: readonly FieldRule[], served: unknown, checker: unknown): Comparison {
  const results = fields.map((f) => compareField(f, valueAtTokens(served, f.path), valueAtTokens(checker, f.path)));
  return { agree: results.every((r) => r.agree), fields: results };
}

function compareField(rule: FieldRule, served: unknown, checker: unknown): FieldComparison {
  const base = { field: rule.field, served, checker };
  if (rule.inner !== undefined) {
    const a = insideJson(served);
    const b = insideJson(checker);
    if (!a.ok || !b.ok) return { ...base, agree: false, note: `${!a.ok ? 'the served' : "the checker's"} ${rule.field} is not JSON text` };
    return { ...base, agree: sameValue(valueAtTokens(a.value, rule.inner), valueAtTokens(b.value, rule.inner), rule.within) };
  }
  return { ...base, agree: sameValue(served, checker, rule.within) };
}

/** A JSON text parsed (an object or array already parsed counts as itself). */
function insideJson(value: unknown): { ok: true; value: unknown } | { ok: false } {
  if (value !== null && typeof value === 'object') return { ok: true, value };
  if (typeof value !== 'string') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(value) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Equal JSON values (key order ignored); with `within`, two finite numbers at most that far apart. Absent on both sides agrees. */
export function sameValue(a: unknown, b: unknown, within?: number): boolean {
  if (within !== undefined) {
    if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) return false;
    // A hair of slack for binary fractions: 0.3 − 0.1 is within 0.2.
    return Math.abs(a - b) <= within + 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}
