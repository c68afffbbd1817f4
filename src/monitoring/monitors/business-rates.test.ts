// Override and complaint rates are over the window's decisions, not over the decisions that got
// outcome feedback; the appeal overturn rate is over the window's decided appeals. Expected intervals: scipy.stats.binomtest(k, n).proportion_ci(method='wilson').
import { describe, expect, it } from 'vitest';
import { FeatureSketchSet } from '../sketches/index.js';
import { evaluateWindow } from './evaluate.js';
import { resolveMonitoringConfig } from './monitoring-config.js';
import type { MonitorEvaluation, WindowInput } from './types.js';

function window(decisions: number, business: WindowInput['business']): WindowInput {
  return {
    service: 's',
    version: 'v1',
    window: { start: '2025-01-01T10:00:00.000Z', end: '2025-01-01T11:00:00.000Z' },
    sketch: new FeatureSketchSet({ key: { service: 's', modelVersion: 'v1', window: 'w' }, features: [], outputLabels: [], stages: ['total'] }),
    counts: { decisions, byOutcome: { auto: decisions, review: 0, fallback: 0, rejected: 0 }, modelErrors: 0 },
    business,
  };
}

const rateOf = (evaluations: readonly MonitorEvaluation[], monitor: string) => evaluations.find((e) => e.monitor === monitor)!;

describe('override and complaint rates', () => {
  const config = resolveMonitoringConfig({ business: { override: { warning: 0.25, alert: 0.5 }, complaint: { warning: 0.05 } } });

  it('31 of 100 decisions overridden is 0.31, whatever share of them got outcome feedback', () => {
    // 35 decisions got outcome feedback, 31 of them overrides: the old denominator said 88.6%.
    const evaluations = evaluateWindow(window(100, { decisions: 35, overrides: 31, complaints: 3, appeals: 0, overturned: 0 }), undefined, config, new Map());
    const override = rateOf(evaluations, 'override_rate');
    expect(override.value).toBe(0.31);
    expect(override.samples).toBe(100);
    expect(override.observed).toBe('warning'); // 0.31 > 0.25, not > 0.5
    expect(override.values).toMatchObject({ numerator: 31, denominator: 100 });
    expect(override.values.lower).toBeCloseTo(0.22779697212376043, 12);
    expect(override.values.upper).toBeCloseTo(0.4062605571948941, 12);
    expect(override.message).toBe('override rate 31.0% (95% CI 22.8%–40.6%) > warning bound 25.0% over 100 decisions');
    const complaint = rateOf(evaluations, 'complaint_rate');
    expect(complaint.value).toBe(0.03);
    expect(complaint.samples).toBe(100);
    expect(complaint.observed).toBe('ok');
    expect(complaint.values.lower).toBeCloseTo(0.010254524024038925, 12);
    expect(complaint.values.upper).toBeCloseTo(0.08451936429052762, 12);
  });

  it('no outcome feedback at all is a rate of 0 over the decisions, not unknown', () => {
    const override = rateOf(evaluateWindow(window(40, { decisions: 0, overrides: 0, complaints: 0, appeals: 0, overturned: 0 }), undefined, config, new Map()), 'override_rate');
    expect(override).toMatchObject({ observed: 'ok', value: 0, samples: 40 });
  });

  it('is unknown with fewer decisions than minSamples, however many of them were overridden', () => {
    const override = rateOf(evaluateWindow(window(29, { decisions: 29, overrides: 29, complaints: 0, appeals: 0, overturned: 0 }), undefined, config, new Map()), 'override_rate');
    expect(override.observed).toBe('unknown');
    expect(override.value).toBeNull();
    expect(override.message).toContain('only 29 decisions in the window, fewer than minSamples (30)');
  });
});

describe('appeal overturn rate', () => {
  const config = resolveMonitoringConfig({ business: { appealOverturn: { warning: 0.25, alert: 0.5 } } });

  it('4 of 12 decided appeals overturned is 0.33 over the appeals, not over the 200 decisions', () => {
    const overturn = rateOf(evaluateWindow(window(200, { decisions: 12, overrides: 4, complaints: 12, appeals: 12, overturned: 4 }), undefined, config, new Map()), 'appeal_overturn_rate');
    expect(overturn.value).toBeCloseTo(1 / 3, 15);
    expect(overturn.samples).toBe(12);
    expect(overturn.observed).toBe('warning');
    expect(overturn.values).toMatchObject({ numerator: 4, denominator: 12 });
    // scipy.stats.binomtest(4, 12).proportion_ci(method='wilson')
    expect(overturn.values.lower).toBeCloseTo(0.1381200910912132, 12);
    expect(overturn.values.upper).toBeCloseTo(0.6093779111272004, 12);
    expect(overturn.message).toBe('appeal overturn rate 33.3% (95% CI 13.8%–60.9%) > warning bound 25.0% over 12 decided appeals');
  });

  it('is unknown below business.minAppeals decided appeals (default 10), whatever the decisions', () => {
    const overturn = rateOf(evaluateWindow(window(500, { decisions: 9, overrides: 9, complaints: 9, appeals: 9, overturned: 9 }), undefined, config, new Map()), 'appeal_overturn_rate');
    expect(overturn.observed).toBe('unknown');
    expect(overturn.message).toContain('only 9 decided appeals in the window, fewer than business.minAppeals (10)');
    const lower = resolveMonitoringConfig({ business: { minAppeals: 5, appealOverturn: { alert: 0.5 } } });
    expect(rateOf(evaluateWindow(window(500, { decisions: 9, overrides: 9, complaints: 9, appeals: 9, overturned: 9 }), undefined, lower, new Map()), 'appeal_overturn_rate')).toMatchObject({ observed: 'alert', value: 1, samples: 9 });
  });
});
