// The `policy:` block of a service's config: its TypeScript shape, its JSON Schema and, in
// `policyDefaults`, the only place its defaults are written down.
import { crossChecksSchema, type CrossCheckConfig } from './cross-check.js';
import { ruleNamePattern } from './rule.js';

export const ruleStages = ['pre', 'post'] as const;
/** `pre` runs before the model (vars: input, context); `post` after it (adds output, confidence, version). */
export type RuleStage = (typeof ruleStages)[number];

export const ruleActions = ['reject', 'review', 'flag', 'override'] as const;
/** What a rule does when it fires; `flag` only records a reason, `override` (post only) rewrites output fields. */
export type RuleAction = (typeof ruleActions)[number];

export const missingConfidenceOutcomes = ['auto', 'review'] as const;
export type MissingConfidenceOutcome = (typeof missingConfidenceOutcomes)[number];

export const modelErrorOutcomes = ['review', 'reject'] as const;
export type ModelErrorOutcome = (typeof modelErrorOutcomes)[number];

export { ruleNamePattern } from './rule.js';

/** One rule as written in config. */
export interface RuleConfig {
  readonly name: string;
  readonly stage: RuleStage;
  /** CEL expression that must yield a bool. */
  readonly when: string;
  readonly action: RuleAction;
  /** Override only: output field → CEL expression for its new value. */
  readonly set?: Readonly<Record<string, string>>;
  /** Shown in explanations; the rule's name when omitted. */
  readonly reason?: string;
  /**
   * `high`: when the rule fires and the decision goes to review, the review item is high stakes (taken
   * first, decided by two independent reviewers). Default `normal`.
   */
  readonly stakes?: RuleStakes;
}

export const ruleStakes = ['normal', 'high'] as const;
export type RuleStakes = (typeof ruleStakes)[number];

export interface ThresholdsConfig {
  /** Confidence at or above it → `auto`. */
  readonly auto?: number;
  /** Confidence below it → `rejected`; must be below `auto`. Without it, low confidence goes to review. */
  readonly reject?: number;
}

/** A service's decision policy as written in config. */
export interface PolicyConfig {
  readonly thresholds?: ThresholdsConfig;
  /** Outcome when the model gives no confidence. */
  readonly missingConfidence?: MissingConfidenceOutcome;
  /** True: any input quality flag forces review. */
  readonly reviewOnQualityFlags?: boolean;
  /** Outcome when the model failed or its output broke the contract. */
  readonly onModelError?: ModelErrorOutcome;
  readonly rules?: readonly RuleConfig[];
  /**
   * Advisory mode: `true` for every version, or the versions it holds for. What the model alone would
   * have decided (auto, or rejected by the reject threshold) goes to review with the model's answer
   * as a suggestion; rules still reject. Reviews then measure model–human agreement.
   */
  readonly advisory?: boolean | readonly string[];
  /** Checkers whose answers are compared with the served model's (cross-check.ts). */
  readonly crossChecks?: readonly CrossCheckConfig[];
}

/** The policy block with every default applied. */
export interface ResolvedPolicyConfig {
  readonly thresholds: { readonly auto: number; readonly reject?: number };
  readonly missingConfidence: MissingConfidenceOutcome;
  readonly reviewOnQualityFlags: boolean;
  readonly onModelError: ModelErrorOutcome;
  readonly rules: readonly RuleConfig[];
  readonly advisory: boolean | readonly string[];
  readonly crossChecks: readonly CrossCheckConfig[];
}

/** The defaults of the policy block, in one place. */
export const policyDefaults: ResolvedPolicyConfig = Object.freeze({
  thresholds: Object.freeze({ auto: 0.5 }),
  missingConfidence: 'review',
  reviewOnQualityFlags: false,
  onModelError: 'review',
  rules: Object.freeze([]),
  advisory: false,
  crossChecks: Object.freeze([]),
});

/** Applies `policyDefaults` to a policy block. */
export function resolvePolicyConfig(config: PolicyConfig): ResolvedPolicyConfig {
  const reject = config.thresholds?.reject;
  return {
    thresholds: { auto: config.thresholds?.auto ?? policyDefaults.thresholds.auto, ...(reject === undefined ? {} : { reject }) },
    missingConfidence: config.missingConfidence ?? policyDefaults.missingConfidence,
    reviewOnQualityFlags: config.reviewOnQualityFlags ?? policyDefaults.reviewOnQualityFlags,
    onModelError: config.onModelError ?? policyDefaults.onModelError,
    rules: config.rules ?? policyDefaults.rules,
    advisory: config.advisory ?? policyDefaults.advisory,
    crossChecks: config.crossChecks ?? policyDefaults.crossChecks,
  };
}

const probability = { type: 'number', minimum: 0, maximum: 1 } as const;

const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'stage', 'when', 'action'],
  properties: {
    name: { type: 'string', pattern: ruleNamePattern, maxLength: 100 },
    stage: { enum: ruleStages },
    when: { type: 'string', minLength: 1 },
    action: { enum: ruleActions },
    set: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
    reason: { type: 'string', minLength: 1 },
    stakes: { enum: ruleStakes },
  },
} as const;

/** JSON Schema 2020-12 of the `policy:` block (cross-field rules such as reject < auto are checked when compiled). */
export const policyConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    thresholds: {
      type: 'object',
      additionalProperties: false,
      properties: { auto: { ...probability, default: policyDefaults.thresholds.auto }, reject: probability },
    },
    missingConfidence: { enum: missingConfidenceOutcomes, default: policyDefaults.missingConfidence },
    reviewOnQualityFlags: { type: 'boolean', default: policyDefaults.reviewOnQualityFlags },
    onModelError: { enum: modelErrorOutcomes, default: policyDefaults.onModelError },
    rules: { type: 'array', items: ruleSchema },
    advisory: { anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true }], default: policyDefaults.advisory },
    crossChecks: crossChecksSchema,
  },
} as const;
