import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from './ids.js';
import { openStore } from './open-store.js';
import type { StoredSketch } from './monitoring-records.js';
import type { Store } from './store.js';
import { tempDir } from './testing/fixtures.js';

const sketch = (overrides: Partial<StoredSketch> = {}): StoredSketch => ({
  id: newId('msk'),
  service: 'spam-filter',
  version: 'v1',
  segment: '',
  windowStart: '2025-01-31T12:00:00.000Z',
  windowEnd: '2025-01-31T13:00:00.000Z',
  referenceId: 'ref_1',
  writer: 'w1',
  createdAt: '2025-01-31T12:10:00.000Z',
  lastEventAt: '2025-01-31T12:09:59.000Z',
  events: 3,
  body: { counts: [1, 2, 0], note: 'grüße' },
  ...overrides,
});

describe('monitoring repository (SQLite file)', () => {
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

  it('keeps sketch deltas and the checkpoint that covers them across a reopen', async () => {
    const a = sketch();
    const b = sketch({ windowStart: '2025-01-31T13:00:00.000Z', windowEnd: '2025-01-31T14:00:00.000Z', events: 5 });
    const other = sketch({ service: 'other' });
    await store.monitoring.checkpoint([a, b, other], { id: 'cp_1', writer: 'w1', createdAt: '2025-01-31T13:10:00.000Z', decisionsFrom: '2025-01-31T13:09:58.000Z', feedbackFrom: '2025-01-31T13:05:00.000Z', seen: ['dec_x'] });
    await store.monitoring.checkpoint([], { id: 'cp_2', writer: 'w1', createdAt: '2025-01-31T13:20:00.000Z', decisionsFrom: '2025-01-31T13:19:00.000Z', feedbackFrom: '2025-01-31T13:15:00.000Z', seen: [] });
    await store.close();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    expect(await store.monitoring.listSketches({ service: 'spam-filter' })).toEqual([a, b]);
    expect(await store.monitoring.listSketches({ service: 'spam-filter', since: '2025-01-31T13:00:00.000Z' })).toEqual([b]);
    expect(await store.monitoring.listSketches({ service: 'spam-filter', until: '2025-01-31T13:00:00.000Z' })).toEqual([a]);
    expect((await store.monitoring.latestCheckpoint())?.id).toBe('cp_2');
    expect(await store.monitoring.listWindowStarts('spam-filter')).toEqual(['2025-01-31T12:00:00.000Z', '2025-01-31T13:00:00.000Z']);
    expect(await store.monitoring.listWindowStarts('nope')).toEqual([]);
  });

  it('compacts sketch rows into one, and refuses (changing nothing) when a row is already gone', async () => {
    const a = sketch();
    const b = sketch({ events: 5 });
    const merged = sketch({ events: 8, body: { merged: true } });
    await store.monitoring.checkpoint([a, b], { id: 'cp_1', writer: 'w1', createdAt: '2025-01-31T13:10:00.000Z', decisionsFrom: '2025-01-31T13:09:58.000Z', feedbackFrom: '2025-01-31T13:05:00.000Z', seen: [] });
    expect(await store.monitoring.compactSketches([a.id, 'msk_gone'], merged)).toBe(false);
    expect((await store.monitoring.listSketches({ service: 'spam-filter' })).map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(await store.monitoring.compactSketches([a.id, b.id], merged)).toBe(true);
    expect(await store.monitoring.listSketches({ service: 'spam-filter' })).toEqual([merged]);
    expect(await store.monitoring.compactSketches([a.id, b.id], sketch())).toBe(false);
    expect(await store.monitoring.listSketches({ service: 'spam-filter' })).toEqual([merged]);
  });

  it('appends evaluations as history and upserts one status per monitor key', async () => {
    const evaluation = (monitor: string, evaluatedAt: string, state: string, value: number | null) => ({
      id: newId('mev'),
      service: 'spam-filter',
      monitor,
      version: 'v1',
      segment: '',
      windowStart: '2025-01-31T12:00:00.000Z',
      windowEnd: '2025-01-31T13:00:00.000Z',
      evaluatedAt,
      observed: state,
      state,
      value,
      body: { message: `${monitor} is ${state}` },
    });
    const status = (monitor: string, state: string, updatedAt: string) => ({ service: 'spam-filter', monitor, version: 'v1', segment: '', updatedAt, body: { state } });
    await store.monitoring.recordEvaluations([evaluation('input_drift', '2025-01-31T12:01:00.000Z', 'ok', 0.1), evaluation('accuracy', '2025-01-31T12:01:00.000Z', 'unknown', null)], [status('input_drift', 'ok', '2025-01-31T12:01:00.000Z')]);
    await store.monitoring.recordEvaluations([evaluation('input_drift', '2025-01-31T12:02:00.000Z', 'alert', 0.4)], [status('input_drift', 'alert', '2025-01-31T12:02:00.000Z')]);
    const history = await store.monitoring.listEvaluations({ service: 'spam-filter', monitor: 'input_drift', limit: 10 });
    expect(history.map((e) => [e.state, e.value])).toEqual([
      ['alert', 0.4],
      ['ok', 0.1],
    ]);
    expect((await store.monitoring.listEvaluations({ service: 'spam-filter', limit: 10 })).length).toBe(3);
    expect(await store.monitoring.listStatuses('spam-filter')).toEqual([status('input_drift', 'alert', '2025-01-31T12:02:00.000Z')]);
    expect(await store.monitoring.listStatuses('nope')).toEqual([]);
  });
});
