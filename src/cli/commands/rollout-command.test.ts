// What `ballast rollout status` prints under each verdict: what did not pass, a shadow's agreement, an
// experiment's arms with their intervals and its sample-ratio check.
import { describe, expect, it } from 'vitest';
import { verdictLines } from './rollout-command.js';

const rate = (events: number, n: number, interval?: [number, number]) => ({ events, n, rate: n === 0 ? null : events / n, ...(interval === undefined ? {} : { interval }) });

describe('rollout status lines', () => {
  it('names the metrics that did not pass and nothing for those that did', () => {
    const lines = verdictLines({ verdict: 'inconclusive', summary: 'inconclusive: review_rate …', metrics: [{ metric: 'error_rate', verdict: 'pass', reason: 'within' }, { metric: 'review_rate', segment: 'lang=de', verdict: 'inconclusive', reason: 'the interval straddles the tolerated 0.05' }] });
    expect(lines).toEqual(['      review_rate [lang=de]: inconclusive — the interval straddles the tolerated 0.05']);
  });

  it("shows a shadow's agreement and an experiment's arms and sample-ratio check", () => {
    const shadow = verdictLines({ verdict: 'pass', summary: 'pass', agreement: { sameOutput: rate(97, 100, [0.915, 0.99]), meanConfidenceDifference: 0.0214, stableAccuracy: rate(60, 64), candidateAccuracy: rate(62, 64) } });
    expect(shadow).toEqual(['      agreement: same output 97.0% [91.5, 99.0] of 100; mean confidence difference 0.021; accuracy stable 93.8% of 64, candidate 96.9% of 64']);
    const experiment = verdictLines({
      verdict: 'fail',
      summary: 'fail: sample ratio mismatch …',
      arms: { control: { decisions: 5165, errorRate: rate(0, 5165), reviewRate: rate(10, 5165), accuracy: rate(0, 0) } },
      srm: { chi2: 10.89, pValue: 0.000967, mismatch: true },
    });
    expect(experiment).toEqual(['      control: 5165 decisions; error rate 0.0% of 5165; review rate 0.2% of 5165; accuracy - of 0', '      sample ratio: chi-square 10.89, p 0.000967 < 0.001: MISMATCH']);
  });
});
