// The acceptance tests for the rollout analysis, on seeded synthetic arms whose truth is known.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveAnalysisConfig } from './analysis-config.js';
import type { AnalysisVerdict, Observation } from './analysis-types.js';
import { analyze } from './analyze.js';
import { armWithErrors, makeArm, type ArmSpec } from './fixtures/synthetic.js';

const window = { since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z' };
const defaults = resolveAnalysisConfig(undefined);

function run(stable: readonly Observation[], candidate: readonly Observation[], config = defaults): AnalysisVerdict {
  return analyze(config, { stable, candidate, window, stableVersion: 'v1', candidateVersion: 'v2' });
}

const metric = (v: AnalysisVerdict, name: string, segment?: string) => {
  const found = v.metrics.find((m) => m.metric === name && m.segment === segment);
  if (found === undefined) throw new Error(`no verdict for ${name} ${segment ?? ''}`);
  return found;
};

describe('analyze', () => {
  it('passes a known better candidate', () => {
    const stable = makeArm({ n: 3000, seed: 1, errorRate: 0.05 });
    const candidate = makeArm({ n: 3000, seed: 2, errorRate: 0.03, accuracy: 0.92, latencyMean: 90 });
    const v = run(stable, candidate);
    expect(v.verdict).toBe('pass');
    expect(metric(v, 'error_rate').difference!).toBeLessThan(0);
    expect(metric(v, 'error_rate').interval![1]).toBeLessThan(0.02);
    for (const name of ['error_rate', 'fallback_rate', 'review_rate', 'latency_p95', 'output_distribution', 'accuracy']) expect(metric(v, name).verdict).toBe('pass');
    expect(v.summary).toMatch(/^pass: error_rate -0\.0/);
    expect(v.stable).toEqual({ version: 'v1', decisions: 3000 });
  });

  it('fails a candidate whose error rate is 5 points worse at n = 2000', () => {
    const stable = makeArm({ n: 2000, seed: 3, errorRate: 0.05 });
    const candidate = makeArm({ n: 2000, seed: 4, errorRate: 0.1 });
    const v = run(stable, candidate);
    expect(v.verdict).toBe('fail');
    const e = metric(v, 'error_rate');
    expect(e.verdict).toBe('fail');
    expect(e.interval![0]).toBeGreaterThan(0.02);
    expect(e.difference!).toBeGreaterThan(0.03);
    expect(v.summary).toContain('error_rate');
    expect(v.summary).toMatch(/^fail:/);
  });

  it('never passes on no data or 10 decisions', () => {
    for (const n of [0, 10, 99]) {
      const v = run(makeArm({ n, seed: 5 }), makeArm({ n, seed: 6 }));
      expect(v.verdict).toBe('inconclusive');
      expect(v.metrics.every((m) => m.verdict === 'inconclusive')).toBe(true);
      expect(v.summary).toContain('too few decisions');
    }
    // Enough decisions on one side only is still too few.
    expect(run(makeArm({ n: 5000, seed: 5 }), makeArm({ n: 10, seed: 6 })).verdict).toBe('inconclusive');
  });

  it('fails a candidate better overall but clearly worse for one segment, naming it', () => {
    const segment = (fr: number, other: number): ArmSpec['segment'] => ({
      field: 'country',
      values: [
        ['de', 0.4, { errorRate: other }],
        ['fr', 0.2, { errorRate: fr }],
        ['it', 0.4, { errorRate: other }],
      ],
    });
    const config = resolveAnalysisConfig({ segments: ['country'], metrics: [{ metric: 'error_rate' }, { metric: 'latency_p95' }] });
    const stable = makeArm({ n: 4000, seed: 7, segment: segment(0.03, 0.055) });
    const candidate = makeArm({ n: 4000, seed: 8, segment: segment(0.15, 0.01) });
    const v = run(stable, candidate, config);
    expect(metric(v, 'error_rate').verdict).toBe('pass');
    expect(metric(v, 'error_rate', 'country=fr').verdict).toBe('fail');
    expect(metric(v, 'error_rate', 'country=de').verdict).toBe('pass');
    expect(v.verdict).toBe('fail');
    expect(v.summary).toContain('segment country=fr');
    // Without segments the same data passes: the segment is what catches it.
    expect(run(stable, candidate, resolveAnalysisConfig({ metrics: [{ metric: 'error_rate' }, { metric: 'latency_p95' }] })).verdict).toBe('pass');
  });

  it('widens segment intervals by Bonferroni over the segment comparisons', () => {
    const config = resolveAnalysisConfig({ segments: ['country'], metrics: [{ metric: 'error_rate' }] });
    const seg: ArmSpec['segment'] = { field: 'country', values: [['a', 0.5, {}], ['b', 0.5, {}]] };
    const v = run(makeArm({ n: 2000, seed: 9, segment: seg }), makeArm({ n: 2000, seed: 10, segment: seg }), config);
    const a = metric(v, 'error_rate', 'country=a');
    // 2 comparisons: each at 97.5%, so its reason reports that level.
    expect(a.reason).toContain('97.5% CI');
    expect(metric(v, 'error_rate').reason).toContain('95% CI');
  });

  it('does not let an inconclusive segment block a pass, and says so', () => {
    // A small segment (60 per arm) with a 4-point error increase is inconclusive; overall passes.
    const config = resolveAnalysisConfig({ segments: ['tier'], metrics: [{ metric: 'error_rate' }] });
    const seg = (small: number): ArmSpec['segment'] => ({ field: 'tier', values: [['gold', 0.03, { errorRate: small }], ['basic', 0.97, {}]] });
    const v = run(makeArm({ n: 3000, seed: 11, segment: seg(0.05) }), makeArm({ n: 3000, seed: 12, segment: seg(0.09), errorRate: 0.045 }), config);
    expect(metric(v, 'error_rate', 'tier=gold').verdict).toBe('inconclusive');
    expect(v.verdict).toBe('pass');
    expect(v.summary).toContain('tier=gold/error_rate (does not block a pass)');
  });

  it('skips segment values with too few decisions', () => {
    const config = resolveAnalysisConfig({ segments: ['tier'], metrics: [{ metric: 'error_rate' }], segmentMinDecisions: 200 });
    const seg: ArmSpec['segment'] = { field: 'tier', values: [['gold', 0.03, {}], ['basic', 0.97, {}]] };
    const v = run(makeArm({ n: 3000, seed: 13, segment: seg }), makeArm({ n: 3000, seed: 14, segment: seg }), config);
    expect(v.metrics.map((m) => m.segment)).toEqual([undefined, 'tier=basic']);
  });

  it('fails a candidate 50% slower at the p95', () => {
    const v = run(makeArm({ n: 2000, seed: 15, latencyMean: 100 }), makeArm({ n: 2000, seed: 16, latencyMean: 150 }));
    const l = metric(v, 'latency_p95');
    expect(l.verdict).toBe('fail');
    // Exponential: p95 = mean·ln 20 ≈ 299.6 ms and 449.4 ms.
    expect(l.stable.value!).toBeGreaterThan(250);
    expect(l.stable.value!).toBeLessThan(350);
    expect(l.difference!).toBeGreaterThan(0.3);
    expect(l.interval![0]).toBeGreaterThan(0.25);
    expect(v.verdict).toBe('fail');
  });

  it('passes identical arms at large n', () => {
    const v = run(makeArm({ n: 8000, seed: 17 }), makeArm({ n: 8000, seed: 18 }));
    expect(v.metrics.map((m) => [m.metric, m.verdict])).toEqual([
      ['error_rate', 'pass'],
      ['fallback_rate', 'pass'],
      ['review_rate', 'pass'],
      ['latency_p95', 'pass'],
      ['output_distribution', 'pass'],
      ['accuracy', 'pass'],
    ]);
    expect(v.verdict).toBe('pass');
  });

  it('judges an accuracy difference with labels, and reports "no labels" without blocking when there are none', () => {
    const worse = run(makeArm({ n: 2000, seed: 19, accuracy: 0.9 }), makeArm({ n: 2000, seed: 20, accuracy: 0.8 }));
    const a = metric(worse, 'accuracy');
    expect(a.verdict).toBe('fail');
    expect(a.difference!).toBeLessThan(-0.06);
    // Direction higher: the degradation is −difference, so the interval's upper end is below −bound.
    expect(a.interval![1]).toBeLessThan(-0.02);
    expect(worse.verdict).toBe('fail');

    const unlabelled = run(makeArm({ n: 3000, seed: 21, accuracy: null }), makeArm({ n: 3000, seed: 22, accuracy: null }));
    expect(metric(unlabelled, 'accuracy')).toMatchObject({ verdict: 'inconclusive', reason: 'no labels' });
    expect(unlabelled.verdict).toBe('pass');
    expect(unlabelled.summary).toContain('accuracy not judged (no labels; optional)');

    // Required accuracy without labels blocks.
    const required = resolveAnalysisConfig({ metrics: [{ metric: 'error_rate' }, { metric: 'accuracy', optional: false }] });
    expect(run(makeArm({ n: 3000, seed: 21, accuracy: null }), makeArm({ n: 3000, seed: 22, accuracy: null }), required).verdict).toBe('inconclusive');
  });

  it('fails a shifted output distribution and reports the TVD', () => {
    const v = run(makeArm({ n: 3000, seed: 23, labels: [['ham', 0.7], ['spam', 0.3]] }), makeArm({ n: 3000, seed: 24, labels: [['ham', 0.5], ['spam', 0.5]] }));
    const o = metric(v, 'output_distribution');
    expect(o.verdict).toBe('fail');
    expect(o.difference!).toBeGreaterThan(0.15);
    expect(o.difference!).toBeLessThan(0.25);
  });

  it('judges a business metric by Welch, in its own direction', () => {
    const config = resolveAnalysisConfig({ metrics: [{ metric: 'business:revenue', direction: 'higher', bound: 1 }] });
    const down = run(makeArm({ n: 1000, seed: 25, business: { name: 'revenue', mean: 50, sd: 10 } }), makeArm({ n: 1000, seed: 26, business: { name: 'revenue', mean: 45, sd: 10 } }), config);
    expect(metric(down, 'business:revenue').verdict).toBe('fail');
    const up = run(makeArm({ n: 1000, seed: 25, business: { name: 'revenue', mean: 50, sd: 10 } }), makeArm({ n: 1000, seed: 26, business: { name: 'revenue', mean: 52, sd: 10 } }), config);
    expect(metric(up, 'business:revenue').verdict).toBe('pass');
    expect(up.verdict).toBe('pass');
  });

  it('property: swapping the arms of a fail gives a pass (mirror), and a small arm never passes', () => {
    const config = resolveAnalysisConfig({ metrics: [{ metric: 'error_rate', bound: 0.02 }], minDecisions: 30 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 800 }), fc.integer({ min: 1, max: 800 }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), (n1, n2, f1, f2) => {
        const a = armWithErrors(Math.round(f1 * n1), n1, 'a');
        const b = armWithErrors(Math.round(f2 * n2), n2, 'b');
        const ab = run(a, b, config);
        const ba = run(b, a, config);
        if (n1 < 30 || n2 < 30) {
          expect(ab.verdict).toBe('inconclusive');
          return;
        }
        if (ab.verdict === 'fail') expect(ba.verdict).toBe('pass');
        // A pass and its mirror can both pass only when the two are within the bound of each other.
        if (ab.verdict === 'pass' && ba.verdict === 'pass') expect(Math.abs(ab.metrics[0]!.difference!)).toBeLessThan(0.02);
        expect(ab.metrics[0]!.difference!).toBeCloseTo(-ba.metrics[0]!.difference!, 12);
      }),
      { numRuns: 300 },
    );
  });

  it('passes a candidate exactly at the bound in at most α/2 of seeded runs', () => {
    // True error rates 0.05 and 0.07 (degradation = bound): a pass needs the upper end below 0.02, a one-sided
    // 97.5% event, so at most about 2.5% of runs may pass.
    const config = resolveAnalysisConfig({ metrics: [{ metric: 'error_rate' }] });
    let passes = 0;
    const runs = 300;
    for (let r = 0; r < runs; r++) {
      const v = run(makeArm({ n: 1500, seed: 1000 + r, errorRate: 0.05 }), makeArm({ n: 1500, seed: 5000 + r, errorRate: 0.07 }), config);
      if (v.verdict === 'pass') passes++;
    }
    expect(passes / runs).toBeLessThan(0.05);
  });

  it('keeps the false-failure rate of ten segments near α with Bonferroni', () => {
    // A/A with a tight segment bound of 0 on error_rate: without correction each of the 10 cells would fail
    // about 2.5% of the time (≈ 22% for any); with Bonferroni any-fail stays ≤ about 2.5%.
    const values = Array.from({ length: 10 }, (_, i) => [`s${i}`, 0.1, {}] as const);
    const config = resolveAnalysisConfig({ metrics: [{ metric: 'error_rate', bound: 0.001 }], segments: ['s'], segmentMinDecisions: 50 });
    let failures = 0;
    const runs = 200;
    for (let r = 0; r < runs; r++) {
      const seg: ArmSpec['segment'] = { field: 's', values };
      const v = run(makeArm({ n: 2000, seed: 9000 + r, errorRate: 0.1, segment: seg }), makeArm({ n: 2000, seed: 19000 + r, errorRate: 0.1, segment: seg }), config);
      if (v.metrics.some((m) => m.segment !== undefined && m.verdict === 'fail')) failures++;
    }
    expect(failures / runs).toBeLessThan(0.06);
  });
});
