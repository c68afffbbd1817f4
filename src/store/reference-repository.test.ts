import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BallastError } from '../errors/index.js';
import { newId } from './ids.js';
import { openStore } from './open-store.js';
import type { StoredReference } from './reference-repository.js';
import type { Store } from './store.js';
import { tempDir } from './testing/fixtures.js';

const reference = (overrides: Partial<StoredReference> = {}): StoredReference => ({
  id: newId('ref'),
  service: 'loans',
  name: 'default',
  createdAt: '2025-01-31T12:00:00.000Z',
  source: { kind: 'file', path: '/data/train.csv', format: 'csv', rows: 3 },
  rows: 3,
  features: [{ name: 'amount', kind: 'numeric', edges: [0.1 + 0.2, 1e300, 5e-324 * 3] }],
  sketch: { type: 'feature-sketch-set', nested: { text: 'Grüße 👋 "q" \\', n: -0.5 } },
  vocabularies: { text: ['a', 'b', 'über'] },
  calibration: null,
  accuracy: { labelled: 3, correct: 2, accuracy: 2 / 3 },
  ...overrides,
});

describe('reference repository (SQLite file)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('round-trips a profile exactly across a reopen', async () => {
    const profile = reference({ calibration: { type: 'calibration-table', total: [1, 2] } });
    await store.references.put(profile);
    await store.close();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    expect(await store.references.get('loans', 'default')).toStrictEqual(profile);
    expect(await store.references.list('loans')).toStrictEqual([{ id: profile.id, service: 'loans', name: 'default', createdAt: profile.createdAt, source: profile.source, rows: 3 }]);
  });

  it('is append-only: a newer profile under the same name wins, the older stays listed', async () => {
    const older = reference({ rows: 1 });
    const newer = reference({ createdAt: '2025-02-01T00:00:00.000Z', rows: 2, accuracy: null });
    const sameInstant = reference({ createdAt: newer.createdAt, rows: 4 });
    const otherName = reference({ name: 'last-week', createdAt: '2024-01-01T00:00:00.000Z' });
    const otherService = reference({ service: 'spam', createdAt: '2030-01-01T00:00:00.000Z' });
    for (const r of [newer, older, otherName, otherService]) await store.references.put(r);
    expect((await store.references.get('loans', 'default'))?.id).toBe(newer.id);
    // Same instant: the larger (later) id wins.
    await store.references.put(sameInstant);
    expect((await store.references.get('loans', 'default'))?.rows).toBe(4);
    expect((await store.references.get('loans', 'last-week'))?.id).toBe(otherName.id);
    expect(await store.references.get('loans', 'nope')).toBeUndefined();
    expect(await store.references.get('nope', 'default')).toBeUndefined();
    const listed = await store.references.list('loans');
    expect(listed.map((r) => [r.name, r.rows])).toStrictEqual([
      ['default', 4],
      ['default', 2],
      ['default', 1],
      ['last-week', 3],
    ]);
    expect(listed[0]).not.toHaveProperty('sketch');
    expect(await store.references.list('nobody')).toStrictEqual([]);
  });

  it('refuses a malformed profile without writing anything, and answers SERVER_DRAINING once closed', async () => {
    await expect(store.references.put(reference({ createdAt: '2025-01-31' }))).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(store.references.put(reference({ rows: -1 }))).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(store.references.put(reference({ sketch: undefined }))).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await store.references.list('loans')).toStrictEqual([]);
    const profile = reference();
    await store.references.put(profile);
    await expect(store.references.put(profile)).rejects.toBeInstanceOf(BallastError);
    await store.close();
    await expect(store.references.list('loans')).rejects.toMatchObject({ code: 'SERVER_DRAINING' });
    await expect(store.references.put(reference())).rejects.toMatchObject({ code: 'SERVER_DRAINING' });
  });
});
