export { withDeadline, type DeadlineOptions } from './deadline.js';
export { fullJitterDelay, type BackoffConfig } from './backoff.js';
export { breakerStates, CircuitBreaker, defaultBreakerConfig, type BreakerConfig, type BreakerPermit, type BreakerSnapshot, type BreakerState, type BreakerTransition } from './circuit-breaker.js';
export { RetryBudget, defaultRetryBudgetConfig, type RetryBudgetConfig } from './retry-budget.js';
export { callResiliently, deadlineIn, remainingMs, type Attempt, type CallOptions, type CallOutcome, type CallPlan, type Deadline, type RetryStop } from './resilient-call.js';
export {
  resilienceDefaults,
  resolveAdmission,
  resolveVersionResilience,
  serviceResilienceSchema,
  versionResilienceSchema,
  type AdmissionConfig,
  type BreakerConfigInput,
  type FallbackStepConfig,
  type RateLimitInput,
  type ResolvedAdmission,
  type ResolvedVersionResilience,
  type RetryConfig,
  type ServiceResilienceConfig,
  type TimeoutsConfig,
  type VersionResilienceConfig,
} from './resilience-config.js';
export { ConcurrencyLimiter, type Admission, type AdmissionPermit, type ConcurrencyLimiterConfig, type Priority } from './concurrency-limiter.js';
export { RateLimiter, type RateDecision, type RateLimitConfig } from './rate-limiter.js';
export { createPressureMonitor, type PressureConfig, type PressureMonitor, type PressureProbes, type PressureReason } from './pressure.js';
export { QualityBreaker, qualityBreakerSchema, type QualityBreakerConfig, type QualityBreakerSnapshot, type QualitySignal, type QualityTransition } from './quality-breaker.js';
export { createSerialQueue, type SerialQueue } from './serial-queue.js';
