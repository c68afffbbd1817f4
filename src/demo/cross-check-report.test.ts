import { describe, expect, it } from 'vitest';
import { crossChecksOf, formatCrossChecks, reviewReasonsOf, summarizeCrossChecks } from './cross-check-report.js';
import type { ReplayedDecision } from './replay.js';

let n = 0;
/** A replayed decision with the parts the cross-check report reads. */
function decision(sentAt: string, truth: 'spam' | 'ham', label: string | null, check: { verdict: 'agree' | 'disagree' | 'unavailable'; label?: string } | null, extra: Partial<ReplayedDecision> = {}): ReplayedDecision {
  const disagree = check?.verdict === 'disagree';
  return {
    messageId: `m${++n}`, sentAt, truth, id: `dec_${n}`, outcome: disagree ? 'review' : 'auto', label, confidence: 0.95, timings: {}, modelError: null, clientMs: 1, labelled: false, version: 'logreg-v1', arm: null, sentAtMs: 0, doneAtMs: 1,
    crossChecks: check === null ? [] : [{ name: 'bayes', verdict: check.verdict, action: disagree ? 'review' : null, label: check.label ?? null }],
    reviewReasons: disagree ? ['cross_check/disagreement'] : [],
    ...extra,
  };
}

describe('the cross-check report', () => {
  // Week of 2 September: 3 checked, 2 agree. Week of 23 September: 2 checked, 0 agree; one also low-confidence.
  // One decision without a model answer (breaker open), one with the checker unavailable, one sampled out.
  const decisions = [
    decision('2002-09-02T10:00:00Z', 'spam', 'spam', { verdict: 'agree', label: 'spam' }),
    decision('2002-09-08T23:00:00Z', 'ham', 'ham', { verdict: 'agree', label: 'ham' }),
    decision('2002-09-04T10:00:00Z', 'ham', 'spam', { verdict: 'disagree', label: 'ham' }),
    decision('2002-09-23T10:00:00Z', 'ham', 'spam', { verdict: 'disagree', label: 'ham' }),
    decision('2002-09-24T10:00:00Z', 'spam', 'spam', { verdict: 'disagree', label: 'ham' }, { reviewReasons: ['cross_check/disagreement', 'threshold/confidence_below_auto'] }),
    decision('2002-10-01T10:00:00Z', 'ham', null, { verdict: 'unavailable' }, { modelError: 'QUALITY_BREAKER_OPEN', outcome: 'review' }),
    decision('2002-09-25T10:00:00Z', 'ham', 'ham', { verdict: 'unavailable' }),
    decision('2002-09-25T11:00:00Z', 'ham', 'ham', null),
  ];
  const settled = new Map([['dec_3', 'ham'], ['dec_5', 'ham']]);
  const summary = summarizeCrossChecks(decisions, 'bayes', settled);

  it('counts agreement by week of the messages, apart from what could not be compared', () => {
    expect(summary.weeks).toEqual([
      { week: '2002-09-02', checked: 3, agreed: 2, rate: 2 / 3, toReview: 1 },
      { week: '2002-09-23', checked: 2, agreed: 0, rate: 0, toReview: 2 },
    ]);
    expect(summary.total).toEqual({ checked: 5, agreed: 2, rate: 0.4 });
    expect([summary.notCompared, summary.unavailable, summary.notChecked]).toEqual([1, 1, 1]);
    // dec_3 and dec_4: the served model was wrong; dec_5: the checker was. Reviewers settled dec_3 right, dec_5 wrong.
    expect(summary.review).toEqual({ sent: 3, alone: 2, servedWrong: 2, checkerWrong: 1, settled: 2, settledRight: 1 });
  });

  it('prints weeks with enough checks as rows and folds the others', () => {
    expect(formatCrossChecks(summary, 3)).toEqual([
      "Cross-check 'bayes' (naive Bayes, bayes-v1, trained on the same older messages) against the served model's label, by week of the messages; a disagreement goes to review:",
      '    week        checked  agreed    rate  to review',
      '    2002-09-02         3       2   66.7%          1',
      '    1 week with fewer than 3 checks, together: 2 checked, 0 agreed (0.0%), 2 to review',
      '    all weeks: 5 checked, 2 agreed (40.0%)',
      '  not compared: 1 decisions the model did not answer (its quality breaker was open: people sorted that mail), so there was no answer to check',
      '  checker unavailable on 1 decisions (the answer stood unchecked)',
      '  not checked: 1 decisions (sampled out or not due)',
      '  the disagreements sent 3 decisions to review (2 of them the model alone would have decided); by the true labels the served model was wrong on 2 and bayes on 1; the reviewers settled 2, 1 to the true label',
    ]);
    expect(formatCrossChecks(summarizeCrossChecks([]), 30)[1]).toBe('  no decision was compared');
  });

  it('reads the checks and review reasons of an explanation as the API gives them', () => {
    const explanation = {
      reasons: [
        { kind: 'threshold', code: 'confidence_at_or_above_auto', effect: 'auto' },
        { kind: 'cross_check', code: 'disagreement', checker: 'bayes', effect: 'review' },
      ],
      crossChecks: [
        { name: 'bayes', kind: 'version', version: 'bayes-v1', verdict: 'disagree', fields: [{ field: '/label', agree: false, served: 'spam', checker: 'ham' }], output: { label: 'ham', spam_probability: 0.1 }, ms: 0.2, action: 'review' },
        { name: 'rules', kind: 'rules', verdict: 'agree', fields: [{ field: '/label', agree: true, served: 'spam', checker: 'spam' }], ms: 0.01 },
        { name: 'slow', kind: 'version', verdict: 'unavailable', fields: [], error: { code: 'MODEL_TIMEOUT', message: 'x' }, ms: 1000 },
      ],
    };
    expect(crossChecksOf(explanation)).toEqual([
      { name: 'bayes', verdict: 'disagree', action: 'review', label: 'ham' },
      { name: 'rules', verdict: 'agree', action: null, label: 'spam' },
      { name: 'slow', verdict: 'unavailable', action: null, label: null },
    ]);
    expect(reviewReasonsOf(explanation)).toEqual(['cross_check/disagreement']);
    expect(crossChecksOf({})).toEqual([]);
    expect(crossChecksOf(undefined)).toEqual([]);
  });
});
