// The model registry's public API: specs and digests, the lifecycle, the registry over the store.
export { modelVersionSpecSchema, modelVersionSpecDocumentSchema, specOfModelConfig, specKeys, type ArtifactRef, type TrainingDataRef, type EvaluationResults, type ModelCard, type ModelVersionSpec, type DigestedArtifact, type DigestedModelVersionSpec } from './model-spec.js';
export { digestModelVersion, sha256File, specDifferences, versionDigest, type DigestOptions, type DigestedModelVersion } from './model-digest.js';
export { modelStates, allowedTransitions, canTransition, checkTransition, isModelState, type ModelState } from './model-lifecycle.js';
export { createModelRegistry, isoInstant, type ModelRegistry, type ModelRegistryOptions, type ModelVersionView, type RegisterRequest, type RegisterResult, type RegistryActionOptions, type RegistryCheck, type CheckedVersion, type ConfigServices, type EnsureAllOptions, type ServedAt, type TransitionRequest } from './model-registry.js';
