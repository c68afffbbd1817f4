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
    expect(feedbackEffect(a, [a, b], label).labels).toEqual([{ actual: 'ham', weight: 1 }]);
    expect(feedbackEffect(b, [a, b], label).labels).toEqual([
      { actual: 'ham', weight: -1 },
      { actual: 'spam', weight: 1 },
    ]);
  });

  it("a reviewer's override and an appeal's re-decision are labels: the newest of the three kinds is the decision's label", () => {
    const truth = row('fb_a', '2026-01-01T00:00:00.000Z', 'label', { label: 'ham' });
    const override = row('fb_b', '2026-01-01T00:00:01.000Z', 'override', { label: 'spam' });
    const appeal = row('fb_c', '2026-01-01T00:00:02.000Z', 'appeal', { label: 'ham' });
    const all = [truth, override, appeal];
    expect(feedbackEffect(override, all, label).labels).toEqual([
      { actual: 'ham', weight: -1 },
      { actual: 'spam', weight: 1 },
    ]);
    expect(feedbackEffect(appeal, all, label).labels).toEqual([
      { actual: 'spam', weight: -1 },
      { actual: 'ham', weight: 1 },
    ]);
    // An outcome row is still no label.
    expect(feedbackEffect(row('fb_d', '2026-01-01T00:00:03.000Z', 'outcome', { label: 'spam' }), [...all], label).labels).toEqual([]);
  });

  it('summed over all of a decision’s rows, in any order of observation, is its latest label and its business flags once', () => {
    const rows = fc.array(
      fc.record({
        ms: fc.integer({ min: 0, max: 3 }), // few distinct instants: many ties
        kind: fc.constantFrom('label' as const, 'outcome' as const),
        label: fc.constantFrom('spam', 'ham', 'eggs'),
        override: fc.boolean(),
        complaint: fc.boolean(),
      }),
      { maxLength: 10 },
    );
    fc.assert(
      fc.property(rows, fc.infiniteStream(fc.nat()), (spec, shuffle) => {
        const all = spec.map((r, i) => row(`fb_${String(i).padStart(3, '0')}${'xyz'[i % 3]}`, `2026-01-01T00:00:00.00${r.ms}Z`, r.kind, r.kind === 'label' ? { label: r.label } : { override: r.override, complaint: r.complaint }));
        const order = [...all].sort(() => (shuffle.next().value as number) % 3 - 1);
        const confusion = new Map<string, number>();
        const business = { decisions: 0, overrides: 0, complaints: 0 };
        for (const f of order) {
          const e = feedbackEffect(f, all, label);
          for (const { actual, weight } of e.labels) confusion.set(actual, (confusion.get(actual) ?? 0) + weight);
          business.decisions += e.business.decisions;
          business.overrides += e.business.overrides;
          business.complaints += e.business.complaints;
        }
        const sorted = [...all].sort((x, y) => (feedbackBefore(x, y) ? -1 : 1));
        const latest = sorted.filter((f) => f.kind === 'label').at(-1);
        const expected = new Map<string, number>(latest === undefined ? [] : [[label(latest.value)!, 1]]);
        expect(new Map([...confusion].filter(([, n]) => n !== 0))).toEqual(expected);
        const outcomes = all.filter((f) => f.kind === 'outcome').map((f) => f.value as { override: boolean; complaint: boolean });
        expect(business).toEqual({ decisions: outcomes.length > 0 ? 1 : 0, overrides: outcomes.some((o) => o.override) ? 1 : 0, complaints: outcomes.some((o) => o.complaint) ? 1 : 0 });
      }),
      { numRuns: 300 },
    );
  });
});
