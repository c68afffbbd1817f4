import { qualityBreakerSchema, type QualityBreakerConfig } from './quality-breaker.js';

// The `resilience:` block of a service (and of a model version), its JSON Schema and its defaults:
// the one place where resilience defaults live. Resolving merges defaults ← service ← version.

/** Bounds of one model call. The total is enforced by the pipeline; connect and first byte by the adapter. */
export interface TimeoutsConfig {
  /** Opening a connection (http, openai, kserve-v2). */
  readonly connectMs?: number;
  /** From the call's start until the answer begins (status and headers received). */
  readonly firstByteMs?: number;
  /** The whole call, the answer's body included; the module adapter has only this one. */
  readonly totalMs?: number;
}

/** The connections to one model version's server (http, openai, kserve-v2). */
export interface ConnectionsConfig {
  /** At most this many open at once; calls beyond wait for one (within their total timeout). */
  readonly max?: number;
}

export interface RetryConfig {
  /** Calls per version per decision, the first included (1 = no retry). */
  readonly attempts?: number;
  readonly backoff?: { readonly baseMs?: number; readonly capMs?: number };
  /** Retries are at most `ratio` of the calls of the last `windowSeconds`, plus `minRetries` per window. */
  readonly budget?: { readonly ratio?: number; readonly windowSeconds?: number; readonly minRetries?: number };
}

export interface BreakerConfigInput {
  readonly enabled?: boolean;
  readonly window?: { readonly calls: number } | { readonly seconds: number };
  readonly minimumCalls?: number;
  /** Share of failed calls in the window (0–1] at which the breaker opens. */
  readonly failureRate?: number;
  /** Share of slow calls in the window (0–1] at which the breaker opens. */
  readonly slowCallRate?: number;
  readonly slowCallMs?: number;
  /** How long the breaker stays open before it lets probes through. */
  readonly openMs?: number;
  readonly halfOpenProbes?: number;
}

/** One step of a fallback chain, as configured; `rules` items are the policy module's. */
export type FallbackStepConfig =
  | { readonly version: string }
  | { readonly rules: readonly unknown[] }
  | { readonly static: unknown }
  | { readonly review: { readonly reason?: string } | null };

export interface AdmissionConfig {
  /** At most this many decisions of the service in flight; `adaptive` follows measured latency. */
  readonly limit?: { readonly fixed: number } | { readonly adaptive: { readonly initial?: number; readonly min?: number; readonly max?: number } };
  readonly queue?: { readonly size?: number; readonly maxWaitMs?: number };
}

export interface RateLimitInput {
  /** Per API key (or client address without auth): a token bucket. */
  readonly perKey: { readonly ratePerSecond: number; readonly burst?: number };
}

/** The `resilience:` block of a model version: what may differ per version. */
export interface VersionResilienceConfig {
  readonly timeouts?: TimeoutsConfig;
  readonly connections?: ConnectionsConfig;
  readonly retry?: RetryConfig;
  readonly breaker?: BreakerConfigInput;
}

/** The `resilience:` block of a service. */
export interface ServiceResilienceConfig extends VersionResilienceConfig {
  /** The budget of the whole decision, from arrival to answer (the record excepted). */
  readonly deadlineMs?: number;
  readonly fallback?: readonly FallbackStepConfig[];
  readonly admission?: AdmissionConfig;
  readonly rateLimit?: RateLimitInput;
  /** A breaker per version driven by the monitors; closed only by an operator. */
  readonly qualityBreaker?: QualityBreakerConfig;
}

/** Every resilience setting of one model version after defaults. */
export interface ResolvedVersionResilience {
  readonly timeouts: { readonly connectMs: number; readonly firstByteMs: number; readonly totalMs: number };
  readonly connections: { readonly max: number };
  readonly retry: {
    readonly attempts: number;
    readonly backoff: { readonly baseMs: number; readonly capMs: number };
    readonly budget: { readonly ratio: number; readonly windowMs: number; readonly minRetries: number };
  };
  readonly breaker:
    | { readonly enabled: false }
    | {
        readonly enabled: true;
        readonly window: { readonly type: 'count'; readonly size: number } | { readonly type: 'time'; readonly seconds: number };
        readonly minimumCalls: number;
        readonly failureRateThreshold: number;
        readonly slowCallRateThreshold: number;
        readonly slowCallDurationMs: number;
        readonly waitInOpenMs: number;
        readonly halfOpenProbes: number;
      };
}

export interface ResolvedAdmission {
  readonly limit: { readonly kind: 'fixed'; readonly max: number } | { readonly kind: 'gradient'; readonly initial: number; readonly min: number; readonly max: number };
  readonly queueSize: number;
  readonly maxWaitMs: number;
}

/** The defaults of every field; docs/configuration.md quotes them. */
export const resilienceDefaults = {
  deadlineMs: 5_000,
  timeouts: { connectMs: 1_000, totalMs: 2_000 },
  connections: { max: 64 },
  retry: { attempts: 2, backoff: { baseMs: 25, capMs: 1_000 }, budget: { ratio: 0.1, windowSeconds: 10, minRetries: 3 } },
  breaker: { enabled: true, window: { calls: 100 }, minimumCalls: 20, failureRate: 0.5, slowCallRate: 1, openMs: 30_000, halfOpenProbes: 5 },
  admission: { fixed: 512, adaptive: { initial: 64, min: 8, max: 1_024 }, queue: { size: 512, maxWaitMs: 500 } },
  rateLimit: { burstSeconds: 1 },
} as const;

const positiveMs = (max: number) => ({ type: 'integer', minimum: 1, maximum: max });
const share = { type: 'number', exclusiveMinimum: 0, maximum: 1 };

const timeoutsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { connectMs: positiveMs(600_000), firstByteMs: positiveMs(600_000), totalMs: positiveMs(600_000) },
};

const retrySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    attempts: { type: 'integer', minimum: 1, maximum: 10 },
    backoff: { type: 'object', additionalProperties: false, properties: { baseMs: positiveMs(60_000), capMs: positiveMs(600_000) } },
    budget: {
      type: 'object',
      additionalProperties: false,
      properties: { ratio: { type: 'number', minimum: 0, maximum: 1 }, windowSeconds: { type: 'integer', minimum: 1, maximum: 3600 }, minRetries: { type: 'integer', minimum: 0, maximum: 1_000_000 } },
    },
  },
};

const breakerSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    window: {
      oneOf: [
        { type: 'object', required: ['calls'], additionalProperties: false, properties: { calls: { type: 'integer', minimum: 1, maximum: 100_000 } } },
        { type: 'object', required: ['seconds'], additionalProperties: false, properties: { seconds: { type: 'integer', minimum: 1, maximum: 3600 } } },
      ],
    },
    minimumCalls: { type: 'integer', minimum: 1, maximum: 100_000 },
    failureRate: share,
    slowCallRate: share,
    slowCallMs: positiveMs(600_000),
    openMs: positiveMs(86_400_000),
    halfOpenProbes: { type: 'integer', minimum: 1, maximum: 1000 },
  },
};

/** JSON Schema of a model version's `resilience:` block. */
export const versionResilienceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeouts: timeoutsSchema,
    connections: { type: 'object', additionalProperties: false, properties: { max: { type: 'integer', minimum: 1, maximum: 100_000 } } },
    retry: retrySchema,
    breaker: breakerSchema,
  },
};

/** JSON Schema of a service's `resilience:` block; `rulesItemSchema` is the schema of one fallback rule (the policy module's). */
export function serviceResilienceSchema(rulesItemSchema: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...versionResilienceSchema.properties,
      deadlineMs: positiveMs(600_000),
      qualityBreaker: qualityBreakerSchema,
      fallback: {
        type: 'array',
        maxItems: 16,
        items: {
          oneOf: [
            { type: 'object', required: ['version'], additionalProperties: false, properties: { version: { type: 'string', minLength: 1 } } },
            { type: 'object', required: ['rules'], additionalProperties: false, properties: { rules: { type: 'array', minItems: 1, items: rulesItemSchema } } },
            { type: 'object', required: ['static'], additionalProperties: false, properties: { static: {} } },
            {
              type: 'object',
              required: ['review'],
              additionalProperties: false,
              properties: { review: { type: ['object', 'null'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1 } } } },
            },
          ],
        },
      },
      admission: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: {
            oneOf: [
              { type: 'object', required: ['fixed'], additionalProperties: false, properties: { fixed: { type: 'integer', minimum: 1, maximum: 1_000_000 } } },
              {
                type: 'object',
                required: ['adaptive'],
                additionalProperties: false,
                properties: {
                  adaptive: {
                    type: 'object',
                    additionalProperties: false,
                    properties: { initial: { type: 'integer', minimum: 1 }, min: { type: 'integer', minimum: 1 }, max: { type: 'integer', minimum: 1, maximum: 1_000_000 } },
                  },
                },
              },
            ],
          },
          queue: { type: 'object', additionalProperties: false, properties: { size: { type: 'integer', minimum: 0, maximum: 1_000_000 }, maxWaitMs: positiveMs(600_000) } },
        },
      },
      rateLimit: {
        type: 'object',
        required: ['perKey'],
        additionalProperties: false,
        properties: {
          perKey: {
            type: 'object',
            required: ['ratePerSecond'],
            additionalProperties: false,
            properties: { ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 }, burst: { type: 'integer', minimum: 1, maximum: 10_000_000 } },
          },
        },
      },
    },
  };
}

/** A version's settings: defaults, then the service's block, then the version's own. */
export function resolveVersionResilience(service: VersionResilienceConfig | undefined, version: VersionResilienceConfig | undefined, legacyTimeoutMs?: number): ResolvedVersionResilience {
  const d = resilienceDefaults;
  const totalMs = version?.timeouts?.totalMs ?? legacyTimeoutMs ?? service?.timeouts?.totalMs ?? d.timeouts.totalMs;
  const timeouts = {
    connectMs: Math.min(version?.timeouts?.connectMs ?? service?.timeouts?.connectMs ?? d.timeouts.connectMs, totalMs),
    firstByteMs: Math.min(version?.timeouts?.firstByteMs ?? service?.timeouts?.firstByteMs ?? totalMs, totalMs),
    totalMs,
  };
  const retry = { ...service?.retry, ...version?.retry };
  const backoff = { ...service?.retry?.backoff, ...version?.retry?.backoff };
  const budget = { ...service?.retry?.budget, ...version?.retry?.budget };
  const b = { ...service?.breaker, ...version?.breaker };
  const window = b.window ?? d.breaker.window;
  return {
    timeouts,
    connections: { max: version?.connections?.max ?? service?.connections?.max ?? d.connections.max },
    retry: {
      attempts: retry.attempts ?? d.retry.attempts,
      backoff: { baseMs: backoff.baseMs ?? d.retry.backoff.baseMs, capMs: backoff.capMs ?? d.retry.backoff.capMs },
      budget: { ratio: budget.ratio ?? d.retry.budget.ratio, windowMs: (budget.windowSeconds ?? d.retry.budget.windowSeconds) * 1000, minRetries: budget.minRetries ?? d.retry.budget.minRetries },
    },
    breaker:
      (b.enabled ?? d.breaker.enabled) === false
        ? { enabled: false }
        : {
            enabled: true,
            window: 'calls' in window ? { type: 'count', size: window.calls } : { type: 'time', seconds: window.seconds },
            minimumCalls: b.minimumCalls ?? d.breaker.minimumCalls,
            failureRateThreshold: b.failureRate ?? d.breaker.failureRate,
            slowCallRateThreshold: b.slowCallRate ?? d.breaker.slowCallRate,
            // A call that used its whole total timeout is slow by default.
            slowCallDurationMs: b.slowCallMs ?? totalMs,
            waitInOpenMs: b.openMs ?? d.breaker.openMs,
            halfOpenProbes: b.halfOpenProbes ?? d.breaker.halfOpenProbes,
          },
  };
}

/** A service's admission settings after defaults. */
export function resolveAdmission(config: AdmissionConfig | undefined): ResolvedAdmission {
  const d = resilienceDefaults.admission;
  const limit = config?.limit;
  const queue = { size: config?.queue?.size ?? d.queue.size, maxWaitMs: config?.queue?.maxWaitMs ?? d.queue.maxWaitMs };
  if (limit === undefined || 'fixed' in limit) return { limit: { kind: 'fixed', max: limit?.fixed ?? d.fixed }, queueSize: queue.size, maxWaitMs: queue.maxWaitMs };
  const adaptive = limit.adaptive;
  const min = adaptive?.min ?? d.adaptive.min;
  const max = adaptive?.max ?? d.adaptive.max;
  const initial = Math.min(max, Math.max(min, adaptive?.initial ?? d.adaptive.initial));
  return { limit: { kind: 'gradient', initial, min, max }, queueSize: queue.size, maxWaitMs: queue.maxWaitMs };
}
