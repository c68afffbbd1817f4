// The registry's HTTP routes over a real Fastify app and a real SQLite store (inject, no port): register
// (created, idempotent, conflict, bad body, unreadable file, all with pointers under /spec), list, show
// with history, history, and served-at after transitions.
import Fastify, { type FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createModelRegistry, type ModelRegistry } from '../src/governance/index.js';
import { problemContentType, problemOf, toBallastError } from '../src/server/problem.js';
import { registerModelRoutes } from '../src/server/routes/model-routes.js';
import { openStore, type Store } from '../src/store/index.js';
import { tempDir } from '../src/store/testing/fixtures.js';

describe('model registry routes', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let registry: ModelRegistry;
  let app: FastifyInstance;
  let clock: number;
  const spec = { adapter: { kind: 'module', path: 'model.mjs' }, artifacts: [{ name: 'weights', path: 'weights.bin' }, { name: 'vocab', url: 'https://models.example/vocab.txt' }], evaluation: { metrics: { accuracy: 0.9 } }, card: { intendedUse: 'spam triage' } };

  beforeEach(async () => {
    tmp = tempDir();
    writeFileSync(path.join(tmp.dir, 'model.mjs'), 'export default 1;\n');
    writeFileSync(path.join(tmp.dir, 'weights.bin'), 'w1');
    store = await openStore({ kind: 'sqlite', path: ':memory:' });
    clock = Date.UTC(2026, 11, 7, 6, 0);
    registry = createModelRegistry({ store, now: () => clock });
    app = Fastify();
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      request.principal = { principal: 'ana', keyId: 'bk_0123456789', role: 'operator', service: null } as never;
    });
    app.setErrorHandler((error, request, reply) => {
      const problem = problemOf(toBallastError(error), request.url);
      void reply.status(problem.status).type(problemContentType).send(problem);
    });
    registerModelRoutes(app, { registry, baseDir: tmp.dir, hasService: (s) => s === 'spam-filter' });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    await store.close();
    tmp.remove();
  });

  const register = (body: unknown, service = 'spam-filter') => app.inject({ method: 'POST', url: `/v1/services/${service}/models`, payload: body as object });

  it('registers (201), then the same spec again (200), and refuses another under the name (409)', async () => {
    const created = await register({ name: 'v2', spec, reason: 'trained on weeks 1-4' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ created: true, unverified: ['/artifacts/1'], version: { name: 'v2', author: 'ana', state: 'registered', spec: { artifacts: [{ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, { sha256: null }] } } });
    const again = await register({ name: 'v2', spec });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: false });
    writeFileSync(path.join(tmp.dir, 'weights.bin'), 'w2');
    const conflict = await register({ name: 'v2', spec });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: 'MODEL_VERSION_CONFLICT', detail: expect.stringContaining('/artifacts/0') });
    const events = await store.audit.list({ limit: 10, action: 'model.registered' });
    expect(events.map((e) => e.actor.principal)).toEqual(['ana']);
  });

  it('refuses a bad body, an unreadable file and a wrong sha256, with pointers under /spec', async () => {
    const bad = await register({ name: '../x', spec: { adapter: {}, artifacts: [{ name: 'w' }] }, extra: 1 });
    expect(bad.statusCode).toBe(400);
    const badPointers = (bad.json() as { issues: { pointer: string }[] }).issues.map((i) => i.pointer);
    expect(badPointers).toEqual(['/extra']);
    const invalid = await register({ name: '../x', spec: { adapter: {}, artifacts: [{ name: 'w' }] } });
    expect((invalid.json() as { issues: { pointer: string }[] }).issues.map((i) => i.pointer)).toEqual(expect.arrayContaining(['/name', '/spec/adapter/kind', '/spec/artifacts/0']));
    const unreadable = await register({ name: 'v3', spec: { adapter: { kind: 'module', path: 'missing.mjs' } } });
    expect(unreadable.statusCode).toBe(422);
    expect(unreadable.json()).toMatchObject({ code: 'MODEL_ARTIFACT_UNREADABLE', issues: [{ pointer: '/spec/adapter/path' }] });
    const mismatch = await register({ name: 'v3', spec: { adapter: { kind: 'http', url: 'http://m' }, artifacts: [{ name: 'w', path: 'weights.bin', sha256: '0'.repeat(64) }] } });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json()).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ pointer: '/spec/artifacts/0/sha256', code: 'digest_mismatch' }] });
    expect((await register({ name: 'v1', spec }, 'nope')).statusCode).toBe(404);
    expect(await registry.list('spam-filter')).toEqual([]);
  });

  it('lists, shows with history, gives the history and answers served-at', async () => {
    await register({ name: 'v1', spec: { adapter: { kind: 'http', url: 'http://v1' } } });
    await register({ name: 'v2', spec });
    clock += 60_000;
    await registry.transition({ service: 'spam-filter', version: 'v1', to: 'live', reason: 'first' }, { actor: { principal: 'ana', keyId: null, role: 'operator' } });
    clock += 60_000;
    await registry.transition({ service: 'spam-filter', version: 'v2', to: 'canary', reason: 'rollout', rolloutId: 'rol_1' }, { actor: { principal: 'bo', keyId: null, role: 'operator' } });

    const list = await app.inject({ method: 'GET', url: '/v1/services/spam-filter/models' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ service: 'spam-filter', versions: [{ name: 'v1', state: 'live' }, { name: 'v2', state: 'canary' }] });

    const show = await app.inject({ method: 'GET', url: '/v1/services/spam-filter/models/v2' });
    expect(show.json()).toMatchObject({ name: 'v2', state: 'canary', author: 'ana', digest: expect.stringMatching(/^sha256:/), spec: { card: { intendedUse: 'spam triage' } }, history: [{ to: 'registered' }, { from: 'registered', to: 'canary', actor: 'bo', rolloutId: 'rol_1' }] });
    const history = await app.inject({ method: 'GET', url: '/v1/services/spam-filter/models/v2/history' });
    expect((history.json() as { transitions: { to: string }[] }).transitions.map((t) => t.to)).toEqual(['registered', 'canary']);
    expect((await app.inject({ method: 'GET', url: '/v1/services/spam-filter/models/v9' })).json()).toMatchObject({ code: 'VERSION_NOT_FOUND' });
    expect((await app.inject({ method: 'GET', url: '/v1/services/nope/models' })).statusCode).toBe(404);

    const at = (iso: string) => app.inject({ method: 'GET', url: `/v1/services/spam-filter/served?at=${encodeURIComponent(iso)}` });
    expect((await at('2026-12-07T06:00:30Z')).json()).toEqual({ service: 'spam-filter', at: '2026-12-07T06:00:30.000Z', served: [], shadow: [] });
    expect((await at('2026-12-07T06:01:30Z')).json()).toMatchObject({ served: [{ name: 'v1', state: 'live' }] });
    expect((await at('2026-12-07T06:02:00Z')).json()).toMatchObject({ served: [{ name: 'v1', state: 'live' }, { name: 'v2', state: 'canary' }] });
    const invalid = await at('soon');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ code: 'REQUEST_INVALID', issues: [{ pointer: '/at' }] });
  });
});
