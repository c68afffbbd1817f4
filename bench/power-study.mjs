// Power study of the default drift monitors: how often they flag a window without drift (false alarms) and with a drift
// of known size (detection), at 1,000, 10,000 and 100,000 rows per window, beside a plain test at 5% on the one drifted
// feature (KS on raw values for numbers, chi-square on counts for categories) and beside the rules before issue 9.
//
// Data (synthetic, seeded): 10 references of 20,000 rows (window w is compared with reference w mod 10) with 10 features: 6 numeric N(0, 1), 3 categorical (10 categories,
// shares 30/20/12/9/8/7/5/4/3/2%) and 1 text (1 + Poisson(8) tokens from a Zipf(1.0) vocabulary of 20,000 words). The
// reference is sketched as `ballast reference build` does (quantile bins, top categories, the vocabulary of tokens seen at
// least twice, a sample of 5,000 raw values per numeric feature). Each window draws fresh rows from the same law; a
// scenario then changes one feature: a numeric mean shift of 0.1/0.25/0.5 sd, 5 or 10 points of share moved from the
// largest category to the second, or a new category taking 5% or 10% of rows.
//
// "default" is a feature flagged (feature_drift warning) under the default monitoring config: `auto` (Cramér–von Mises on raw values /
// chi-square at ≤ 1,000 values, Jensen–Shannon ≥ 0.1 above), Benjamini–Hochberg at 0.05 over the 10 features. For the
// no-drift rows it is the share of windows where any of the 10 features was flagged. "before" applies the rules before
// issue 9 to the same windows: binned KS, and the text feature's out-of-vocabulary share flagged at Jensen–Shannon ≥ 0.1
// outside the correction. "KS on raw values" sets `method: ks` on the numeric features (raw values up to
// drift.sampleSize, bins beyond): Evidently's choice for small samples, which `auto` used before it moved to Cramér–von Mises. "tests at every size" sets KS (numbers, texts) and chi-square (categories) on every feature,
// so windows above 1,000 values are tested too (binned KS there), still BH over the 10 features. "plain" is one test at
// 5% on the one feature, no correction (KS on all 20,000 raw reference values; chi-square on the categories).
//
// Usage: npm run bench:power [-- --windows 200 --sizes 1000,10000,100000 --out bench/results/<date>-power.json]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { FeatureSketchSet, quantileEdges, tokenize } from '../dist/monitoring/sketches/index.js';
import { chiSquareHomogeneity, ks2samp } from '../dist/monitoring/stats/index.js';
import { adjustPValues, binnedKs, compareFeature, evaluateInputDrift, featureOptions, resolveMonitoringConfig } from '../dist/monitoring/monitors/index.js';

const { values: args } = parseArgs({
  options: {
    windows: { type: 'string', default: '200' },
    sizes: { type: 'string', default: '1000,10000,100000' },
    reference: { type: 'string', default: '20000' },
    references: { type: 'string', default: '10' },
    out: { type: 'string' },
  },
});
const WINDOWS = Number(args.windows);
const SIZES = args.sizes.split(',').map(Number);
const REFERENCE_ROWS = Number(args.reference);
const REFERENCES = Number(args.references);

// ---- seeded generators ----------------------------------------------------------------------------
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1) >>> 0;
    t = (((t + Math.imul(t ^ (t >>> 7), t | 61)) >>> 0) ^ t) >>> 0;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normalFrom(random) {
  let spare = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
function poisson(random, mean) {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}
function cdfOf(weights) {
  const total = weights.reduce((a, b) => a + b, 0);
  let c = 0;
  return weights.map((w) => (c += w / total));
}
function pick(cdf, u) {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- the data -------------------------------------------------------------------------------------
const NUMERIC = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
const CATEGORICAL = ['c0', 'c1', 'c2'];
const TEXT = 't0';
const FEATURES = [...NUMERIC, ...CATEGORICAL, TEXT];
const CATEGORIES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
const SHARES = [0.3, 0.2, 0.12, 0.09, 0.08, 0.07, 0.05, 0.04, 0.03, 0.02];
const WORDS = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
const WORD_CDF = cdfOf(WORDS.map((_, i) => 1 / (i + 1)));

function categoryCdf(scenario) {
  const shares = SHARES.slice();
  let fresh = 0;
  if (scenario?.kind === 'share') {
    shares[0] -= scenario.points;
    shares[1] += scenario.points;
  } else if (scenario?.kind === 'new') {
    fresh = scenario.share;
    for (let i = 0; i < shares.length; i++) shares[i] *= 1 - fresh;
  }
  return { cdf: cdfOf([...shares, fresh]), labels: [...CATEGORIES, 'new'] };
}
const BASE_CATEGORIES = categoryCdf(undefined);

function text(random) {
  const n = 1 + poisson(random, 8);
  const words = new Array(n);
  for (let i = 0; i < n; i++) words[i] = WORDS[pick(WORD_CDF, random())];
  return words.join(' ');
}

/** Column-wise rows: numbers as Float64Array, categories and texts as arrays. */
function columns(n, seed) {
  const random = mulberry32(seed);
  const normal = normalFrom(random);
  const out = {};
  for (const f of NUMERIC) out[f] = Float64Array.from({ length: n }, normal);
  for (const f of CATEGORICAL) out[f] = Array.from({ length: n }, () => BASE_CATEGORIES.labels[pick(BASE_CATEGORIES.cdf, random())]);
  out[TEXT] = Array.from({ length: n }, () => text(random));
  return out;
}

function shiftedColumn(n, seed, scenario) {
  const random = mulberry32(seed);
  if (scenario.kind === 'mean') {
    const normal = normalFrom(random);
    return Float64Array.from({ length: n }, () => normal() + scenario.sd);
  }
  const { cdf, labels } = categoryCdf(scenario);
  return Array.from({ length: n }, () => labels[pick(cdf, random())]);
}

// ---- the reference, as `reference build` makes it --------------------------------------------------
const outputLabels = [];
function sketchOf(data, n, window, sampleSize, specs) {
  const set = new FeatureSketchSet({ key: { service: 'power', modelVersion: 'v', window }, features: specs, outputLabels, sampleSize });
  for (let i = 0; i < n; i++) {
    const input = {};
    for (const f of FEATURES) input[f] = data[f][i];
    set.update({ id: `${window}:${i}`, input });
  }
  return set;
}
/** A reference as `reference build` makes it from REFERENCE_ROWS fresh rows, and the raw values the plain tests use. */
function buildReference(seed) {
  const data = columns(REFERENCE_ROWS, seed);
  const tokenCounts = new Map();
  for (const t of data[TEXT]) for (const w of tokenize(t)) tokenCounts.set(w, (tokenCounts.get(w) ?? 0) + 1);
  const vocabulary = new Set([...tokenCounts].filter(([, c]) => c >= 2).map(([w]) => w));
  const specs = [
    ...NUMERIC.map((name) => ({ name, kind: 'numeric', edges: quantileEdges(data[name], 10) })),
    ...CATEGORICAL.map((name) => ({ name, kind: 'categorical', categories: CATEGORIES.slice(), otherSampleSize: 16 })),
    {
      name: TEXT,
      kind: 'text',
      lengthEdges: quantileEdges(data[TEXT].map((t) => [...t].length), 10),
      tokenEdges: quantileEdges(data[TEXT].map((t) => tokenize(t).length), 10),
      vocabulary,
    },
  ];
  const categoryCounts = new Map(CATEGORIES.map((c) => [c, 0]));
  for (const c of data.c0) categoryCounts.set(c, categoryCounts.get(c) + 1);
  return { specs, sketch: sketchOf(data, REFERENCE_ROWS, `reference${seed}`, 5000, specs), sorted: Float64Array.from(data.n0).sort(), categoryCounts };
}
// Every window is compared with one of REFERENCES references (window w with reference w mod REFERENCES): a test's
// false-alarm rate given one reference depends on how close that reference happens to be to the truth (a lucky one makes
// every test conservative), so the study averages over several.
const references = Array.from({ length: REFERENCES }, (_, i) => buildReference(1 + i));
let ref = references[0];

// ---- the decisions --------------------------------------------------------------------------------
const config = resolveMonitoringConfig({});
const alpha = config.drift.alpha;
// "KS on raw values": method ks on the numeric features (raw values up to drift.sampleSize, else binned).
const ksConfig = resolveMonitoringConfig({ drift: { features: Object.fromEntries(NUMERIC.map((f) => [f, { method: 'ks' }])) } });
// "tests at every size": KS for numbers and texts, chi-square for categories, whatever the window's size (BH as default).
const testsConfig = resolveMonitoringConfig({
  drift: { features: Object.fromEntries(FEATURES.map((f) => [f, { method: CATEGORICAL.includes(f) ? 'chi-square' : 'ks' }])) },
});

/** One feature's comparison as evaluateInputDrift makes it, plus the pre-issue-9 p-value / flag of the same data. */
function judge(name, current) {
  const options = featureOptions(name, config);
  const reference = ref.sketch;
  const drift = compareFeature(name, reference.feature(name), current, options);
  const tests = compareFeature(name, reference.feature(name), current, featureOptions(name, testsConfig));
  const ks = NUMERIC.includes(name) ? compareFeature(name, reference.feature(name), current, featureOptions(name, ksConfig)) : drift;
  let before = { pValue: drift.pValue, distanceFlag: drift.pValue === null ? drift.drifted : false };
  if (NUMERIC.includes(name) && drift.detail.values === 'raw') {
    before = { pValue: binnedKs(reference.feature(name).countsWithTails(), current.countsWithTails()).pValue, distanceFlag: false };
  }
  if (name === TEXT && drift.pValue !== null) {
    // Before: Bonferroni over token count and empty share; out-of-vocabulary judged alone at Jensen–Shannon ≥ 0.1.
    const parts = drift.detail.components;
    const tested = parts.filter((c) => c.component !== 'out-of-vocabulary').map((c) => c.pValue);
    const oov = parts.find((c) => c.component === 'out-of-vocabulary');
    before = { pValue: Math.min(1, Math.min(...tested) * tested.length), distanceFlag: oov !== undefined && oov.statistic >= 0.1 };
  }
  return {
    drift,
    before,
    tests: { pValue: tests.pValue, distanceFlag: false },
    ks: ks.pValue === null ? { pValue: null, distanceFlag: ks.drifted } : { pValue: ks.pValue, distanceFlag: false },
  };
}

/** Which features of a family are flagged: BH over the p-value features at α, distances by their threshold. */
function flagged(family, pick) {
  const tested = family.map((f, i) => [pick(f), i]).filter(([j]) => j.pValue !== null);
  const q = adjustPValues(
    tested.map(([j]) => j.pValue),
    config.drift.correction,
  );
  const out = family.map((f) => pick(f).distanceFlag);
  tested.forEach(([, i], k) => (out[i] = out[i] || q[k] < alpha));
  return out;
}
const newRule = (j) => (j.drift.pValue === null ? { pValue: null, distanceFlag: j.drift.drifted } : { pValue: j.drift.pValue, distanceFlag: false });
const oldRule = (j) => j.before;
const testsRule = (j) => j.tests;
const ksRule = (j) => j.ks;

const scenarios = [
  { name: 'no drift', kind: 'none' },
  { name: 'mean shift 0.1 sd', kind: 'mean', sd: 0.1, feature: 'n0' },
  { name: 'mean shift 0.25 sd', kind: 'mean', sd: 0.25, feature: 'n0' },
  { name: 'mean shift 0.5 sd', kind: 'mean', sd: 0.5, feature: 'n0' },
  { name: 'share change 5 points', kind: 'share', points: 0.05, feature: 'c0' },
  { name: 'share change 10 points', kind: 'share', points: 0.1, feature: 'c0' },
  { name: 'new category 5%', kind: 'new', share: 0.05, feature: 'c0' },
  { name: 'new category 10%', kind: 'new', share: 0.1, feature: 'c0' },
];

function plainTest(scenario, column) {
  if (scenario.kind === 'mean' || scenario.feature === 'n0') return ks2samp(ref.sorted, column).pValue < 0.05;
  const counts = new Map([...CATEGORIES, 'new'].map((c) => [c, 0]));
  for (const c of column) counts.set(c, counts.get(c) + 1);
  return chiSquareHomogeneity(ref.categoryCounts, counts).pValue < 0.05;
}

const started = Date.now();
const results = [];
for (const size of SIZES) {
  const tally = new Map(scenarios.map((s) => [s.name, { default: 0, ks: 0, before: 0, tests: 0, plain: 0, plainCategorical: 0 }]));
  for (let w = 0; w < WINDOWS; w++) {
    const seed = 1000 + size + w * 7919;
    ref = references[w % REFERENCES];
    const data = columns(size, seed);
    const window = sketchOf(data, size, `w${w}`, config.drift.sampleSize, ref.specs);
    const base = new Map(FEATURES.map((f) => [f, judge(f, window.feature(f))]));
    if (w === 0) {
      // The assembly above is evaluateInputDrift's: check it on the unchanged window.
      const whole = evaluateInputDrift(ref.sketch, window, config);
      const mine = flagged(FEATURES.map((f) => base.get(f)), newRule);
      if (whole.features.some((d, i) => d.drifted !== mine[i])) throw new Error('the study disagrees with evaluateInputDrift');
    }
    for (const scenario of scenarios) {
      const t = tally.get(scenario.name);
      if (scenario.kind === 'none') {
        const family = FEATURES.map((f) => base.get(f));
        if (flagged(family, newRule).some(Boolean)) t.default++;
        if (flagged(family, oldRule).some(Boolean)) t.before++;
        if (flagged(family, testsRule).some(Boolean)) t.tests++;
        if (flagged(family, ksRule).some(Boolean)) t.ks++;
        if (plainTest({ feature: 'n0' }, data.n0)) t.plain++;
        if (plainTest({ feature: 'c0' }, data.c0)) t.plainCategorical++;
        continue;
      }
      const column = shiftedColumn(size, seed + 17 + scenario.name.length, scenario);
      // Only the drifted feature changes: sketch it alone with the window's specs and sample size.
      const spec = ref.specs.find((s) => s.name === scenario.feature);
      const one = new FeatureSketchSet({ key: { service: 'power', modelVersion: 'v', window: `s${w}` }, features: [spec], outputLabels, sampleSize: config.drift.sampleSize });
      for (let i = 0; i < size; i++) one.update({ id: `s${w}:${i}`, input: { [scenario.feature]: column[i] } });
      const family = FEATURES.map((f) => (f === scenario.feature ? judge(f, one.feature(f)) : base.get(f)));
      const at = FEATURES.indexOf(scenario.feature);
      if (flagged(family, newRule)[at]) t.default++;
      if (flagged(family, oldRule)[at]) t.before++;
      if (flagged(family, testsRule)[at]) t.tests++;
      if (flagged(family, ksRule)[at]) t.ks++;
      if (plainTest(scenario, column)) t.plain++;
    }
  }
  for (const scenario of scenarios) {
    const t = tally.get(scenario.name);
    const rate = (k) => k / WINDOWS;
    results.push({
      size,
      scenario: scenario.name,
      default: rate(t.default),
      before: rate(t.before),
      ks: rate(t.ks),
      tests: rate(t.tests),
      plain: rate(t.plain),
      ...(scenario.kind === 'none' ? { plainCategorical: rate(t.plainCategorical) } : {}),
    });
  }
  console.error(`${size} rows: ${WINDOWS} windows done after ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;
const methodAt = (size) => (size <= 1000 ? 'Cramér–von Mises raw / chi-square, BH 0.05' : 'Jensen–Shannon ≥ 0.1');
console.log(`Power study: ${WINDOWS} windows per cell against ${REFERENCES} references of ${REFERENCE_ROWS} rows, 10 features (6 numeric, 3 categorical, 1 text)`);
console.log('| rows (default method) | scenario | default | KS on raw values | before issue 9 | tests at every size | plain test at 5% |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  const plain = r.plainCategorical === undefined ? pct(r.plain) : `KS ${pct(r.plain)}, χ² ${pct(r.plainCategorical)} (one feature)`;
  const label = r.scenario === 'no drift' ? 'no drift: any of the 10 features flagged' : r.scenario;
  console.log(`| ${r.size.toLocaleString('en-US')} (${methodAt(r.size)}) | ${label} | ${pct(r.default)} | ${pct(r.ks)} | ${pct(r.before)} | ${pct(r.tests)} | ${plain} |`);
}
const seconds = (Date.now() - started) / 1000;
const meta = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cpus: os.cpus().length, windows: WINDOWS, references: REFERENCES, referenceRows: REFERENCE_ROWS, seconds };
console.log(`\n${JSON.stringify(meta)}`);
if (args.out !== undefined) writeFileSync(args.out, `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
