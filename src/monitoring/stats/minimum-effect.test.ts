import { describe, expect, it } from 'vitest';
import fixtures from './fixtures/exact-drift.json' with { type: 'json' };
import { jensenShannonDistance } from './distances.js';
import { bernoulliJensenShannon, jensenShannonMargins, jensenShannonMinimumEffect, ratioVariance } from './minimum-effect.js';
import { StatsInputError } from './stats-input-error.js';

// References: fixtures/exact-drift.py (SciPy 1.17): margins by brentq on scipy.spatial.distance.jensenshannon(base=2),
// the cluster variance from per-text arrays in NumPy, the minimum-effect p-value with scipy.stats.norm.sf.
function near(actual: number | null, expected: number | null, rel: number, abs = 1e-15): void {
  if (expected === null) {
    expect(actual).toBeNull();
    return;
  }
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected), `got ${actual}, expected ${expected}`).toBeLessThanOrEqual(abs + rel * Math.abs(expected));
}

describe('the Jensen–Shannon scale (docs/monitoring.md)', () => {
  it('is base 2: 1/√(ln 2) = 1.2011 times the natural-log distance of scipy (Evidently), so Evidently’s 0.1 is 0.1201 here', () => {
    for (const c of fixtures.jensenShannonBases) {
      const ours = jensenShannonDistance(c.p, c.q);
      expect(Math.abs(ours - c.base2)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(ours / c.natural - 1 / Math.sqrt(Math.LN2))).toBeLessThanOrEqual(1e-9);
    }
    expect((0.1 / Math.sqrt(Math.LN2)).toFixed(4)).toBe('0.1201');
    expect((0.1 * Math.sqrt(Math.LN2)).toFixed(4)).toBe('0.0833');
  });
});

describe('jensenShannonMargins', () => {
  it('finds the rates where the base-2 Jensen–Shannon distance reaches the threshold (scipy brentq)', () => {
    for (const c of fixtures.margins) {
      const m = jensenShannonMargins(c.p, c.threshold);
      near(m.lower, c.lower, 1e-9, 1e-12);
      near(m.upper, c.upper, 1e-9, 1e-12);
      if (m.upper !== null) near(bernoulliJensenShannon(c.p, m.upper), c.threshold, 1e-9);
    }
  });

  it('refuses rates outside [0, 1] and thresholds outside (0, 1)', () => {
    expect(() => jensenShannonMargins(1.2, 0.1)).toThrow(StatsInputError);
    expect(() => jensenShannonMargins(0.1, 0)).toThrow(StatsInputError);
  });
});

describe('ratioVariance', () => {
  it('is the cluster (linearised) variance of Σo/Σt computed from the per-text arrays', () => {
    for (const c of fixtures.ratio) {
      const o = c.oov;
      const t = c.tokens;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const v = ratioVariance(o.length, sum(o), sum(t), sum(o.map((x) => x * x)), sum(t.map((x) => x * x)), sum(o.map((x, i) => x * (t[i] as number))));
      near(v, c.variance, 1e-9);
    }
    // Tokens of one text are correlated: the cluster variance is far above the binomial one on clustered texts.
    const clustered = fixtures.ratio.find((c) => c.name === 'clustered')!;
    expect(clustered.variance / clustered.binomialVariance).toBeGreaterThan(10);
  });

  it('is NaN with fewer than two texts or no token', () => {
    expect(ratioVariance(1, 1, 3, 1, 9, 3)).toBeNaN();
    expect(ratioVariance(5, 0, 0, 0, 0, 0)).toBeNaN();
  });
});

describe('jensenShannonMinimumEffect', () => {
  it('gives twice the smaller one-sided p-value at the margins (scipy norm.sf)', () => {
    for (const c of fixtures.minimumEffect) {
      const r = jensenShannonMinimumEffect(c.reference, c.current, c.threshold);
      near(r.pValue, c.pValue, 1e-9, 1e-14);
      near(r.distance, c.distance, 1e-9, 1e-14);
      near(r.standardError, c.standardError, 1e-12);
    }
  });

  it('holds its size at the margin: about α/2 of rates drawn at the upper margin reject at α', () => {
    // Current rates drawn N(upper, se): the upper one-sided test rejects with probability α/2 after doubling.
    const upper = jensenShannonMargins(0.05, 0.1).upper as number;
    let state = 12345;
    const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
    const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const se = 0.004;
    let rejected = 0;
    const runs = 4000;
    for (let i = 0; i < runs; i++) {
      const q = upper + se * normal();
      if (jensenShannonMinimumEffect({ rate: 0.05, variance: 0 }, { rate: q, variance: se * se }, 0.1).pValue < 0.05) rejected++;
    }
    // 0.025 expected; binomial sd 0.0025 (4 sd allowed). A rule "distance ≥ threshold" would reject half of them.
    expect(rejected / runs).toBeGreaterThan(0.025 - 0.01);
    expect(rejected / runs).toBeLessThan(0.025 + 0.01);
  });

  it('never rejects within the margin without noise, always beyond it; 1 when no margin is reachable', () => {
    expect(jensenShannonMinimumEffect({ rate: 0.05, variance: 0 }, { rate: 0.1, variance: 0 }, 0.1).pValue).toBe(1);
    expect(jensenShannonMinimumEffect({ rate: 0.05, variance: 0 }, { rate: 0.2, variance: 0 }, 0.1).pValue).toBe(0);
    expect(jensenShannonMinimumEffect({ rate: 0.5, variance: 0 }, { rate: 1, variance: 0 }, 0.999).pValue).toBe(1);
    expect(() => jensenShannonMinimumEffect({ rate: 0.5, variance: -1 }, { rate: 0.5, variance: 0 }, 0.1)).toThrow(StatsInputError);
  });
});
