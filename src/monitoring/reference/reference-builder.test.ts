import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CalibrationTable } from '../monitors/calibration-table.js';
import { buildReferenceProfile, DEFAULT_REFERENCE_SAMPLE_SIZE, FeatureSketchSet, referenceRowId, type ReferenceFeatureOptions, type SketchEvent } from '../sketches/index.js';
import { ReferenceBuilder, buildReferenceRecord, labelOf, referenceSketchKey, type ReferenceBuilderOptions, type ReferenceRow } from './reference-builder.js';
import { referenceFeaturesOf, PII_SKIP_REASON } from './reference-features.js';
import { loadReferenceProfile, type ReferenceProfileRecord } from './reference-profile-record.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const features = [
  { name: 'amount', kind: 'numeric' as const },
  { name: 'country', kind: 'categorical' as const },
  { name: 'review', kind: 'text' as const },
];

/** Rows with every kind of value the sketches tell apart: missing, null, NaN, wrong types, ties, unicode. */
function makeRows(n: number, random: () => number): ReferenceRow[] {
  const countries: unknown[] = ['FR', 'FR', 'DE', 'DE', 'ES', 'IT', 'PT', 1, '1', true, null, { x: 1 }];
  const words = ['good', 'bad', 'Service', 'awful', 'ok', 'Grüße', '👋', 'ünïcode'];
  const labels = ['approve', 'deny', 'review'];
  return Array.from({ length: n }, (_, i) => {
    const r = random();
    const input: Record<string, unknown> = {};
    if (r > 0.05) input.amount = r < 0.1 ? NaN : r < 0.12 ? 'n/a' : Math.round(random() * 1000) / (r < 0.5 ? 1 : 7);
    if (random() > 0.1) input.country = countries[Math.floor(random() * countries.length)];
    const t = random();
    if (t > 0.08) input.review = t < 0.12 ? 42 : t < 0.15 ? ' ,! ' : Array.from({ length: 1 + Math.floor(random() * 12) }, () => words[Math.floor(random() * words.length)]).join(' ');
    input.extra = i;
    const prediction = random() < 0.9 ? labels[Math.floor(random() * 3)] : undefined;
    const label = random() < 0.7 ? (random() < 0.8 ? prediction : labels[Math.floor(random() * 3)]) : undefined;
    return {
      input,
      prediction: random() < 0.3 && prediction !== undefined ? { label: prediction, score: 0.3 } : prediction,
      label: random() < 0.5 && label !== undefined ? { label } : label,
      confidence: random() < 0.9 ? random() : random() < 0.5 ? null : 'high',
    };
  });
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

function builtWith(rows: readonly ReferenceRow[], options: Omit<ReferenceBuilderOptions, 'service' | 'features'> = {}): ReferenceProfileRecord {
  const builder = new ReferenceBuilder({ service: 'loans', features, ...options });
  for (const row of rows) builder.observe(row);
  builder.finishFirstPass();
  for (const row of rows) builder.sketch(row);
  return builder.build({ id: 'ref_1', name: 'default', createdAt: '2025-01-31T12:00:00.000Z', source: { kind: 'file', path: 'x.csv', format: 'csv', rows: rows.length } });
}

/** The same rows through the one-shot buildReferenceProfile, given the vocabulary the builder chose. */
function direct(rows: readonly ReferenceRow[], record: ReferenceProfileRecord, options: { bins?: number; maxCategories?: number; maxOutputLabels?: number } = {}) {
  const events: SketchEvent[] = rows.map((r) => ({ input: r.input, outputLabel: labelOf(r.prediction), confidence: r.confidence as number }));
  const specs: ReferenceFeatureOptions[] = features.map((f) => ({ ...f, bins: options.bins, maxCategories: options.maxCategories, ...(f.kind === 'text' ? { vocabulary: new Set(record.vocabularies[f.name]) } : {}) }));
  return buildReferenceProfile(events, specs, { key: referenceSketchKey('loans'), maxOutputLabels: options.maxOutputLabels });
}

describe('ReferenceBuilder', () => {
  it('gives the same specs and byte-identical sketch JSON as buildReferenceProfile over the same rows', () => {
    const cases: [number, number, { bins?: number; maxCategories?: number; maxOutputLabels?: number; maxVocabulary?: number }][] = [
      [1, 500, {}],
      [2, 3000, { bins: 7, maxCategories: 3, maxOutputLabels: 2, maxVocabulary: 4 }],
      [3, 1, {}],
      [4, 40, { bins: 1 }],
    ];
    for (const [seed, n, options] of cases) {
      const rows = makeRows(n, seeded(seed));
      const record = builtWith(rows, options);
      const profile = direct(rows, record, options);
      expect(JSON.stringify(record.sketch), `seed ${seed}`).toBe(JSON.stringify(profile.sketch.toJSON()));
      const withoutVocabulary = profile.config.features.map((f) => (f.kind === 'text' ? { name: f.name, kind: f.kind, lengthEdges: f.lengthEdges, tokenEdges: f.tokenEdges, maxChars: f.maxChars } : f));
      expect(JSON.stringify(record.features)).toBe(JSON.stringify(withoutVocabulary));
      expect(record.rows).toBe(n);
    }
  });

  it('sketches pass 2 in chunks of columns with the counts of one update() per row (over several chunks)', () => {
    const rows = makeRows(10_000, seeded(11));
    const record = builtWith(rows);
    expect(record.rows).toBe(10_000);
    const profile = direct(rows, record);
    const perRow = new FeatureSketchSet({ ...profile.config, key: referenceSketchKey('loans'), sampleSize: DEFAULT_REFERENCE_SAMPLE_SIZE });
    for (const r of rows) perRow.update({ id: referenceRowId(r.input), input: r.input, outputLabel: labelOf(r.prediction), confidence: r.confidence as number });
    expect(JSON.stringify(record.sketch)).toBe(JSON.stringify(perRow.toJSON()));
  });

  it('is order-independent between the passes (the second pass may read the rows in any order)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 120 }), (seed, n) => {
        const rows = makeRows(n, seeded(seed));
        const builder = new ReferenceBuilder({ service: 'loans', features });
        for (const row of rows) builder.observe(row);
        builder.finishFirstPass();
        for (const row of [...rows].reverse()) builder.sketch(row);
        const reversed = builder.build({ id: 'ref_1', name: 'default', createdAt: '2025-01-31T12:00:00.000Z', source: { kind: 'file', path: 'x.csv', format: 'csv', rows: n } });
        expect(JSON.stringify(reversed)).toBe(JSON.stringify(builtWith(rows)));
      }),
      { numRuns: 30 },
    );
  });

  it('keeps the most frequent lower-case tokens as the vocabulary, ties by code-unit order, sorted', () => {
    const rows: ReferenceRow[] = ['b a A c', 'C d e', 'Ünï b', 'a', 42, null].map((review) => ({ input: { review } }));
    const builder = new ReferenceBuilder({ service: 's', features: [{ name: 'review', kind: 'text' }], maxVocabulary: 3 });
    rows.forEach((r) => builder.observe(r));
    builder.finishFirstPass();
    rows.forEach((r) => builder.sketch(r));
    const record = builder.build({ id: 'ref_1', name: 'n', createdAt: '2025-01-31T12:00:00.000Z', source: { kind: 'window', since: 'a', until: 'b', decisions: 6 } });
    // Counts: a 3, b 2, c 2, d 1, e 1, ünï 1 → a, then b and c (tied at 2, code-unit order).
    expect(record.vocabularies).toStrictEqual({ review: ['a', 'b', 'c'] });
    const review = record.sketch.features[0]!.sketch as { tokens: number; outOfVocabulary: number; invalid: number; missing: number };
    expect(review).toMatchObject({ tokens: 10, outOfVocabulary: 3, invalid: 1, missing: 1 });
  });

  it('counts accuracy and calibration over rows with both a label and a prediction', () => {
    const rows: ReferenceRow[] = [
      { input: {}, label: 'spam', prediction: 'spam', confidence: 0.97 },
      { input: {}, label: { label: 'ham' }, prediction: { label: 'spam' }, confidence: 0.62 },
      { input: {}, label: 1, prediction: '1', confidence: 0.61 },
      { input: {}, label: 'ham', prediction: 'ham' },
      { input: {}, label: 'ham', confidence: 0.9 },
      { input: {}, prediction: 'ham', confidence: 0.9 },
      { input: {}, label: 'ham', prediction: 'ham', confidence: 1.5 },
    ];
    const record = builtWith(rows);
    expect(record.accuracy).toStrictEqual({ labelled: 5, correct: 4, accuracy: 4 / 5 });
    const expected = new CalibrationTable();
    expected.update(0.97, true, 'spam');
    expected.update(0.62, false, 'spam');
    expected.update(0.61, true, '1');
    expect(record.calibration).toStrictEqual(expected.toJSON());
    expect(record.calibration!.total[12]).toBe(2);
    expect(record.calibration!.correct[12]).toBe(1);
    // Per predicted class too (CBPE calibrates per class): '1' right once at 0.61, 'spam' wrong at 0.62 and right at 0.97.
    expect(record.calibration!.classes!.map((c) => [c.label, c.total[12], c.correct[12], c.total[19], c.correct[19]])).toStrictEqual([
      ['1', 1, 1, 0, 0],
      ['spam', 1, 0, 1, 1],
    ]);
    const unlabelled = builtWith(rows.map((r) => ({ ...r, label: undefined })));
    expect(unlabelled.accuracy).toBeNull();
    expect(unlabelled.calibration).toBeNull();
    const noConfidence = builtWith(rows.map((r) => ({ ...r, confidence: undefined })));
    expect(noConfidence.accuracy?.labelled).toBe(5);
    expect(noConfidence.calibration).toBeNull();
  });

  it('skips features without a usable value instead of failing, and refuses a reference without rows', async () => {
    const rows: ReferenceRow[] = [{ input: { amount: 'x', country: { a: 1 }, review: 3 } }, { input: { amount: NaN } }];
    const { record, skipped } = await buildReferenceRecord(() => iterate(rows), {
      service: 'loans',
      features,
      id: 'ref_2',
      name: 'default',
      createdAt: '2025-01-31T12:00:00.000Z',
      source: (n) => ({ kind: 'window', since: 'a', until: 'b', decisions: n }),
    });
    expect(skipped).toStrictEqual([
      { name: 'amount', reason: 'no finite number in the reference' },
      { name: 'country', reason: 'no value in the reference' },
      { name: 'review', reason: 'no string in the reference' },
    ]);
    expect(record.features).toStrictEqual([]);
    expect(record.rows).toBe(2);
    expect(record.source).toStrictEqual({ kind: 'window', since: 'a', until: 'b', decisions: 2 });
    const empty = new ReferenceBuilder({ service: 'loans', features });
    empty.finishFirstPass();
    expect(() => empty.build({ id: 'r', name: 'n', createdAt: '2025-01-31T12:00:00.000Z', source: { kind: 'window', since: 'a', until: 'b', decisions: 0 } })).toThrow(/no rows/);
    const stop = buildReferenceRecord(() => iterate([]), { service: 'loans', features, id: 'r', name: 'n', createdAt: 'x', source: () => ({ kind: 'window', since: 'a', until: 'b', decisions: 0 }), afterFirstPass: (n) => { if (n === 0) throw new Error('empty'); } });
    await expect(stop).rejects.toThrow('empty');
  });

  it('refuses to mix up the passes', () => {
    const builder = new ReferenceBuilder({ service: 'loans', features });
    expect(() => builder.sketch({ input: {} })).toThrow(/before finishFirstPass/);
    builder.finishFirstPass();
    expect(() => builder.observe({ input: {} })).toThrow(/after finishFirstPass/);
    expect(() => new ReferenceBuilder({ service: 'loans', features: [...features, features[0]!] })).toThrow(/distinct/);
  });
});

describe('loadReferenceProfile', () => {
  it('restores the sketch, specs with vocabularies, calibration and accuracy after a JSON round trip', () => {
    const rows = makeRows(800, seeded(9));
    const record = builtWith(rows, { maxVocabulary: 5 });
    const loaded = loadReferenceProfile(JSON.parse(JSON.stringify(record)) as ReferenceProfileRecord);
    expect(JSON.stringify(loaded.sketch.toJSON())).toBe(JSON.stringify(record.sketch));
    const profile = direct(rows, record);
    expect(loaded.config.features).toStrictEqual(profile.config.features);
    expect(loaded.config.outputLabels).toStrictEqual(profile.config.outputLabels);
    expect([...loaded.vocabularies.review!].sort()).toStrictEqual(record.vocabularies.review);
    expect(loaded.accuracy).toBe(record.accuracy!.correct / record.accuracy!.labelled);
    expect(loaded.calibration!.toJSON()).toStrictEqual(record.calibration);
    // Live sketches over the loaded specs count out-of-vocabulary tokens against the restored vocabulary.
    const live = new FeatureSketchSet({ ...loaded.config, key: { service: 'loans', modelVersion: 'v1', window: 'w' } });
    const known = record.vocabularies.review![0]!;
    live.update({ input: { review: `${known} zzzunknown ${known}` } });
    expect(live.text('review').counts).toMatchObject({ tokens: 3, outOfVocabulary: 1 });
  });

  it('refuses a profile whose parts disagree', () => {
    const record = builtWith(makeRows(200, seeded(4)));
    const amount = record.features[0] as { edges: readonly number[] };
    const tampered = { ...record, features: [{ ...amount, edges: [...amount.edges.slice(0, -1), 1e9] }, ...record.features.slice(1)] };
    expect(() => loadReferenceProfile(tampered as ReferenceProfileRecord)).toThrow(/spec and sketch disagree/);
    expect(() => loadReferenceProfile({ ...record, vocabularies: {} })).toThrow(/vocabulary/);
    expect(() => loadReferenceProfile({ ...record, features: record.features.slice(1) })).toThrow(/disagree/);
    expect(() => loadReferenceProfile({ ...record, accuracy: { labelled: 2, correct: 3, accuracy: 1.5 } })).toThrow(/accuracy/);
    expect(() => loadReferenceProfile({ ...record, calibration: { type: 'calibration-table' } as never })).toThrow();
  });
});

describe('referenceFeaturesOf and labelOf', () => {
  it('takes annotated fields with a kind and skips pii and unannotated fields', () => {
    const fields = new Map([
      ['text', { kind: 'text' }],
      ['amount', { kind: 'numeric', expected: { min: 1 } }],
      ['email', { kind: 'categorical', pii: true }],
      ['note', {}],
      ['colour', { kind: 'colour' }],
    ]);
    expect(referenceFeaturesOf(fields)).toStrictEqual({
      features: [
        { name: 'text', kind: 'text' },
        { name: 'amount', kind: 'numeric' },
      ],
      skipped: [
        { name: 'email', reason: PII_SKIP_REASON },
        { name: 'note', reason: 'no kind annotation in the contract' },
        { name: 'colour', reason: 'unknown kind "colour"' },
      ],
    });
  });

  it('reads labels from scalars and from an object label property', () => {
    expect(labelOf('spam')).toBe('spam');
    expect(labelOf(1)).toBe('1');
    expect(labelOf(false)).toBe('false');
    expect(labelOf({ label: 'ham', p: 0.2 })).toBe('ham');
    expect(labelOf({ label: 0 })).toBe('0');
    expect(labelOf({ class: 'ham' })).toBeUndefined();
    expect(labelOf(['ham'])).toBeUndefined();
    expect(labelOf(null)).toBeUndefined();
    expect(labelOf(undefined)).toBeUndefined();
  });
});
