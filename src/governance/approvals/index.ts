// Approval gates and kill switches: what a promotion to 100% needs, and the per-service stop.
export { riskTiers, analysisRequirements, tierApprovals, riskTierSchema, gatesConfigSchema, resolveGates, type RiskTier, type AnalysisRequirement, type MetricBound, type EvaluationGates, type GatesConfig, type ResolvedGates, type GatesResolution } from './gates-config.js';
export { evaluateGate, type GateInput, type GateResult, type GateCheck, type ValidApprovals, type VersionEvaluation } from './gate.js';
export { createApprovals, countingApprovals, createGateCheck, type GateInputs, type Approvals, type ApprovalsOptions, type ApprovalTarget, type DecideOptions } from './approvals.js';
export { createKillSwitch, type KillSwitch, type KillSwitchOptions, type KillSwitchState, type KillSwitchChange, type EngagedSwitch, type KillSwitchListener } from './kill-switch.js';
