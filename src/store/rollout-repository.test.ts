// The rollout repository on real SQLite: one active rollout per service, optimistic updates with
// their events and audit in one transaction, history order, and durability across a reopen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredAuditEvent } from './governance-records.js';
import { newId } from './ids.js';
import { openStore } from './open-store.js';
import type { StoredRollout, StoredRolloutEvent } from './rollout-repository.js';
import type { Store } from './store.js';
import { tempDir } from './testing/fixtures.js';

const at = (minute: number): string => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();

function makeRollout(overrides: Partial<StoredRollout> = {}): StoredRollout {
  return {
    id: newId('rol'),
    service: 'spam-filter',
    stable: 'v1',
    candidate: 'v2',
    strategy: 'canary',
    spec: { steps: [{ weight: 0.05 }, { weight: 1 }], note: 'Grüße 👋' },
    state: 'running',
    step: 0,
    weight: 0.05,
    createdAt: at(0),
    createdBy: 'alice',
    updatedAt: at(0),
    stepStartedAt: at(0),
    endedAt: null,
    retryOf: null,
    status: { failures: 0 },
    ...overrides,
  };
}

const eventOf = (r: StoredRollout, kind: string, minute: number): StoredRolloutEvent => ({
  id: newId('rle'),
  rolloutId: r.id,
  service: r.service,
  at: at(minute),
  kind,
  actor: 'alice',
  step: r.step,
  weight: r.weight,
  detail: { reason: kind },
});

const auditOf = (r: StoredRollout, action: string): StoredAuditEvent => ({
  id: newId('aud'),
  at: r.updatedAt,
  actor: { principal: 'alice', keyId: null, role: 'operator' },
  action,
  resource: { kind: 'rollout', id: r.id },
  service: r.service,
  beforeDigest: null,
  afterDigest: null,
  before: null,
  after: null,
  requestId: null,
  detail: null,
});

describe('rollout repository', () => {
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

  it('round-trips a rollout and refuses a second active one for the service', async () => {
    const r = makeRollout();
    await store.rollouts.create(r, [eventOf(r, 'started', 0)], auditOf(r, 'rollout.started'));
    expect(await store.rollouts.get(r.id)).toEqual(r);
    const other = makeRollout({ candidate: 'v3' });
    await expect(store.rollouts.create(other, [eventOf(other, 'started', 0)], auditOf(other, 'rollout.started'))).rejects.toMatchObject({ code: 'ROLLOUT_ACTIVE' });
    expect(await store.rollouts.get(other.id)).toBeUndefined();
    expect((await store.audit.list({ limit: 10 })).map((e) => e.resource.id)).toEqual([r.id]);
    // Another service is free.
    await store.rollouts.create(makeRollout({ service: 'loan-precheck' }), []);
    expect((await store.rollouts.active()).map((x) => x.service)).toEqual(['spam-filter', 'loan-precheck']);
  });

  it('updates only from the state it was read in, with events and audit or nothing', async () => {
    const r = makeRollout();
    await store.rollouts.create(r, [eventOf(r, 'started', 0)]);
    const paused = { ...r, state: 'paused', updatedAt: at(1) };
    await store.rollouts.update(paused, { state: 'running', updatedAt: at(0) }, [eventOf(paused, 'paused', 1)], auditOf(paused, 'rollout.paused'));
    // The same stale expectation again: refused, nothing written.
    const aborted = { ...r, state: 'aborted', updatedAt: at(2), endedAt: at(2) };
    await expect(store.rollouts.update(aborted, { state: 'running', updatedAt: at(0) }, [eventOf(aborted, 'aborted', 2)], auditOf(aborted, 'rollout.aborted'))).rejects.toMatchObject({ code: 'ROLLOUT_STATE_INVALID' });
    expect(await store.rollouts.get(r.id)).toEqual(paused);
    expect((await store.rollouts.events(r.id)).map((e) => e.kind)).toEqual(['started', 'paused']);
    expect((await store.audit.list({ limit: 10 })).map((e) => e.action)).toEqual(['rollout.paused']);
    // Once it ends it is no longer active, and a new one may start.
    await store.rollouts.update(aborted, { state: 'paused', updatedAt: at(1) }, [eventOf(aborted, 'aborted', 2)]);
    expect(await store.rollouts.active()).toEqual([]);
    const retry = makeRollout({ retryOf: r.id, createdAt: at(3), updatedAt: at(3), stepStartedAt: at(3) });
    await store.rollouts.create(retry, []);
    expect((await store.rollouts.list({ service: 'spam-filter', limit: 10 })).map((x) => [x.id, x.retryOf])).toEqual([
      [retry.id, r.id],
      [r.id, null],
    ]);
  });

  it('keeps everything across a reopen', async () => {
    const r = makeRollout();
    await store.rollouts.create(r, [eventOf(r, 'started', 0)]);
    await store.rollouts.appendEvents([eventOf(r, 'live', 1)]);
    await store.close();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    expect(await store.rollouts.active()).toEqual([r]);
    expect((await store.rollouts.events(r.id)).map((e) => [e.kind, e.detail])).toEqual([
      ['started', { reason: 'started' }],
      ['live', { reason: 'live' }],
    ]);
  });

  it('refuses a malformed instant', async () => {
    await expect(store.rollouts.create(makeRollout({ createdAt: 'yesterday' }), [])).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
