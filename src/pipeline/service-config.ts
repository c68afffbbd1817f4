import { adapterDefinitions } from '../adapters/index.js';
import { contractConfigSchema, type ContractConfig } from '../contracts/index.js';
import { fallbackRuleSchema, policyConfigSchema, type PolicyConfig } from '../policy/index.js';
import { serviceResilienceSchema, versionResilienceSchema, type ServiceResilienceConfig, type VersionResilienceConfig } from '../resilience/index.js';

/** One model version of a service: how to call it and how long to wait. */
export interface ModelVersionConfig {
  readonly adapter: Readonly<{ kind: string } & Record<string, unknown>>;
  /** Per-call total timeout in milliseconds: shorthand for `resilience.timeouts.totalMs` (default 2000). */
  readonly timeoutMs?: number;
  readonly description?: string;
  /** Timeouts, retries and breaker of this version, over the service's `resilience:` block. */
  readonly resilience?: VersionResilienceConfig;
  /** The registry's fields (artifacts, trainingData, evaluation, card): opaque here, checked by the schema the composition root adds. */
  readonly [registryField: string]: unknown;
}

/** A named decision task: its contract, policy, model versions and the version that is live. */
export interface ServiceConfig {
  readonly description?: string;
  readonly owners?: readonly string[];
  readonly contract: ContractConfig;
  readonly policy: PolicyConfig;
  readonly models: Readonly<Record<string, ModelVersionConfig>>;
  readonly live: string;
  /** The `monitoring:` block; validated and resolved by the monitoring module, opaque to the pipeline. */
  readonly monitoring?: unknown;
  /** The `retention:` block; governance's, opaque to the pipeline. */
  readonly retention?: unknown;
  /** The `rollout:` block (strategy defaults and analysis), `risk:` tier and `gates:`; governance's, opaque here. */
  readonly rollout?: unknown;
  readonly risk?: 'low' | 'medium' | 'high';
  readonly gates?: unknown;
  /** The `fairness:` block (protected fields, the favourable answer, bounds); monitoring's, opaque here. */
  readonly fairness?: unknown;
  /** The `review:` block (SLA, leases, quorum, escalation, the caller's webhook); the review module's, opaque here. */
  readonly review?: unknown;
  /** The `ownership:` block (runbook, on-call and escalation routes); governance's, opaque here. */
  readonly ownership?: unknown;
  /** Deadline, call bounds, retries, breakers, the fallback chain, admission and rate limits. */
  readonly resilience?: ServiceResilienceConfig;
}

export const serviceNamePattern = '^[a-z][a-z0-9-]{0,62}$';
export const versionNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';

/** JSON Schema of the `adapter:` block: `kind` picks the adapter's own schema. */
function adapterSchema(): Record<string, unknown> {
  const kinds = [...adapterDefinitions.keys()];
  return {
    type: 'object',
    required: ['kind'],
    properties: { kind: { enum: kinds } },
    allOf: kinds.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: adapterDefinitions.get(kind)!.configSchema,
    })),
  };
}

/**
 * JSON Schema 2020-12 of one service's block in the config file. `extensions` adds blocks that other
 * modules own (the composition root passes `monitoring`), so their schemas are checked in the same pass.
 */
export function serviceConfigSchema(extensions: Readonly<Record<string, unknown>> = {}, modelExtensions: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    type: 'object',
    required: ['contract', 'models', 'live'],
    additionalProperties: false,
    properties: {
      description: { type: 'string' },
      owners: { type: 'array', items: { type: 'string', minLength: 1 } },
      contract: contractConfigSchema,
      policy: policyConfigSchema,
      models: {
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: versionNamePattern },
        additionalProperties: {
          type: 'object',
          required: ['adapter'],
          additionalProperties: false,
          properties: {
            adapter: adapterSchema(),
            timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
            description: { type: 'string' },
            resilience: versionResilienceSchema,
            ...modelExtensions,
          },
        },
      },
      live: { type: 'string', pattern: versionNamePattern },
      resilience: serviceResilienceSchema(fallbackRuleSchema),
      ...extensions,
    },
  };
}
