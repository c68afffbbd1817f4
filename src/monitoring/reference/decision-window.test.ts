import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, openStore, type Store, type StoredDecision, type StoredFeedback } from '../../store/index.js';
import { decisionWindowRows, windowLabels, type DecisionWindowOptions } from './decision-window.js';
import type { ReferenceRow } from './reference-builder.js';

const at = (minute: number) => new Date(Date.UTC(2025, 0, 31, 12, minute)).toISOString();

function decision(minute: number, overrides: Partial<StoredDecision> = {}): StoredDecision {
  return {
    id: newId('dec'),
    service: 'loans',
    version: 'v1',
    createdAt: at(minute),
    outcome: 'auto',
    confidence: 0.9,
    subjectHash: null,
    input: { amount: minute, email: 'hmac-sha256:ab' },
    context: null,
    output: { label: 'approve', score: 0.9 },
    explanation: {},
    timings: { invoke: 1 },
    ...overrides,
  };
}

function label(decisionId: string, minute: number, value: unknown, overrides: Partial<StoredFeedback> = {}): StoredFeedback {
  return { id: newId('fb'), decisionId, kind: 'label', value, source: null, note: null, supersedes: null, createdAt: at(minute), ...overrides };
}

async function collect(store: Store, options: DecisionWindowOptions): Promise<ReferenceRow[]> {
  const labels = await windowLabels(store, options);
  const rows: ReferenceRow[] = [];
  for await (const row of decisionWindowRows(store, options, labels)) rows.push(row);
  return rows;
}

describe('reference rows from a window of the decision log', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore({ kind: 'sqlite', path: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('reads the window [since, until) across pages, with predictions, confidences and the latest label', async () => {
    const before = decision(0);
    const inside = Array.from({ length: 7 }, (_, i) => decision(10 + i, { confidence: i === 3 ? null : i / 10, output: i === 4 ? null : i === 5 ? 'deny' : { label: i % 2 === 0 ? 'approve' : 'deny' } }));
    const atUntil = decision(20);
    const otherService = decision(12, { service: 'spam' });
    const notAnObject = decision(13, { input: 'text' });
    for (const d of [before, ...inside, atUntil, otherService, notAnObject]) await store.decisions.append(d);
    const first = label(inside[0]!.id, 30, { label: 'deny' });
    await store.feedback.append(first);
    await store.feedback.append(label(inside[0]!.id, 31, { label: 'approve' }, { supersedes: first.id }));
    await store.feedback.append(label(inside[1]!.id, 32, 'deny'));
    await store.feedback.append(label(inside[2]!.id, 33, { repaid: true }, { kind: 'outcome' }));
    const withdrawn = label(inside[6]!.id, 34, 'deny');
    await store.feedback.append(withdrawn);
    await store.feedback.append({ ...label(inside[6]!.id, 35, { retracted: true }), kind: 'outcome', supersedes: withdrawn.id });
    await store.feedback.append(label(before.id, 36, 'deny'));
    await store.feedback.append(label(inside[5]!.id, 5, 'deny')); // before the window: not read

    const rows = await collect(store, { service: 'loans', since: at(10), until: at(20), pageSize: 2 });
    expect(rows).toStrictEqual(
      inside.map((d, i) => ({
        input: d.input,
        prediction: i === 4 ? undefined : i === 5 ? 'deny' : i % 2 === 0 ? 'approve' : 'deny',
        confidence: i === 3 ? undefined : i / 10,
        label: i === 0 ? 'approve' : i === 1 ? 'deny' : undefined,
      })),
    );
  });

  it('takes the predicted and true labels through the functions it is given, and reads an empty window as no rows', async () => {
    const d = decision(10, { output: { verdict: 'ok' } });
    await store.decisions.append(d);
    await store.feedback.append(label(d.id, 11, { truth: 'bad' }));
    const rows = await collect(store, {
      service: 'loans',
      since: at(0),
      until: at(59),
      outputLabel: (o) => (o as { verdict: string }).verdict,
      feedbackLabel: (v) => (v as { truth: string }).truth,
    });
    expect(rows.map((r) => [r.prediction, r.label])).toStrictEqual([['ok', 'bad']]);
    expect(await collect(store, { service: 'loans', since: at(30), until: at(40) })).toStrictEqual([]);
  });
});
