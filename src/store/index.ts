// The store's public API: the rest of Ballast imports from here, never from the files behind it.
export { openStore, storeConfigSchema, type StoreConfig } from './open-store.js';
export type { SqliteStoreConfig } from './sqlite/sqlite-store.js';
export type {
  DecisionRepository,
  FeedbackRepository,
  FeedbackWithService,
  PageOptions,
  Store,
  TimeRangeOptions,
} from './store.js';
export type { GroupCommitStats } from './group-commit.js';
export type { AlertRepository, AlertListOptions, AlertFireResult, AlertDeliveryClaim, AlertChange, AlertAckResult } from './alert-repository.js';
export {
  alertStates,
  alertEventTypes,
  alertDeliveryStatuses,
  type AlertState,
  type AlertEventType,
  webhookEventTypes,
  type WebhookEventType,
  type AlertDeliveryStatus,
  type AlertKey,
  type StoredAlert,
  type AlertAcknowledgement,
  type NewAlertDelivery,
  type StoredAlertDelivery,
  type AlertDeliveryAttempt,
  type AlertDeliveryWithLog,
} from './alert-records.js';
export type { MonitoringRepository, SketchQuery, EvaluationQuery } from './monitoring-repository.js';
export type { ReferenceRepository, StoredReference, StoredReferenceSummary } from './reference-repository.js';
export type { StoredSketch, StoredCheckpoint, StoredEvaluation, StoredMonitorStatus } from './monitoring-records.js';
export { newId, createIdGenerator, type IdGeneratorOptions } from './ids.js';
export {
  outcomes,
  callerFeedbackKinds,
  labelFeedbackKinds,
  isLabelFeedback,
  feedbackKinds,
  type Outcome,
  type FeedbackKind,
  type StoredDecision,
  type StoredFeedback,
} from './records.js';
export type { IdentityRepository, KeyChange } from './identity-repository.js';
export type { RetentionRepository, StoredHold, PurgeSelection } from './retention-repository.js';
export type { BreakerRepository, StoredBreakerTransition } from './breaker-repository.js';
export { activeRolloutStates, type RolloutRepository, type StoredRollout, type StoredRolloutEvent, type RolloutExpectation } from './rollout-repository.js';
export type { RevisionRepository, StoredRevision, NewRevision } from './revision-repository.js';
export type { ShadowRepository, StoredShadowDecision } from './shadow-repository.js';
export type { RegistryRepository, StoredModelVersion, StoredModelVersionWithState, StoredModelTransition } from './registry-repository.js';
export { approvalDecisions, type ApprovalDecision, type ApprovalRepository, type StoredApproval, type KillSwitchRepository, type StoredKillSwitch } from './approval-repository.js';
export {
  reviewStates,
  reviewVerdicts,
  reviewKinds,
  type ReviewKind,
  type ReviewDecisionWithItem,
  type ReviewEffects,
  type SlaBreachEffects,
  type ReviewState,
  type ReviewVerdict,
  type ReviewRepository,
  type NewReviewItem,
  type StoredReviewItem,
  type StoredReviewDecision,
  type ReviewItemWithDecisions,
  type ReviewClaimOptions,
  type ReviewDecideInput,
  type ReviewChange,
  type ReviewListOptions,
} from './review-repository.js';
export type { AuditRepository, AuditListOptions, LoggedRowCounts } from './audit-repository.js';
export { leafKinds, leafHashHex, type LeafKind } from './audit-leaf.js';
export {
  principalKinds,
  type PrincipalKind,
  type StoredPrincipal,
  type StoredApiKey,
  type Actor,
  type StoredAuditEvent,
  type StoredLeaf,
  type StoredAuditCheckpoint,
} from './governance-records.js';
