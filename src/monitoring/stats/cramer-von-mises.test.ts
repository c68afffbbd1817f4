import { describe, expect, it } from 'vitest';
import fixtures from './fixtures/exact-drift.json' with { type: 'json' };
import { besselKScaled, cramerVonMises2samp, cramerVonMisesLimitCdf } from './cramer-von-mises.js';
import { StatsInputError } from './stats-input-error.js';

// References: fixtures/exact-drift.py (SciPy 1.17): cramervonmises_2samp, special.kve(0.25, q), stats._hypotests._cdf_cvm_inf.
function near(actual: number, expected: number, rel: number, abs: number): void {
  expect(Math.abs(actual - expected), `got ${actual}, expected ${expected}`).toBeLessThanOrEqual(abs + rel * Math.abs(expected));
}

interface Case {
  readonly name: string;
  readonly use?: string;
  readonly x?: number[];
  readonly y?: number[];
  readonly statistic: number;
  readonly pValue: number;
  readonly method: 'exact' | 'asymptotic';
}

const samples = (c: Case): [number[], number[]] => {
  if (c.use === 'ks') {
    const k = fixtures.ks.find((s) => s.name === c.name)!;
    return [k.reference, k.current];
  }
  return [c.x!, c.y!];
};

describe('cramerVonMises2samp against scipy.stats.cramervonmises_2samp', () => {
  it.each((fixtures.cramerVonMises as Case[]).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const [x, y] = samples(c);
    const r = cramerVonMises2samp(x, y);
    expect(r.method).toBe(c.method);
    near(r.statistic, c.statistic, 1e-10, 1e-14);
    // Exact p-values are ratios of integer path counts; asymptotic ones agree to the series' own 1e-7 cut-off.
    if (c.method === 'exact') near(r.pValue, c.pValue, 1e-12, 1e-15);
    else near(r.pValue, c.pValue, 1e-6, 1e-9);
  });

  it.each((fixtures.cramerVonMisesForced as Case[]).map((c) => [c.name, c] as const))('%s (method forced)', (_name, c) => {
    const r = cramerVonMises2samp(c.x!, c.y!, { method: c.method });
    expect(r.method).toBe('asymptotic');
    near(r.pValue, c.pValue, 1e-6, 1e-9);
  });

  it('has a brute-force exact p-value on tiny samples: the share of all splits of the pooled values with T at least as large', () => {
    const x = [0.1, 1.7, 2.2];
    const y = [0.4, 0.9, 3.1, 5.0];
    const pooled = [...x, ...y];
    const t = (a: number[], b: number[]) => cramerVonMises2samp(a, b, { method: 'asymptotic' }).statistic;
    const observed = t(x, y);
    let atLeast = 0;
    let total = 0;
    for (let mask = 0; mask < 1 << pooled.length; mask++) {
      if (mask.toString(2).split('1').length - 1 !== x.length) continue;
      const a = pooled.filter((_, i) => (mask >> i) & 1);
      const b = pooled.filter((_, i) => !((mask >> i) & 1));
      total++;
      if (t(a, b) >= observed - 1e-12) atLeast++;
    }
    near(cramerVonMises2samp(x, y).pValue, atLeast / total, 1e-12, 1e-15);
  });

  it('K_¼(q)·e^q and the limiting CDF match SciPy', () => {
    for (const b of fixtures.besselK) near(besselKScaled(0.25, b.q), b.kve, 1e-12, 1e-15);
    for (const l of fixtures.cramerVonMisesLimit) near(cramerVonMisesLimitCdf(l.x), l.cdf, 1e-9, 1e-12);
  });

  it('refuses samples of fewer than two values and non-finite values', () => {
    expect(() => cramerVonMises2samp([1], [1, 2])).toThrow(StatsInputError);
    expect(() => cramerVonMises2samp([1, NaN], [1, 2])).toThrow(StatsInputError);
    expect(() => besselKScaled(0.25, 0)).toThrow(StatsInputError);
  });
});
