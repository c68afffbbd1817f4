import { describe, expect, it } from 'vitest';
import { CategoryCounter, FeatureSketchSet, NumericHistogram, TextStats, buildReferenceProfile, quantileEdges, tokenize, type SketchEvent } from '../sketches/index.js';
import { jensenShannonMinimumEffect, ks2samp, twoProportionZTest, wassersteinDistance } from '../stats/index.js';
import fixtures from './fixtures/monitors.json' with { type: 'json' };
import exact from '../stats/fixtures/exact-drift.json' with { type: 'json' };
import {
  adjustPValues,
  autoMethod,
  binnedKs,
  binnedWasserstein,
  compareConfidenceDrift,
  compareFeature,
  compareOutputDrift,
  evaluateInputDrift,
} from './drift.js';
import { resolveMonitoringConfig } from './monitoring-config.js';

// References: fixtures/make-fixtures.py (SciPy 1.17): chi2_contingency(correction=False) on the folded bins, ks_2samp on
// the bin indices (and on the raw values, for the conservativeness check), jensenshannon(base=2), the PSI and Hellinger
// formulas in NumPy, wasserstein_distance on the raw values, and the binned Wasserstein by dense numerical integration.
const TIGHT = { rel: 1e-10, abs: 1e-13 };

function near(actual: number | null | undefined, expected: number, tolerance: { rel?: number; abs?: number } = TIGHT): void {
  expect(actual).not.toBeNull();
  const allowed = (tolerance.abs ?? 0) + (tolerance.rel ?? 0) * Math.abs(expected);
  expect(Math.abs((actual as number) - expected), `got ${actual}, expected ${expected}`).toBeLessThanOrEqual(allowed);
}

interface NumericCase {
  name: string;
  edges: number[];
  referenceTails: number[];
  currentTails: number[];
  chiSquare: { statistic: number; pValue: number; dof: number };
  psi: number;
  jensenShannon: number;
  hellinger: number;
  ksBinned: { statistic: number; pValue: number };
  reference?: number[];
  current?: number[];
  ksRawStatistic?: number;
  wassersteinRaw?: number;
  referenceStd?: number;
  wassersteinBinned?: number;
}

function histogramOf(edges: readonly number[], values: readonly unknown[]): NumericHistogram {
  const h = new NumericHistogram(edges);
  for (const v of values) h.update(v);
  return h;
}

/** A histogram with given tail counts: each bin fed its lower edge, the tails a value beyond the outer edges. */
function histogramFromTails(edges: readonly number[], tails: readonly number[]): NumericHistogram {
  const h = new NumericHistogram(edges);
  tails.forEach((count, i) => {
    const value = i === 0 ? (edges[0] as number) - 1 : i === tails.length - 1 ? (edges.at(-1) as number) + 1 : (edges[i - 1] as number);
    for (let k = 0; k < count; k++) h.update(value);
  });
  return h;
}

describe('compareFeature on numeric histograms (SciPy reference values)', () => {
  for (const c of fixtures.numeric as NumericCase[]) {
    describe(c.name, () => {
      const raw = c.reference !== undefined && c.current !== undefined;
      const reference = raw ? histogramOf(c.edges, c.reference!) : histogramFromTails(c.edges, c.referenceTails);
      const current = raw ? histogramOf(c.edges, c.current!) : histogramFromTails(c.edges, c.currentTails);

      it('bins as NumPy does', () => {
        expect(reference.countsWithTails()).toEqual(c.referenceTails);
        expect(current.countsWithTails()).toEqual(c.currentTails);
      });

      it('chi-square on the folded bins = chi2_contingency', () => {
        const d = compareFeature('x', reference, current, { method: 'chi-square' });
        near(d.statistic, c.chiSquare.statistic);
        near(d.pValue, c.chiSquare.pValue, { rel: 1e-8, abs: 1e-15 });
        expect(d.detail.degreesOfFreedom).toBe(c.chiSquare.dof);
        expect(d.drifted).toBe(c.chiSquare.pValue < 0.05);
      });

      it('PSI, Jensen–Shannon and Hellinger on the bins with tails', () => {
        near(compareFeature('x', reference, current, { method: 'psi' }).statistic, c.psi);
        near(compareFeature('x', reference, current, { method: 'jensen-shannon' }).statistic, c.jensenShannon);
        near(compareFeature('x', reference, current, { method: 'hellinger' }).statistic, c.hellinger);
      });

      it('binned KS = ks_2samp on the bin indices', () => {
        const d = compareFeature('x', reference, current, { method: 'ks' });
        near(d.statistic, c.ksBinned.statistic, { rel: 1e-12, abs: 1e-15 });
        near(d.pValue, c.ksBinned.pValue, { rel: 1e-7, abs: 1e-15 });
        if (c.ksRawStatistic !== undefined) expect(d.statistic as number).toBeLessThanOrEqual(c.ksRawStatistic + 1e-12);
      });

      if (raw) {
        it('binned Wasserstein: the closed form = numerical integration, within the bound of the raw distance', () => {
          const w = binnedWasserstein(reference, current);
          near(w, c.wassersteinBinned!, { rel: 1e-5, abs: 1e-9 });
          near(wassersteinDistance(c.reference!, c.current!), c.wassersteinRaw!, { rel: 1e-12, abs: 1e-15 });
          // Bound: Σ over segments of width × (p + q), the tails spanning from the smaller minimum / to the larger maximum.
          const lo = Math.min(reference.minimum, current.minimum);
          const hi = Math.max(reference.maximum, current.maximum);
          const bounds = [lo, ...c.edges, hi];
          const rt = reference.countsWithTails();
          const ct = current.countsWithTails();
          const rn = reference.counts.finite;
          const cn = current.counts.finite;
          let bound = 0;
          for (let i = 0; i < rt.length; i++) bound += ((bounds[i + 1] as number) - (bounds[i] as number)) * ((rt[i] as number) / rn + (ct[i] as number) / cn);
          expect(Math.abs(w - c.wassersteinRaw!)).toBeLessThanOrEqual(bound);
          const d = compareFeature('x', reference, current, { method: 'wasserstein' });
          near(d.detail.referenceStd as number, c.referenceStd!, { rel: 1e-12 });
          near(d.statistic, w / c.referenceStd!, { rel: 1e-12 });
          expect(d.pValue).toBeNull();
          expect(d.threshold).toBe(0.1);
        });
      }
    });
  }

  it('binned KS on more than 10,000 values per side uses the asymptotic distribution, as ks_2samp', () => {
    const large = (fixtures.numeric as NumericCase[]).find((c) => c.reference === undefined)!;
    const result = binnedKs(large.referenceTails, large.currentTails);
    expect(result.exact).toBe(false);
    near(result.statistic, large.ksBinned.statistic, { rel: 1e-12 });
  });

  it('binned Wasserstein is exact for values spread evenly within bins and 0 for identical histograms', () => {
    const edges = [0, 1, 2, 3, 4];
    const even = (from: number, to: number, n: number) => Array.from({ length: n }, (_, i) => from + ((i + 0.5) * (to - from)) / n);
    const a = [...even(0, 1, 1000), ...even(1, 2, 1000)];
    const b = [...even(2, 3, 1000), ...even(3, 4, 1000)];
    near(binnedWasserstein(histogramOf(edges, [...a, 0, 2]), histogramOf(edges, [...b, 2, 4])), wassersteinDistance([...a, 0, 2], [...b, 2, 4]), { rel: 1e-3 });
    expect(binnedWasserstein(histogramOf(edges, a), histogramOf(edges, a))).toBe(0);
  });
});

interface CategoricalCase {
  name: string;
  categories: string[];
  reference: string[];
  current: string[];
  referenceCounts: number[];
  currentCounts: number[];
  chiSquare: { statistic: number; pValue: number; dof: number };
  psi: number;
  jensenShannon: number;
  hellinger: number;
}

describe('compareFeature on category counts (SciPy reference values)', () => {
  for (const c of fixtures.categorical as CategoricalCase[]) {
    it(c.name, () => {
      const counter = (values: string[]) => {
        const cc = new CategoryCounter(c.categories);
        values.forEach((v) => cc.update(v));
        return cc;
      };
      const reference = counter(c.reference);
      const current = counter(c.current);
      expect(reference.countsWithOther()).toEqual(c.referenceCounts);
      expect(current.countsWithOther()).toEqual(c.currentCounts);
      const chi = compareFeature('c', reference, current, { method: 'chi-square' });
      near(chi.statistic, c.chiSquare.statistic);
      near(chi.pValue, c.chiSquare.pValue, { rel: 1e-8, abs: 1e-15 });
      near(compareFeature('c', reference, current, { method: 'psi' }).statistic, c.psi);
      near(compareFeature('c', reference, current, { method: 'jensen-shannon' }).statistic, c.jensenShannon);
      near(compareFeature('c', reference, current, { method: 'hellinger' }).statistic, c.hellinger);
      expect(chi.referenceCount).toBe(c.reference.length);
      expect(chi.currentCount).toBe(c.current.length);
    });
  }

  it('names the categories whose shares moved most', () => {
    const c = (fixtures.categorical as CategoricalCase[])[1]!;
    const reference = new CategoryCounter(c.categories);
    const current = new CategoryCounter(c.categories);
    c.reference.forEach((v) => reference.update(v));
    c.current.forEach((v) => current.update(v));
    const shifts = compareFeature('c', reference, current).detail.largestShifts as { category: string }[];
    // y: 1/3 → 0 and (other): 0 → 10/35 are the largest moves.
    expect(shifts.map((s) => s.category).slice(0, 2)).toEqual(['y', '(other)']);
  });

  it('refuses methods that need ordered values', () => {
    const a = new CategoryCounter(['x']);
    a.update('x');
    expect(() => compareFeature('c', a, a, { method: 'ks' })).toThrow(/ordered/);
    expect(() => compareFeature('c', a, a, { method: 'wasserstein' })).toThrow(/numeric/);
  });
});

describe('auto', () => {
  it('picks a test up to 1000 current values and a distance above, by kind', () => {
    expect(autoMethod('numeric', 1000)).toBe('cramer-von-mises');
    expect(autoMethod('numeric', 1001)).toBe('jensen-shannon');
    expect(autoMethod('categorical', 1000)).toBe('chi-square');
    expect(autoMethod('categorical', 1001)).toBe('jensen-shannon');
    const edges = [0, 1, 2];
    const small = histogramOf(edges, Array.from({ length: 1000 }, (_, i) => (i % 20) / 10));
    const large = histogramOf(edges, Array.from({ length: 1001 }, (_, i) => (i % 20) / 10));
    expect(compareFeature('x', small, small).method).toBe('ks');
    const d = compareFeature('x', small, large);
    expect(d.method).toBe('jensen-shannon');
    expect(d.threshold).toBe(0.1);
    expect(compareFeature('x', small, large, { threshold: 0.3 }).threshold).toBe(0.3);
  });
});

describe('edge cases', () => {
  const edges = [0, 1, 2, 3];

  it('an empty window or reference is not compared, with the reason', () => {
    const reference = histogramOf(edges, [0.5, 1.5, 2.5]);
    const empty = new NumericHistogram(edges);
    const d = compareFeature('x', reference, empty);
    expect(d).toMatchObject({ statistic: null, pValue: null, drifted: false, currentCount: 0 });
    expect(d.detail.reason).toMatch(/no values/);
    expect(compareFeature('x', empty, reference).detail.reason).toMatch(/reference has no values/);
  });

  it('missing and non-finite values are reported, not compared', () => {
    const reference = histogramOf(edges, [0.5, 1.5, 2.5, 0.5]);
    const current = histogramOf(edges, [0.5, 1.5, 2.5, 0.5, null, NaN, undefined, 'x']);
    const d = compareFeature('x', reference, current, { method: 'psi' });
    expect(d.statistic).toBe(0);
    expect(d.currentCount).toBe(4);
    expect(d.detail.currentMissing).toBe(0.5);
    expect(d.detail.referenceMissing).toBe(0);
  });

  it('a single value and a constant reference compare without error', () => {
    const constant = quantileEdges([7, 7, 7]);
    const reference = histogramOf(constant, [7, 7, 7]);
    const same = compareFeature('x', reference, histogramOf(constant, [7]), { method: 'ks' });
    expect(same.statistic).toBe(0);
    expect(same.pValue).toBe(1);
    const moved = histogramOf(constant, [8]);
    expect(compareFeature('x', reference, moved, { method: 'ks' }).statistic).toBe(1);
    const w = compareFeature('x', reference, moved, { method: 'wasserstein' });
    // The reference's std is 0, floored at 0.001: W = 1 → 1000.
    near(w.statistic, 1000, { rel: 1e-9 });
    expect(compareFeature('x', reference, moved, { method: 'chi-square' }).pValue).toBe(1);
  });

  it('sketches over different bins or kinds are refused', () => {
    expect(() => compareFeature('x', new NumericHistogram([0, 1]), new NumericHistogram([0, 2]))).toThrow(/different bin edges/);
    expect(() => compareFeature('x', new NumericHistogram([0, 1]), new CategoryCounter([]))).toThrow(/different kinds/);
    expect(() => compareFeature('x', new CategoryCounter(['a']), new CategoryCounter(['b']))).toThrow(/different categories/);
  });
});

describe('exact KS on raw values', () => {
  const spec = (edges: number[]) => ({ key: { service: 's', modelVersion: 'v', window: 'w' }, features: [{ name: 'x', kind: 'numeric' as const, edges }], outputLabels: [] });
  const setOf = (values: number[], edges: number[], sampleSize: number, prefix: string) => {
    const s = new FeatureSketchSet({ ...spec(edges), sampleSize });
    values.forEach((x, i) => s.update({ id: `${prefix}${i}`, input: { x } }));
    return s;
  };

  for (const c of exact.ks) {
    it(`= scipy.stats.ks_2samp on the raw values when both sides kept them: ${c.name}`, () => {
      const edges = quantileEdges(c.reference, 10);
      const ref = setOf(c.reference, edges, 5000, 'r');
      const cur = setOf(c.current, edges, 1000, 'c');
      const d = compareFeature('x', ref.numeric('x'), cur.numeric('x'), { method: 'ks' });
      expect(d.detail.values).toBe('raw');
      expect(d.detail.exact).toBe(true);
      near(d.statistic, c.statistic, { rel: 1e-12 });
      near(d.pValue, c.pValue, { rel: 1e-9, abs: 1e-12 });
      // auto picks Cramér–von Mises for a window of at most 1,000 values, on the raw values too.
      const auto = compareFeature('x', ref.numeric('x'), cur.numeric('x'));
      expect(auto).toMatchObject({ method: 'cramer-von-mises', detail: { values: 'raw' } });
      near(auto.pValue, exact.cramerVonMises.find((k) => k.name === c.name)!.pValue, { rel: 1e-6, abs: 1e-9 });
      // The binned test on the same data is never more significant (it sees only the bin edges).
      const binned = compareFeature('x', setOf(c.reference, edges, 0, 'r').numeric('x'), setOf(c.current, edges, 0, 'c').numeric('x'), { method: 'ks' });
      expect(binned.detail.values).toBe('binned');
      expect(binned.statistic as number).toBeLessThanOrEqual((d.statistic as number) + 1e-12);
    });
  }

  it('cramer-von-mises = scipy.stats.cramervonmises_2samp on the raw values; without them the binned KS, saying so', () => {
    for (const c of exact.cramerVonMises.filter((k) => k.use === 'ks')) {
      const raw = exact.ks.find((k) => k.name === c.name)!;
      const edges = quantileEdges(raw.reference, 10);
      const d = compareFeature('x', setOf(raw.reference, edges, 5000, 'r').numeric('x'), setOf(raw.current, edges, 1000, 'c').numeric('x'), { method: 'cramer-von-mises' });
      expect(d.method).toBe('cramer-von-mises');
      expect(d.detail.values).toBe('raw');
      near(d.statistic, c.statistic, { rel: 1e-10 });
      near(d.pValue, c.pValue, { rel: 1e-6, abs: 1e-9 });
      const binned = compareFeature('x', setOf(raw.reference, edges, 0, 'r').numeric('x'), setOf(raw.current, edges, 0, 'c').numeric('x'), { method: 'cramer-von-mises' });
      expect(binned).toMatchObject({ method: 'ks', detail: { values: 'binned', requestedMethod: 'cramer-von-mises' } });
    }
    // Categories have no order: the service-wide choice falls back to auto, one set for the feature does not apply.
    const cats = new CategoryCounter(['a', 'b']);
    ['a', 'b', 'a'].forEach((v) => cats.update(v));
    expect(compareFeature('c', cats, cats, { method: 'cramer-von-mises', fallback: true }).detail.requestedMethod).toBe('cramer-von-mises');
    expect(() => compareFeature('c', cats, cats, { method: 'cramer-von-mises' })).toThrow(/ordered values/);
  });

  it('uses the reference sample when the reference kept only part of its values, and bins when the window outgrew its sample', () => {
    const c = exact.ks.find((k) => k.name === 'shift 0.1 sd')!;
    const edges = quantileEdges(c.reference, 10);
    const ref = setOf(c.reference, edges, 500, 'r');
    const cur = setOf(c.current, edges, 1000, 'c');
    const sampled = ref.numeric('x').sample();
    expect(sampled).toHaveLength(500);
    const d = compareFeature('x', ref.numeric('x'), cur.numeric('x'), { method: 'ks' });
    expect(d.detail).toMatchObject({ values: 'raw', referenceSample: 500 });
    expect(d.pValue).toBe(ks2samp(sampled, c.current).pValue);
    const small = setOf(c.current, edges, 999, 'c');
    expect(small.numeric('x').sampleComplete).toBe(false);
    expect(compareFeature('x', ref.numeric('x'), small.numeric('x'), { method: 'ks' }).detail.values).toBe('binned');
  });

  it('keeps no false alarms beyond α: 400 no-drift windows of 200 values flag about 5%', () => {
    const random = seeded(99);
    const normal = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
    const refValues = Array.from({ length: 3000 }, normal);
    const edges = quantileEdges(refValues, 10);
    const ref = setOf(refValues, edges, 5000, 'r');
    let flagged = 0;
    for (let w = 0; w < 400; w++) {
      const cur = setOf(Array.from({ length: 200 }, normal), edges, 1000, `w${w}:`);
      if (compareFeature('x', ref.numeric('x'), cur.numeric('x')).drifted) flagged++;
    }
    // Binomial(400, 0.05): mean 20, sd 4.4.
    expect(flagged).toBeGreaterThanOrEqual(6);
    expect(flagged).toBeLessThanOrEqual(34);
  });
});

describe('text features', () => {
  const vocabulary = new Set(['good', 'bad', 'service']);
  const config = { lengthEdges: [0, 10, 20, 40], tokenEdges: [0, 1, 2, 4, 8], vocabulary };
  const stats = (texts: unknown[]) => {
    const t = new TextStats(config);
    texts.forEach((x) => t.update(x));
    return t;
  };
  const reference = stats(Array.from({ length: 300 }, (_, i) => ['good service', 'bad', 'good good bad service', '', 'service'][i % 5]));
  const currentTexts = Array.from({ length: 200 }, (_, i) => ['good service', 'awful', 'terrible awful service', '', '!!', 'bad'][i % 6]);
  const current = stats([...currentTexts, null]);

  it('tests token counts, empty share and out-of-vocabulary share beyond a margin (Bonferroni within the feature)', () => {
    const d = compareFeature('review', reference, current);
    const components = d.detail.components as { component: string; method: string; pValue: number; statistic: number; standardError?: number }[];
    expect(components.map((c) => [c.component, c.method])).toEqual([
      ['token-count', 'ks'],
      ['empty', 'chi-square'],
      // Counted per token, so a test of "no change" would call any shift significant: a test of "beyond the margin" instead.
      ['out-of-vocabulary', 'jensen-shannon'],
    ]);
    // Brute force from the raw texts: a 2×2 chi-square without correction has the two-proportion z-test's p-value.
    const tokens = (texts: string[]) => texts.flatMap((t) => tokenize(t));
    const refTexts = Array.from({ length: 300 }, (_, i) => ['good service', 'bad', 'good good bad service', '', 'service'][i % 5] as string);
    const oov = (texts: string[]) => tokens(texts).filter((w) => !vocabulary.has(w)).length;
    // Jensen–Shannon distance (base 2) of the two Bernoulli shares, by hand.
    const share = (texts: string[]) => oov(texts) / tokens(texts).length;
    const h = (p: number) => (p <= 0 || p >= 1 ? 0 : -p * Math.log2(p) - (1 - p) * Math.log2(1 - p));
    const [p1, p2] = [share(refTexts), share(currentTexts as string[])];
    near(components[2]!.statistic, Math.sqrt(h((p1 + p2) / 2) - (h(p1) + h(p2)) / 2), { rel: 1e-9, abs: 1e-12 });
    // Its variance by brute force, texts as units: n/(n−1) Σ(o_i − R t_i)² / (Σt)², on each side.
    const clusterVariance = (texts: string[]) => {
      const o = texts.map((t) => tokenize(t).filter((w) => !vocabulary.has(w)).length);
      const t = texts.map((x) => tokenize(x).length);
      const r = o.reduce((a, b) => a + b, 0) / t.reduce((a, b) => a + b, 0);
      const total = t.reduce((a, b) => a + b, 0);
      return ((texts.length / (texts.length - 1)) * o.reduce((a, oi, i) => a + (oi - r * (t[i] as number)) ** 2, 0)) / total ** 2;
    };
    const expected = jensenShannonMinimumEffect({ rate: p1, variance: clusterVariance(refTexts) }, { rate: p2, variance: clusterVariance(currentTexts as string[]) }, 0.1);
    near(components[2]!.standardError!, expected.standardError, { rel: 1e-9 });
    near(components[2]!.pValue, expected.pValue, { rel: 1e-9, abs: 1e-300 });
    const empties = (texts: string[]) => texts.filter((t) => tokenize(t).length === 0).length;
    const ze = twoProportionZTest({ successes: empties(currentTexts as string[]), trials: 200 }, { successes: empties(refTexts), trials: 300 });
    near(components[1]!.pValue, ze.pValue, { rel: 1e-9, abs: 1e-300 });
    const tested = components.filter((c) => c.pValue !== null);
    const smallest = Math.min(...tested.map((c) => c.pValue));
    near(d.pValue, Math.min(1, 3 * smallest), { rel: 1e-12, abs: 1e-300 });
    expect(d.detail.component).toBe(tested.find((c) => c.pValue === smallest)!.component);
    expect(d.drifted).toBe(true);
    expect(d.currentCount).toBe(200);
    expect(d.detail.currentMissing).toBeCloseTo(1 / 201, 12);
    near(d.detail.currentOutOfVocabulary as number, current.outOfVocabularyRate());
  });

  it('the out-of-vocabulary share drifts only beyond its margin by more than noise, and joins the correction', () => {
    const words = ['good', 'bad', 'service'];
    // Texts of 10 tokens, k of them unknown: the reference at 5% (every other text has one unknown token).
    const text = (unknown: number, i: number) => Array.from({ length: 10 }, (_, j) => (j < unknown ? `zz${i}x${j}` : words[(i + j) % 3])).join(' ');
    const make = (rate: (i: number) => number, n: number) => stats(Array.from({ length: n }, (_, i) => text(rate(i), i)));
    const ref = make((i) => (i % 2 === 0 ? 1 : 0), 2000);
    const margin = (q: TextStats) => compareFeature('t', ref, q).detail.components as { component: string; statistic: number; pValue: number }[];
    // 8%: Jensen–Shannon 0.059, within the 0.1 margin: not significant however many texts.
    const within = margin(make((i) => (i % 5 < 2 ? 2 : 0), 1000)).find((c) => c.component === 'out-of-vocabulary')!;
    expect(within.statistic).toBeLessThan(0.1);
    expect(within.pValue).toBe(1);
    // 30%: far beyond the margin: significant.
    const beyond = margin(make(() => 3, 300)).find((c) => c.component === 'out-of-vocabulary')!;
    expect(beyond.statistic).toBeGreaterThan(0.2);
    expect(beyond.pValue).toBeLessThan(1e-6);
    // In evaluateInputDrift the text feature's one p-value is corrected with the others.
    const refSet = new FeatureSketchSet({ key: { service: 's', modelVersion: 'r', window: 'r' }, features: [{ name: 't', kind: 'text', ...config }], outputLabels: [] });
    const curSet = new FeatureSketchSet({ key: { service: 's', modelVersion: 'v', window: 'w' }, features: [{ name: 't', kind: 'text', ...config }], outputLabels: [] });
    for (let i = 0; i < 2000; i++) refSet.update({ input: { t: text(i % 2 === 0 ? 1 : 0, i) } });
    for (let i = 0; i < 300; i++) curSet.update({ input: { t: text(3, i) } });
    const drift = evaluateInputDrift(refSet, curSet, resolveMonitoringConfig({}));
    const t = drift.features[0]!;
    expect(t.detail.component).toBe('out-of-vocabulary');
    expect(t.adjustedPValue).not.toBeNull();
    expect(t.drifted).toBe(true);
  });

  it('on long texts under a cap keeps its meaning: the same source does not drift, new words in the prefix do, and what lies past the cap is not seen', () => {
    const words = ['good', 'bad', 'service', 'order', 'late', 'refund'];
    // Texts of about 20,000 code units: 3,000 words of 5–7 characters, tokenized up to the cap of 4,096.
    const long = (i: number, unknownEvery: number, from = 0) =>
      Array.from({ length: 3000 }, (_, j) => (j >= from && unknownEvery > 0 && (i + j) % unknownEvery === 0 ? `zq${(i * 31 + j) % 997}` : words[(i * 7 + j) % words.length])).join(' ');
    const capped = { ...config, lengthEdges: [0, 1000, 10_000, 30_000], tokenEdges: [0, 100, 500, 700, 1000], vocabulary: new Set(words), maxChars: 4096 };
    const make = (texts: string[]) => {
      const t = new TextStats(capped);
      texts.forEach((x) => t.update(x));
      return t;
    };
    const ref = make(Array.from({ length: 400 }, (_, i) => long(i, 50)));
    expect(ref.counts.truncated).toBe(400);
    const same = compareFeature('body', ref, make(Array.from({ length: 300 }, (_, i) => long(i + 1000, 50))));
    expect(same.drifted).toBe(false);
    // One word in four unknown, from the start of the text: seen in the prefix.
    const early = compareFeature('body', ref, make(Array.from({ length: 300 }, (_, i) => long(i, 4))));
    expect(early.drifted).toBe(true);
    expect(early.detail.component).toBe('out-of-vocabulary');
    // The same change only after word 2,000 (past the cap): the prefix is unchanged, so is the verdict.
    const late = compareFeature('body', ref, make(Array.from({ length: 300 }, (_, i) => long(i, 4, 2000))));
    expect(late.drifted).toBe(false);
    // A reference tokenized whole is not compared with capped windows.
    expect(() => compareFeature('body', make([]), new TextStats({ ...capped, maxChars: undefined }))).toThrow(/whole texts/);
  });

  it('with a distance method drifts when any component reaches its threshold', () => {
    const d = compareFeature('review', reference, current, { method: 'psi' });
    const components = d.detail.components as { statistic: number; drifted: boolean; method: string }[];
    expect(components.every((c) => c.method === 'psi')).toBe(true);
    expect(d.drifted).toBe(components.some((c) => c.statistic >= 0.2));
    expect(d.statistic).toBe(Math.max(...components.map((c) => c.statistic)));
    expect(d.pValue).toBeNull();
  });

  it('without a vocabulary compares token counts and empty share only', () => {
    const plain = { lengthEdges: config.lengthEdges, tokenEdges: config.tokenEdges };
    const a = new TextStats(plain);
    const b = new TextStats(plain);
    ['a b', 'c'].forEach((t) => a.update(t));
    ['a b', 'c d e'].forEach((t) => b.update(t));
    expect((compareFeature('t', a, b).detail.components as unknown[]).length).toBe(2);
  });
});

describe('adjustPValues', () => {
  it('Benjamini–Hochberg = scipy.stats.false_discovery_control', () => {
    const adjusted = adjustPValues(fixtures.corrections.pValues, 'benjamini-hochberg');
    adjusted.forEach((q, i) => near(q, fixtures.corrections.benjaminiHochberg[i]!, { rel: 1e-12 }));
  });

  it('Bonferroni multiplies by m and caps at 1; none leaves them', () => {
    expect(adjustPValues([0.01, 0.2, 0.5], 'bonferroni')).toEqual([0.03, 0.6000000000000001, 1]);
    expect(adjustPValues([0.01, 0.2], 'none')).toEqual([0.01, 0.2]);
    expect(adjustPValues([], 'benjamini-hochberg')).toEqual([]);
  });
});

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('evaluateInputDrift', () => {
  const features = [
    { name: 'amount', kind: 'numeric' as const },
    { name: 'score', kind: 'numeric' as const },
    { name: 'country', kind: 'categorical' as const },
    { name: 'note', kind: 'text' as const },
  ];
  const rows = (n: number, random: () => number, shift: number): SketchEvent[] =>
    Array.from({ length: n }, () => ({
      input: { amount: random() * 100 + shift, score: random(), country: ['FR', 'DE', 'ES'][Math.floor(random() * 3)], note: random() < 0.5 ? 'fine' : 'all good' },
      outputLabel: random() < 0.3 + shift / 200 ? 'fraud' : 'ok',
      confidence: Math.min(1, random() + shift / 100),
    }));
  const profile = buildReferenceProfile(rows(2000, seeded(1), 0), features, { key: { service: 's', modelVersion: 'v1', window: 'reference' } });
  const window = (n: number, shift: number, seed: number) => {
    const set = new FeatureSketchSet({ ...profile.config, key: { service: 's', modelVersion: 'v1', window: 'w' } });
    rows(n, seeded(seed), shift).forEach((r) => set.update(r));
    return set;
  };

  it('finds the one shifted feature and leaves the input undrifted below the share', () => {
    const result = evaluateInputDrift(profile.sketch, window(400, 30, 2), resolveMonitoringConfig({}));
    expect(result.features.map((f) => f.feature)).toEqual(['amount', 'score', 'country', 'note']);
    expect(result.features.map((f) => f.drifted)).toEqual([true, false, false, false]);
    expect(result.compared).toBe(4);
    expect(result.driftedShare).toBe(0.25);
    expect(result.drifted).toBe(false);
    expect(result.correction).toBe('benjamini-hochberg');
    const adjusted = adjustPValues(
      result.features.map((f) => f.pValue as number),
      'benjamini-hochberg',
    );
    expect(result.features.map((f) => f.adjustedPValue)).toEqual(adjusted);
    expect(evaluateInputDrift(profile.sketch, window(400, 30, 2), resolveMonitoringConfig({ drift: { share: 0.25 } })).drifted).toBe(true);
  });

  it('controls false alarms on a stable window better than no correction', () => {
    let uncorrected = 0;
    let corrected = 0;
    for (let seed = 10; seed < 40; seed++) {
      const w = window(300, 0, seed);
      uncorrected += evaluateInputDrift(profile.sketch, w, resolveMonitoringConfig({ drift: { correction: 'none' } })).features.filter((f) => f.drifted).length;
      corrected += evaluateInputDrift(profile.sketch, w, resolveMonitoringConfig({ drift: { correction: 'bonferroni' } })).features.filter((f) => f.drifted).length;
    }
    expect(corrected).toBeLessThanOrEqual(uncorrected);
    // 30 windows × 4 features at α = 0.05 (binned KS is conservative): far fewer than 30 false alarms either way.
    expect(uncorrected).toBeLessThan(20);
  });

  it('skips disabled features, applies overrides and leaves thin features uncompared', () => {
    const config = resolveMonitoringConfig({ minSamples: 50, drift: { features: { score: { enabled: false }, country: { method: 'psi', threshold: 0.5 } } } });
    const result = evaluateInputDrift(profile.sketch, window(40, 0, 3), config);
    expect(result.features.map((f) => f.feature)).toEqual(['amount', 'country', 'note']);
    expect(result.features.every((f) => f.statistic === null && /fewer than minSamples/.test(String(f.detail.reason)))).toBe(true);
    expect(result.compared).toBe(0);
    expect(result.driftedShare).toBeNull();
    expect(result.drifted).toBe(false);
    const enough = evaluateInputDrift(profile.sketch, window(400, 0, 3), config);
    const country = enough.features.find((f) => f.feature === 'country')!;
    expect([country.method, country.threshold, country.pValue]).toEqual(['psi', 0.5, null]);
  });

  it('reports a feature whose method does not apply instead of failing the whole input', () => {
    const config = resolveMonitoringConfig({ drift: { features: { country: { method: 'wasserstein' } } } });
    const result = evaluateInputDrift(profile.sketch, window(400, 0, 4), config);
    const country = result.features.find((f) => f.feature === 'country')!;
    expect(country.statistic).toBeNull();
    expect(country.detail.reason).toMatch(/does not apply/);
    expect(result.compared).toBe(3);
  });

  it('lets a service-wide ks or wasserstein fall back to auto on categories, but not one set for the feature', () => {
    const result = evaluateInputDrift(profile.sketch, window(400, 0, 4), resolveMonitoringConfig({ drift: { method: 'wasserstein' } }));
    expect(result.features.map((f) => f.method)).toEqual(['wasserstein', 'wasserstein', 'chi-square', 'wasserstein']);
    expect(result.features[2]!.detail.requestedMethod).toBe('wasserstein');
    expect(result.compared).toBe(4);
    expect(compareOutputDrift(profile.sketch, window(400, 0, 4), { method: 'ks', fallback: true }).method).toBe('chi-square');
  });

  it('compares the output labels and the confidence', () => {
    const output = compareOutputDrift(profile.sketch, window(400, 60, 5));
    expect([output.kind, output.method]).toEqual(['categorical', 'chi-square']);
    expect(output.drifted).toBe(true);
    const confidence = compareConfidenceDrift(profile.sketch, window(1500, 0, 6));
    expect([confidence.kind, confidence.method]).toEqual(['numeric', 'jensen-shannon']);
    expect(confidence.drifted).toBe(false);
    expect(compareConfidenceDrift(profile.sketch, window(1500, 40, 6)).drifted).toBe(true);
  });
});
