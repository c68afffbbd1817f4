import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { populationStabilityIndex } from '../stats/index.js';
import { DEFAULT_SAMPLE_SIZE, FeatureSketchSet, LATENCY_EDGES_MS, type SketchEvent } from './feature-sketch-set.js';
import { quantileEdges } from './numeric-histogram.js';
import { buildReferenceProfile, topCategories } from './reference-profile.js';
import { SketchError } from './sketch-error.js';
import { assertMergeLaw, shapeOf } from './testing/merge-law.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const vocabulary = new Set(['good', 'bad', 'service']);
const features = [
  { name: 'amount', kind: 'numeric' as const },
  { name: 'country', kind: 'categorical' as const, maxCategories: 3 },
  { name: 'review', kind: 'text' as const, vocabulary },
];
const key = { service: 'fraud', modelVersion: 'v3', window: 'reference' };

function rows(n: number, random: () => number, shift = 0): SketchEvent[] {
  const countries = ['FR', 'FR', 'DE', 'DE', 'ES', 'IT', 'PT'];
  const words = ['good', 'bad', 'service', 'awful', 'ok'];
  return Array.from({ length: n }, () => ({
    input: {
      amount: random() * 100 + shift,
      country: countries[Math.floor(random() * countries.length)],
      review: Array.from({ length: Math.floor(random() * 6) }, () => words[Math.floor(random() * words.length)]).join(' '),
    },
    outputLabel: random() < 0.3 ? 'fraud' : 'ok',
    confidence: random(),
    timings: { total: random() * 50, model: random() * 40 },
  }));
}

describe('buildReferenceProfile', () => {
  const reference = rows(2000, seeded(1));
  const profile = buildReferenceProfile(reference, features, { key, stages: ['total', 'model'] });

  it('derives quantile edges, top-k categories and labels, and sketches the reference with them', () => {
    const [amount, country] = profile.config.features;
    expect(amount).toEqual({ name: 'amount', kind: 'numeric', edges: quantileEdges(reference.map((r) => r.input.amount as number)) });
    expect(country).toMatchObject({ kind: 'categorical', categories: topCategories(reference.map((r) => r.input.country), 3) });
    expect(topCategories(['b', 'a', 'b', 'a', 'c'])).toEqual(['a', 'b', 'c']);
    expect(profile.config.outputLabels).toEqual(['ok', 'fraud']);
    const h = profile.sketch.numeric('amount');
    expect(h.counts).toMatchObject({ finite: 2000, underflow: 0, overflow: 0 });
    // Ten quantile bins hold 200 values each, give or take ties at the edges.
    for (const c of h.binCounts()) expect(Math.abs(c - 200)).toBeLessThanOrEqual(1);
    expect(profile.sketch.eventCount).toBe(2000);
    expect(profile.sketch.latencyOf('model').counts.finite).toBe(2000);
  });

  it('lets live sketches be compared with the reference through the stats functions', () => {
    const same = new FeatureSketchSet({ ...profile.config, key: { ...key, window: 'w1' } });
    const shifted = new FeatureSketchSet({ ...profile.config, key: { ...key, window: 'w2' } });
    rows(2000, seeded(2)).forEach((e) => same.update(e));
    rows(2000, seeded(3), 30).forEach((e) => shifted.update(e));
    const psi = (s: FeatureSketchSet): number => populationStabilityIndex(profile.sketch.numeric('amount').countsWithTails(), s.numeric('amount').countsWithTails());
    expect(psi(same)).toBeLessThan(0.05);
    expect(psi(shifted)).toBeGreaterThan(1);
  });

  it('refuses a reference without usable values', () => {
    expect(() => buildReferenceProfile([{ input: { amount: 'x' } }], [{ name: 'amount', kind: 'numeric' }], { key })).toThrow(SketchError);
    expect(() => buildReferenceProfile([], features, { key })).toThrow(/no rows/);
  });
});

describe('FeatureSketchSet', () => {
  const config = {
    key: { service: 's', modelVersion: 'v1', window: '2025-01-01T00:00Z/PT1H', segment: 'eu' },
    features: [
      { name: 'x', kind: 'numeric' as const, edges: [0, 1, 2] },
      { name: 'c', kind: 'categorical' as const, categories: ['a', 'b'], otherSampleSize: 2 },
      { name: 't', kind: 'text' as const, lengthEdges: [0, 3, 10], tokenEdges: [0, 1, 2], vocabulary },
    ],
    outputLabels: ['yes', 'no'],
    stages: ['total', 'model'],
  };
  const event = fc.record(
    {
      id: fc.string({ maxLength: 6 }),
      input: fc.record({ x: fc.oneof(fc.double(), fc.constantFrom(0, 1, 2, null)), c: fc.constantFrom('a', 'b', 'z', 'y', 'w', null), t: fc.oneof(fc.string({ maxLength: 12 }), fc.constant('good service')) }, { requiredKeys: [] }),
      outputLabel: fc.constantFrom('yes', 'no', 'maybe', undefined),
      confidence: fc.oneof(fc.double({ min: -0.1, max: 1.1 }), fc.constantFrom(0, 0.05, 1, null)),
      timings: fc.record({ total: fc.double({ min: 0, max: 2e4, noNaN: true }), model: fc.constantFrom(...LATENCY_EDGES_MS), parse: fc.double() }, { requiredKeys: [] }),
    },
    { requiredKeys: ['input', 'id'] },
  );

  it('obeys the merge law (events with ids: the numeric samples are keyed by them)', () => {
    assertMergeLaw({ values: event, create: () => new FeatureSketchSet(config), update: (s, e) => s.update(e), fromJSON: (json) => FeatureSketchSet.fromJSON(json, { vocabularies: { t: vocabulary } }), numRuns: 100 });
  });

  it('routes each part of an event to its sketch; absent fields and stages count as missing', () => {
    const s = new FeatureSketchSet(config);
    s.update({ input: { x: 1.5, c: 'z', t: 'good food', extra: 1 }, outputLabel: 'yes', confidence: 1, timings: { total: 12, parse: 3 } });
    s.update({ input: {} });
    expect(s.numeric('x').binCounts()).toEqual([0, 1]);
    expect(s.numeric('x').counts.missing).toBe(1);
    expect(s.categorical('c').otherSample()).toEqual([['z', 1]]);
    expect(s.text('t').counts).toMatchObject({ texts: 1, tokens: 2, outOfVocabulary: 1, missing: 1 });
    expect(s.outputLabels.countsWithOther()).toEqual([1, 0, 0]);
    expect(s.confidenceHistogram.binCounts()[19]).toBe(1);
    expect(s.latencyOf('total').countsWithTails()[LATENCY_EDGES_MS.indexOf(10) + 1]).toBe(1);
    expect(s.latencyOf('model').counts.missing).toBe(2);
    expect(() => s.latencyOf('parse')).toThrow(SketchError);
    expect(() => s.categorical('x')).toThrow(/not sketched as CategoryCounter/);
  });

  it('merges only sets with the same key and specs', () => {
    const other = new FeatureSketchSet({ ...config, key: { ...config.key, segment: 'us' } });
    expect(() => new FeatureSketchSet(config).merge(other)).toThrow(/cannot merge sketches of s\/v1/);
    expect(() => new FeatureSketchSet(config).merge(new FeatureSketchSet({ ...config, stages: ['total'] }))).toThrow(/different stages/);
    expect(() => new FeatureSketchSet(config).merge(new FeatureSketchSet({ ...config, features: config.features.slice(1) }))).toThrow(/different features/);
    expect(() => FeatureSketchSet.fromJSON(new FeatureSketchSet(config).toJSON())).toThrow(/vocabulary/);
  });

  it('keeps the same JSON shape after 1,000 and 1,000,000 events', { timeout: 120_000 }, () => {
    const random = seeded(5);
    // The numeric sample (1,000 values by default) keeps its shape too, but its values change: it is checked on its own below.
    const s = new FeatureSketchSet({ ...config, sampleSize: 0 });
    const sampled = new FeatureSketchSet(config);
    const labels = ['yes', 'no', 'maybe'];
    const next = (i: number): SketchEvent => ({
      input: { x: random() * 3 - 0.5, c: i % 2 === 0 ? 'a' : `new-${i}`, t: i % 3 === 0 ? '' : 'good service today' },
      outputLabel: labels[i % 3],
      confidence: random(),
      timings: { total: random() * 100, model: random() * 50 },
    });
    let i = 0;
    for (; i < 1000; i++) {
      const e = next(i);
      s.update(e);
      sampled.update({ ...e, id: `d${i}` });
    }
    const small = s.toJSON();
    const sampledSmall = sampled.toJSON();
    for (; i < 1_000_000; i++) {
      const e = next(i);
      s.update(e);
      if (i < 200_000) sampled.update({ ...e, id: `d${i}` });
    }
    const large = s.toJSON();
    expect(shapeOf(large)).toEqual(shapeOf(small));
    expect(shapeOf(sampled.toJSON())).toEqual(shapeOf(sampledSmall));
    expect(sampled.numeric('x').sample()).toHaveLength(DEFAULT_SAMPLE_SIZE);
    // About 80 counters gain at most 3 digits each, 6 exact sums at most 3 hex digits, 2 × 2 sampled values at most 4 characters.
    expect(JSON.stringify(large).length - JSON.stringify(small).length).toBeLessThanOrEqual(80 * 3 + 6 * 3 + 4 * 4);
  });
});
