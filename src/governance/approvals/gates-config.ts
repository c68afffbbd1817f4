// What promotion to 100% needs for one service: its risk tier sets the defaults (approvals, a passed
// analysis), the `gates:` block adds bounds on the version's registered evaluation metrics, and may
// require the candidate's live decisions to meet the service's fairness: bounds.
import type { Issue } from '../../errors/index.js';

export const riskTiers = ['low', 'medium', 'high'] as const;
export type RiskTier = (typeof riskTiers)[number];

export const analysisRequirements = ['required', 'optional'] as const;
export type AnalysisRequirement = (typeof analysisRequirements)[number];

/** Bounds on one metric: both inclusive. */
export interface MetricBound {
  readonly min?: number;
  readonly max?: number;
}

/** Metric → bounds on the version's evaluation; the key `subgroups` bounds every subgroup's metrics instead. */
export interface EvaluationGates {
  readonly subgroups?: Readonly<Record<string, MetricBound>>;
  readonly [metric: string]: MetricBound | Readonly<Record<string, MetricBound>> | undefined;
}

/** The `gates:` block of a service as written. */
export interface GatesConfig {
  /** Metric → bounds on the version's evaluation; `subgroups` bounds every subgroup's metrics. */
  readonly evaluation?: EvaluationGates;
  readonly analysis?: AnalysisRequirement;
  readonly approvals?: number;
  /** `required`: the candidate's own decisions in its rollout must meet the service's fairness: bounds (and be enough to judge). */
  readonly fairness?: AnalysisRequirement;
}

/** The gate with the tier's defaults applied. */
export interface ResolvedGates {
  readonly risk: RiskTier;
  readonly evaluation: Readonly<Record<string, MetricBound>>;
  /** Bounds each subgroup (of the version's evaluation) must meet, per metric. */
  readonly subgroups: Readonly<Record<string, MetricBound>>;
  readonly analysis: AnalysisRequirement;
  /** Approvals needed, by distinct principals other than the author. */
  readonly approvals: number;
  readonly fairness: AnalysisRequirement;
}

/** Approvals a tier needs at least; a service may ask for more, never fewer. */
export const tierApprovals: Readonly<Record<RiskTier, number>> = { low: 0, medium: 1, high: 2 };

const boundSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    min: { type: 'number', description: 'The metric must be at least this.' },
    max: { type: 'number', description: 'The metric must be at most this.' },
  },
} as const;

/** JSON Schema of a service's `risk:` (default low). */
export const riskTierSchema = { enum: [...riskTiers], description: 'What promotion to 100% needs: low (nothing unless gates say), medium (1 approval, a passed analysis), high (2 approvals).' } as const;

/** JSON Schema (2020-12) of a service's `gates:` block. */
export const gatesConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    evaluation: {
      type: 'object',
      description: "Bounds on the version's registered evaluation metrics; `subgroups` holds bounds every subgroup must meet.",
      properties: { subgroups: { type: 'object', additionalProperties: boundSchema } },
      additionalProperties: boundSchema,
    },
    analysis: { enum: [...analysisRequirements], description: 'Whether the last analysis of a rollout of the version must be pass (default: required for medium and high).' },
    approvals: { type: 'integer', minimum: 0, maximum: 10, description: 'Approvals needed by principals other than the author (default: low 0, medium 1, high 2; never fewer than the tier).' },
    fairness: { enum: [...analysisRequirements], description: "required: the candidate's decisions in its rollout must meet the service's fairness: bounds, with enough decisions per group to judge (default optional)." },
  },
} as const;

export type GatesResolution = { readonly ok: true; readonly value: ResolvedGates } | { readonly ok: false; readonly issues: readonly Issue[] };

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * A service's gate from its (schema-checked) `risk:` and `gates:`, with the tier's defaults; issues
 * (pointers from the service) for what the schema cannot say: fewer approvals than the tier, min above max.
 */
export function resolveGates(risk: RiskTier | undefined, gates: GatesConfig | undefined): GatesResolution {
  const tier = risk ?? 'low';
  const issues: Issue[] = [];
  const approvals = gates?.approvals ?? tierApprovals[tier];
  if (approvals < tierApprovals[tier]) {
    issues.push({ pointer: '/gates/approvals', code: 'minimum', message: `a ${tier}-risk service needs at least ${tierApprovals[tier]} approval${tierApprovals[tier] === 1 ? '' : 's'}, not ${approvals}` });
  }
  const { subgroups = {}, ...rest } = gates?.evaluation ?? {};
  // The schema has checked that every key but `subgroups` holds one metric's bounds.
  const evaluation = rest as Readonly<Record<string, MetricBound>>;
  const checkBounds = (bounds: Readonly<Record<string, MetricBound>>, base: string) => {
    for (const [metric, bound] of Object.entries(bounds)) {
      if (bound.min !== undefined && bound.max !== undefined && bound.min > bound.max) {
        issues.push({ pointer: `${base}/${escape(metric)}`, code: 'bounds', message: `min ${bound.min} is above max ${bound.max}: no value could pass` });
      }
    }
  };
  checkBounds(evaluation, '/gates/evaluation');
  checkBounds(subgroups, '/gates/evaluation/subgroups');
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: Object.freeze({
      risk: tier,
      evaluation: Object.freeze({ ...evaluation }),
      subgroups: Object.freeze({ ...subgroups }),
      analysis: gates?.analysis ?? (tier === 'low' ? 'optional' : 'required'),
      approvals,
      fairness: gates?.fairness ?? 'optional',
    }),
  };
}
