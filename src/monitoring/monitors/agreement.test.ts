// agreement/<checker>: the share of a checker's compared checks (agree + disagree) that agreed with the served model,
// judged below monitoring.agreement. Expected intervals: scipy.stats.binomtest(k, n).proportion_ci(method='wilson')
// (SciPy 1.17.1), and the Wilson formula worked out by hand below.
import { describe, expect, it } from 'vitest';
import { FeatureSketchSet } from '../sketches/index.js';
import { evaluateWindow } from './evaluate.js';
import { resolveMonitoringConfig } from './monitoring-config.js';
import type { MonitorStatus } from './state.js';
import type { CrossCheckCounts, MonitorEvaluation, WindowInput } from './types.js';

function window(crossChecks?: Record<string, CrossCheckCounts>, decisions = 100): WindowInput {
  return {
    service: 's',
    version: 'v1',
    window: { start: '2025-01-01T10:00:00.000Z', end: '2025-01-01T11:00:00.000Z' },
    sketch: new FeatureSketchSet({ key: { service: 's', modelVersion: 'v1', window: 'w' }, features: [], outputLabels: [], stages: ['total'] }),
    counts: { decisions, byOutcome: { auto: decisions, review: 0, fallback: 0, rejected: 0 }, modelErrors: 0 },
    business: { decisions: 0, overrides: 0, complaints: 0, appeals: 0, overturned: 0 },
    ...(crossChecks === undefined ? {} : { crossChecks: new Map(Object.entries(crossChecks)) }),
  };
}

const defaults = resolveMonitoringConfig({});
const none = new Map<string, MonitorStatus>();
const find = (evaluations: readonly MonitorEvaluation[], monitor: string) => evaluations.find((e) => e.monitor === monitor)!;
const counts = (agree: number, disagree: number, unavailable = 0): CrossCheckCounts => ({ agree, disagree, unavailable });

/** The Wilson score interval written out from its definition (independent of rates.ts). */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const centre = (k + (z * z) / 2) / (n + z * z);
  const half = ((z * Math.sqrt(n)) / (n + z * z)) * Math.sqrt(p * (1 - p) + (z * z) / (4 * n));
  return [centre - half, centre + half];
}

describe('agreement/<checker>', () => {
  it('is agree / (agree + disagree) with its Wilson interval; unavailable checks are reported, not compared', () => {
    // 27 of 30 compared checks agreed, 10 more were unavailable: 0.9, not 27/40.
    const [e] = evaluateWindow(window({ shadow: counts(27, 3, 10) }), undefined, defaults, none).filter((x) => x.monitor.startsWith('agreement/'));
    expect(e!.monitor).toBe('agreement/shadow');
    expect(e!.value).toBe(0.9);
    expect(e!.samples).toBe(30);
    expect(e!.threshold).toEqual({ warning: 0.9, alert: 0.8 });
    // By hand: z² = 3.8414588, centre = (27 + 1.9207294) / 33.8414588 = 0.8545946,
    // half = (1.959964 · √30 / 33.8414588) · √(0.09 + 3.8414588/120) = 0.3172193 · 0.3493024 = 0.1108055.
    expect(e!.values.lower).toBeCloseTo(0.8545946 - 0.1108055, 6);
    expect(e!.values.upper).toBeCloseTo(0.8545946 + 0.1108055, 6);
    expect(e!.values.lower).toBeCloseTo(0.7437891742081592, 12); // SciPy
    expect(e!.values.upper).toBeCloseTo(0.9654001112526657, 12);
    expect(e!.values).toMatchObject({ agree: 27, disagree: 3, unavailable: 10, compared: 30, unavailableShare: 0.25, rate: 0.9 });
    // 0.9 is not below the warning bound 0.9.
    expect(e!.observed).toBe('ok');
    expect(e!.message).toBe('agreement with `shadow` 90.0% (95% CI 74.4%–96.5%) ≥ warning bound 90.0% over 30 compared checks (10 unavailable, 25.0% of its checks)');
  });

  it('matches SciPy and the formula on other counts', () => {
    for (const [k, n, lower, upper] of [
      [85, 100, 0.7671644040916763, 0.9069401471634337],
      [40, 50, 0.6696289406777458, 0.8875624998422389],
    ] as const) {
      const e = find(evaluateWindow(window({ c: counts(k, n - k) }), undefined, defaults, none), 'agreement/c');
      expect(e.value).toBe(k / n);
      expect(e.values.lower).toBeCloseTo(lower, 12);
      expect(e.values.upper).toBeCloseTo(upper, 12);
      expect(e.values.lower).toBeCloseTo(wilson(k, n)[0], 12);
      expect(e.values.upper).toBeCloseTo(wilson(k, n)[1], 12);
    }
  });

  it('is ok at the warning bound, warning below it and at the alert bound, alert below the alert bound', () => {
    const stateAt = (agree: number) => find(evaluateWindow(window({ c: counts(agree, 100 - agree) }), undefined, defaults, none), 'agreement/c');
    expect(stateAt(100).observed).toBe('ok');
    expect(stateAt(90).observed).toBe('ok');
    expect(stateAt(89).observed).toBe('warning');
    expect(stateAt(80).observed).toBe('warning');
    expect(stateAt(79).observed).toBe('alert');
    expect(stateAt(0).observed).toBe('alert');
    expect(stateAt(79).message).toBe('agreement with `c` 79.0% (95% CI 70.0%–85.8%) < alert bound 80.0% over 100 compared checks');
    expect(stateAt(89).message).toMatch(/< warning bound 90\.0% over 100 compared checks$/);
  });

  it('is unknown below minSamples compared checks, however many were unavailable', () => {
    const few = find(evaluateWindow(window({ c: counts(0, 29, 500) }), undefined, defaults, none), 'agreement/c');
    expect(few.observed).toBe('unknown');
    expect(few.value).toBeNull();
    expect(few.samples).toBe(29);
    expect(few.values).toMatchObject({ agree: 0, disagree: 29, unavailable: 500, compared: 29 });
    expect(few.message).toBe('agreement with `c` unknown: only 29 compared checks in the window, fewer than minSamples (30) (500 unavailable, 94.5% of its checks)');
    const enough = find(evaluateWindow(window({ c: counts(0, 30, 500) }), undefined, defaults, none), 'agreement/c');
    expect(enough.observed).toBe('alert');
    const allUnavailable = find(evaluateWindow(window({ c: counts(0, 0, 40) }), undefined, defaults, none), 'agreement/c');
    expect(allUnavailable).toMatchObject({ observed: 'unknown', samples: 0, values: { unavailableShare: 1 } });
    const lower = resolveMonitoringConfig({ minSamples: 5 });
    expect(find(evaluateWindow(window({ c: counts(3, 2) }), undefined, lower, none), 'agreement/c').observed).toBe('alert');
  });

  it('one monitor per checker, by name, after the other monitors; none without cross-checks', () => {
    const names = (input: WindowInput) => evaluateWindow(input, undefined, defaults, none).map((e) => e.monitor);
    const without = names(window());
    expect(without.some((m) => m.startsWith('agreement/'))).toBe(false);
    expect(names(window({}))).toEqual(without);
    const withChecks = names(window({ 'z-rules': counts(30, 0), 'a-shadow': counts(30, 0), m_v3: counts(30, 0) }));
    expect(withChecks).toEqual([...without, 'agreement/a-shadow', 'agreement/m_v3', 'agreement/z-rules']);
  });

  it('takes monitoring.agreement bounds, checks their order, and with {} never raises', () => {
    const config = resolveMonitoringConfig({ agreement: { warning: 0.99, alert: 0.95 } });
    expect(config.agreement).toEqual({ warning: 0.99, alert: 0.95 });
    const e = find(evaluateWindow(window({ c: counts(97, 3) }), undefined, config, none), 'agreement/c');
    expect(e.observed).toBe('warning');
    expect(e.threshold).toEqual({ warning: 0.99, alert: 0.95 });
    // A pair replaces the default pair as a whole.
    expect(resolveMonitoringConfig({ agreement: { alert: 0.5 } }).agreement).toEqual({ alert: 0.5 });
    const unbounded = resolveMonitoringConfig({ agreement: {} });
    expect(find(evaluateWindow(window({ c: counts(0, 100) }), undefined, unbounded, none), 'agreement/c')).toMatchObject({ observed: 'ok', value: 0, message: expect.stringContaining('no bound set') as unknown });
    expect(() => resolveMonitoringConfig({ agreement: { warning: 0.8, alert: 0.9 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', issues: [expect.objectContaining({ pointer: '/agreement', code: 'thresholds' })] }));
    expect(() => resolveMonitoringConfig({ agreement: { warning: 1.5 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => resolveMonitoringConfig({ agreement: { low: 0.5 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('goes through hysteresis like the other monitors', () => {
    const config = resolveMonitoringConfig({ hysteresis: { raiseAfter: 2, clearAfter: 2 } });
    let previous = new Map<string, MonitorStatus>();
    const step = (agree: number) => {
      const e = find(evaluateWindow(window({ c: counts(agree, 100 - agree) }), undefined, config, previous), 'agreement/c');
      previous = new Map([[e.monitor, e.status]]);
      return e.status.state;
    };
    // Raised after two low windows, cleared after two good ones, not raised again by one low window.
    expect([step(70), step(70), step(95), step(95), step(70)]).toEqual(['ok', 'alert', 'alert', 'ok', 'ok']);
  });
});
