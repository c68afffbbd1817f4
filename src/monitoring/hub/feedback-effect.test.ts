import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredFeedback } from '../../store/index.js';
import { feedbackBefore, feedbackEffect } from './feedback-effect.js';

const label = (v: unknown) => (v !== null && typeof v === 'object' && 'label' in v ? String((v as { label: unknown }).label) : null);

const row = (id: string, createdAt: string, kind: StoredFeedback['kind'], value: unknown): StoredFeedback => ({ id, decisionId: 'dec_1', kind, value, source: null, note: null, supersedes: null, createdAt });

describe('feedbackEffect', () => {
  it('orders rows by createdAt, then id', () => {
    expect(feedbackBefore({ id: 'fb_b', createdAt: '2026-01-01T00:00:00.000Z' }, { id: 'fb_a', createdAt: '2026-01-01T00:00:00.001Z' })).toBe(true);
    expect(feedbackBefore({ id: 'fb_a', createdAt: '2026-01-01T00:00:00.000Z' }, { id: 'fb_b', createdAt: '2026-01-01T00:00:00.000Z' })).toBe(true);
    expect(feedbackBefore({ id: 'fb_b', createdAt: '2026-01-01T00:00:00.000Z' }, { id: 'fb_a', createdAt: '2026-01-01T00:00:00.000Z' })).toBe(false);
  });

  it('two labels in the same millisecond: the later id wins, counted once (the old rule counted the first against the second on replay)', () => {
    const a = row('fb_a', '2026-01-01T00:00:00.000Z', 'label', { label: 'ham' });
    const b = row('fb_b', '2026-01-01T00:00:00.000Z', 'label', { label: 'spam' });
    expect(feedbackEffect(a, [a, b], label, null).labels).toEqual([{ actual: 'ham', weight: 1 }]);
    expect(feedbackEffect(b, [a, b], label, null).labels).toEqual([
      { actual: 'ham', weight: -1 },
      { actual: 'spam', weight: 1 },
    ]);
  });

  it("a reviewer's override and an appeal's re-decision are labels: the newest of the three kinds is the decision's label", () => {
    const truth = row('fb_a', '2026-01-01T00:00:00.000Z', 'label', { label: 'ham' });
    const override = row('fb_b', '2026-01-01T00:00:01.000Z', 'override', { label: 'spam' });
    const appeal = row('fb_c', '2026-01-01T00:00:02.000Z', 'appeal', { label: 'ham' });
    const all = [truth, override, appeal];
    expect(feedbackEffect(override, all, label, 'ham').labels).toEqual([
      { actual: 'ham', weight: -1 },
      { actual: 'spam', weight: 1 },
    ]);
    expect(feedbackEffect(appeal, all, label, 'ham').labels).toEqual([
      { actual: 'spam', weight: -1 },
      { actual: 'ham', weight: 1 },
    ]);
    // An outcome row is still no label.
    expect(feedbackEffect(row('fb_d', '2026-01-01T00:00:03.000Z', 'outcome', { label: 'spam' }), [...all], label, 'ham').labels).toEqual([]);
  });

  it("counts a person's answer other than the model's as an override, an appeal filed as a complaint, and each decided appeal once, overturned when it changes the contested answer", () => {
    const filed = row('fb_a', '2026-01-01T00:00:00.000Z', 'outcome', { complaint: true, appeal: 'rvw_1' });
    const accept = row('fb_b', '2026-01-01T00:00:01.000Z', 'override', { label: 'ham' });
    const upheld = row('fb_c', '2026-01-01T00:00:02.000Z', 'appeal', { label: 'ham' });
    const overturned = row('fb_d', '2026-01-01T00:00:03.000Z', 'appeal', { label: 'spam' });
    const all = [filed, accept, upheld, overturned];
    expect(feedbackEffect(filed, all, label, 'ham').business).toEqual({ decisions: 1, overrides: 0, complaints: 1, appeals: 0, overturned: 0 });
    // A reviewer's accept gives the model's answer: no override.
    expect(feedbackEffect(accept, all, label, 'ham').business).toEqual({ decisions: 0, overrides: 0, complaints: 0, appeals: 0, overturned: 0 });
    expect(feedbackEffect(upheld, all, label, 'ham').business).toEqual({ decisions: 0, overrides: 0, complaints: 0, appeals: 1, overturned: 0 });
    // The second appeal changes the answer: overturned, and the decision is now overridden (once).
    expect(feedbackEffect(overturned, all, label, 'ham').business).toEqual({ decisions: 0, overrides: 1, complaints: 0, appeals: 1, overturned: 1 });
    // An appeal of a reviewer's override contests the reviewer's answer, not the model's.
    const reviewer = row('fb_e', '2026-01-01T00:00:01.000Z', 'override', { label: 'spam' });
    const back = row('fb_f', '2026-01-01T00:00:02.000Z', 'appeal', { label: 'ham' });
    expect(feedbackEffect(reviewer, [reviewer, back], label, 'ham').business.overrides).toBe(1);
    expect(feedbackEffect(back, [reviewer, back], label, 'ham').business).toEqual({ decisions: 0, overrides: 0, complaints: 0, appeals: 1, overturned: 1 });
    // Ground truth is not an answer an appeal contests.
    const truth = row('fb_g', '2026-01-01T00:00:01.000Z', 'label', { label: 'spam' });
    const keep = row('fb_h', '2026-01-01T00:00:02.000Z', 'appeal', { label: 'ham' });
    expect(feedbackEffect(keep, [truth, keep], label, 'ham').business).toMatchObject({ appeals: 1, overturned: 0 });
    // Unreadable: counts in neither.
    expect(feedbackEffect(keep, [keep], label, null).business).toMatchObject({ appeals: 0, overturned: 0 });
  });

  it('summed over all of a decision’s rows, in any order of observation, is its latest label, its business flags once and each appeal once', () => {
    const rows = fc.array(
      fc.record({
        ms: fc.integer({ min: 0, max: 3 }), // few distinct instants: many ties
        kind: fc.constantFrom('label' as const, 'outcome' as const, 'override' as const, 'appeal' as const),
        label: fc.constantFrom('spam', 'ham', 'eggs'),
        override: fc.boolean(),
        complaint: fc.boolean(),
      }),
      { maxLength: 10 },
    );
    fc.assert(
      fc.property(rows, fc.constantFrom('spam', 'ham', null), fc.infiniteStream(fc.nat()), (spec, predicted, shuffle) => {
        const all = spec.map((r, i) => row(`fb_${String(i).padStart(3, '0')}${'xyz'[i % 3]}`, `2026-01-01T00:00:00.00${r.ms}Z`, r.kind, r.kind === 'outcome' ? { override: r.override, complaint: r.complaint } : { label: r.label }));
        const order = [...all].sort(() => (shuffle.next().value as number) % 3 - 1);
        const confusion = new Map<string, number>();
        const business = { decisions: 0, overrides: 0, complaints: 0, appeals: 0, overturned: 0 };
        for (const f of order) {
          const e = feedbackEffect(f, all, label, predicted);
          for (const { actual, weight } of e.labels) confusion.set(actual, (confusion.get(actual) ?? 0) + weight);
          for (const k of Object.keys(business) as Array<keyof typeof business>) business[k] += e.business[k];
        }
        // The reference: one walk over the rows in order, keeping the standing human answer.
        const sorted = [...all].sort((x, y) => (feedbackBefore(x, y) ? -1 : 1));
        const latest = sorted.filter((f) => f.kind !== 'outcome').at(-1);
        const expected = new Map<string, number>(latest === undefined ? [] : [[label(latest.value)!, 1]]);
        expect(new Map([...confusion].filter(([, n]) => n !== 0))).toEqual(expected);
        const outcomes = all.filter((f) => f.kind === 'outcome').map((f) => f.value as { override: boolean; complaint: boolean });
        const answers = all.filter((f) => f.kind === 'override' || f.kind === 'appeal').map((f) => label(f.value));
        let standing: string | null = predicted;
        let appeals = 0;
        let overturned = 0;
        for (const f of sorted) {
          if (f.kind === 'appeal' && standing !== null) {
            appeals++;
            if (label(f.value) !== standing) overturned++;
          }
          if (f.kind === 'override' || f.kind === 'appeal') standing = label(f.value);
        }
        expect(business).toEqual({
          decisions: outcomes.length > 0 ? 1 : 0,
          overrides: outcomes.some((o) => o.override) || (predicted !== null && answers.some((a) => a !== predicted)) ? 1 : 0,
          complaints: outcomes.some((o) => o.complaint) ? 1 : 0,
          appeals,
          overturned,
        });
      }),
      { numRuns: 500 },
    );
  });
});
