// The dataset route through Fastify inject on a real SQLite store: the body is the file, the manifest
// header carries its digest, every export is an audit event, bad requests name what is wrong.
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store/index.js';
import { makeDecision, makeFeedback, tempDir } from '../../store/testing/fixtures.js';
import { problemContentType, problemOf, toBallastError } from '../problem.js';
import { manifestHeader, registerDatasetRoutes } from './dataset-routes.js';

describe('dataset route', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let app: FastifyInstance;

  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore({ kind: 'sqlite', path: tmp.dbPath });
    app = Fastify();
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      request.principal = { principal: 'audrey', keyId: 'bk_audrey', role: 'auditor', service: null };
    });
    app.setErrorHandler((error, request, reply) => {
      const problem = problemOf(toBallastError(error), request.url);
      void reply.status(problem.status).type(problemContentType).send(problem);
    });
    registerDatasetRoutes(app, { store, hasService: (s) => s === 'spam-filter' });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    await store.close();
    tmp.remove();
  });

  it('sends the export with its manifest; the body hashes to the manifest digest; the export is audited', async () => {
    const d = makeDecision({ createdAt: '2025-01-31T12:00:00.000Z', input: { subject: 'a,"b"' } });
    await store.decisions.append(d);
    await store.decisions.append(makeDecision({ createdAt: '2025-02-01T00:00:00.000Z' }));
    await store.feedback.append(makeFeedback(d.id, { kind: 'appeal', value: 'ham', source: 'rev:cy' }));
    const res = await app.inject({ method: 'GET', url: '/v1/services/spam-filter/dataset?since=2025-01-31T00:00:00Z&until=2025-02-01T00:00:00Z&format=csv' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const manifest = JSON.parse(Buffer.from(String(res.headers[manifestHeader]), 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ service: 'spam-filter', format: 'csv', rows: 1, labels: { appeal: 1 }, createdBy: 'audrey', window: { since: '2025-01-31T00:00:00.000Z', until: '2025-02-01T00:00:00.000Z' } });
    expect(createHash('sha256').update(res.rawPayload).digest('hex')).toBe(manifest.sha256);
    expect(res.body).toContain('"a,""b"""');
    const events = await store.audit.list({ limit: 10, action: 'dataset.exported' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: { principal: 'audrey', role: 'auditor' }, service: 'spam-filter', after: { rows: 1, sha256: manifest.sha256, window: manifest.window } });
  });

  it('refuses an unknown service, since ≥ until, a bad format, with problem details that point at the parameter', async () => {
    const get = (url: string) => app.inject({ method: 'GET', url });
    const unknown = await get('/v1/services/nope/dataset?since=2025-01-01T00:00:00Z&until=2025-01-02T00:00:00Z');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'SERVICE_NOT_FOUND' });
    const backwards = await get('/v1/services/spam-filter/dataset?since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z');
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json()).toMatchObject({ code: 'REQUEST_INVALID', issues: [{ pointer: '/since' }] });
    const format = await get('/v1/services/spam-filter/dataset?since=2025-01-01T00:00:00Z&until=2025-01-02T00:00:00Z&format=xml');
    expect(format.json()).toMatchObject({ code: 'REQUEST_INVALID', issues: [{ pointer: '/format' }] });
    expect(await store.audit.list({ limit: 10, action: 'dataset.exported' })).toHaveLength(0);
  });
});
