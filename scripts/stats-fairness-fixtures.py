#!/usr/bin/env python3
"""Writes src/monitoring/stats/fixtures/fairness-german-credit.json, the reference values for
src/monitoring/stats/fairness.ts.

HONESTY NOTE. Fairlearn (and scikit-learn, pandas) could not be installed or run where this was
written (no network for pip). Nothing below was produced by Fairlearn. The fixture has two kinds of
values, kept apart:
  1. "fairlearnAsserted": literal expected values copied from Fairlearn's own unit tests
     (file, test and commit given per case). These are what Fairlearn's CI asserts.
  2. everything else: computed by THIS script, a numpy port that follows Fairlearn's formulas line by
     line (citations below). They are only as right as the port.
Wilson intervals come from scipy.stats.binomtest(k, n).proportion_ci(method='wilson') (an
implementation independent of ours), and four of them are checked here against the published values
of Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3.

Fairlearn source followed: github.com/fairlearn/fairlearn at commit
ebf8fa75381b112a75d0bd15f13927de7824bccf.
- selection_rate (fairlearn/metrics/_base_metrics.py lines 299-336): mean(y_pred == pos_label).
- true_positive_rate, false_positive_rate (_base_metrics.py lines 112-120 and 190-198):
  sklearn.metrics.confusion_matrix(..., normalize="true").ravel() -> tnr, fpr, fnr, tpr, i.e. each
  row of the 2x2 count matrix divided by its sum; scikit-learn then applies np.nan_to_num, so a
  group with no positives gets TPR 0 (ours: null, see fairness.ts). Every group in the German Credit
  fixture has both classes; the script asserts it, so the port never meets that case.
- demographic_parity_difference (_fairness_metrics.py lines 54-62): MetricFrame(selection_rate)
  .difference(method="between_groups"); _disaggregated_result.py lines 195-208: subtrahend =
  apply_grouping("min") and result = (by_group - subtrahend).abs().max(), i.e. max - min.
- demographic_parity_ratio (_fairness_metrics.py lines 107-115): .ratio(method="between_groups");
  _disaggregated_result.py lines 263-266: apply_grouping("min") / apply_grouping("max"). pandas
  division, so all rates 0 gives 0/0 = NaN (ours: null).
- equalized_odds_difference (_fairness_metrics.py lines 178-181, agg="worst_case"):
  max(MetricFrame({tpr, fpr}).difference()).
- equalized_odds_ratio (lines 241-244): min(MetricFrame({tpr, fpr}).ratio()).
- equal_opportunity_difference / _ratio (lines 305-313, 358-366): the TPR frame's difference / ratio.

German Credit decision rule (fixed, not a model; documented in the fixture too): score one point for
each of checking_status in {"no checking", ">=200"}, duration <= 24 months, credit_amount <= 5000;
selected (the favourable prediction) = score >= 2. label = class == "good".
Protected fields: sex = "female" if personal_status starts with "female" else "male"; age_band =
"<25", "25-39", "40-59", "60+" (years; <25 is the band the data's documentation singles out, 60+ the
pension age); foreign_worker as given ("yes"/"no").

Run: python3 scripts/stats-fairness-fixtures.py   (numpy 2.x, scipy >= 1.7)
"""
import csv
import json
import os

import numpy as np
from scipy.stats import binomtest

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'src', 'monitoring', 'stats', 'fixtures', 'fairness-german-credit.json')
CSV = os.path.join(HERE, '..', '..', 'shared', 'data', 'german-credit.csv')
COMMIT = 'ebf8fa75381b112a75d0bd15f13927de7824bccf'

# test/unit/metrics/data_for_test.py at COMMIT (y_t, y_p; g_1..g_4 = array_gen(groups, run, n)).
Y_T = [1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0,
       0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0,
       0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]
Y_P = [0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0,
       0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0,
       1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]


def array_gen(groups, run_length, n):
    return [groups[(x // run_length) % len(groups)] for x in range(n)]


G = {
    'g_1': array_gen(['aa', 'ba'], 2, len(Y_T)),
    'g_2': array_gen(['f', 'g'], 3, len(Y_T)),
    'g_3': array_gen(['kk', 'm'], 4, len(Y_T)),
    'g_4': array_gen(['pp', 'q'], 5, len(Y_T)),
}


def wilson(k, n):
    if n == 0:
        return None
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method='wilson')
    return [float(ci.low), float(ci.high)]


def confusion_normalize_true(yt, yp):
    """sklearn confusion_matrix(labels=[0, 1], normalize='true').ravel(): tnr, fpr, fnr, tpr."""
    cm = np.zeros((2, 2))
    for a, b in zip(yt, yp):
        cm[a, b] += 1
    with np.errstate(all='ignore'):
        cm = cm / cm.sum(axis=1, keepdims=True)
    return np.nan_to_num(cm).ravel()


def between_groups(by_group):
    values = np.asarray(list(by_group.values()), dtype=float)
    lo, hi = values.min(), values.max()
    return {'difference': float(np.abs(values - lo).max()), 'ratio': None if hi == 0 else float(lo / hi)}


def report(yt, yp, groups):
    yt, yp, groups = np.asarray(yt), np.asarray(yp), np.asarray(groups)
    names = sorted(set(groups.tolist()))
    sel, tpr, fpr, per = {}, {}, {}, []
    for g in names:
        m = groups == g
        pos, neg = int(np.sum(yt[m] == 1)), int(np.sum(yt[m] == 0))
        assert pos > 0 and neg > 0, f'group {g} lacks a class; the port would meet nan_to_num'
        sel[g] = float(np.mean(yp[m] == 1))
        _tnr, fpr[g], _fnr, tpr[g] = (float(v) for v in confusion_normalize_true(yt[m], yp[m]))
        k_sel = int(np.sum(yp[m] == 1))
        tp = int(np.sum((yt[m] == 1) & (yp[m] == 1)))
        fp = int(np.sum((yt[m] == 0) & (yp[m] == 1)))
        per.append({
            'group': g, 'count': int(m.sum()),
            'selected': k_sel, 'selectionRate': sel[g], 'selectionInterval': wilson(k_sel, int(m.sum())),
            'positives': pos, 'truePositives': tp, 'truePositiveRate': tpr[g], 'truePositiveInterval': wilson(tp, pos),
            'negatives': neg, 'falsePositives': fp, 'falsePositiveRate': fpr[g], 'falsePositiveInterval': wilson(fp, neg),
        })
    top = max(sel.values())
    for row in per:
        row['selectionRatioToMax'] = None if top == 0 else row['selectionRate'] / top
    dp, t, f = between_groups(sel), between_groups(tpr), between_groups(fpr)
    return {
        'groups': per,
        'demographicParityDifference': dp['difference'],
        'demographicParityRatio': dp['ratio'],
        'equalizedOddsDifference': max(t['difference'], f['difference']),
        'equalizedOddsRatio': None if t['ratio'] is None or f['ratio'] is None else min(t['ratio'], f['ratio']),
        'equalOpportunityDifference': t['difference'],
        'equalOpportunityRatio': t['ratio'],
        'truePositiveRateDifference': t['difference'],
        'falsePositiveRateDifference': f['difference'],
    }


def fairlearn_asserted():
    """Literal expectations from Fairlearn's unit tests, in our terms (selected = y_pred == pos_label,
    label = y_true == pos_label). Fairlearn's expected value is copied as written in the test."""
    bm = f'test/unit/metrics/test_base_metrics.py@{COMMIT}'
    sr = f'test/unit/metrics/test_selection_rate.py@{COMMIT}'

    def case(source, metric, y_true, y_pred, pos_label, expected, note=None):
        c = {'source': source, 'metric': metric,
             'label': [bool(v == pos_label) for v in y_true], 'selected': [bool(v == pos_label) for v in y_pred],
             'posLabel': pos_label, 'fairlearnExpected': expected}
        if note:
            c['note'] = note
        return c

    return [
        case(f'{bm} TestTPR.test_all_correct', 'tpr', [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], 1, 1),
        case(f'{bm} TestTPR.test_all_correct', 'tpr', [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], 0, 1),
        case(f'{bm} TestTPR.test_none_correct', 'tpr', [0, 0, 0, 0, 1], [1, 1, 1, 1, 0], 1, 0),
        case(f'{bm} TestTPR.test_none_correct', 'tpr', [0, 0, 0, 0, 1], [1, 1, 1, 1, 0], 0, 0),
        case(f'{bm} TestTPR.test_some_correct', 'tpr', [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0], 1, 0.25),
        case(f'{bm} TestTPR.test_some_correct', 'tpr', [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0], 0, 0.75),
        case(f'{bm} TestFPR.test_all_correct', 'fpr', [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], 1, 0),
        case(f'{bm} TestFPR.test_none_correct', 'fpr', [0, 0, 0, 0, 1], [1, 1, 1, 1, 0], 1, 1),
        case(f'{bm} TestFPR.test_some_correct', 'fpr', [-1, -1, -1, -1, 1, 1, 1], [-1, 1, 1, -1, -1, 1, -1], 1, 0.5),
        case(f'{bm} TestFPR.test_some_correct', 'fpr', [-1, -1, -1, -1, 1, 1, 1], [-1, 1, 1, -1, -1, 1, -1], -1, 0.6666667,
             'Fairlearn asserts pytest.approx(0.6666667) (relative 1e-6); the exact value is 2/3'),
        case(f'{bm} TestSingleValueArrays.test_all_zeros', 'tpr', [0] * 10, [0] * 10, 1, 0,
             'no positives: Fairlearn 0 (scikit-learn nan_to_num); fairness.ts returns null on purpose'),
        case(f'{bm} TestSingleValueArrays.test_all_zeros', 'fpr', [0] * 10, [0] * 10, 1, 0),
        case(f'{bm} TestSingleValueArrays.test_all_zeros', 'tpr', [0] * 10, [0] * 10, 0, 1),
        case(f'{bm} TestSingleValueArrays.test_all_zeros', 'fpr', [0] * 10, [0] * 10, 0, 0,
             'no negatives: Fairlearn 0 (scikit-learn nan_to_num); fairness.ts returns null on purpose'),
        case(f'{bm} TestSingleValueArrays.test_all_ones', 'tpr', [1] * 10, [1] * 10, 1, 1),
        case(f'{bm} TestSingleValueArrays.test_all_ones', 'fpr', [1] * 10, [1] * 10, 1, 0,
             'no negatives: Fairlearn 0 (scikit-learn nan_to_num); fairness.ts returns null on purpose'),
        case(f'{sr} test_selection_rate_unweighted', 'selection', [0] * 8, [0, 0, 0, 1, 1, 1, 1, 1], 1, 0.625),
        case(f'{sr} test_selection_rate_non_numeric', 'selection',
             ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'], ['a', 'a', 'a', 'b', 'b', 'b', 'a', 'a'], 'b', 0.375),
        case(f'{sr} test_selection_rate_single_element', 'selection', [1], [1], 1, 1),
        case(f'{sr} test_selection_rate_single_element', 'selection', [0], [1], 1, 1),
        case(f'{sr} test_selection_rate_single_element', 'selection', [1], [0], 1, 0),
        case(f'{sr} test_selection_rate_single_element', 'selection', [0], [0], 1, 0),
    ]


def check_asserted(cases):
    # The port must reproduce every literal Fairlearn asserts, save the documented nan_to_num cases.
    for c in cases:
        yt = np.asarray(c['label'], dtype=int)
        yp = np.asarray(c['selected'], dtype=int)
        _tnr, fpr, _fnr, tpr = confusion_normalize_true(yt, yp)
        got = {'selection': float(np.mean(yp == 1)), 'tpr': float(tpr), 'fpr': float(fpr)}[c['metric']]
        assert abs(got - c['fairlearnExpected']) <= 1e-6 * max(1.0, abs(c['fairlearnExpected'])), c


def newcombe():
    # Newcombe (1998) Table I, method 3 (Wilson score, no continuity correction), 4 decimals.
    published = [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)]
    out = []
    for k, n, lo, hi in published:
        ci = wilson(k, n)
        assert abs(ci[0] - lo) < 5e-5 and abs(ci[1] - hi) < 5e-5, (k, n, ci)
        out.append({'successes': k, 'trials': n, 'published': [lo, hi], 'scipy': ci})
    return out


def german_credit():
    with open(CSV, newline='') as f:
        rows = list(csv.DictReader(f))

    def score(r):
        return int(r['checking_status'] in ('no checking', '>=200')) + int(int(r['duration']) <= 24) + int(int(r['credit_amount']) <= 5000)

    def age_band(a):
        a = int(a)
        return '<25' if a < 25 else '25-39' if a < 40 else '40-59' if a < 60 else '60+'

    yp = [1 if score(r) >= 2 else 0 for r in rows]
    yt = [1 if r['class'] == 'good' else 0 for r in rows]
    fields = {
        'sex': ['female' if r['personal_status'].startswith('female') else 'male' for r in rows],
        'age_band': [age_band(r['age']) for r in rows],
        'foreign_worker': [r['foreign_worker'] for r in rows],
    }
    return {
        'csv': '../shared/data/german-credit.csv (Statlog German Credit, 1000 rows)',
        'rule': 'one point each for checking_status in {"no checking", ">=200"}, duration <= 24, credit_amount <= 5000; selected = points >= 2; label = class == "good"',
        'bands': {'sex': 'female if personal_status starts with "female", else male', 'age_band': '<25, 25-39, 40-59, 60+ (years)', 'foreign_worker': 'as given'},
        'rows': [{**{k: v[i] for k, v in fields.items()}, 'selected': bool(yp[i]), 'label': bool(yt[i])} for i in range(len(rows))],
        'reports': {name: report(yt, yp, g) for name, g in fields.items()},
    }


def main():
    asserted = fairlearn_asserted()
    check_asserted(asserted)
    out = {
        'header': ('Fairlearn itself was NOT run (not installable here: no network for pip). '
                   '"fairlearnAsserted" holds literal values copied from Fairlearn unit tests (file, test, commit per case). '
                   '"fairlearnTestData" and "germanCredit" reports are computed by scripts/stats-fairness-fixtures.py, '
                   f'a numpy port of Fairlearn {COMMIT[:8]} formulas (between_groups); Fairlearn tests only assert '
                   'self-consistency on that data, not literals. Wilson intervals: scipy.stats.binomtest(...).proportion_ci(method="wilson"); '
                   '"wilsonPublished" checks scipy against Newcombe (1998) Table I.'),
        'fairlearnCommit': COMMIT,
        'fairlearnAsserted': asserted,
        'wilsonPublished': newcombe(),
        'fairlearnTestData': {
            'source': f'test/unit/metrics/data_for_test.py@{COMMIT} (y_t, y_p, g_1..g_4)',
            'label': [bool(v) for v in Y_T], 'selected': [bool(v) for v in Y_P], 'groupings': G,
            'reports': {name: report(Y_T, Y_P, g) for name, g in G.items()},
        },
        'germanCredit': german_credit(),
    }
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
