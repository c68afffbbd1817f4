// The package's public API: what in-process callers may use. Everything here is stable within a
// major version; anything reached by deep imports is not.

export * from './errors/index.js';

// Building blocks a caller composes: contracts, policy, adapters, the store.
export { compileContract, parseJsonInput, inputLimitsDefaults, type Contract, type ContractConfig, type FieldAnnotation, type InputLimits, type QualityFlag } from './contracts/index.js';
export { compilePolicy, type FiredRule, type Policy, type PolicyConfig, type Reason, type RuleConfig } from './policy/index.js';
export {
  adapterDefinitions,
  createAdapter,
  type AdapterCapabilities,
  type AdapterContext,
  type AdapterDefinition,
  type Attribution,
  type InvokeOptions,
  type ModelAdapter,
  type ModelResult,
  type ModuleModel,
  type ModuleModelFactory,
} from './adapters/index.js';
export { newId, openStore, type Store, type StoreConfig, type StoredDecision, type StoredFeedback } from './store/index.js';

// The decision path, usable without HTTP.
export {
  createDecisionPipeline,
  createService,
  decisionOutcomes,
  stageNames,
  type Decision,
  type DecisionOutcome,
  type DecisionPipeline,
  type DecisionRecord,
  type DecisionRequest,
  type DecisionSink,
  type Explanation,
  type Service,
  type ServiceConfig,
  type StageName,
} from './pipeline/index.js';

// Alert webhooks: how a receiver checks a delivery (Standard Webhooks signatures).
export { signWebhook, verifyWebhook, type WebhookVerification } from './monitoring/alerts/index.js';

// The HTTP API over the same pipeline.
export { createServer, type BallastServer, type ServerOptions } from './server/index.js';
