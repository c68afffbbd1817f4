// Rollouts' public API: the controller and the rollout spec.
export {
  createRolloutController,
  rolloutStates,
  systemActor,
  type Rollout,
  type RolloutActionContext,
  type RolloutController,
  type RolloutControllerOptions,
  type RolloutState,
  type RolloutStatus,
  type RolloutWithHistory,
  type StartRolloutOptions,
  type TransitionContext,
} from './rollout-controller.js';
export { resolveRolloutSpec, rolloutConfigSchema, rolloutDefaults, rolloutStrategies, type PauseSpec, type ResolvedRolloutSpec, type RolloutConfig, type RolloutStep, type RolloutStrategy } from './rollout-spec.js';
