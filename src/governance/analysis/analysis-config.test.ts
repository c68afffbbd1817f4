// The rollout.analysis block: defaults, overrides, and one issue per problem with its pointer.
import { describe, expect, it } from 'vitest';
import { BallastError } from '../../errors/index.js';
import { forShadow, resolveAnalysisConfig } from './analysis-config.js';

function issuesOf(raw: unknown): { pointer: string; code: string }[] {
  try {
    resolveAnalysisConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(BallastError);
    expect((error as BallastError).code).toBe('CONFIG_INVALID');
    return (error as BallastError).issues.map(({ pointer, code }) => ({ pointer, code }));
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('resolveAnalysisConfig', () => {
  it('gives the documented defaults when the block is absent', () => {
    const c = resolveAnalysisConfig(undefined);
    expect(c).toMatchObject({ confidence: 0.95, minDecisions: 100, segments: [], segmentMinDecisions: 50, segmentBound: 1 });
    expect(c.metrics.map((m) => [m.metric, m.direction, m.bound, m.optional])).toEqual([
      ['error_rate', 'lower', 0.02, false],
      ['fallback_rate', 'lower', 0.02, false],
      ['review_rate', 'lower', 0.05, false],
      ['latency_p95', 'lower', 0.25, false],
      ['output_distribution', 'lower', 0.1, true],
      ['accuracy', 'higher', 0.02, true],
    ]);
  });

  it('fills per-metric defaults and keeps overrides', () => {
    const c = resolveAnalysisConfig({
      confidence: 0.99,
      minDecisions: 500,
      segments: ['country'],
      metrics: [{ metric: 'latency_p95', bound: 0.1 }, { metric: 'business:revenue', direction: 'higher', bound: 2, minSamples: 50 }],
    });
    expect(c.confidence).toBe(0.99);
    expect(c.metrics).toEqual([
      { metric: 'latency_p95', direction: 'lower', bound: 0.1, minSamples: 500, optional: false },
      { metric: 'business:revenue', direction: 'higher', bound: 2, minSamples: 50, optional: false },
    ]);
  });

  it('rejects bad blocks with pointers', () => {
    expect(issuesOf({ metrics: [{ metric: 'business:revenue', bound: 1 }] })).toEqual([{ pointer: '/metrics/0/direction', code: 'required' }]);
    expect(issuesOf({ metrics: [{ metric: 'business:revenue', direction: 'higher' }] })).toEqual([{ pointer: '/metrics/0/bound', code: 'required' }]);
    expect(issuesOf({ metrics: [{ metric: 'latency' }] })).toEqual([{ pointer: '/metrics/0/metric', code: 'pattern' }]);
    expect(issuesOf({ confidence: 1.5, minDecisions: 0, extra: true })).toEqual([
      { pointer: '/extra', code: 'additionalProperties' },
      { pointer: '/confidence', code: 'exclusiveMinimum' },
      { pointer: '/minDecisions', code: 'minimum' },
    ]);
    expect(issuesOf({ metrics: [{ metric: 'error_rate' }, { metric: 'error_rate', bound: -1 }] })).toEqual([{ pointer: '/metrics/1/metric', code: 'uniqueItems' }]);
    expect(issuesOf({ segments: ['a', 'a'] })).toEqual([{ pointer: '/segments/1', code: 'uniqueItems' }]);
    expect(issuesOf('fast')).toEqual([{ pointer: '', code: 'type' }]);
  });

  it('keeps only the metrics a shadow answer has for a shadow rollout', () => {
    const c = forShadow(resolveAnalysisConfig({ metrics: [{ metric: 'error_rate' }, { metric: 'review_rate' }, { metric: 'business:revenue', direction: 'higher', bound: 1 }, { metric: 'accuracy' }] }));
    expect(c.metrics.map((m) => m.metric)).toEqual(['error_rate', 'accuracy']);
  });
});
