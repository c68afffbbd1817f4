// Governance's public API: identity, access, audit. The rest of Ballast imports from here.
export { roles, permissions, rolePermissions, globalPermissions, isRole, roleAllows, type Role, type Permission } from './roles.js';
export { generateApiKey, hashToken, keyIdOf, tokenMatches, type NewApiKeySecret } from './api-keys.js';
export { auditEvent, digestOf, localActor, type AuditEventInput } from './audit-events.js';
export { createKeyManager, keyView, defaultRotationGraceMs, type KeyManager, type KeyManagerOptions, type ApiKeyView, type CreateKeyOptions, type ActionContext } from './key-manager.js';
export { createAuthenticator, can, type Authenticator, type AuthenticatorOptions, type Principal } from './authenticator.js';
export { createFailedAuthLimiter, type FailedAuthLimiter, type FailedAuthLimiterOptions } from './failed-auth-limiter.js';
export { parseDuration } from '../monitoring/monitors/index.js';
export { createAuditLedger, verifyInclusionDocument, type AuditLedger, type AuditLedgerOptions, type AuditProblem, type AuditVerification, type InclusionProofDocument } from './audit-ledger.js';
export { generateNoteKey, verifierKeyOf } from './audit-log/checkpoint-note.js';
export { createRetention, retentionConfigSchema, type Retention, type RetentionConfig, type RetentionOptions, type PurgeReport } from './retention.js';
export { planConfigChange, formatPlan, type ConfigPlan, type PlannedChange } from './revisions/config-plan.js';
export { createRolloutController, resolveRolloutSpec, rolloutConfigSchema, rolloutStates, type Rollout, type RolloutActionContext, type RolloutConfig, type RolloutController, type RolloutControllerOptions, type RolloutState, type RolloutWithHistory, type ResolvedRolloutSpec, type StartRolloutOptions } from './rollouts/index.js';
export * from './approvals/index.js';
export * from './analysis/index.js';
export * from './registry/index.js';
export * from './ownership/index.js';
