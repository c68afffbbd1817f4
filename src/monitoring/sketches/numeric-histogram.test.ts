import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jensenShannonDistance, populationStabilityIndex, populationStabilityIndexFromSamples } from '../stats/index.js';
import { NumericHistogram, quantileEdges } from './numeric-histogram.js';
import { SketchError } from './sketch-error.js';
import { assertMergeLaw, shapeOf } from './testing/merge-law.js';

/** numpy.histogram's rule written out naively: [e_i, e_i+1), last bin closed. */
function naiveBins(edges: readonly number[], values: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const x of values) {
    for (let i = 0; i < edges.length - 1; i++) {
      const lastBin = i === edges.length - 2;
      if (x >= (edges[i] as number) && (x < (edges[i + 1] as number) || (lastBin && x === edges[i + 1]))) counts[i]!++;
    }
  }
  return counts;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('NumericHistogram', () => {
  it('bins [a, b) with the last bin closed, like numpy.histogram, and counts everything else separately', () => {
    const h = new NumericHistogram([0, 1, 2, 3]);
    for (const v of [0, 0.5, 1, 2.999, 3, 3.0000001, -1e-9, -0, NaN, Infinity, -Infinity, null, undefined, '1', {}]) h.update(v);
    // np.histogram([0, 0.5, 1, 2.999, 3, -0.0], bins=[0, 1, 2, 3]) -> [3, 1, 2]
    expect(h.binCounts()).toEqual([3, 1, 2]);
    expect(h.counts).toEqual({ finite: 8, underflow: 1, overflow: 1, missing: 2, nonFinite: 3, invalid: 2 });
    expect(h.countsWithTails()).toEqual([1, 3, 1, 2, 1]);
    expect(h.foldedCounts()).toEqual([4, 1, 3]);
    expect(Object.is(h.minimum, -1e-9)).toBe(true);
    expect(h.maximum).toBe(3.0000001);
  });

  it('agrees with a naive numpy.histogram on any edges and values', () => {
    const edgesArb = fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: 2, maxLength: 12 }).map((e) => [...new Set(e.map((x) => x || 0))].sort((a, b) => a - b)).filter((e) => e.length >= 2);
    fc.assert(
      fc.property(edgesArb, fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -2e6, max: 2e6 })), fc.array(fc.nat()), (edges, values, onEdge) => {
        const all = [...values, ...onEdge.map((i) => edges[i % edges.length] as number)];
        const h = new NumericHistogram(edges);
        for (const v of all) h.update(v);
        expect(h.binCounts()).toEqual(naiveBins(edges, all));
        expect(h.counts.underflow).toBe(all.filter((x) => x < (edges[0] as number)).length);
        expect(h.counts.overflow).toBe(all.filter((x) => x > (edges[edges.length - 1] as number)).length);
      }),
    );
  });

  it('obeys the merge law', () => {
    const values = fc.oneof(
      fc.double(),
      fc.integer({ min: -5, max: 15 }),
      fc.constantFrom(0, 2.5, 5, 10, -0, null, undefined, 'x', NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MIN_VALUE),
    );
    assertMergeLaw({ values, create: () => new NumericHistogram([0, 2.5, 5, 10]), update: (h, v) => h.update(v), fromJSON: NumericHistogram.fromJSON });
  });

  describe('the raw-value sample (bottom-k by key)', () => {
    const keyed = fc.tuple(fc.oneof(fc.double(), fc.integer({ min: -5, max: 15 }), fc.constantFrom(0, -0, 2.5, null, NaN)), fc.nat({ max: 2 ** 20 }));

    it('obeys the merge law when every value comes with its key', () => {
      for (const size of [1, 3, 50]) {
        assertMergeLaw({ values: keyed, create: () => new NumericHistogram([0, 2.5, 5, 10], { sampleSize: size }), update: (h, [v, k]) => h.update(v, k), fromJSON: NumericHistogram.fromJSON, numRuns: 100 });
      }
    });

    it('keeps the finite values with the smallest keys (ties by value), all of them while they fit', () => {
      fc.assert(
        fc.property(fc.array(keyed, { maxLength: 80 }), fc.integer({ min: 1, max: 30 }), (stream, size) => {
          const h = new NumericHistogram([0, 1], { sampleSize: size });
          for (const [v, k] of stream) h.update(v, k);
          // Brute force: sort every finite (key, value) and take the first `size`.
          const finite = stream.filter(([v]) => typeof v === 'number' && Number.isFinite(v)).map(([v, k]) => [k, (v as number) === 0 ? 0 : (v as number)] as const);
          const expected = [...finite].sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, size).map(([, v]) => v);
          expect(h.sample()).toEqual(expected);
          expect(h.sampleComplete).toBe(finite.length <= size);
        }),
      );
    });

    it('is a uniform sample: each of 100 values is kept about equally often with random keys', () => {
      const kept = new Array<number>(100).fill(0);
      for (let run = 0; run < 2000; run++) {
        const h = new NumericHistogram([0, 100], { sampleSize: 10 });
        for (let v = 0; v < 100; v++) h.update(v);
        for (const v of h.sample()) kept[v]!++;
      }
      // Each value is kept with probability 0.1: 200 of 2000 runs, binomial sd 13.4; allow 5 sd.
      expect(Math.min(...kept)).toBeGreaterThan(200 - 67);
      expect(Math.max(...kept)).toBeLessThan(200 + 67);
    });

    it('merges samples of different sizes into the smaller size, and none with a histogram without a sample', () => {
      const a = new NumericHistogram([0, 1], { sampleSize: 5 });
      const b = new NumericHistogram([0, 1], { sampleSize: 2 });
      [0.1, 0.2, 0.3].forEach((v, i) => a.update(v, 10 + i));
      [0.4, 0.5, 0.6].forEach((v, i) => b.update(v, 5 + 2 * i));
      a.merge(b);
      expect(a.sampleSize).toBe(2);
      expect(a.sample()).toEqual([0.4, 0.5]);
      expect(a.sampleComplete).toBe(false);
      const none = new NumericHistogram([0, 1]);
      none.update(0.5);
      expect(a.merge(none).sampleSize).toBe(0);
      expect(a.sample()).toEqual([]);
      expect(a.toJSON()).not.toHaveProperty('sample');
    });

    it('reads old JSON (no sample) and refuses samples that contradict the counts', () => {
      const plain = new NumericHistogram([0, 1]);
      plain.update(0.5);
      expect(NumericHistogram.fromJSON(plain.toJSON()).sampleSize).toBe(0);
      const h = new NumericHistogram([0, 1], { sampleSize: 3 });
      [0.2, 0.4].forEach((v, i) => h.update(v, i));
      const json = h.toJSON();
      expect(NumericHistogram.fromJSON(JSON.parse(JSON.stringify(json))).sample()).toEqual([0.2, 0.4]);
      expect(() => NumericHistogram.fromJSON({ ...json, sample: [[0, 0.2]] })).toThrow(/2 \[key, value\] entries/);
      expect(() => NumericHistogram.fromJSON({ ...json, sample: [[1, 0.4], [0, 0.2]] })).toThrow(/ordered/);
      expect(() => NumericHistogram.fromJSON({ ...json, sample: [[0, 0.2], [1, 0.9]] })).toThrow(/within \[min, max\]/);
      expect(() => NumericHistogram.fromJSON({ ...json, sample: [[-1, 0.2], [1, 0.4]] })).toThrow(/key/);
      expect(() => NumericHistogram.fromJSON({ ...plain.toJSON(), sample: [] })).toThrow(/without sampleSize/);
      expect(() => new NumericHistogram([0, 1], { sampleSize: -1 })).toThrow(SketchError);
    });
  });

  it('keeps exact moments where floating-point accumulation loses them', () => {
    const h = new NumericHistogram([0, 1]);
    for (const v of [1e16, 1, -1e16]) h.update(v);
    // Naive left-to-right summation gives (1e16 + 1) - 1e16 = 0; the exact mean is 1/3.
    expect(h.mean()).toBe(1 / 3);
    const shifted = new NumericHistogram([0, 1]);
    for (const v of [1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4]) shifted.update(v);
    // Population variance of 1..4 is 1.25 exactly; E[x²] − E[x]² in doubles would be off by hundreds.
    expect(shifted.variance()).toBe(1.25);
    expect(shifted.mean()).toBe(1e9 + 2.5);
  });

  it('matches a two-pass mean and standard deviation on ordinary data (relative tolerance 1e-12)', () => {
    const random = seeded(7);
    const values = Array.from({ length: 5000 }, () => random() * 200 - 50);
    const h = new NumericHistogram([0, 1]);
    values.forEach((v) => h.update(v));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(Math.abs(h.mean() - mean) / Math.abs(mean)).toBeLessThan(1e-12);
    expect(Math.abs(h.std() - Math.sqrt(variance)) / Math.sqrt(variance)).toBeLessThan(1e-12);
  });

  it('gives the PSI of populationStabilityIndexFromSamples when given its edges, ties and out-of-range values included', () => {
    const sample = fc.array(fc.oneof(fc.integer({ min: -20, max: 20 }), fc.double({ min: -30, max: 30, noNaN: true })), { minLength: 1, maxLength: 300 });
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: 2, max: 12 }), (reference, current, bins) => {
        const expected = populationStabilityIndexFromSamples(reference, current, { bins });
        const interior = expected.edges;
        const edges = [(interior[0] as number) - 1, ...interior, (interior[interior.length - 1] as number) + 1];
        const r = new NumericHistogram(edges);
        const c = new NumericHistogram(edges);
        reference.forEach((v) => r.update(v));
        current.forEach((v) => c.update(v));
        expect(r.foldedCounts()).toEqual(expected.referenceCounts);
        expect(c.foldedCounts()).toEqual(expected.currentCounts);
        expect(populationStabilityIndex(r.foldedCounts(), c.foldedCounts())).toBe(expected.psi);
      }),
    );
  });

  it('derives quantile edges whose interior is the PSI edges when the extremes are untied', () => {
    const random = seeded(11);
    const reference = Array.from({ length: 1000 }, () => random() * 10);
    const current = Array.from({ length: 800 }, () => random() * 12 - 1);
    const edges = quantileEdges(reference, 10);
    const expected = populationStabilityIndexFromSamples(reference, current, { bins: 10 });
    expect(edges.slice(1, -1)).toEqual(expected.edges);
    expect(edges[0]).toBe(Math.min(...reference));
    expect(edges[10]).toBe(Math.max(...reference));
    const r = new NumericHistogram(edges);
    const c = new NumericHistogram(edges);
    reference.forEach((v) => r.update(v));
    current.forEach((v) => c.update(v));
    expect(r.counts.underflow + r.counts.overflow).toBe(0);
    expect(populationStabilityIndex(r.foldedCounts(), c.foldedCounts())).toBe(expected.psi);
    // The tails keep out-of-range traffic visible: current spans [-1, 11] against a reference in [0, 10].
    expect(c.counts.underflow).toBeGreaterThan(0);
    expect(jensenShannonDistance(r.countsWithTails(), c.countsWithTails())).toBeGreaterThan(jensenShannonDistance(r.foldedCounts(), c.foldedCounts()));
  });

  it('derives quantile edges: duplicates merged, a constant sample gets one bin, non-finite values ignored', () => {
    // np.unique(np.quantile([1, 2, 2, 2, 3], np.linspace(0, 1, 5))) -> [1, 2, 3]
    expect(quantileEdges([1, 2, 2, 2, 3], 4)).toEqual([1, 2, 3]);
    // np.quantile([0, 10], [0, .25, .5, .75, 1]) -> [0, 2.5, 5, 7.5, 10]
    expect(quantileEdges([10, NaN, 0, Infinity], 4)).toEqual([0, 2.5, 5, 7.5, 10]);
    const constant = quantileEdges([4, 4, 4]);
    expect(constant[0]).toBe(4);
    expect(constant[1]).toBe(4 + 2 ** -50);
    expect(() => quantileEdges([NaN])).toThrow(SketchError);
  });

  it('refuses bad edges, merges over other edges and malformed JSON with a SketchError', () => {
    expect(() => new NumericHistogram([1])).toThrow(SketchError);
    expect(() => new NumericHistogram([0, 0])).toThrow(/increase strictly/);
    expect(() => new NumericHistogram([0, Infinity])).toThrow(/finite/);
    expect(() => new NumericHistogram([0, 1]).merge(new NumericHistogram([0, 2]))).toThrow(/different edges/);
    const json = { ...new NumericHistogram([0, 1]).toJSON() };
    expect(() => NumericHistogram.fromJSON({ ...json, version: 2 })).toThrow(/version/);
    expect(() => NumericHistogram.fromJSON({ ...json, counts: [1] })).toThrow(/count must equal/);
    expect(() => NumericHistogram.fromJSON({ ...json, sum: '1.5' })).toThrow(/exact scaled sum/);
  });

  it('keeps the same JSON shape after 1,000 and 1,000,000 updates; only counter digits grow', () => {
    const random = seeded(3);
    const h = new NumericHistogram(quantileEdges(Array.from({ length: 1000 }, () => random()), 10));
    let i = 0;
    for (; i < 1000; i++) h.update(random() * 1.2 - 0.1);
    const small = h.toJSON();
    for (; i < 1_000_000; i++) h.update(random() * 1.2 - 0.1);
    const large = h.toJSON();
    expect(shapeOf(large)).toEqual(shapeOf(small));
    // 14 counters gain at most 3 decimal digits; the two exact sums gain at most 3 hex digits each (log2(1000) < 12 bits).
    expect(JSON.stringify(large).length - JSON.stringify(small).length).toBeLessThanOrEqual(14 * 3 + 2 * 3);
  });
});
