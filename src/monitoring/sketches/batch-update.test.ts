// The columnar path (FeatureSketchSet.updateColumns) against the per-event path (update): same sketches, same JSON, same drift.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareHomogeneity, jensenShannonDistance, populationStabilityIndex } from '../stats/index.js';
import { FeatureSketchSet, LATENCY_EDGES_MS, type FeatureSketchSetConfig, type SketchColumn, type SketchColumns, type SketchEvent } from './feature-sketch-set.js';
import { buildReferenceProfile, referenceRowId } from './reference-profile.js';
import { SketchError } from './sketch-error.js';

const vocabulary = new Set(['good', 'bad', 'service']);
const config: FeatureSketchSetConfig = {
  key: { service: 'fraud', modelVersion: 'v3', window: 'w' },
  features: [
    { name: 'x', kind: 'numeric', edges: [-1, 0, 0.5, 1, 2, 10] },
    { name: 'y', kind: 'numeric', edges: [0, 1], sampleSize: 3 },
    { name: 'z', kind: 'numeric', edges: [-1e300, 1e-300, 1e300], sampleSize: 0 },
    { name: 'c', kind: 'categorical', categories: ['a', 'b', '1', 'true'], otherSampleSize: 2 },
    { name: 'd', kind: 'categorical', categories: [] },
    { name: 't', kind: 'text', lengthEdges: [0, 3, 10], tokenEdges: [0, 1, 3], vocabulary, maxChars: 64 },
  ],
  outputLabels: ['yes', 'no'],
  stages: ['total', 'model'],
  sampleSize: 5,
};
const names = config.features.map((f) => f.name);

// Heavy ties (edges, ±0, repeated values), every non-finite number, huge and tiny magnitudes, and values of other types.
const ties = fc.constantFrom(-1, 0, -0, 0.5, 1, 2, 10, 1e-300, 1e300, 5e-324, 2 ** 400, 2 ** -400, 3 * 2 ** 401);
const number = fc.oneof(fc.double(), ties, fc.constantFrom(NaN, Infinity, -Infinity), fc.integer({ min: -3, max: 12 }));
const other = fc.oneof(fc.constantFrom('a', 'b', 'q', 'r', 's', '1', 'good service', 'bad bad', '', 'good '.repeat(20)), fc.string({ maxLength: 12 }), fc.boolean(), fc.constantFrom(1n, {}, [1], Symbol.for('s')));
const missing = fc.constantFrom(undefined, null);
const anyValue = fc.oneof({ weight: 4, arbitrary: number }, { weight: 3, arbitrary: other }, { weight: 2, arbitrary: missing });

/** How a column is handed over: typed (numbers only), typed with a mask (numbers or absent), a plain array, or no column. */
type Shape = 'typed' | 'masked' | 'array' | 'absent';
const VALUE_KINDS = { numbers: number, mixed: anyValue, strings: fc.oneof(other.filter((v) => typeof v === 'string'), missing) } as const;

interface Field {
  readonly shape: Shape;
  /** Per row: the value, or absent (the event does not hold the field). */
  readonly values: readonly { readonly absent: boolean; readonly value: unknown }[];
}

function fieldOf(rows: number): fc.Arbitrary<Field> {
  return fc.constantFrom<Shape>('typed', 'masked', 'array', 'absent').chain((shape) => {
    const kind = shape === 'typed' || shape === 'masked' ? VALUE_KINDS.numbers : fc.constantFrom(VALUE_KINDS.mixed, VALUE_KINDS.strings).chain((a) => a);
    const cell = fc.record({ absent: shape === 'masked' ? fc.boolean() : shape === 'absent' ? fc.constant(true) : fc.constant(false), value: kind as fc.Arbitrary<unknown> });
    return fc.array(cell, { minLength: rows, maxLength: rows }).map((values) => ({ shape, values }));
  });
}

interface Batch {
  readonly rows: number;
  readonly ids: readonly string[];
  readonly fields: Readonly<Record<string, Field>>;
  readonly outputLabel: Field;
  readonly confidence: Field;
  readonly timings: Readonly<Record<string, Field>>;
}

// Ids from a small alphabet, so rows share sample keys (ties in the bottom-k broken by value).
const batch: fc.Arbitrary<Batch> = fc.nat({ max: 60 }).chain((rows) =>
  fc.record({
    rows: fc.constant(rows),
    ids: fc.array(fc.string({ maxLength: 2, unit: fc.constantFrom('a', 'b', 'c') }), { minLength: rows, maxLength: rows }),
    fields: fc.record(Object.fromEntries([...names, 'unused'].map((n) => [n, fieldOf(rows)]))),
    outputLabel: fieldOf(rows),
    confidence: fieldOf(rows),
    timings: fc.record({ total: fieldOf(rows), model: fieldOf(rows), unconfigured: fieldOf(rows) }),
  }),
);

function columnOf(field: Field, from = 0, to = field.values.length): SketchColumn | undefined {
  const cells = field.values.slice(from, to);
  switch (field.shape) {
    case 'typed':
      return Float64Array.from(cells, (c) => c.value as number);
    case 'masked':
      return { values: Float64Array.from(cells, (c) => (c.absent ? 12345 : (c.value as number))), missing: Uint8Array.from(cells, (c) => (c.absent ? 1 : 0)) };
    case 'array':
      return cells.map((c) => c.value);
    case 'absent':
      return undefined;
  }
}

function columnsOf(b: Batch, from = 0, to = b.rows): SketchColumns {
  const record = (fields: Readonly<Record<string, Field>>) => {
    const out: Record<string, SketchColumn> = {};
    for (const [name, field] of Object.entries(fields)) {
      const column = columnOf(field, from, to);
      if (column !== undefined) out[name] = column;
    }
    return out;
  };
  const labels = b.outputLabel.values.slice(from, to).map((c) => (c.absent ? undefined : c.value));
  return {
    input: record(b.fields),
    ids: b.ids.slice(from, to),
    ...(b.outputLabel.shape === 'absent' ? {} : { outputLabel: labels }),
    confidence: columnOf(b.confidence, from, to),
    timings: record(b.timings),
  };
}

function eventsOf(b: Batch): SketchEvent[] {
  const record = (fields: Readonly<Record<string, Field>>, i: number) => {
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(fields)) {
      const cell = field.values[i] as Field['values'][number];
      if (!cell.absent) out[name] = cell.value;
    }
    return out;
  };
  return Array.from({ length: b.rows }, (_, i) => {
    const label = b.outputLabel.values[i] as Field['values'][number];
    const confidence = b.confidence.values[i] as Field['values'][number];
    return {
      id: b.ids[i],
      input: record(b.fields, i),
      ...(label.absent ? {} : { outputLabel: label.value }),
      ...(confidence.absent ? {} : { confidence: confidence.value as number }),
      timings: record(b.timings, i) as Record<string, number>,
    };
  });
}

function perEvent(b: Batch, cfg = config): FeatureSketchSet {
  const set = new FeatureSketchSet(cfg);
  for (const event of eventsOf(b)) set.update(event);
  return set;
}

function batched(b: Batch, cfg = config): FeatureSketchSet {
  const set = new FeatureSketchSet(cfg);
  set.updateColumns(columnsOf(b), b.rows);
  return set;
}

function attempt<T>(f: () => T): T | string {
  try {
    return f();
  } catch (error) {
    return `throws ${(error as Error).message}`;
  }
}

/** PSI, Jensen–Shannon and chi-square of every numeric and categorical feature, and the output labels, against a reference. */
function drift(reference: FeatureSketchSet, current: FeatureSketchSet): unknown[] {
  const bins = (counts: number[]) => new Map(counts.map((c, i) => [`b${i}`, c]));
  const out: unknown[] = [];
  for (const f of config.features) {
    if (f.kind === 'numeric') {
      const r = reference.numeric(f.name);
      const c = current.numeric(f.name);
      out.push(attempt(() => populationStabilityIndex(r.foldedCounts(), c.foldedCounts())));
      out.push(attempt(() => jensenShannonDistance(r.countsWithTails(), c.countsWithTails())));
      out.push(attempt(() => chiSquareHomogeneity(bins(r.countsWithTails()), bins(c.countsWithTails()))));
      out.push(attempt(() => [c.mean(), c.variance(), c.sample()]));
    } else if (f.kind === 'categorical') {
      const r = reference.categorical(f.name);
      const c = current.categorical(f.name);
      out.push(attempt(() => populationStabilityIndex(r.countsWithOther(), c.countsWithOther())));
      out.push(attempt(() => jensenShannonDistance(r.countsWithOther(), c.countsWithOther())));
      out.push(attempt(() => chiSquareHomogeneity(r.categoryCounts(), c.categoryCounts())));
    } else {
      out.push(attempt(() => [current.text(f.name).counts, current.text(f.name).outOfVocabularyRate()]));
    }
  }
  out.push(attempt(() => chiSquareHomogeneity(reference.outputLabels.categoryCounts(), current.outputLabels.categoryCounts())));
  return out;
}

describe('FeatureSketchSet.updateColumns', () => {
  // A fixed reference to compute drift against: numbers spread over the edges, every category, some texts.
  const reference = new FeatureSketchSet(config);
  for (let i = 0; i < 200; i++) {
    reference.update({
      id: `r${i}`,
      input: { x: (i % 23) / 2 - 1, y: (i % 7) / 6, z: i - 100, c: ['a', 'b', '1', 'true', 'other'][i % 5], d: `v${i % 3}`, t: i % 2 === 0 ? 'good service' : 'bad' },
      outputLabel: i % 3 === 0 ? 'yes' : 'no',
      confidence: (i % 10) / 10,
      timings: { total: i / 10 },
    });
  }

  it('gives the per-event path\'s sketch set for any columns (missing, NaN, ±Infinity, ties, other types, empty)', () => {
    fc.assert(
      fc.property(batch, (b) => {
        const one = perEvent(b);
        const many = batched(b);
        expect(many.toJSON()).toEqual(one.toJSON());
        expect(JSON.stringify(many)).toBe(JSON.stringify(one));
        expect(drift(reference, many)).toEqual(drift(reference, one));
      }),
      { numRuns: 400 },
    );
  });

  it('over chunks and then merged, equals one batch (and the per-event path)', () => {
    const chunked = batch.chain((b) => fc.record({ b: fc.constant(b), cuts: fc.uniqueArray(fc.nat({ max: b.rows }), { maxLength: 4 }).map((c) => [...c].sort((x, y) => x - y)) }));
    fc.assert(
      fc.property(chunked, ({ b, cuts }) => {
        const bounds = [0, ...cuts, b.rows];
        const parts = bounds.slice(1).map((to, k) => {
          const from = bounds[k] as number;
          const set = new FeatureSketchSet(config);
          set.updateColumns(columnsOf(b, from, to), to - from);
          return set;
        });
        const merged = parts.reduceRight((acc, part) => part.merge(acc));
        expect(merged.toJSON()).toEqual(batched(b).toJSON());
        expect(merged.toJSON()).toEqual(perEvent(b).toJSON());
      }),
      { numRuns: 200 },
    );
  });

  it('without ids and without samples, still equals the per-event path', () => {
    const unsampled: FeatureSketchSetConfig = { ...config, sampleSize: 0, features: config.features.map((f) => (f.kind === 'numeric' ? { ...f, sampleSize: 0 } : f)) };
    fc.assert(
      fc.property(batch, (b) => {
        const noIds = { ...b, ids: [] };
        const one = new FeatureSketchSet(unsampled);
        for (const event of eventsOf(noIds)) set(one, { ...event, id: undefined });
        const many = new FeatureSketchSet(unsampled);
        const columns = columnsOf(noIds);
        many.updateColumns({ ...columns, ids: undefined }, b.rows);
        expect(many.toJSON()).toEqual(one.toJSON());
      }),
      { numRuns: 100 },
    );
    function set(s: FeatureSketchSet, event: SketchEvent): void {
      const { id: _id, ...rest } = event;
      s.update(rest);
    }
  });

  it('counts what a plain array holds as update() does: holes and undefined missing, strings in numeric fields invalid', () => {
    const set = new FeatureSketchSet(config);
    const x = [1, , undefined, null, 'NaN', NaN, Infinity, -0, 10];
    set.updateColumns({ input: { x, c: Float64Array.of(1, 2, NaN, 0, -0, 1, 1, 1, 1) }, ids: Array.from({ length: 9 }, (_, i) => `e${i}`) }, 9);
    expect(set.numeric('x').counts).toEqual({ finite: 3, underflow: 0, overflow: 0, missing: 3, nonFinite: 2, invalid: 1 });
    expect(set.numeric('x').minimum).toBe(0);
    // Numbers in a categorical field count as String(n): 1 is tracked as "1", NaN and 0 (also -0) are "other".
    expect(set.categorical('c').countsWithOther()).toEqual([0, 0, 5, 0, 4]);
    // "0" (from 0 and -0) with its two rows, if it is among the two smallest hashes of "2", "NaN", "0"; the same as per event.
    const one = new FeatureSketchSet(config);
    for (const c of [1, 2, NaN, 0, -0, 1, 1, 1, 1]) one.update({ id: 'e', input: { c } });
    expect(set.categorical('c').otherSample()).toEqual(one.categorical('c').otherSample());
    expect(set.categorical('c').otherSample()).toHaveLength(2);
    expect(set.categorical('c').otherSample().every(([v, n]) => (v === '0' ? n === 2 : n === 1))).toBe(true);
    expect(set.numeric('y').counts.missing).toBe(9);
    expect(set.latencyOf('total').counts.missing).toBe(9);
    expect(set.eventCount).toBe(9);
  });

  it('reads only the first `rows` values, and refuses a column shorter than rows without counting anything', () => {
    const set = new FeatureSketchSet(config);
    set.updateColumns({ input: { x: Float64Array.of(1, 2, 3) } }, 2);
    expect(set.numeric('x').counts.finite).toBe(2);
    const before = JSON.stringify(set);
    expect(() => set.updateColumns({ input: { x: Float64Array.of(1, 2, 3), c: ['a'] } }, 3)).toThrow(SketchError);
    expect(() => set.updateColumns({ input: { x: { values: Float64Array.of(1, 2, 3), missing: new Uint8Array(2) } } }, 3)).toThrow(/fewer than the 3 rows/);
    expect(() => set.updateColumns({ input: {}, ids: ['a'] }, 2)).toThrow(SketchError);
    expect(() => set.updateColumns({ input: { x: 'abc' as unknown as SketchColumn } }, 1)).toThrow(SketchError);
    expect(() => set.updateColumns({ input: {} }, -1)).toThrow(SketchError);
    expect(JSON.stringify(set)).toBe(before);
  });

  it('keeps sums exact over many values in one batch, as the per-event path does', () => {
    // 2^53 + 1 and 1 do not add exactly in doubles; the exact sums tell them apart. Latency edges exercise the closed last bin.
    const n = 100_000;
    const values = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 2 ** 53 + 2 : i % 3 === 1 ? 1 : LATENCY_EDGES_MS[i % LATENCY_EDGES_MS.length] as number) * (i % 2 === 0 ? 1 : -1));
    const ids = Array.from({ length: n }, (_, i) => `i${i}`);
    const one = new FeatureSketchSet(config);
    for (let i = 0; i < n; i++) one.update({ id: ids[i], input: { x: values[i], y: values[i] }, timings: { total: values[i] as number } });
    const many = new FeatureSketchSet(config);
    many.updateColumns({ input: { x: values, y: values }, ids, timings: { total: values } }, n);
    expect(many.toJSON()).toEqual(one.toJSON());
  });
});

describe('buildReferenceProfile on the columnar path', () => {
  it('sketches the reference exactly as one update() per row keyed by referenceRowId', () => {
    const row = fc.record(
      {
        input: fc.record({ x: anyValue, c: anyValue, t: fc.oneof(other, missing) }, { requiredKeys: [] }),
        outputLabel: fc.constantFrom('yes', 'no', 'maybe', undefined, 3),
        confidence: fc.oneof(number, missing),
        timings: fc.record({ total: number, model: anyValue }, { requiredKeys: [] }),
      },
      { requiredKeys: ['input'] },
    );
    // Every feature needs a usable reference value: one row holds them all.
    const complete: SketchEvent = { input: { x: 1, c: 'a', t: 'good' } };
    fc.assert(
      fc.property(fc.array(row, { maxLength: 50 }), fc.constantFrom(undefined, ['total', 'model'], ['model']), (rows, stages) => {
        const all = [complete, ...rows] as SketchEvent[];
        const features = [
          { name: 'x', kind: 'numeric' as const, bins: 4 },
          { name: 'c', kind: 'categorical' as const, maxCategories: 2 },
          { name: 't', kind: 'text' as const, vocabulary },
        ];
        const key = { service: 's', modelVersion: 'v', window: 'reference' };
        const profile = buildReferenceProfile(all, features, { key, stages, sampleSize: 7 });
        const one = new FeatureSketchSet({ ...profile.config, key, sampleSize: 7 });
        for (const r of all) one.update({ ...r, id: referenceRowId(r.input) });
        expect(profile.sketch.toJSON()).toEqual(one.toJSON());
      }),
      { numRuns: 200 },
    );
  });
});
