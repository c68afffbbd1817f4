import { describe, expect, it } from 'vitest';
import { FeatureSketchSet, buildReferenceProfile } from '../sketches/index.js';
import { CalibrationTable, ClassConfidenceCounts } from './calibration-table.js';
import { evaluateWindow } from './evaluate.js';
import { resolveMonitoringConfig } from './monitoring-config.js';
import type { WindowInput } from './types.js';

function filled(rows: ReadonlyArray<readonly [number, boolean, string | undefined]>): CalibrationTable {
  const t = new CalibrationTable();
  for (const [c, right, label] of rows) t.update(c, right, label);
  return t;
}

describe('CalibrationTable per predicted class', () => {
  const rows: ReadonlyArray<readonly [number, boolean, string]> = [
    [0.97, true, 'spam'],
    [0.96, false, 'spam'],
    [0.62, true, 'ham'],
    [0.1, true, 'ham'],
    [1, true, 'ham'],
  ];

  it('counts each prediction pooled and under its class, merges exactly and round-trips through JSON', () => {
    const whole = filled(rows);
    expect(whole.hasClasses).toBe(true);
    expect(whole.total[19]).toBe(3);
    expect(whole.classes.get('spam')!.total[19]).toBe(2);
    expect(whole.classes.get('spam')!.correct[19]).toBe(1);
    expect(whole.classes.get('ham')!.total[19]).toBe(1);
    const merged = filled(rows.slice(3)).merge(filled(rows.slice(0, 3)));
    expect(merged.toJSON()).toStrictEqual(whole.toJSON());
    expect(whole.toJSON().classes!.map((c) => c.label)).toStrictEqual(['ham', 'spam']);
    expect(CalibrationTable.fromJSON(JSON.parse(JSON.stringify(whole))).toJSON()).toStrictEqual(whole.toJSON());
  });

  it('keeps the old shape without labels; an old profile loads, without classes', () => {
    const pooled = filled(rows.map(([c, r]) => [c, r, undefined] as const));
    const json = pooled.toJSON();
    expect(Object.keys(json)).toStrictEqual(['type', 'version', 'edges', 'total', 'correct', 'confidenceSum']);
    const loaded = CalibrationTable.fromJSON(json);
    expect(loaded.hasClasses).toBe(false);
    expect(loaded.classes.size).toBe(0);
    // Predictions counted without their class make the breakdown incomplete: CBPE must not calibrate per class on it.
    const partial = filled([...rows, [0.5, true, undefined]]);
    expect(partial.hasClasses).toBe(false);
  });

  it('refuses classes that disagree with the table', () => {
    const json = filled(rows).toJSON();
    const spam = json.classes![1]!;
    expect(() => CalibrationTable.fromJSON({ ...json, classes: [spam, spam] })).toThrow(/appears twice/);
    const inflated = { ...spam, label: 'x', total: spam.total.map((v, i) => (i === 19 ? v + 5 : v)), correct: spam.correct };
    expect(() => CalibrationTable.fromJSON({ ...json, classes: [...json.classes!, inflated] })).toThrow(/classes count more than the table/);
    expect(() => CalibrationTable.fromJSON({ ...json, classes: [{ ...spam, correct: spam.total.map((v) => v + 1) }] })).toThrow(/correct > total/);
    expect(() => CalibrationTable.fromJSON({ ...json, classes: {} })).toThrow(/must be an array/);
  });
});

describe('ClassConfidenceCounts', () => {
  it('counts by class and bin, untracked labels as other, merges and round-trips', () => {
    const a = new ClassConfidenceCounts(['ham', 'spam']);
    const b = new ClassConfidenceCounts(['ham', 'spam']);
    a.update('spam', 0.97);
    a.update('ham', 0.5);
    b.update('new', 0.51);
    b.update('ham', null);
    b.update(null, 0.9);
    a.merge(b);
    expect(a.counts[1]![19]).toBe(1);
    expect(a.counts[0]![10]).toBe(1);
    expect(a.other[10]).toBe(1);
    expect(a.unusable).toBe(2);
    expect(a.count).toBe(3);
    expect(ClassConfidenceCounts.fromJSON(JSON.parse(JSON.stringify(a))).toJSON()).toStrictEqual(a.toJSON());
    expect(() => a.merge(new ClassConfidenceCounts(['spam', 'ham']))).toThrow(/different labels/);
    expect(() => ClassConfidenceCounts.fromJSON({ ...a.toJSON(), other: [1] })).toThrow(/20 integers/);
  });
});

describe('estimated_accuracy in evaluateWindow', () => {
  const profile = buildReferenceProfile([{ input: {}, outputLabel: 'yes', confidence: 0.72 }], [], { key: { service: 's', modelVersion: 'v', window: 'reference' } });
  const window = (predictions?: ClassConfidenceCounts): WindowInput => {
    const sketch = new FeatureSketchSet({ ...profile.config, key: { service: 's', modelVersion: 'v', window: 'w' } });
    for (let i = 0; i < 1000; i++) sketch.update({ input: {}, outputLabel: 'A', confidence: 0.9 });
    return {
      service: 's',
      version: 'v',
      window: { start: '2025-01-01T00:00:00.000Z', end: '2025-01-02T00:00:00.000Z' },
      sketch,
      ...(predictions === undefined ? {} : { predictions }),
      counts: { decisions: 1000, byOutcome: { auto: 1000, review: 0, fallback: 0, rejected: 0 }, modelErrors: 0 },
      business: { decisions: 0, overrides: 0, complaints: 0, appeals: 0, overturned: 0 },
    };
  };
  const config = resolveMonitoringConfig({ performance: { accuracy: { warning: 0.85 } } });
  const estimated = (calibration: CalibrationTable, input: WindowInput) => evaluateWindow(input, { sketch: profile.sketch, calibration }, config, new Map()).find((e) => e.monitor === 'estimated_accuracy')!;

  it('judges per class when the window counts predictions by class, by confidence only otherwise', () => {
    const table = new CalibrationTable();
    for (let i = 0; i < 1000; i++) table.update(0.9, i < 900, 'A');
    for (let i = 0; i < 1000; i++) table.update(0.9, i < 700, 'B');
    const counts = new ClassConfidenceCounts(['A', 'B']);
    for (let i = 0; i < 1000; i++) counts.update('A', 0.9);
    const perClass = estimated(table, window(counts));
    expect(perClass.observed).toBe('ok');
    expect(perClass.value).toBeCloseTo(0.9, 3);
    expect(perClass.message).toMatch(/^estimated accuracy 0\.9 ± 0\.013\d* \(CBPE per class\) ≥ warning bound 0\.85 on 1000 predictions$/);
    const pooled = estimated(table, window());
    expect(pooled.observed).toBe('warning');
    expect(pooled.message).toMatch(/\(CBPE by confidence only\)/);
    expect(pooled.values.pooledBecause).toMatch(/no confidence counts per predicted class/);
  });

  it('is unknown, with the reason, when the reference is too thin for the window', () => {
    const table = new CalibrationTable();
    for (let i = 0; i < 1000; i++) table.update(0.72, i < 720, 'A');
    table.update(0.9, true, 'A');
    const e = estimated(table, window());
    expect(e.observed).toBe('unknown');
    expect(e.value).toBeNull();
    expect(e.message).toBe('estimated accuracy unknown: the reference is too thin for this window: 1000 of 1000 predictions (100.0%) fall in confidence bins with fewer than 20 labelled reference predictions (at most 5.0% may)');
    expect(e.values.standardError as number).toBeGreaterThan(0.25);
  });
});
