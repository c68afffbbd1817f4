// The registry over a real SQLite store: registration (idempotent, conflicts named), a config's models
// checked and registered all or none, lifecycle transitions with their audit events, and which versions
// served a service at chosen instants.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Actor, type Store } from '../../store/index.js';
import { tempDir } from '../../store/testing/fixtures.js';
import { createModelRegistry, type ModelRegistry } from './model-registry.js';

const actor: Actor = { principal: 'ana', keyId: 'bk_0123456789', role: 'operator' };
const t0 = Date.UTC(2026, 11, 7, 6, 0);
const minute = (n: number) => new Date(t0 + n * 60_000).toISOString();

describe('model registry', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let clock: number;
  let registry: ModelRegistry;
  const spec = (weights = 'weights.bin') => ({ adapter: { kind: 'module', path: 'model.mjs' }, artifacts: [{ name: 'weights', path: weights }], evaluation: { metrics: { accuracy: 0.9 } } });

  beforeEach(async () => {
    tmp = tempDir();
    writeFileSync(path.join(tmp.dir, 'model.mjs'), 'export default 1;\n');
    writeFileSync(path.join(tmp.dir, 'weights.bin'), 'w1');
    writeFileSync(path.join(tmp.dir, 'weights2.bin'), 'w2');
    store = await openStore({ kind: 'sqlite', path: ':memory:' });
    clock = t0;
    registry = createModelRegistry({ store, now: () => clock });
  });

  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('registers once, with the actor as author and an audit event; the same spec again is not a new version', async () => {
    const first = await registry.register({ service: 'spam-filter', name: 'v2', spec: spec(), baseDir: tmp.dir }, { actor, reason: 'trained on weeks 1-4' });
    expect(first.created).toBe(true);
    expect(first.version).toMatchObject({ service: 'spam-filter', name: 'v2', author: 'ana', state: 'registered', registeredAt: minute(0) });
    expect(first.version.digest).toMatch(/^sha256:/);
    clock += 60_000;
    const again = await registry.register({ service: 'spam-filter', name: 'v2', spec: spec(), baseDir: tmp.dir }, { actor: { ...actor, principal: 'bo' } });
    expect(again.created).toBe(false);
    expect(again.version.author).toBe('ana');
    const events = await store.audit.list({ limit: 10, action: 'model.registered' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ resource: { kind: 'model_version', id: 'spam-filter/v2' }, service: 'spam-filter', detail: 'trained on weeks 1-4', actor });
  });

  it('refuses a changed artifact or card under the same name, naming what differs', async () => {
    await registry.register({ service: 'spam-filter', name: 'v2', spec: spec(), baseDir: tmp.dir }, { actor });
    await expect(registry.register({ service: 'spam-filter', name: 'v2', spec: spec('weights2.bin'), baseDir: tmp.dir }, { actor })).rejects.toMatchObject({ code: 'MODEL_VERSION_CONFLICT', detail: expect.stringContaining('/artifacts/0') });
    await expect(registry.register({ service: 'spam-filter', name: 'v2', spec: { ...spec(), card: { intendedUse: 'x' } }, baseDir: tmp.dir }, { actor })).rejects.toMatchObject({ code: 'MODEL_VERSION_CONFLICT', detail: expect.stringContaining('same digest but other metadata') });
    // Another name is another version.
    await expect(registry.register({ service: 'spam-filter', name: 'v3', spec: spec('weights2.bin'), baseDir: tmp.dir }, { actor })).resolves.toMatchObject({ created: true });
  });

  it('checks a config without writing, and registers it all or none', async () => {
    await registry.register({ service: 'spam-filter', name: 'v1', spec: spec(), baseDir: tmp.dir }, { actor });
    const models = { v1: { ...spec(), timeoutMs: 900 }, v2: spec('weights2.bin') };
    const checked = await registry.check('spam-filter', models, { baseDir: tmp.dir });
    expect(checked).toMatchObject({ ok: true, issues: [], versions: [{ name: 'v1', status: 'registered' }, { name: 'v2', status: 'new' }] });
    expect(await registry.get('spam-filter', 'v2')).toBeUndefined();

    // v1 changed (a conflict) and v3 is new: nothing is registered, every issue is reported.
    const bad = { v1: spec('weights2.bin'), v3: spec(), v4: { adapter: { kind: 'module', path: 'gone.mjs' } } };
    await expect(registry.ensureAll({ 'spam-filter': { models: bad } }, { baseDir: tmp.dir, actor })).rejects.toMatchObject({
      code: 'MODEL_VERSION_CONFLICT',
      issues: [
        { pointer: '/services/spam-filter/models/v1', code: 'model_version_conflict' },
        { pointer: '/services/spam-filter/models/v4/adapter/path', code: 'unreadable' },
      ],
    });
    expect(await registry.get('spam-filter', 'v3')).toBeUndefined();
    const ensured = await registry.ensureRegistered('spam-filter', bad, { baseDir: tmp.dir, actor });
    expect(ensured.registered).toEqual([]);
    expect(ensured.issues).toHaveLength(2);

    const done = await registry.ensureAll({ 'spam-filter': { models, live: 'v1' } }, { baseDir: tmp.dir, actor, markLive: true, revision: 1 });
    expect(done.registered).toEqual(['spam-filter/v2']);
    expect((await registry.get('spam-filter', 'v1'))?.state).toBe('live');
    expect((await registry.history('spam-filter', 'v1')).at(-1)).toMatchObject({ to: 'live', revision: 1, actor: 'ana' });
    // A dry run of the same config writes nothing more and throws nothing.
    await expect(registry.ensureAll({ 'spam-filter': { models, live: 'v1' } }, { baseDir: tmp.dir, actor, dryRun: true })).resolves.toEqual({ registered: [] });
  });

  it('moves through the lifecycle, refuses what the table does not allow, and is a no-op when already there', async () => {
    await registry.register({ service: 'spam-filter', name: 'v2', spec: spec(), baseDir: tmp.dir }, { actor });
    await expect(registry.transition({ service: 'spam-filter', version: 'v2', to: 'rolled-back', reason: 'x' }, { actor })).rejects.toMatchObject({ code: 'MODEL_TRANSITION_INVALID', detail: expect.stringContaining('is registered and cannot become rolled-back') });
    const canary = await registry.transition({ service: 'spam-filter', version: 'v2', to: 'canary', reason: 'rollout', rolloutId: 'rol_1' }, { actor });
    expect(canary).toMatchObject({ from: 'registered', to: 'canary', rolloutId: 'rol_1', actor: 'ana', reason: 'rollout' });
    expect(await registry.transition({ service: 'spam-filter', version: 'v2', to: 'canary', reason: 'again' }, { actor })).toBeUndefined();
    await expect(registry.transition({ service: 'spam-filter', version: 'v9', to: 'live', reason: '' }, { actor })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    const events = await store.audit.list({ limit: 10, action: 'model.transitioned' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ before: { state: 'registered' }, after: { state: 'canary', rolloutId: 'rol_1' } });
  });

  it('lets one of two racing transitions from the same state win', async () => {
    await registry.register({ service: 'spam-filter', name: 'v2', spec: spec(), baseDir: tmp.dir }, { actor });
    const settled = await Promise.allSettled([
      registry.transition({ service: 'spam-filter', version: 'v2', to: 'canary', reason: 'a' }, { actor }),
      registry.transition({ service: 'spam-filter', version: 'v2', to: 'shadow', reason: 'b' }, { actor }),
    ]);
    expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await registry.history('spam-filter', 'v2')).toHaveLength(2);
  });

  it('answers which versions served the service at each instant', async () => {
    const at = (n: number) => { clock = t0 + n * 60_000; };
    at(0);
    await registry.register({ service: 'spam-filter', name: 'v1', spec: spec(), baseDir: tmp.dir }, { actor });
    await registry.register({ service: 'spam-filter', name: 'v2', spec: spec('weights2.bin'), baseDir: tmp.dir }, { actor });
    at(1);
    await registry.transition({ service: 'spam-filter', version: 'v1', to: 'live', reason: 'first' }, { actor });
    at(10);
    await registry.transition({ service: 'spam-filter', version: 'v2', to: 'shadow', reason: 'shadow' }, { actor });
    at(20);
    await registry.transition({ service: 'spam-filter', version: 'v2', to: 'canary', reason: 'canary' }, { actor });
    at(30);
    await registry.transition({ service: 'spam-filter', version: 'v2', to: 'live', reason: 'promoted' }, { actor });
    await registry.transition({ service: 'spam-filter', version: 'v1', to: 'retired', reason: 'promoted v2' }, { actor });
    at(40);
    await registry.transition({ service: 'spam-filter', version: 'v2', to: 'rolled-back', reason: 'bad' }, { actor });
    await registry.transition({ service: 'spam-filter', version: 'v1', to: 'live', reason: 'rollback' }, { actor });

    const served = async (n: number) => {
      const r = await registry.servedAt('spam-filter', minute(n));
      return { served: r.served.map((s) => `${s.name}:${s.state}`), shadow: r.shadow.map((s) => s.name) };
    };
    expect(await served(0)).toEqual({ served: [], shadow: [] });
    expect(await served(5)).toEqual({ served: ['v1:live'], shadow: [] });
    expect(await served(15)).toEqual({ served: ['v1:live'], shadow: ['v2'] });
    expect(await served(20)).toEqual({ served: ['v1:live', 'v2:canary'], shadow: [] });
    expect(await served(35)).toEqual({ served: ['v2:live'], shadow: [] });
    expect(await served(45)).toEqual({ served: ['v1:live'], shadow: [] });
    expect((await registry.servedAt('spam-filter', '2026-12-07T06:20:00Z')).at).toBe(minute(20));
    await expect(registry.servedAt('spam-filter', 'yesterday')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });
});
