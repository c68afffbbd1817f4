// listForDecisions over a real SQLite store: many decisions' feedback in chunked queries, oldest first.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './index.js';
import { makeDecision, makeFeedback } from './testing/fixtures.js';

describe('feedback.listForDecisions', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore({ kind: 'sqlite', path: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('returns the rows of exactly the decisions asked for, across chunks, ordered by createdAt then id', async () => {
    const decisions = Array.from({ length: 1203 }, () => makeDecision());
    await Promise.all(decisions.map((d) => store.decisions.append(d)));
    // Later decisions get earlier feedback, so chunk order is not time order.
    const rows = decisions.map((d, i) => makeFeedback(d.id, { createdAt: new Date(Date.UTC(2025, 1, 1) + (decisions.length - i) * 1000).toISOString() }));
    await Promise.all(rows.map((f) => store.feedback.append(f)));
    const asked = decisions.filter((_, i) => i % 3 !== 0).map((d) => d.id);
    const got = await store.feedback.listForDecisions([...asked, asked[0]!]);
    expect(got).toHaveLength(asked.length);
    expect(new Set(got.map((f) => f.decisionId))).toEqual(new Set(asked));
    for (let i = 1; i < got.length; i++) expect(got[i - 1]!.createdAt < got[i]!.createdAt).toBe(true);
    expect(await store.feedback.listForDecisions([])).toEqual([]);
  });
});
