// Experiment statistics: SRM against known chi-square survival values, Wilson per arm, shadow agreement, bandit.
import { describe, expect, it } from 'vitest';
import type { AnalysisVerdict } from './analysis-types.js';
import { armMetrics, banditWeights, judgeExperiment, sampleRatioMismatch, shadowAgreement, type ShadowPair } from './experiments.js';
import { armWithErrors } from './fixtures/synthetic.js';

describe('sampleRatioMismatch', () => {
  it('computes Pearson chi-square and its p-value', () => {
    // 50/50 expected, 1000 vs 1100: chi2 = (50² + 50²)/1050 = 4.7619, df 1, p = 0.02910 (chi-square table).
    const r = sampleRatioMismatch([1000, 1100], [50, 50]);
    expect(r.chi2).toBeCloseTo(4.761905, 5);
    expect(r.df).toBe(1);
    expect(r.pValue).toBeCloseTo(0.0291, 4);
    expect(r.mismatch).toBe(false);
  });

  it('flags p < 0.001 at the tabulated critical values', () => {
    // chi2 = (o − e)²/e summed; 10 000 split 50/50 with 5165 vs 4835: chi2 = 2·165²/5000 = 10.89 > 10.83 (p = 0.001, df 1).
    const r = sampleRatioMismatch([5165, 4835], [1, 1]);
    expect(r.chi2).toBeCloseTo(10.89, 6);
    expect(r.pValue).toBeLessThan(0.001);
    expect(r.pValue).toBeGreaterThan(0.0009);
    expect(r.mismatch).toBe(true);
    // df 2: the chi-square survival function is exactly exp(−x/2). 880/70/50 against 90/5/5 of 1000:
    // chi2 = 20²/900 + 20²/50 + 0 = 8.4444, p = exp(−4.2222) = 0.014666.
    const three = sampleRatioMismatch([880, 70, 50], [0.9, 0.05, 0.05]);
    expect(three.chi2).toBeCloseTo(400 / 900 + 8, 10);
    expect(three.df).toBe(2);
    expect(three.pValue).toBeCloseTo(Math.exp(-(400 / 900 + 8) / 2), 8);
    expect(sampleRatioMismatch([900, 50, 50], [0.9, 0.05, 0.05])).toMatchObject({ chi2: 0, df: 2, pValue: 1, mismatch: false });
  });

  it('treats traffic on a zero-weight arm as a mismatch', () => {
    expect(sampleRatioMismatch([100, 1], [1, 0]).mismatch).toBe(true);
  });
});

describe('armMetrics', () => {
  it('gives each arm its rates with Wilson intervals', () => {
    const m = armMetrics({ stable: armWithErrors(81, 263, 's'), candidate: armWithErrors(0, 20, 'c') });
    expect(m.stable!.errorRate.rate).toBeCloseTo(81 / 263, 12);
    // Newcombe 1998 (single proportion), Table I, method 3.
    expect(m.stable!.errorRate.interval[0]).toBeCloseTo(0.2553, 4);
    expect(m.stable!.errorRate.interval[1]).toBeCloseTo(0.3662, 4);
    expect(m.candidate!.errorRate.interval[1]).toBeCloseTo(0.1611, 4);
    expect(m.candidate!.accuracy).toMatchObject({ n: 0, rate: null });
  });
});

describe('shadowAgreement', () => {
  it('counts agreement, confidence differences and each side\'s accuracy', () => {
    const pair = (s: string, c: string, sc: number, cc: number, sOk: boolean | null, cOk: boolean | null): ShadowPair => ({
      stable: { outputLabel: s, confidence: sc, correct: sOk },
      candidate: { outputLabel: c, confidence: cc, correct: cOk },
    });
    const pairs = [pair('a', 'a', 0.9, 0.8, true, true), pair('a', 'b', 0.6, 0.7, false, true), pair('b', 'b', 0.5, 0.5, null, null), pair('b', 'b', 0.9, 0.6, true, false)];
    const r = shadowAgreement(pairs);
    expect(r.n).toBe(4);
    expect(r.sameOutput).toMatchObject({ events: 3, n: 4, rate: 0.75 });
    expect(r.meanConfidenceDifference).toBeCloseTo((0.1 + 0.1 + 0 + 0.3) / 4, 12);
    expect(r.stableAccuracy).toMatchObject({ events: 2, n: 3 });
    expect(r.candidateAccuracy).toMatchObject({ events: 2, n: 3 });
  });
});

describe('banditWeights', () => {
  it('shifts toward the better arm, never below the floor, deterministically', () => {
    const arms = [
      { arm: 'stable', successes: 500, trials: 1000 },
      { arm: 'candidate', successes: 560, trials: 1000 },
    ];
    const w = banditWeights(arms, { seed: 42 });
    expect(w).toEqual(banditWeights(arms, { seed: 42 }));
    expect(w.candidate! + w.stable!).toBeCloseTo(1, 12);
    // P(candidate better) ≈ 0.996 here, so its weight is near 0.1 + 0.8·0.996 and the stable arm keeps the floor.
    expect(w.candidate!).toBeGreaterThan(0.88);
    expect(w.stable!).toBeGreaterThanOrEqual(0.1);
    expect(w.stable!).toBeLessThan(0.12);
  });

  it('splits evenly between equal arms', () => {
    const w = banditWeights([
      { arm: 'a', successes: 50, trials: 100 },
      { arm: 'b', successes: 50, trials: 100 },
    ], { seed: 7, draws: 20000 });
    expect(w.a!).toBeGreaterThan(0.47);
    expect(w.a!).toBeLessThan(0.53);
  });
});

describe('judgeExperiment', () => {
  const passed: AnalysisVerdict = { verdict: 'pass', window: { since: 'a', until: 'b' }, stable: { version: 'v1', decisions: 0 }, candidate: { version: 'v2', decisions: 0 }, metrics: [], summary: 'pass: every metric' };

  it('keeps the verdict, with the arms and the check, when the counts match the weight', () => {
    // 5100 vs 4900 at 50%: chi2 = 2·100²/5000 = 4, p = 0.0455: no mismatch.
    const judged = judgeExperiment(passed, { control: armWithErrors(51, 5100, 'c'), treatment: armWithErrors(49, 4900, 't') }, 0.5);
    expect(judged).toMatchObject({ verdict: 'pass', summary: 'pass: every metric', srm: { mismatch: false } });
    expect(judged.srm!.chi2).toBeCloseTo(4, 10);
    expect(judged.arms!.control!.errorRate).toMatchObject({ events: 51, n: 5100 });
    expect(judged.arms!.treatment!.decisions).toBe(4900);
  });

  it('fails a step whose counts do not match the weight (p < 0.001), whatever the metrics said', () => {
    // 5165 vs 4835 at 50%: chi2 = 10.89 > 10.83 (p = 0.001).
    const judged = judgeExperiment(passed, { control: armWithErrors(0, 5165, 'c'), treatment: armWithErrors(0, 4835, 't') }, 0.5);
    expect(judged.verdict).toBe('fail');
    expect(judged.summary).toMatch(/^fail: sample ratio mismatch: 5165 control and 4835 treatment decisions where 50% should be treatment \(chi-square p 9\.\d+e-4 < 0\.001\)/);
    // The same counts at a 48.35% treatment weight are what was expected.
    expect(judgeExperiment(passed, { control: armWithErrors(0, 5165, 'c'), treatment: armWithErrors(0, 4835, 't') }, 0.4835).verdict).toBe('pass');
  });
});
