// collectObservations on a real SQLite store: arms by routing, labels with superseding, business outcomes,
// segments, paging, and a shadow rollout's pairs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../store/ids.js';
import { openStore } from '../../store/open-store.js';
import type { StoredDecision } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import { valueAtPointer as atPointer } from '../../contracts/index.js';
import { collectObservations } from './collect.js';

const at = (second: number): string => new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString();

function decision(i: number, overrides: Partial<StoredDecision> & { arm?: string; rollout?: string; modelError?: unknown }): StoredDecision {
  const { arm, rollout, modelError, ...rest } = overrides;
  return {
    id: newId('dec'),
    service: 'spam-filter',
    version: arm === 'candidate' ? 'v2' : 'v1',
    createdAt: at(i),
    outcome: 'auto',
    confidence: 0.8,
    subjectHash: null,
    input: { country: i % 2 === 0 ? 'fr' : 'de', body: 'x' },
    context: { tier: 'gold' },
    output: { label: i % 3 === 0 ? 'spam' : 'ham' },
    explanation: { version: arm === 'candidate' ? 'v2' : 'v1', ...(modelError === undefined ? {} : { modelError }), routing: { rollout: rollout ?? 'rol_1', strategy: 'canary', step: 0, weight: 10, arm: arm ?? 'stable' } },
    timings: { invoke: 10 + i },
    ...rest,
  };
}

describe('collectObservations', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore({ kind: 'sqlite', path: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('splits the rollout by arm and reads labels, outcomes and segments', async () => {
    const s1 = decision(1, { arm: 'stable' });
    const c1 = decision(2, { arm: 'candidate', outcome: 'fallback', modelError: { code: 'MODEL_TIMEOUT' } });
    const c2 = decision(3, { arm: 'candidate', outcome: 'review' });
    const other = decision(4, { arm: 'candidate', rollout: 'rol_other' });
    const late = decision(120, { arm: 'stable' });
    for (const d of [s1, c1, c2, other, late]) await store.decisions.append(d);
    const label1 = { id: newId('fbk'), decisionId: s1.id, kind: 'label' as const, value: 'spam', source: null, note: null, supersedes: null, createdAt: at(10) };
    await store.feedback.append(label1);
    // The correction supersedes the first label: s1's truth is ham, which its output (i=1 → ham) matches.
    await store.feedback.append({ ...label1, id: newId('fbk'), value: 'ham', supersedes: label1.id, createdAt: at(11) });
    await store.feedback.append({ id: newId('fbk'), decisionId: c2.id, kind: 'label', value: 'ham', source: null, note: null, supersedes: null, createdAt: at(12) });
    await store.feedback.append({ id: newId('fbk'), decisionId: c2.id, kind: 'outcome', value: { revenue: 12.5, complaint: true }, source: null, note: null, supersedes: null, createdAt: at(13) });

    const r = await collectObservations(store, { service: 'spam-filter', since: at(0), until: at(60), stable: 'v1', candidate: 'v2', rolloutId: 'rol_1', segments: ['country', 'tier'], pageSize: 2 });
    expect(r.stable.map((o) => o.decisionId)).toEqual([s1.id]);
    expect(r.candidate.map((o) => o.decisionId)).toEqual([c1.id, c2.id]);
    expect(r.stable[0]).toMatchObject({ error: false, fallback: false, latencyMs: 11, outputLabel: 'ham', correct: true, segments: { country: 'de', tier: 'gold' } });
    expect(r.candidate[0]).toMatchObject({ error: true, fallback: true, review: false, correct: null });
    // c2: i=3 → output spam, label ham.
    expect(r.candidate[1]).toMatchObject({ review: true, outputLabel: 'spam', correct: false, business: { revenue: 12.5 } });
  });

  it('splits by version without a rollout id, and reads labels through pointers', async () => {
    const s = decision(1, { arm: 'stable', output: { result: { cls: 'a' } } });
    const c = decision(2, { arm: 'candidate', output: { result: { cls: 'b' } } });
    for (const d of [s, c]) await store.decisions.append(d);
    await store.feedback.append({ id: newId('fbk'), decisionId: c.id, kind: 'label', value: { truth: 'b' }, source: null, note: null, supersedes: null, createdAt: at(30) });
    const r = await collectObservations(store, { service: 'spam-filter', since: at(0), until: at(60), stable: 'v1', candidate: 'v2', outputLabel: '/result/cls', labelOf: '/truth', segments: [] });
    expect(r.stable.map((o) => o.outputLabel)).toEqual(['a']);
    expect(r.candidate[0]).toMatchObject({ outputLabel: 'b', correct: true });
  });

  it('pairs a shadow rollout’s answers with the decisions they copied', async () => {
    const d1 = decision(1, { arm: 'stable' });
    const d2 = decision(2, { arm: 'stable' });
    for (const d of [d1, d2]) await store.decisions.append(d);
    await store.shadows.appendMany([
      { id: newId('shd'), decisionId: d1.id, service: 'spam-filter', version: 'v2', rolloutId: 'rol_1', revision: 1, createdAt: at(1), output: { label: 'spam' }, confidence: 0.6, errorCode: null, latencyMs: 40 },
      { id: newId('shd'), decisionId: d2.id, service: 'spam-filter', version: 'v2', rolloutId: 'rol_1', revision: 1, createdAt: at(2), output: null, confidence: null, errorCode: 'MODEL_TIMEOUT', latencyMs: 500 },
    ]);
    await store.feedback.append({ id: newId('fbk'), decisionId: d1.id, kind: 'label', value: 'ham', source: null, note: null, supersedes: null, createdAt: at(30) });
    const r = await collectObservations(store, { service: 'spam-filter', since: at(0), until: at(60), stable: 'v1', candidate: 'v2', rolloutId: 'rol_1', shadow: true, segments: ['country'] });
    expect(r.stable.map((o) => o.decisionId)).toEqual([d1.id, d2.id]);
    expect(r.candidate).toMatchObject([
      { decisionId: d1.id, error: false, latencyMs: 40, outputLabel: 'spam', correct: false, segments: { country: 'de' } },
      { decisionId: d2.id, error: true, latencyMs: 500, outputLabel: null, correct: null },
    ]);
    expect(r.pairs).toEqual([
      { stable: { outputLabel: 'ham', confidence: 0.8, correct: true }, candidate: { outputLabel: 'spam', confidence: 0.6, correct: false } },
      { stable: { outputLabel: 'ham', confidence: 0.8, correct: null }, candidate: { outputLabel: null, confidence: null, correct: null } },
    ]);
  });
});

describe('atPointer', () => {
  it('follows RFC 6901 tokens, escapes and array indices', () => {
    const doc = { 'a/b': { '~x': [10, 20] } };
    expect(atPointer(doc, '/a~1b/~0x/1')).toBe(20);
    expect(atPointer(doc, '/a~1b/~0x/01')).toBeUndefined();
    expect(atPointer(doc, '/missing')).toBeUndefined();
    expect(atPointer(doc, '')).toBe(doc);
  });
});
