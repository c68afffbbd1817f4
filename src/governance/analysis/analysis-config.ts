// A service's `rollout.analysis` block: which metrics gate a rollout step, how much degradation each tolerates,
// how sure the analysis must be, and which segments it also judges. Resolved once into a complete config.
import { BallastError, type Issue } from '../../errors/index.js';

export type BuiltinMetric = 'error_rate' | 'fallback_rate' | 'review_rate' | 'latency_p95' | 'output_distribution' | 'accuracy';
/** A built-in metric or `business:<name>` (the mean of a numeric business outcome). */
export type MetricName = BuiltinMetric | `business:${string}`;
export type Direction = 'lower' | 'higher';

export interface ResolvedMetric {
  readonly metric: MetricName;
  /** Which way is better. */
  readonly direction: Direction;
  /**
   * The tolerated degradation, ≥ 0: absolute for rates, accuracy and business means; relative for latency_p95
   * (0.25 = 25% slower); the total-variation distance for output_distribution.
   */
  readonly bound: number;
  /** Observations per arm below which the metric is inconclusive (for accuracy: labelled ones). */
  readonly minSamples: number;
  /** A metric without any data (accuracy without labels) is reported but does not block a pass. */
  readonly optional: boolean;
}

export interface AnalysisConfig {
  readonly metrics: readonly ResolvedMetric[];
  /** Two-sided confidence of every interval, e.g. 0.95. */
  readonly confidence: number;
  /** Decisions per arm below which everything is inconclusive. */
  readonly minDecisions: number;
  /** Observation segment fields judged separately. */
  readonly segments: readonly string[];
  /** Decisions per arm a segment value needs to be judged. */
  readonly segmentMinDecisions: number;
  /** Multiplier of each metric's bound for segment verdicts (1: the same tolerance as overall). */
  readonly segmentBound: number;
}

const builtins: readonly BuiltinMetric[] = ['error_rate', 'fallback_rate', 'review_rate', 'latency_p95', 'output_distribution', 'accuracy'];

// Defaults per built-in metric. output_distribution is optional like accuracy: a regression service has no output
// label, and a gate that can never be judged would block every rollout of it.
const metricDefaults: Readonly<Record<BuiltinMetric, { direction: Direction; bound: number; optional: boolean }>> = {
  error_rate: { direction: 'lower', bound: 0.02, optional: false },
  fallback_rate: { direction: 'lower', bound: 0.02, optional: false },
  review_rate: { direction: 'lower', bound: 0.05, optional: false },
  latency_p95: { direction: 'lower', bound: 0.25, optional: false },
  output_distribution: { direction: 'lower', bound: 0.1, optional: true },
  accuracy: { direction: 'higher', bound: 0.02, optional: true },
};

const metricPattern = '^(error_rate|fallback_rate|review_rate|latency_p95|output_distribution|accuracy|business:[A-Za-z0-9_.-]+)$';

/** JSON Schema (2020-12) of the `rollout.analysis` block. */
export const analysisConfigSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    metrics: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['metric'],
        properties: {
          metric: { type: 'string', pattern: metricPattern, description: 'A built-in metric or business:<name>.' },
          direction: { enum: ['lower', 'higher'], description: 'Which way is better; required for business metrics.' },
          bound: { type: 'number', minimum: 0, description: 'Tolerated degradation: absolute for rates and accuracy, relative for latency_p95, TVD for output_distribution.' },
          minSamples: { type: 'integer', minimum: 1 },
          optional: { type: 'boolean', description: 'A metric without data does not block a pass.' },
        },
        if: { properties: { metric: { pattern: '^business:' } } },
        then: { required: ['metric', 'direction'] },
      },
    },
    confidence: { type: 'number', exclusiveMinimum: 0.5, exclusiveMaximum: 1, default: 0.95 },
    minDecisions: { type: 'integer', minimum: 1, default: 100 },
    segments: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    segmentMinDecisions: { type: 'integer', minimum: 1, default: 50 },
    segmentBound: { type: 'number', exclusiveMinimum: 0, default: 1, description: "Multiplier of each metric's bound for segment verdicts." },
  },
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBuiltin(metric: string): metric is BuiltinMetric {
  return (builtins as readonly string[]).includes(metric);
}

/**
 * Validates the raw block (undefined = absent) and fills in defaults; throws CONFIG_INVALID with one issue per
 * problem (pointers relative to the block). The same checks as the schema, done by hand so governance needs no
 * schema compiler.
 */
export function resolveAnalysisConfig(raw: unknown): AnalysisConfig {
  const issues: Issue[] = [];
  const problem = (pointer: string, code: string, message: string): void => {
    issues.push({ pointer, code, message });
  };
  const block: Record<string, unknown> = raw === undefined || raw === null ? {} : isRecord(raw) ? raw : (problem('', 'type', 'analysis must be an object'), {});
  const known = new Set(Object.keys(analysisConfigSchema.properties));
  for (const key of Object.keys(block)) {
    if (!known.has(key)) problem(`/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, 'additionalProperties', `unknown property ${JSON.stringify(key)}`);
  }
  const integer = (key: string, fallback: number): number => {
    const value = block[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      problem(`/${key}`, 'minimum', `${key} must be an integer ≥ 1`);
      return fallback;
    }
    return value;
  };
  let confidence = 0.95;
  if (block.confidence !== undefined) {
    if (typeof block.confidence !== 'number' || !(block.confidence > 0.5 && block.confidence < 1)) problem('/confidence', 'exclusiveMinimum', 'confidence must be a number in (0.5, 1)');
    else confidence = block.confidence;
  }
  const minDecisions = integer('minDecisions', 100);
  const segmentMinDecisions = integer('segmentMinDecisions', 50);
  let segmentBound = 1;
  if (block.segmentBound !== undefined) {
    if (typeof block.segmentBound !== 'number' || !(block.segmentBound > 0) || !Number.isFinite(block.segmentBound)) problem('/segmentBound', 'exclusiveMinimum', 'segmentBound must be a number > 0');
    else segmentBound = block.segmentBound;
  }
  const segments: string[] = [];
  if (block.segments !== undefined) {
    if (!Array.isArray(block.segments)) problem('/segments', 'type', 'segments must be an array of field names');
    else
      block.segments.forEach((field: unknown, i) => {
        if (typeof field !== 'string' || field === '') problem(`/segments/${i}`, 'type', 'a segment must be a non-empty field name');
        else if (segments.includes(field)) problem(`/segments/${i}`, 'uniqueItems', `segment ${JSON.stringify(field)} is listed twice`);
        else segments.push(field);
      });
  }
  const metrics: ResolvedMetric[] = [];
  if (block.metrics === undefined) {
    for (const metric of builtins) metrics.push({ metric, ...metricDefaults[metric], minSamples: minDecisions });
  } else if (!Array.isArray(block.metrics) || block.metrics.length === 0) {
    problem('/metrics', 'minItems', 'metrics must be a non-empty array');
  } else {
    const seen = new Set<string>();
    block.metrics.forEach((entry: unknown, i) => {
      const at = `/metrics/${i}`;
      if (!isRecord(entry)) return problem(at, 'type', 'a metric must be an object');
      for (const key of Object.keys(entry)) {
        if (!['metric', 'direction', 'bound', 'minSamples', 'optional'].includes(key)) problem(`${at}/${key}`, 'additionalProperties', `unknown property ${JSON.stringify(key)}`);
      }
      const name = entry.metric;
      if (typeof name !== 'string' || !new RegExp(metricPattern).test(name)) return problem(`${at}/metric`, 'pattern', `metric must be one of ${builtins.join(', ')} or business:<name>`);
      if (seen.has(name)) return problem(`${at}/metric`, 'uniqueItems', `metric ${name} is listed twice`);
      seen.add(name);
      const defaults = isBuiltin(name) ? metricDefaults[name] : undefined;
      let direction = defaults?.direction;
      if (entry.direction !== undefined) {
        if (entry.direction !== 'lower' && entry.direction !== 'higher') problem(`${at}/direction`, 'enum', "direction must be 'lower' or 'higher'");
        else direction = entry.direction;
      }
      if (direction === undefined) return problem(`${at}/direction`, 'required', `${name} needs a direction (which way is better)`);
      let bound = defaults?.bound;
      if (entry.bound !== undefined) {
        if (typeof entry.bound !== 'number' || !Number.isFinite(entry.bound) || entry.bound < 0) problem(`${at}/bound`, 'minimum', 'bound must be a number ≥ 0');
        else bound = entry.bound;
      }
      if (bound === undefined) return problem(`${at}/bound`, 'required', `${name} needs a bound (the tolerated degradation)`);
      let minSamples = minDecisions;
      if (entry.minSamples !== undefined) {
        if (typeof entry.minSamples !== 'number' || !Number.isInteger(entry.minSamples) || entry.minSamples < 1) problem(`${at}/minSamples`, 'minimum', 'minSamples must be an integer ≥ 1');
        else minSamples = entry.minSamples;
      }
      let optional = defaults?.optional ?? false;
      if (entry.optional !== undefined) {
        if (typeof entry.optional !== 'boolean') problem(`${at}/optional`, 'type', 'optional must be a boolean');
        else optional = entry.optional;
      }
      metrics.push({ metric: name as MetricName, direction, bound, minSamples, optional });
    });
  }
  if (issues.length > 0) throw new BallastError('CONFIG_INVALID', { detail: `rollout.analysis is invalid: ${issues.map((i) => `${i.pointer || '/'} ${i.message}`).join('; ')}`, issues });
  return { metrics, confidence, minDecisions, segments, segmentMinDecisions, segmentBound };
}

/**
 * The metrics a shadow rollout can judge: a shadow answer is never served, so it has no fallback or review outcome
 * and no business outcome of its own; comparing those would credit the candidate with zeros.
 */
export function forShadow(config: AnalysisConfig): AnalysisConfig {
  return { ...config, metrics: config.metrics.filter((m) => m.metric !== 'fallback_rate' && m.metric !== 'review_rate' && !m.metric.startsWith('business:')) };
}
