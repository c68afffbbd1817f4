export * from './decision.js';
export { createDecisionPipeline, defaultStages, type DecideOptions, type DecisionPipeline, type DecisionPipelineOptions } from './decision-pipeline.js';
export type { DecisionContext, Stage } from './decision-context.js';
export { breakerFigures, createService, type BreakerEvent, type ModelVersion, type Service, type ServiceDeps } from './service.js';
export type { FallbackStep, FallbackStepKind } from './fallback-chain.js';
export { serviceConfigSchema, serviceNamePattern, versionNamePattern, type ModelVersionConfig, type ServiceConfig } from './service-config.js';
export type { FiredRule, QualityFlag, Reason } from './policy-types.js';
export { ServiceCatalog, type CatalogSnapshot } from './service-catalog.js';
export { createShadowRunner, type ShadowRecord, type ShadowResult, type ShadowRunner, type ShadowRunnerOptions, type ShadowStats } from './shadow-runner.js';
