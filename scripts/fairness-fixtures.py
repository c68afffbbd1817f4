#!/usr/bin/env python3
"""Writes src/monitoring/fairness/fixtures/fairness-fixtures.json: fairness figures computed by a
line-for-line numpy port of Fairlearn's definitions, on (1) Fairlearn's own unit-test data and (2) the
Statlog German Credit data with a fixed decision rule.

Fairlearn itself could not be run on the machine this was written on (no fairlearn, scikit-learn or
pandas, and no network for pip), so the figures are the port's. The port follows Fairlearn at
commit ebf8fa75 (github.com/fairlearn/fairlearn):
- selection_rate: fairlearn/metrics/_base_metrics.py `selection_rate` = mean(y_pred == pos_label).
- true_positive_rate / false_positive_rate: _base_metrics.py, scikit-learn's confusion_matrix with
  normalize="true" (a row with no samples becomes 0 through nan_to_num; our groups all have both).
- demographic_parity_difference/ratio: _fairness_metrics.py lines 12-114, MetricFrame(selection_rate)
  .difference / .ratio with method="between_groups" = group_max - group_min, group_min / group_max
  (_disaggregated_result.py `difference`, `ratio`).
- equalized_odds_difference (agg="worst_case"): line 181, max over {tpr, fpr} of the between-groups
  difference; equalized_odds_ratio: line 244, min of the ratios.
- equal_opportunity_difference: line 312, the tpr difference.
The unit-test data are y_t, y_p and g_1 of test/unit/metrics/data_for_test.py (g_1 = ['aa','aa','ba',
'ba', ...]); the literal TPR values asserted in test_base_metrics.py TestTPR are checked below too.
Wilson intervals are computed with scipy's normal quantile, independently of the TypeScript.
Run: python3 scripts/fairness-fixtures.py (numpy, scipy).
"""
import csv
import json
import os
import numpy as np
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'src', 'monitoring', 'fairness', 'fixtures', 'fairness-fixtures.json')
CSV = os.path.join(HERE, '..', 'data', 'german-credit', 'german-credit.csv')

y_t = np.asarray([1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0,
                  0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0,
                  0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1])
y_p = np.asarray([0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0,
                  0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0,
                  1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
g_1 = np.asarray([['aa', 'ba'][(x // 2) % 2] for x in range(len(y_t))])

Z = norm.ppf(0.975)


def wilson(k, n):
    if n == 0:
        return None
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * np.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def confusion_normalized_true(yt, yp):
    """scikit-learn confusion_matrix(labels=[0, 1], normalize='true').ravel() -> tnr, fpr, fnr, tpr."""
    cm = np.zeros((2, 2))
    for a, b in zip(yt, yp):
        cm[a, b] += 1
    with np.errstate(all='ignore'):
        cm = cm / cm.sum(axis=1, keepdims=True)
    cm = np.nan_to_num(cm)
    return cm.ravel()


def figures(yt, yp, groups):
    names = sorted(set(groups.tolist()))
    per = []
    sel, tpr, fpr = {}, {}, {}
    for g in names:
        m = groups == g
        sel[g] = float(np.mean(yp[m] == 1))
        tnr_, fpr_, fnr_, tpr_ = confusion_normalized_true(yt[m], yp[m])
        tpr[g], fpr[g] = float(tpr_), float(fpr_)
        pos, neg = int(np.sum(yt[m] == 1)), int(np.sum(yt[m] == 0))
        per.append({
            'group': g, 'decisions': int(m.sum()), 'selected': int(np.sum(yp[m] == 1)), 'selectionRate': sel[g], 'selectionInterval': wilson(int(np.sum(yp[m] == 1)), int(m.sum())),
            'positives': pos, 'truePositives': int(np.sum((yt[m] == 1) & (yp[m] == 1))), 'truePositiveRate': tpr[g],
            'negatives': neg, 'falsePositives': int(np.sum((yt[m] == 0) & (yp[m] == 1))), 'falsePositiveRate': fpr[g],
        })
    diff = lambda d: max(d.values()) - min(d.values())
    ratio = lambda d: min(d.values()) / max(d.values())
    return {
        'groups': per,
        'demographicParityDifference': diff(sel),
        'demographicParityRatio': ratio(sel),
        'equalizedOddsDifference': max(diff(tpr), diff(fpr)),
        'equalizedOddsRatio': min(ratio(tpr), ratio(fpr)),
        'equalOpportunityDifference': diff(tpr),
    }


def credit():
    with open(CSV, newline='') as f:
        rows = list(csv.DictReader(f))
    def age_band(a):
        a = int(a)
        return 'under_25' if a < 25 else '25_to_34' if a < 35 else '35_to_49' if a < 50 else '50_plus'
    # The fixed rule: no checking account or >= 200 in it, or a critical history (the data's strongest
    # signals), and a duration of at most 36 months. Not a model: a rule anyone can recompute.
    yp = np.asarray([1 if ((r['checking_status'] in ('no checking', '>=200') or r['credit_history'] == 'critical/other existing credit') and int(r['duration']) <= 36) else 0 for r in rows])
    yt = np.asarray([1 if r['class'] == 'good' else 0 for r in rows])
    fields = {
        'sex': np.asarray(['female' if r['personal_status'].startswith('female') else 'male' for r in rows]),
        'age_band': np.asarray([age_band(r['age']) for r in rows]),
        'foreign_worker': np.asarray([r['foreign_worker'] for r in rows]),
    }
    return {'rows': [{'sex': str(fields['sex'][i]), 'age_band': str(fields['age_band'][i]), 'foreign_worker': str(fields['foreign_worker'][i]), 'selected': int(yp[i]), 'label': int(yt[i])} for i in range(len(rows))],
            'figures': {name: figures(yt, yp, g) for name, g in fields.items()}}


def main():
    # Fairlearn's literal TPR values (test_base_metrics.py, TestTPR.test_some_correct).
    assert confusion_normalized_true(np.asarray([0, 0, 0, 0, 1, 1, 1, 1]), np.asarray([0, 0, 0, 1, 1, 0, 0, 0]))[3] == 0.25
    out = {
        'source': 'scripts/fairness-fixtures.py: a numpy port of Fairlearn (commit ebf8fa75) definitions; Fairlearn itself was not run (not installable here)',
        'fairlearnTestData': {'y_true': y_t.tolist(), 'y_pred': y_p.tolist(), 'groups': g_1.tolist(), 'figures': figures(y_t, y_p, g_1)},
        'germanCredit': credit(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
