import { describe, expect, it } from 'vitest';
import { FeatureSketchSet, buildReferenceProfile, type SketchEvent } from '../sketches/index.js';
import { CalibrationTable } from './calibration-table.js';
import { evaluateWindow } from './evaluate.js';
import { resolveMonitoringConfig } from './monitoring-config.js';
import type { LabelledPair } from './performance.js';
import type { MonitorStatus } from './state.js';
import type { MonitorEvaluation, ReferenceInput, WindowInput } from './types.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const vocabulary = new Set(['cheap', 'meeting', 'offer', 'report', 'lunch', 'now']);
const features = [
  { name: 'amount', kind: 'numeric' as const },
  { name: 'channel', kind: 'categorical' as const },
  { name: 'body', kind: 'text' as const, vocabulary },
];
const stages = ['total', 'model'];

interface Row extends SketchEvent {
  readonly actual: string;
}

/** Traffic whose amounts shift by `shift`, and whose model is right with probability 0.2 + 0.75·confidence. */
function traffic(n: number, seed: number, shift = 0, latencyMs = 20, words = ['cheap', 'offer', 'meeting', 'report', 'lunch', 'now']): Row[] {
  const random = seeded(seed);
  return Array.from({ length: n }, () => {
    const confidence = 0.5 + 0.5 * random();
    const predicted = random() < 0.3 ? 'spam' : 'ham';
    const right = random() < 0.2 + 0.75 * confidence;
    return {
      input: {
        amount: random() * 100 + shift,
        channel: ['web', 'mail', 'api'][Math.floor(random() * 3)],
        body: Array.from({ length: 1 + Math.floor(random() * 5) }, () => words[Math.floor(random() * words.length)]).join(' '),
      },
      outputLabel: predicted,
      confidence,
      timings: { total: latencyMs * (0.5 + random()), model: latencyMs * 0.8 * random() },
      actual: right ? predicted : predicted === 'spam' ? 'ham' : 'spam',
    };
  });
}

const referenceRows = traffic(3000, 1);
const profile = buildReferenceProfile(referenceRows, features, { key: { service: 'mail', modelVersion: 'v1', window: 'reference' }, stages });
const referenceCalibration = new CalibrationTable();
referenceRows.forEach((r) => referenceCalibration.update(r.confidence, r.outputLabel === r.actual));
// No accuracy given: the bounds follow the reference's own accuracy in its calibration table (about 0.76).
const reference: ReferenceInput = { sketch: profile.sketch, calibration: referenceCalibration };
const referenceAccuracy = referenceRows.filter((r) => r.outputLabel === r.actual).length / referenceRows.length;

function windowInput(rows: Row[], options: { ripe?: boolean; errors?: number; fallbacks?: number; overrides?: number } = {}): WindowInput {
  const sketch = new FeatureSketchSet({ ...profile.config, key: { service: 'mail', modelVersion: 'v1', window: 'w' } });
  rows.forEach((r) => sketch.update(r));
  const labels: LabelledPair[] = rows.map((r) => ({ predicted: r.outputLabel as string, actual: r.actual, score: null }));
  const calibration = new CalibrationTable();
  rows.forEach((r) => calibration.update(r.confidence, r.outputLabel === r.actual));
  const n = rows.length;
  const fallbacks = options.fallbacks ?? 0;
  return {
    service: 'mail',
    version: 'v1',
    window: { start: '2025-01-01T10:00:00.000Z', end: '2025-01-01T11:00:00.000Z' },
    sketch,
    counts: { decisions: n, byOutcome: { auto: n - fallbacks - 10, review: 10, fallback: fallbacks, rejected: 0 }, modelErrors: options.errors ?? 0 },
    ...(options.ripe === false ? {} : { labels, calibration }),
    business: { decisions: n, overrides: options.overrides ?? 0, complaints: 0, appeals: 0, overturned: 0 },
  };
}

const byName = (evaluations: MonitorEvaluation[]) => new Map(evaluations.map((e) => [e.monitor, e]));
const none = new Map<string, MonitorStatus>();

describe('evaluateWindow', () => {
  it('names every monitor, in a stable order, and judges a stable window ok', () => {
    const config = resolveMonitoringConfig({ latency: { model: 50 } });
    const evaluations = evaluateWindow(windowInput(traffic(500, 2)), reference, config, none);
    expect(evaluations.map((e) => e.monitor)).toEqual([
      'input_drift',
      'feature_drift/amount',
      'feature_drift/channel',
      'feature_drift/body',
      'output_drift',
      'confidence_drift',
      'accuracy',
      'estimated_accuracy',
      'calibration',
      'latency/total',
      'latency/model',
      'error_rate',
      'fallback_rate',
      'reject_rate',
      'review_rate',
      'override_rate',
      'complaint_rate',
      'appeal_overturn_rate',
    ]);
    expect(referenceAccuracy).toBeGreaterThan(0.7);
    // No appeal was decided: the one monitor without the data it needs.
    expect(evaluations.find((e) => e.monitor === 'appeal_overturn_rate')).toMatchObject({ observed: 'unknown', samples: 0 });
    for (const e of evaluations.filter((x) => x.monitor !== 'appeal_overturn_rate')) {
      expect(e.observed, `${e.monitor}: ${e.message}`).toBe('ok');
      expect(e.status.state).toBe('ok');
      expect(e.service).toBe('mail');
      expect(e.version).toBe('v1');
      expect(e.segment).toBeUndefined();
      expect(e.window.start).toBe('2025-01-01T10:00:00.000Z');
      expect(e.message).toMatch(/^[a-z0-9`]/);
      expect(JSON.parse(JSON.stringify(e))).toEqual(JSON.parse(JSON.stringify(e)));
    }
    const m = byName(evaluations);
    expect(m.get('input_drift')!.message).toMatch(/^input stable: 0 of 3 features drifted \(0\.0% < 50\.0%\)$/);
    expect(m.get('feature_drift/amount')!.message).toMatch(/^feature `amount` stable: Cramér–von Mises p [0-9.e-]+ ≥ 0\.05 \(Benjamini–Hochberg adjusted\)$/);
    expect(m.get('accuracy')!.samples).toBe(500);
    expect(m.get('review_rate')!.value).toBe(10 / 500);
    expect(m.get('review_rate')!.message).toMatch(/review rate 2\.0% \(95% CI [0-9.]+%–[0-9.]+%\) no bound set over 500 decisions/);
  });

  it('reports drift, falling accuracy, errors and slow stages, with the numbers behind them', () => {
    const config = resolveMonitoringConfig({ latency: { total: { warning: 20, alert: 50 } } });
    const rows = traffic(500, 3, 40, 80, ['win', 'prize', 'cheap', 'now']).map((r) => ({ ...r, actual: r.outputLabel === 'spam' ? 'ham' : 'spam' }));
    const m = byName(evaluateWindow(windowInput(rows, { errors: 40, fallbacks: 60, overrides: 150 }), reference, config, none));
    const amount = m.get('feature_drift/amount')!;
    expect(amount.observed).toBe('warning');
    expect(amount.message).toMatch(/^feature `amount` drifted: Cramér–von Mises p [0-9.e-]+ < 0\.05 \(Benjamini–Hochberg adjusted\)$/);
    expect(amount.values).toMatchObject({ method: 'cramer-von-mises', values: 'raw', drifted: true, currentCount: 500 });
    expect(m.get('feature_drift/body')!.observed).toBe('warning');
    expect(m.get('feature_drift/body')!.message).toMatch(/out of vocabulary Jensen–Shannon p [\d.e-]+ < 0\.05 \(Benjamini–Hochberg adjusted\)|token count KS p/);
    expect(m.get('feature_drift/channel')!.observed).toBe('ok');
    const input = m.get('input_drift')!;
    expect(input).toMatchObject({ observed: 'alert', value: 2 / 3, threshold: { alert: 0.5 } });
    expect(input.message).toBe('input drifted: 2 of 3 features drifted (66.7% ≥ 50.0%): `amount`, `body`');
    const accuracy = m.get('accuracy')!;
    expect(accuracy.observed).toBe('alert');
    expect(accuracy.threshold.alert).toBeCloseTo(referenceAccuracy - 0.1, 12);
    expect(accuracy.threshold.warning).toBeCloseTo(referenceAccuracy - 0.05, 12);
    expect(accuracy.value).toBe(0);
    expect(accuracy.message).toMatch(/^accuracy 0 < alert bound 0\.\d+ \(reference 0\.\d+ − 0\.05 \/ 0\.1\) on 500 labelled decisions$/);
    expect(m.get('calibration')!.observed).toBe('alert');
    const latency = m.get('latency/total')!;
    // p95 of 80·U(0.5, 1.5) ms lies in the bin [100, 200): its upper edge, capped at the largest timing seen.
    const slowest = Math.max(...rows.map((r) => r.timings!.total!));
    expect(slowest).toBeLessThan(120);
    expect(latency).toMatchObject({ observed: 'alert', value: slowest, threshold: { warning: 20, alert: 50 } });
    expect(latency.message).toBe(`p95 latency of \`total\` ≤ ${Number(slowest.toPrecision(3))} ms > alert budget 50 ms over 500 decisions`);
    expect(m.get('error_rate')).toMatchObject({ observed: 'alert', value: 40 / 500 });
    expect(m.get('error_rate')!.message).toMatch(/^error rate 8\.0% \(95% CI 5\.9%–10\.7%\) > alert bound 5\.0% over 500 decisions$/);
    expect(m.get('fallback_rate')).toMatchObject({ observed: 'alert', value: 0.12 });
    expect(m.get('override_rate')).toMatchObject({ observed: 'alert', value: 0.3 });
    // The confidence did not move: CBPE still expects the reference's accuracy, the labels show the collapse.
    expect(m.get('estimated_accuracy')!.observed).toBe('ok');
    expect(m.get('confidence_drift')!.observed).toBe('ok');
  });

  it('says why a monitor cannot judge: no reference, labels not ripe, too few samples', () => {
    const config = resolveMonitoringConfig({});
    const noReference = byName(evaluateWindow(windowInput(traffic(100, 4), { ripe: false }), undefined, config, none));
    for (const name of ['input_drift', 'feature_drift/amount', 'output_drift', 'confidence_drift', 'estimated_accuracy']) {
      expect(noReference.get(name)!.observed, name).toBe('unknown');
      expect(noReference.get(name)!.message).toMatch(/unknown: no reference profile/);
      expect(noReference.get(name)!.value).toBeNull();
    }
    expect(noReference.get('accuracy')!.message).toBe("accuracy unknown: labels are not ripe yet (judged 1d after the window's last event)");
    expect(noReference.get('calibration')!.observed).toBe('unknown');
    expect(noReference.get('error_rate')!.observed).toBe('ok');

    const thin = byName(evaluateWindow(windowInput(traffic(12, 5)), reference, config, none));
    for (const e of thin.values()) expect(e.observed, e.monitor).toBe('unknown');
    expect(thin.get('input_drift')!.message).toBe('input drift unknown: only 12 decisions in the window, fewer than minSamples (30)');
    expect(thin.get('accuracy')!.message).toBe('accuracy unknown: only 12 labelled decisions in the window, fewer than minSamples (30)');
    expect(thin.get('error_rate')!.samples).toBe(12);

    const withoutCalibration = byName(evaluateWindow(windowInput(traffic(100, 4)), { sketch: profile.sketch }, config, none));
    expect(withoutCalibration.get('estimated_accuracy')!.message).toMatch(/no labelled predictions/);
    // No reference accuracy and no absolute bound: accuracy is reported, never judged.
    expect(withoutCalibration.get('accuracy')).toMatchObject({ observed: 'ok', threshold: {} });
    expect(withoutCalibration.get('accuracy')!.message).toMatch(/no bound set on 100 labelled decisions$/);
  });

  it('judges accuracy on the decisions the model predicted: labels of decisions without an output do not count as wrong', () => {
    const config = resolveMonitoringConfig({});
    const rows = traffic(400, 5);
    const input = windowInput(rows);
    const right = rows.filter((r) => r.outputLabel === r.actual).length;
    // 300 more labelled decisions whose model was not called (a breaker was open): no prediction.
    const withSkipped: WindowInput = { ...input, labels: [...input.labels!, ...Array.from({ length: 300 }, () => ({ predicted: null, actual: 'spam', score: null }))] };
    const accuracy = byName(evaluateWindow(withSkipped, reference, config, none)).get('accuracy')!;
    expect(accuracy.value).toBeCloseTo(right / 400, 12);
    expect(accuracy.samples).toBe(400);
  });

  it('handles an empty window and an unknown stage', () => {
    const config = resolveMonitoringConfig({ latency: { queue: 10 } });
    const m = byName(evaluateWindow(windowInput([]), reference, config, none));
    for (const e of m.values()) expect(e.observed, e.monitor).toBe('unknown');
    expect(m.get('latency/queue')!.message).toBe('p95 latency of `queue` unknown: the stage `queue` is not timed in the sketches');
  });

  it('applies hysteresis per monitor from the previous statuses', () => {
    const config = resolveMonitoringConfig({ hysteresis: { raiseAfter: 2, clearAfter: 2 } });
    const bad = windowInput(traffic(300, 6), { errors: 60 });
    const first = evaluateWindow(bad, reference, config, none);
    const firstError = byName(first).get('error_rate')!;
    expect(firstError.observed).toBe('alert');
    expect(firstError.status).toMatchObject({ state: 'ok', pending: 'alert' });
    const previous = new Map(first.map((e) => [e.monitor, JSON.parse(JSON.stringify(e.status)) as MonitorStatus]));
    const second = byName(evaluateWindow(bad, reference, config, previous)).get('error_rate')!;
    expect(second.status).toMatchObject({ state: 'alert', changed: true });
    // Garbage in the previous map is treated as no status.
    const garbage = new Map([['error_rate', { state: 'nonsense' } as unknown as MonitorStatus]]);
    expect(byName(evaluateWindow(bad, reference, config, garbage)).get('error_rate')!.status.state).toBe('ok');
  });

  it('keeps the segment and reports a feature the window lacks', () => {
    const other = new FeatureSketchSet({ key: { service: 'mail', modelVersion: 'v1', window: 'w' }, features: [], outputLabels: profile.config.outputLabels, stages });
    traffic(100, 7).forEach((r) => other.update(r));
    const input = { ...windowInput(traffic(100, 7)), sketch: other, segment: 'country=FR' };
    const evaluations = evaluateWindow(input, reference, resolveMonitoringConfig({}), none);
    expect(evaluations.every((e) => e.segment === 'country=FR')).toBe(true);
    const m = byName(evaluations);
    expect(m.get('feature_drift/amount')!.message).toBe('feature `amount` drift unknown: the window has no sketch of this feature');
    expect(m.get('input_drift')!.message).toBe('input drift unknown: no feature could be compared');
  });

  it('turns a sketch over other bins into unknown monitors instead of failing the evaluation', () => {
    const rebinned = buildReferenceProfile(traffic(500, 8, 1000), features, { key: { service: 'mail', modelVersion: 'v1', window: 'w' }, stages });
    const input = { ...windowInput(traffic(100, 8)), sketch: rebinned.sketch };
    const m = byName(evaluateWindow(input, reference, resolveMonitoringConfig({}), none));
    expect(m.get('feature_drift/amount')!.message).toMatch(/different bin edges/);
    expect(m.get('feature_drift/amount')!.observed).toBe('unknown');
    expect(m.get('error_rate')!.observed).toBe('ok');
  });
});
