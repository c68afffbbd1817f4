// The live side of CBPE per class: each window counts its predictions by predicted class and confidence bin,
// merged exactly across writers and restarts, and the hub hands them to the monitors; a window holding a delta stored
// before these counts were kept has none (and CBPE calibrates by confidence only, saying so).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, openStore, type Store, type StoredDecision } from '../../store/index.js';
import { makeDecision, tempDir } from '../../store/testing/fixtures.js';
import { CalibrationTable } from '../monitors/calibration-table.js';
import { evaluateWindow, resolveMonitoringConfig, type MonitorEvaluation } from '../monitors/index.js';
import { buildReferenceProfile } from '../sketches/index.js';
import { mulberry32 } from '../stats/fixtures/fixture-streams.js';
import { MonitoringHub, type HubReference, type HubService, type HubWindowInput } from './monitoring-hub.js';
import { WindowAccumulator } from './window-accumulator.js';

const HOUR = 3_600_000;
const hourWindow = (ms: number) => {
  const start = Math.floor(ms / HOUR) * HOUR;
  return { start: new Date(start).toISOString(), end: new Date(start + HOUR).toISOString() };
};

/**
 * The case: at confidence 0.9, class A is right 90% of the time and class B 70% (2,000 reference labels each,
 * exactly 1,800 and 1,400 right).
 */
function reference(): HubReference {
  const rows = Array.from({ length: 400 }, (_, i) => ({ input: { x: i % 50 }, outputLabel: i % 2 === 0 ? 'A' : 'B' }));
  const profile = buildReferenceProfile(rows, [{ name: 'x', kind: 'numeric' }], { key: { service: 'classes', modelVersion: 'reference', window: 'reference' } });
  const calibration = new CalibrationTable();
  const random = mulberry32(7);
  for (const [label, right] of [['A', 1800], ['B', 1400]] as const) {
    const outcomes = Array.from({ length: 2000 }, (_, i) => i < right);
    for (let i = outcomes.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [outcomes[i], outcomes[j]] = [outcomes[j]!, outcomes[i]!];
    }
    for (const ok of outcomes) calibration.update(0.9, ok, label);
  }
  return { id: 'ref_classes', config: { features: profile.config.features, outputLabels: profile.config.outputLabels }, sketch: profile.sketch, calibration };
}

const monitoringConfig = resolveMonitoringConfig({});

function service(seen: HubWindowInput[], evaluations: MonitorEvaluation[][]): HubService {
  return {
    name: 'classes',
    window: hourWindow,
    segments: [],
    outputLabel: (output) => (output !== null && typeof output === 'object' && 'label' in output ? String(output.label) : null),
    feedbackLabel: () => null,
    stages: ['total'],
    labelDelayMs: 0,
    windowsByEventTime: false,
    evaluate(input, ref) {
      seen.push(input);
      const result = evaluateWindow(input, ref, monitoringConfig, new Map());
      evaluations.push(result);
      return result;
    },
  };
}

const decision = (i: number, createdAt: string, label: string, confidence: number | null): StoredDecision =>
  makeDecision({ service: 'classes', id: newId('dec'), createdAt, version: 'v1', outcome: 'auto', confidence, input: { x: i % 50 }, output: { label }, explanation: {}, timings: { validate: 0.1 } });

describe('predictions by class in the live windows', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let clock: number;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    clock = Date.parse('2026-12-07T10:30:00.000Z');
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('two writers and a restart count each prediction once, per class and bin; CBPE per class then estimates a window of class A alone at 0.90, not 0.80', async () => {
    const seen: HubWindowInput[] = [];
    const evaluations: MonitorEvaluation[][] = [];
    const options = { store, services: [service(seen, evaluations)], loadReference: () => Promise.resolve(reference()), now: () => new Date(clock) };
    const a = new MonitoringHub(options);
    const b = new MonitoringHub(options);
    await a.start();
    await b.start();
    // 1,000 predictions of class A at 0.9 (bin 18), 7 with no label and 3 without a confidence (unusable).
    const at = new Date(clock - 60_000).toISOString();
    for (let i = 0; i < 1000; i++) (i % 3 === 0 ? b : a).observeDecision(decision(i, at, 'A', 0.9));
    for (let i = 0; i < 7; i++) a.observeDecision(makeDecision({ service: 'classes', id: newId('dec'), createdAt: at, version: 'v1', outcome: 'review', confidence: 0.5, input: { x: 1 }, output: null, explanation: {}, timings: {} }));
    for (let i = 0; i < 3; i++) b.observeDecision(decision(i, at, 'A', null));
    await a.checkpoint();
    await b.close();
    await a.close();
    // A restart: a new process reads what both kept.
    const c = new MonitoringHub(options);
    await c.start();
    await c.evaluate('classes', [hourWindow(clock).start]);
    await c.close();

    const input = seen.at(-1)!;
    const predictions = input.predictions!;
    expect(predictions.labels).toEqual(['A', 'B']);
    expect(predictions.counts[0]![18]).toBe(1000);
    expect(predictions.counts[0]!.reduce((x, y) => x + y, 0)).toBe(1000);
    expect(predictions.counts[1]!.every((n) => n === 0)).toBe(true);
    expect(predictions.unusable).toBe(10);

    const estimated = evaluations.at(-1)!.find((e) => e.monitor === 'estimated_accuracy')!;
    expect(estimated.values).toMatchObject({ calibratedBy: 'class' });
    const { estimatedAccuracy, standardError } = estimated.values as { estimatedAccuracy: number; standardError: number };
    // Jeffreys posterior mean of class A's cell: (1800 + 0.5) / (2000 + 1).
    expect(estimatedAccuracy).toBeCloseTo(1800.5 / 2001, 10);
    expect(Math.abs(estimatedAccuracy - 0.9)).toBeLessThan(2 * standardError);
    expect(estimated.message).toMatch(/CBPE per class/);
  });

  it('a window holding a delta stored before the counts were kept has none: merging it drops them rather than undercount', () => {
    const make = () => WindowAccumulator.create({ key: { service: 's', modelVersion: 'v1', window: 'w' }, features: [], outputLabels: ['A', 'B'] });
    const fresh = make();
    fresh.addPrediction('A', 0.9);
    fresh.addPrediction('B', 0.3);
    const stored = WindowAccumulator.fromJSON(JSON.parse(JSON.stringify(fresh.toJSON())), 1);
    expect(stored.predictions?.counts.map((row) => row.reduce((x, y) => x + y, 0))).toEqual([1, 1]);
    const { predictions: _dropped, ...old } = fresh.toJSON();
    const legacy = WindowAccumulator.fromJSON(old, 1);
    expect(legacy.predictions).toBeUndefined();
    expect(stored.merge(legacy).predictions).toBeUndefined();
    expect(() => WindowAccumulator.fromJSON({ ...fresh.toJSON(), predictions: { ...fresh.predictions!.toJSON(), labels: ['B', 'A'] } }, 1)).toThrow(/output labels/);
  });
});
