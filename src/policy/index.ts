// Policy: rule expressions (CEL) before and after the model, and the decision they lead to.
export { compilePolicy, type Policy } from './compile-policy.js';
export {
  compileCrossChecks,
  crossCheckActions,
  crossChecksSchema,
  crossCheckWhen,
  sameValue,
  type Comparison,
  type CrossCheckAction,
  type CrossCheckConfig,
  type CrossChecker,
  type CrossCheckWhen,
  type FieldAgreementConfig,
  type FieldComparison,
} from './cross-check.js';
export { decideOutcome, decisionOutcomes, reasonKinds, type CrossCheckVerdict, type DecideOptions, type Decision, type DecisionOutcome, type Reason, type ReasonKind } from './decide.js';
export type { PostEvaluation, PostRuleInput, PreEvaluation, PreRuleInput } from './evaluate-rules.js';
export {
  missingConfidenceOutcomes,
  modelErrorOutcomes,
  policyConfigSchema,
  policyDefaults,
  resolvePolicyConfig,
  ruleActions,
  ruleNamePattern,
  ruleStages,
  ruleStakes,
  type MissingConfidenceOutcome,
  type ModelErrorOutcome,
  type PolicyConfig,
  type ResolvedPolicyConfig,
  type RuleAction,
  type RuleConfig,
  type RuleStage,
  type RuleStakes,
  type ThresholdsConfig,
} from './policy-config.js';
export { ruleErrorCodes, type FiredRule, type RuleErrorCode } from './rule.js';
export { compileFallbackRules, fallbackRuleSchema, type FallbackRuleConfig, type FallbackRules, type FallbackRulesResult } from './fallback-rules.js';
