// The model registry's tables on real SQLite: a version, its first transition and its audit event in
// one transaction (or none of them), transitions checked against the current state inside the
// transaction so that of two racing ones exactly one applies, and the log read back in time order.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredAuditEvent } from './governance-records.js';
import { newId } from './ids.js';
import { openStore, type StoreConfig } from './open-store.js';
import type { StoredModelTransition, StoredModelVersion } from './registry-repository.js';
import type { Store } from './store.js';
import { tempDir } from './testing/fixtures.js';

const dialects: readonly { readonly name: string; config(dbPath: string): StoreConfig }[] = [
  { name: 'sqlite (file, writer thread)', config: (dbPath) => ({ kind: 'sqlite', path: dbPath }) },
  { name: 'sqlite (:memory:, same thread)', config: () => ({ kind: 'sqlite', path: ':memory:' }) },
];

const at = (minute: number): string => new Date(Date.UTC(2026, 11, 7, 6, minute)).toISOString();

function audit(action: string): StoredAuditEvent {
  return {
    id: newId('aud'),
    at: at(0),
    actor: { principal: 'ana', keyId: null, role: 'operator' },
    action,
    resource: { kind: 'model_version', id: 'spam-filter/v2' },
    service: 'spam-filter',
    beforeDigest: null,
    afterDigest: null,
    before: null,
    after: null,
    requestId: null,
    detail: null,
  };
}

const version = (overrides: Partial<StoredModelVersion> = {}): StoredModelVersion => ({
  service: 'spam-filter',
  name: 'v2',
  digest: `sha256:${'a'.repeat(64)}`,
  spec: { adapter: { kind: 'http', url: 'http://m' }, card: { intendedUse: 'spam — ✓' } },
  author: 'ana',
  registeredAt: at(1),
  ...overrides,
});

const transition = (overrides: Partial<StoredModelTransition> = {}): StoredModelTransition => ({
  id: newId('mtr'),
  service: 'spam-filter',
  version: 'v2',
  from: null,
  to: 'registered',
  at: at(1),
  actor: 'ana',
  reason: '',
  rolloutId: null,
  revision: null,
  ...overrides,
});

describe.each(dialects)('registry repository on $name', (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  const auditRows = async () => (await store.audit.countLoggedRows()).audit;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore(dialect.config(tmp.dbPath));
  });

  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('registers a version with its first transition and audit event, and is idempotent for the same spec', async () => {
    const event = audit('model.registered');
    expect(await store.registry.register(version(), transition(), event)).toBe('created');
    expect(await store.registry.get('spam-filter', 'v2')).toEqual({ ...version(), state: 'registered', since: at(1) });
    expect(await store.audit.get(event.id)).toMatchObject({ action: 'model.registered' });
    expect(await store.registry.history('spam-filter', 'v2')).toHaveLength(1);
    expect(await auditRows()).toBe(1);
    // The same spec with its keys in another order is the same registration: nothing written.
    const again = audit('model.registered');
    const reordered = version({ spec: { card: { intendedUse: 'spam — ✓' }, adapter: { url: 'http://m', kind: 'http' } }, registeredAt: at(5) });
    expect(await store.registry.register(reordered, transition({ at: at(5) }), again)).toBe('exists');
    expect(await store.audit.get(again.id)).toBeUndefined();
    expect(await store.registry.history('spam-filter', 'v2')).toHaveLength(1);
    expect(await auditRows()).toBe(1);
  });

  it('refuses another digest or another spec under a registered name, writing nothing', async () => {
    await store.registry.register(version(), transition(), audit('model.registered'));
    const other = audit('model.registered');
    await expect(store.registry.register(version({ digest: `sha256:${'b'.repeat(64)}` }), transition(), other)).rejects.toMatchObject({ code: 'MODEL_VERSION_CONFLICT' });
    await expect(store.registry.register(version({ spec: { adapter: { kind: 'http', url: 'http://m' } } }), transition(), other)).rejects.toMatchObject({ code: 'MODEL_VERSION_CONFLICT', detail: expect.stringContaining('another spec') });
    expect(await store.audit.get(other.id)).toBeUndefined();
    expect(await auditRows()).toBe(1);
    expect((await store.registry.get('spam-filter', 'v2'))?.digest).toBe(version().digest);
  });

  it('appends a transition only from the current state, with its audit event', async () => {
    await store.registry.register(version(), transition(), audit('model.registered'));
    const moved = await store.registry.transition(transition({ from: 'registered', to: 'canary', at: at(2), rolloutId: 'rol_1', revision: 3 }), audit('model.transitioned'));
    expect(moved).toMatchObject({ from: 'registered', to: 'canary', at: at(2), rolloutId: 'rol_1', revision: 3 });
    const stale = audit('model.transitioned');
    await expect(store.registry.transition(transition({ from: 'registered', to: 'shadow', at: at(3) }), stale)).rejects.toMatchObject({ code: 'MODEL_TRANSITION_INVALID', detail: expect.stringContaining('is canary now') });
    expect(await store.audit.get(stale.id)).toBeUndefined();
    await expect(store.registry.transition(transition({ version: 'v9', from: 'registered', to: 'live' }), audit('model.transitioned'))).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    expect(await store.registry.get('spam-filter', 'v2')).toMatchObject({ state: 'canary', since: at(2) });
    expect(await auditRows()).toBe(2);
  });

  it('lets exactly one of two racing transitions from the same state apply', async () => {
    await store.registry.register(version(), transition(), audit('model.registered'));
    for (let round = 0; round < 5; round++) {
      const current = (await store.registry.get('spam-filter', 'v2'))!.state;
      const [a, b] = ['x', 'y'].map((to) => store.registry.transition(transition({ from: current, to: `${to}${round}`, at: at(2 + round) }), audit('model.transitioned')));
      const settled = await Promise.allSettled([a!, b!]);
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      expect(settled.find((s) => s.status === 'rejected')).toMatchObject({ reason: { code: 'MODEL_TRANSITION_INVALID' } });
    }
    expect(await store.registry.history('spam-filter', 'v2')).toHaveLength(6);
    expect(await auditRows()).toBe(6);
  });

  it('keeps the log in time order when a clock steps back', async () => {
    await store.registry.register(version(), transition(), audit('model.registered'));
    await store.registry.transition(transition({ from: 'registered', to: 'canary', at: at(10) }), audit('model.transitioned'));
    const kept = await store.registry.transition(transition({ from: 'canary', to: 'live', at: at(4) }), audit('model.transitioned'));
    expect(kept.at).toBe(at(10));
    expect((await store.registry.get('spam-filter', 'v2'))?.state).toBe('live');
  });

  it('lists versions with their states, the history oldest first and the transitions until an instant', async () => {
    await store.registry.register(version({ name: 'v1', registeredAt: at(0) }), transition({ version: 'v1', at: at(0) }), audit('model.registered'));
    await store.registry.register(version(), transition(), audit('model.registered'));
    await store.registry.register(version({ service: 'other', name: 'm' }), transition({ service: 'other', version: 'm' }), audit('model.registered'));
    await store.registry.transition(transition({ version: 'v1', from: 'registered', to: 'live', at: at(2) }), audit('model.transitioned'));
    await store.registry.transition(transition({ from: 'registered', to: 'canary', at: at(3) }), audit('model.transitioned'));
    await store.registry.transition(transition({ from: 'canary', to: 'live', at: at(6) }), audit('model.transitioned'));
    await store.registry.transition(transition({ version: 'v1', from: 'live', to: 'retired', at: at(6) }), audit('model.transitioned'));

    expect((await store.registry.list('spam-filter')).map((v) => [v.name, v.state, v.since])).toEqual([['v1', 'retired', at(6)], ['v2', 'live', at(6)]]);
    expect((await store.registry.list()).map((v) => `${v.service}/${v.name}`)).toEqual(['other/m', 'spam-filter/v1', 'spam-filter/v2']);
    expect((await store.registry.history('spam-filter')).map((t) => `${t.version}:${t.to}`)).toEqual(['v1:registered', 'v2:registered', 'v1:live', 'v2:canary', 'v2:live', 'v1:retired']);
    expect((await store.registry.history('spam-filter', 'v2')).map((t) => t.to)).toEqual(['registered', 'canary', 'live']);
    expect((await store.registry.transitionsUntil('spam-filter', at(3))).map((t) => `${t.version}:${t.to}`)).toEqual(['v1:registered', 'v2:registered', 'v1:live', 'v2:canary']);
    expect(await store.registry.transitionsUntil('spam-filter', at(0))).toHaveLength(1);
  });
});
