// The `fairness:` block of a service: which input fields are protected attributes, what the
// favourable answer is, the window and the bounds. Monitoring's, carried opaquely by the pipeline.
import { BallastError, type Issue } from '../../errors/index.js';
import { parseDuration } from '../monitors/monitoring-config.js';

/** Bounds across a field's groups; each optional. A group with fewer than minGroupCount rows is never judged. */
export interface FairnessBounds {
  /** The lowest group's selection rate over the highest's (the four-fifths rule: 0.8). */
  readonly minSelectionRatio?: number;
  readonly maxSelectionDifference?: number;
  /** The larger of the true-positive-rate and false-positive-rate differences between groups (labelled rows). */
  readonly maxEqualizedOddsDifference?: number;
  /** The true-positive-rate difference between groups (labelled rows). */
  readonly maxEqualOpportunityDifference?: number;
}

export interface FairnessConfig {
  /** Input fields to judge (default: the contract's fields marked `protected: true`). */
  readonly fields?: readonly string[];
  /** The favourable answer: a JSON pointer into the output (and into a label) and the value that is favourable. */
  readonly favourable: { readonly pointer: string; readonly equals: string | number | boolean };
  /** The decisions judged: those made in the last `window` (default 30d). */
  readonly window?: string;
  readonly evaluateEvery?: string;
  readonly minGroupCount?: number;
  readonly bounds?: FairnessBounds;
}

export interface ResolvedFairnessConfig {
  readonly fields: readonly string[];
  readonly favourable: { readonly pointer: string; readonly equals: string | number | boolean };
  readonly windowMs: number;
  readonly evaluateEveryMs: number;
  readonly minGroupCount: number;
  readonly bounds: FairnessBounds;
}

export const fairnessDefaults = Object.freeze({ window: '30d', evaluateEvery: '1m', minGroupCount: 30, bounds: Object.freeze({ minSelectionRatio: 0.8 }) });

const rate = { type: 'number', minimum: 0, maximum: 1 } as const;
const duration = { type: 'string', pattern: '^[1-9][0-9]{0,5}[smhdw]$' } as const;

/** JSON Schema 2020-12 of the `fairness:` block. */
export const fairnessConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['favourable'],
  properties: {
    fields: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
    favourable: {
      type: 'object',
      additionalProperties: false,
      required: ['pointer', 'equals'],
      properties: { pointer: { type: 'string', pattern: '^(/([^~/]|~[01])*)*$' }, equals: { type: ['string', 'number', 'boolean'] } },
    },
    window: duration,
    evaluateEvery: duration,
    minGroupCount: { type: 'integer', minimum: 1 },
    bounds: {
      type: 'object',
      additionalProperties: false,
      properties: { minSelectionRatio: rate, maxSelectionDifference: rate, maxEqualizedOddsDifference: rate, maxEqualOpportunityDifference: rate },
    },
  },
} as const;

/**
 * Applies the defaults; `protectedFields` are the contract's (the default field list) and `inputFields`
 * every input field it declares (a named field must be one). CONFIG_INVALID with pointers otherwise.
 */
export function resolveFairnessConfig(block: FairnessConfig, protectedFields: readonly string[], inputFields: ReadonlySet<string>): ResolvedFairnessConfig {
  const issues: Issue[] = [];
  const fields = block.fields ?? protectedFields;
  if (fields.length === 0) issues.push({ pointer: '/fields', code: 'required', message: 'no field to judge: name fields here or mark contract fields protected: true' });
  for (const [i, field] of fields.entries()) if (!inputFields.has(field)) issues.push({ pointer: `/fields/${i}`, code: 'unknown_field', message: `'${field}' is not a field of the input contract` });
  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: 'the fairness block is invalid', issues });
  return {
    fields: [...fields],
    favourable: block.favourable,
    windowMs: parseDuration(block.window ?? fairnessDefaults.window),
    evaluateEveryMs: parseDuration(block.evaluateEvery ?? fairnessDefaults.evaluateEvery),
    minGroupCount: block.minGroupCount ?? fairnessDefaults.minGroupCount,
    bounds: block.bounds ?? fairnessDefaults.bounds,
  };
}

const resolvedOf = new WeakMap<object, ResolvedFairnessConfig | null>();

/**
 * The resolved `fairness:` block of a compiled service (once per revision of its config), or undefined
 * when it has none. The default fields are the contract's input fields marked `protected: true`.
 */
export function fairnessConfigOf(service: { readonly config: { readonly fairness?: unknown }; readonly contract: { readonly inputFields: ReadonlyMap<string, { readonly protected?: boolean }> } }): ResolvedFairnessConfig | undefined {
  let resolved = resolvedOf.get(service.config);
  if (resolved === undefined) {
    const block = service.config.fairness as FairnessConfig | undefined;
    const fields = service.contract.inputFields;
    resolved = block === undefined ? null : resolveFairnessConfig(block, [...fields].filter(([, f]) => f.protected === true).map(([name]) => name), new Set(fields.keys()));
    resolvedOf.set(service.config, resolved);
  }
  return resolved ?? undefined;
}
