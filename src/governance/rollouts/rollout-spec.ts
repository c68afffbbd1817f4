// A rollout's spec: the `rollout:` block of a service (JSON Schema below), overridden field by field
// by the options of `rollout start`, resolved once with defaults into what the rollout row keeps.
import { createSchemaValidator } from '../../contracts/index.js';
import { BallastError, type Issue } from '../../errors/index.js';

export const rolloutStrategies = ['canary', 'shadow', 'experiment'] as const;
export type RolloutStrategy = (typeof rolloutStrategies)[number];

/** When a step may be judged: both bounds met. */
export interface PauseSpec {
  readonly durationMs: number;
  readonly minDecisions: number;
}

export interface RolloutStep {
  /** The candidate's share of traffic, in (0, 1]. */
  readonly weight: number;
  readonly pause: PauseSpec;
}

/** The `rollout:` block and the start options, as written (every field optional). */
export interface RolloutConfig {
  readonly strategy?: RolloutStrategy;
  readonly steps?: readonly { readonly weight: number; readonly pause?: Partial<PauseSpec> }[];
  readonly failureLimit?: number;
  readonly inconclusiveLimit?: number;
  readonly onInconclusive?: 'pause' | 'rollback';
  readonly share?: number;
  readonly weight?: number;
  readonly pause?: Partial<PauseSpec>;
  readonly srm?: boolean;
  readonly bandit?: { readonly floor: number };
  readonly analysis?: Readonly<Record<string, unknown>>;
}

/** The spec as resolved when the rollout started; kept in the rollout's row. */
export interface ResolvedRolloutSpec {
  readonly strategy: RolloutStrategy;
  /** canary: its steps; shadow and experiment: one step (shadow's weight 0: it never answers). */
  readonly steps: readonly RolloutStep[];
  /** shadow: the share of requests copied to the candidate; 0 otherwise. */
  readonly shadowShare: number;
  readonly failureLimit: number;
  readonly inconclusiveLimit: number;
  readonly onInconclusive: 'pause' | 'rollback';
  /** experiment: the sample-ratio-mismatch check (always on). */
  readonly srm: boolean;
  readonly bandit: { readonly floor: number } | null;
  /** Passed through to the analysis, which owns its schema. */
  readonly analysis: Readonly<Record<string, unknown>>;
}

const pauseSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    durationMs: { type: 'integer', minimum: 0, description: 'Least time in a step before it is judged.' },
    minDecisions: { type: 'integer', minimum: 0, description: "Least decisions of this rollout in the step before it is judged." },
  },
} as const;

/** JSON Schema of a service's `rollout:` block (and of `rollout start`'s options). */
export const rolloutConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    strategy: { enum: [...rolloutStrategies], description: 'canary (default), shadow or experiment.' },
    steps: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['weight'],
        properties: { weight: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, pause: pauseSchema },
      },
      description: 'canary: the candidate weights in increasing order, each with its pause; default 5%, 25%, 50%, 100% with 100 decisions each.',
    },
    failureLimit: { type: 'integer', minimum: 1, description: 'Failed analyses before an automatic rollback (default 1).' },
    inconclusiveLimit: { type: 'integer', minimum: 1, description: 'Inconclusive analyses in a row before onInconclusive applies (default 3).' },
    onInconclusive: { enum: ['pause', 'rollback'], description: 'What too many inconclusive analyses do (default pause).' },
    share: { type: 'number', minimum: 0, maximum: 1, description: 'shadow: the share of requests copied to the candidate (default 1).' },
    weight: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: "experiment: the treatment's share (default 0.5)." },
    pause: pauseSchema,
    srm: { const: true, description: 'experiment: the sample-ratio-mismatch check, always on.' },
    bandit: {
      type: 'object',
      additionalProperties: false,
      required: ['floor'],
      properties: { floor: { type: 'number', minimum: 0, maximum: 0.5 } },
      description: "experiment: shift weight toward the better arm, never below floor for either arm.",
    },
    analysis: { type: 'object', additionalProperties: true, description: "The analysis's settings (metrics, bounds, segments)." },
  },
} as const;

export const rolloutDefaults = {
  steps: [0.05, 0.25, 0.5, 1].map((weight) => ({ weight, pause: { durationMs: 0, minDecisions: 100 } })),
  pause: { durationMs: 0, minDecisions: 100 },
  failureLimit: 1,
  inconclusiveLimit: 3,
  onInconclusive: 'pause' as const,
  share: 1,
  weight: 0.5,
} as const;

const validate = createSchemaValidator<RolloutConfig>(rolloutConfigSchema, { subject: 'the rollout block' });

const pauseOf = (raw: Partial<PauseSpec> | undefined): PauseSpec => ({
  durationMs: raw?.durationMs ?? rolloutDefaults.pause.durationMs,
  minDecisions: raw?.minDecisions ?? rolloutDefaults.pause.minDecisions,
});

/**
 * The spec of a rollout: `config` (the service's block) overridden by `options` (start's), defaults
 * applied; CONFIG_INVALID for the block, REQUEST_INVALID for the options, with pointers.
 */
export function resolveRolloutSpec(config: unknown, options: unknown = {}): ResolvedRolloutSpec {
  const base = check(config ?? {}, 'CONFIG_INVALID', 'the rollout block');
  const override = check(options, 'REQUEST_INVALID', 'the rollout options');
  const c: RolloutConfig = { ...base, ...override };
  const strategy = c.strategy ?? 'canary';
  const common = {
    strategy,
    failureLimit: c.failureLimit ?? rolloutDefaults.failureLimit,
    inconclusiveLimit: c.inconclusiveLimit ?? rolloutDefaults.inconclusiveLimit,
    onInconclusive: c.onInconclusive ?? rolloutDefaults.onInconclusive,
    analysis: c.analysis ?? {},
  };
  const origin = Object.hasOwn(override, 'steps') ? 'REQUEST_INVALID' : 'CONFIG_INVALID';
  switch (strategy) {
    case 'canary': {
      // A start's own pause (without its own steps) is every step's: `rollout start --min-decisions 500`.
      const startPause = !Object.hasOwn(override, 'steps') && Object.hasOwn(override, 'pause') ? override.pause : undefined;
      const steps = (c.steps ?? rolloutDefaults.steps).map((s) => ({ weight: s.weight, pause: pauseOf(startPause === undefined ? s.pause : { ...s.pause, ...startPause }) }));
      const issues: Issue[] = [];
      steps.forEach((s, i) => {
        if (i > 0 && s.weight <= steps[i - 1]!.weight) {
          issues.push({ pointer: `/steps/${i}/weight`, code: 'increasing', message: `steps/${i}: weight ${s.weight} must be above the previous step's ${steps[i - 1]!.weight}` });
        }
      });
      if (issues.length > 0) throw new BallastError(origin, { detail: 'canary steps must raise the weight at every step', issues });
      return { ...common, steps, shadowShare: 0, srm: false, bandit: null };
    }
    case 'shadow':
      return { ...common, steps: [{ weight: 0, pause: pauseOf(c.pause) }], shadowShare: c.share ?? rolloutDefaults.share, srm: false, bandit: null };
    case 'experiment':
      return { ...common, steps: [{ weight: c.weight ?? rolloutDefaults.weight, pause: pauseOf(c.pause) }], shadowShare: 0, srm: true, bandit: c.bandit ?? null };
  }
}

function check(value: unknown, code: 'CONFIG_INVALID' | 'REQUEST_INVALID', what: string): RolloutConfig {
  const result = validate(value);
  if (!result.ok) throw new BallastError(code, { detail: `${what} is invalid`, issues: result.issues });
  return result.value;
}
