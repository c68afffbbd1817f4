// Turns everything the decision path learned into one outcome and the reasons behind it.
// Precedence: rejected > review > auto; a `flag` or an override adds a reason without changing it.
import type { QualityFlag } from '../contracts/index.js';
import type { Issue } from '../errors/index.js';
import type { Policy } from './compile-policy.js';
import type { FiredRule } from './rule.js';

export const decisionOutcomes = ['auto', 'review', 'fallback', 'rejected'] as const;
/** The verdict: `fallback` is an automated answer that a fallback step gave instead of the routed model. */
export type DecisionOutcome = (typeof decisionOutcomes)[number];

export const reasonKinds = ['threshold', 'rule', 'quality', 'model_error', 'output_invalid', 'rule_error', 'missing_confidence', 'fallback', 'advisory', 'cross_check'] as const;
export type ReasonKind = (typeof reasonKinds)[number];

/** One reason behind an outcome, in words a reviewer can read. */
export interface Reason {
  readonly kind: ReasonKind;
  /**
   * Stable, by kind: threshold → `confidence_at_or_above_auto` | `confidence_below_auto` | `confidence_below_reject`;
   * missing_confidence → `confidence_missing` | `confidence_invalid`; rule → the rule's name; rule_error → a
   * RuleErrorCode; quality → the flag's code; model_error → the error-catalogue code; output_invalid → the keyword;
   * fallback → the kind of the step that answered (`version`, `rules`, `static`, `review`); advisory →
   * `advisory_auto` | `advisory_rejected` (what the model alone would have decided); cross_check → `disagreement` |
   * `preferred` (the preferred version's answer was given) | `checker_unavailable`.
   */
  readonly code: string;
  readonly message: string;
  /** What this reason pushed the outcome to; `none` for reasons that only inform. */
  readonly effect: DecisionOutcome | 'none';
  readonly rule?: string;
  /** Top-level field, or pointer for output issues. */
  readonly field?: string;
  /** cross_check: the checker's name. */
  readonly checker?: string;
}

/** What one cross-check came to, as decideOutcome reads it. */
export interface CrossCheckVerdict {
  readonly name: string;
  readonly verdict: 'agree' | 'disagree' | 'unavailable';
  readonly onDisagree: 'review' | 'reject' | 'flag' | 'prefer';
  /** The fields that disagreed. */
  readonly fields: readonly string[];
  /** onDisagree prefer: the preferred version (the checker's), and whether its answer was given (false: an earlier checker's was). */
  readonly prefer?: { readonly version: string; readonly answered: boolean };
  readonly error?: { readonly code: string; readonly message: string };
}

export interface DecideOptions {
  readonly policy: Pick<Policy, 'thresholds' | 'missingConfidence' | 'reviewOnQualityFlags' | 'onModelError'>;
  readonly confidence?: number;
  /** The model was not called (a pre rule rejected): no confidence is expected. */
  readonly modelSkipped?: boolean;
  readonly preFired: readonly FiredRule[];
  readonly postFired: readonly FiredRule[];
  readonly qualityFlags: readonly QualityFlag[];
  readonly modelError?: { readonly code: string; readonly message: string };
  readonly outputIssues?: readonly Issue[];
  /**
   * A step of the fallback chain answered after the routed model failed: the failure then only
   * informs, and the step's answer is `fallback` (or `review` for a review step). A fallback version's
   * confidence is still held to the thresholds; a rules or static answer has none to hold.
   */
  readonly fallback?: { readonly kind: 'version' | 'rules' | 'static' | 'review'; readonly name: string; readonly message: string };
  /** Advisory mode holds for the version that answered: what the model's confidence alone decides goes to a human. */
  readonly advisory?: boolean;
  /** The cross-checks that ran: a disagreement reviews, rejects or only informs, as each checker's policy says. */
  readonly crossChecks?: readonly CrossCheckVerdict[];
}

export interface Decision {
  readonly outcome: DecisionOutcome;
  /** Every reason found, those that set the outcome first. */
  readonly reasons: readonly Reason[];
}

const severity: Record<Reason['effect'], number> = { rejected: 4, review: 3, fallback: 2, auto: 1, none: 0 };

/** Decides the outcome of one request from its confidence, rules, quality flags and failures. */
export function decideOutcome(options: DecideOptions): Decision {
  const { policy } = options;
  const reasons: Reason[] = [];
  const { fallback } = options;
  if (fallback !== undefined) {
    reasons.push({ kind: 'fallback', code: fallback.kind, message: fallback.message, effect: fallback.kind === 'review' ? 'review' : 'fallback' });
  }
  const failureEffect: DecisionOutcome = policy.onModelError === 'reject' ? 'rejected' : 'review';
  if (options.modelError !== undefined) {
    // Once a fallback step answered, the routed model's failure explains the answer but no longer sets it.
    reasons.push({ kind: 'model_error', code: options.modelError.code, message: `the model failed: ${options.modelError.message}`, effect: fallback !== undefined ? 'none' : failureEffect });
  }
  // Output issues present with a fallback answer are those of a post rule's override of it.
  for (const issue of options.outputIssues ?? []) {
    reasons.push({ kind: 'output_invalid', code: issue.code, message: `the model's output broke the contract: ${issue.message}`, effect: failureEffect, field: issue.pointer });
  }
  const failedModel = (options.modelError !== undefined && fallback === undefined) || (options.outputIssues?.length ?? 0) > 0;
  if (fallback?.kind === 'version' && !failedModel) {
    const reason = confidenceReason(options.confidence, policy);
    reasons.push(reason.effect === 'auto' ? { ...reason, effect: 'fallback' } : reason);
  } else if (fallback === undefined && !failedModel && options.modelSkipped !== true) reasons.push(confidenceReason(options.confidence, policy));
  if (policy.reviewOnQualityFlags) {
    for (const flag of options.qualityFlags) reasons.push({ kind: 'quality', code: flag.code, message: flag.message, effect: 'review', field: flag.field });
  }
  for (const rule of [...options.preFired, ...options.postFired]) reasons.push(ruleReason(rule));
  for (const check of options.crossChecks ?? []) {
    const reason = crossCheckReason(check);
    if (reason !== undefined) reasons.push(reason);
  }
  const ordered = reasons.map((reason, index) => ({ reason, index })).sort((a, b) => severity[b.reason.effect] - severity[a.reason.effect] || a.index - b.index);
  const top = ordered[0]?.reason.effect ?? 'none';
  // With no verdict at all (model skipped, nothing fired), a human looks: never auto by default.
  const outcome: DecisionOutcome = top === 'none' ? 'review' : top;
  const sorted = ordered.map(({ reason }) => reason);
  // Advisory: the model's own verdict (its confidence against the thresholds) becomes a suggestion. A rule's
  // reject, a failure's outcome and a fallback's answer stand: they are not the model deciding alone.
  if (options.advisory === true && (outcome === 'auto' || outcome === 'rejected') && sorted[0]?.kind === 'threshold') {
    const advisory: Reason = { kind: 'advisory', code: `advisory_${outcome}`, message: `advisory mode: the model alone would have decided ${outcome}; a human decides, with its answer as a suggestion`, effect: 'review' };
    return { outcome: 'review', reasons: [advisory, ...sorted] };
  }
  return { outcome, reasons: sorted };
}

function confidenceReason(confidence: number | undefined, policy: DecideOptions['policy']): Reason {
  const { auto, reject } = policy.thresholds;
  if (confidence === undefined) {
    const effect = policy.missingConfidence;
    const then = effect === 'auto' ? 'the policy accepts that (missingConfidence: auto)' : 'a human reviews it';
    return { kind: 'missing_confidence', code: 'confidence_missing', message: `the model gave no confidence; ${then}`, effect };
  }
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    return { kind: 'missing_confidence', code: 'confidence_invalid', message: `the model's confidence ${confidence} is not a number in [0, 1]`, effect: 'review' };
  }
  if (confidence >= auto) {
    const [c, t] = formatPair(confidence, auto);
    return { kind: 'threshold', code: 'confidence_at_or_above_auto', message: `confidence ${c} is at or above the auto threshold ${t}`, effect: 'auto' };
  }
  if (reject !== undefined && confidence < reject) {
    const [c, t] = formatPair(confidence, reject);
    return { kind: 'threshold', code: 'confidence_below_reject', message: `confidence ${c} is below the reject threshold ${t}`, effect: 'rejected' };
  }
  const [c, t] = formatPair(confidence, auto);
  return { kind: 'threshold', code: 'confidence_below_auto', message: `confidence ${c} is below the auto threshold ${t}`, effect: 'review' };
}

function crossCheckReason(check: CrossCheckVerdict): Reason | undefined {
  const base = { kind: 'cross_check' as const, checker: check.name };
  if (check.verdict === 'unavailable') {
    const why = check.error === undefined ? 'it gave no answer' : `${check.error.code}: ${check.error.message}`;
    return { ...base, code: 'checker_unavailable', message: `checker ${check.name} could not check the answer (${why}); the decision stands without it`, effect: 'none' };
  }
  if (check.verdict === 'agree') return undefined;
  const on = check.fields.length > 0 ? ` on ${check.fields.join(', ')}` : '';
  if (check.onDisagree === 'prefer' && check.prefer !== undefined) {
    // Not answered: an earlier preferred checker's answer was already given.
    const said = check.prefer.answered ? `the answer of the preferred version ${check.prefer.version} is given` : `another checker's preferred answer was given first`;
    return { ...base, code: check.prefer.answered ? 'preferred' : 'disagreement', message: `checker ${check.name} disagrees with the model${on}; ${said}`, effect: 'none' };
  }
  const then = { review: 'a human decides', reject: 'the policy rejects the case', flag: 'recorded only', prefer: 'recorded only' }[check.onDisagree];
  const effect = ({ review: 'review', reject: 'rejected', flag: 'none', prefer: 'none' } as const)[check.onDisagree];
  return { ...base, code: 'disagreement', message: `checker ${check.name} disagrees with the model${on}: ${then}`, effect };
}

function ruleReason(rule: FiredRule): Reason {
  if (rule.error !== undefined) {
    return { kind: 'rule_error', code: rule.error.code, message: `rule ${rule.name} could not be evaluated (${rule.error.message}); a human reviews the case`, effect: 'review', rule: rule.name };
  }
  const effect = ({ reject: 'rejected', review: 'review', flag: 'none', override: 'none' } as const)[rule.action];
  const said = rule.reason === rule.name ? `rule ${rule.name} matched` : rule.reason;
  const message = rule.action === 'override' ? `${said} (set ${(rule.fields ?? []).join(', ')})` : said;
  return { kind: 'rule', code: rule.name, message, effect, rule: rule.name };
}

// Two decimals, or as many more as it takes for a value not to print equal to a threshold it differs from.
function formatPair(value: number, threshold: number): [string, string] {
  for (let digits = 2; digits < 6; digits++) {
    const pair: [string, string] = [value.toFixed(digits), threshold.toFixed(digits)];
    if (value === threshold || pair[0] !== pair[1]) return pair;
  }
  return [String(value), String(threshold)];
}
