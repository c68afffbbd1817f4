// Ownership: who answers for a service, its runbook, its on-call and escalation routes.
export {
  ownershipConfigSchema,
  ownershipDefaults,
  ownershipIssues,
  ownershipOf,
  resolveOwnership,
  type OwnedServiceConfig,
  type OwnershipConfig,
  type OwnershipRouteInput,
  type ResolvedOwnership,
  type ResolvedRoute,
} from './ownership-config.js';
