// Identity and access end to end (in process): keys, the RBAC matrix over every documented route,
// denials audited, revocation, rotation, rate limiting of failed authentications.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolePermissions, roles, type Role } from '../src/governance/index.js';
import { buildOpenApiDocument, routePermissions } from '../src/server/index.js';
import { startTestBallast, type TestBallast } from './helpers/test-ballast.js';

const admin = { actor: { principal: 'test', keyId: null, role: 'admin' } };

describe('API keys and roles', () => {
  let t: TestBallast;
  const tokens = new Map<string, string>();
  let decisionId = '';

  const call = (method: string, url: string, token?: string, payload?: unknown) =>
    t.server.app.inject({
      method: method as 'GET',
      url,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });

  beforeAll(async () => {
    t = await startTestBallast(undefined, { auth: 'keys' });
    for (const role of roles) tokens.set(role, (await t.server.keys.create({ principal: `p-${role}`, role }, admin)).token);
    tokens.set('decider-other', (await t.server.keys.create({ principal: 'p-other', role: 'decider', service: 'loans' }, admin)).token);
    const decided = await call('POST', '/v1/services/loans/decisions', tokens.get('decider'), { input: { text: 'hello', amount: 500 } });
    expect(decided.statusCode).toBe(200);
    decisionId = decided.json().id;
  });
  afterAll(() => t.close());

  it('refuses a request without a key (401 AUTH_REQUIRED) and with a wrong one (401 AUTH_INVALID_KEY), as problem documents', async () => {
    const none = await call('GET', '/v1/services');
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(none.json().code).toBe('AUTH_REQUIRED');
    const good = tokens.get('viewer')!;
    const wrong = `${good.slice(0, -4)}AAAA`;
    const bad = await call('GET', '/v1/services', wrong);
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toBe('AUTH_INVALID_KEY');
    // The probes and the API description need no key.
    expect((await call('GET', '/healthz')).statusCode).toBe(200);
    expect((await call('GET', '/v1/openapi.json')).statusCode).toBe(200);
  });

  it('every route of the OpenAPI document is in the permission table and the other way round', () => {
    const document = buildOpenApiDocument({ version: 't', services: t.runtime.services });
    // A service's own typed decision path (/v1/services/loans/decisions, `x-ballast-service`) is an alias of the templated route.
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.entries(ops).filter(([, op]) => !('x-ballast-service' in op)).map(([m]) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`));
    expect(documented.sort()).toEqual(Object.keys(routePermissions).sort());
    const decide = document.paths['/v1/services/{service}/decisions']!.post as unknown as Record<string, unknown>;
    expect(decide['x-ballast-permission']).toEqual({ permission: 'decisions:create', scope: 'service', roles: ['decider', 'admin'] });
  });

  it('walks every documented route with every role: allowed is never 401/403, denied is 403 AUTH_FORBIDDEN and audited', async () => {
    const document = buildOpenApiDocument({ version: 't', services: t.runtime.services });
    const keyId = (await t.server.keys.list())[0]!.id;
    const params: Record<string, string> = { service: 'loans', id: decisionId, monitor: 'input_drift', name: 'default' };
    const bodies: Record<string, unknown> = {
      'POST /v1/services/:service/decisions': { input: { text: 'hello', amount: 500 } },
      'POST /v1/decisions/:id/feedback': { kind: 'label', value: { label: 'approve' } },
      'POST /v1/services/:service/monitors/evaluate': {},
      'POST /v1/services/:service/references': { since: '2020-01-01T00:00:00Z', until: '2020-01-02T00:00:00Z' },
      'POST /v1/keys': { principal: 'matrix', role: 'viewer' },
      'POST /v1/keys/:id/rotate': { grace: '1h' },
    };
    let denials = 0;
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if ('x-ballast-service' in op) continue; // an alias of the templated decision route, walked there
        const pattern = `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
        const rule = routePermissions[pattern]!;
        for (const role of roles) {
          // Revoking or rotating would end the key that the walk uses next.
          const id = pattern.startsWith('POST /v1/keys/:id') ? (await t.server.keys.create({ principal: 'victim', role: 'viewer' }, admin)).key.id : pattern.includes('/keys/') ? keyId : params.id!;
          const url = path.replace(/\{([^}]+)\}/g, (_, p: string) => encodeURIComponent(p === 'id' ? id : params[p]!)) + (pattern === 'GET /v1/audit/proofs/consistency' ? '?from=1&to=2' : '');
          const response = await call(method.toUpperCase(), url, tokens.get(role), bodies[pattern]);
          const allowed = rule.access !== 'permission' || rolePermissions[role as Role].includes(rule.permission);
          if (allowed) {
            expect([401, 403], `${role} ${pattern} → ${response.statusCode} ${response.body.slice(0, 200)}`).not.toContain(response.statusCode);
          } else {
            denials += 1;
            expect(response.statusCode, `${role} ${pattern}`).toBe(403);
            expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
            expect(response.json().code).toBe('AUTH_FORBIDDEN');
          }
        }
      }
    }
    expect(denials).toBeGreaterThan(50);
    const audited = await t.runtime.store.audit.list({ action: 'access.denied', limit: 1000 });
    expect(audited.length).toBe(denials);
    expect(audited[0]!.actor.role).toMatch(/^[a-z]+$/);
  });

  it('a key granted on one service is refused on another service and on global routes', async () => {
    const token = tokens.get('decider-other')!;
    expect((await call('POST', '/v1/services/loans/decisions', token, { input: { text: 'x', amount: 200 } })).statusCode).toBe(200);
    const elsewhere = await call('POST', '/v1/services/other/decisions', token, { input: { text: 'x', amount: 200 } });
    expect(elsewhere.statusCode).toBe(403);
  });

  it('decisions come without their input and context; auditors may ask for them (view=raw), and that read is audited', async () => {
    const viewer = (await call('GET', `/v1/decisions/${decisionId}`, tokens.get('viewer'))).json();
    expect(viewer.input).toBeUndefined();
    expect(viewer.withheld).toEqual(['input', 'context']);
    const refused = await call('GET', `/v1/decisions/${decisionId}?view=raw`, tokens.get('viewer'));
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('AUTH_FORBIDDEN');
    const before = await t.runtime.store.audit.list({ action: 'decision.read_raw', resourceId: decisionId, limit: 100 });
    // An auditor's plain read is redacted too, and not a raw read.
    expect((await call('GET', `/v1/decisions/${decisionId}`, tokens.get('auditor'))).json().withheld).toEqual(['input', 'context']);
    const auditor = (await call('GET', `/v1/decisions/${decisionId}?view=raw`, tokens.get('auditor'))).json();
    expect(auditor.input).toMatchObject({ text: 'hello' });
    const reads = await t.runtime.store.audit.list({ action: 'decision.read_raw', resourceId: decisionId, limit: 100 });
    expect(reads.length).toBe(before.length + 1);
    expect(reads.some((e) => e.actor.principal === 'p-auditor')).toBe(true);
    expect((await call('GET', `/v1/decisions/${decisionId}?view=everything`, tokens.get('auditor'))).json().issues[0].pointer).toBe('/view');
  });

  it('feedback is recorded with who sent it, in the same transaction', async () => {
    const sent = await call('POST', `/v1/decisions/${decisionId}/feedback`, tokens.get('labeler'), { kind: 'label', value: { label: 'deny' } });
    expect(sent.statusCode).toBe(201);
    const [event] = await t.runtime.store.audit.list({ action: 'feedback.received', resourceId: sent.json().id, limit: 10 });
    expect(event).toMatchObject({ actor: { principal: 'p-labeler', role: 'labeler' }, service: 'loans' });
    expect(event!.afterDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(event!.after)).not.toContain('deny');
  });

  it('creates, revokes and rotates keys through the API, each audited; a revoked key is refused at once', async () => {
    const created = await call('POST', '/v1/keys', tokens.get('admin'), { principal: 'ci-bot', role: 'decider', expires: '90d' });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expect(token).toMatch(/^bk_[0-9a-z]{10}_[A-Za-z0-9_-]{43}$/);
    expect((await call('GET', '/v1/whoami', token)).json()).toMatchObject({ principal: 'ci-bot', role: 'decider', keyId: id });
    const listed = (await call('GET', '/v1/keys', tokens.get('admin'))).body;
    expect(listed).not.toContain(token.slice(14));
    expect(listed).not.toContain('secretHash');

    const rotated = await call('POST', `/v1/keys/${id}/rotate`, tokens.get('admin'), { grace: '1h' });
    expect(rotated.statusCode).toBe(201);
    const next = rotated.json();
    expect(next.previous.status).toBe('rotated');
    // Both work during the grace period.
    expect((await call('GET', '/v1/whoami', token)).statusCode).toBe(200);
    expect((await call('GET', '/v1/whoami', next.token)).statusCode).toBe(200);

    expect((await call('POST', `/v1/keys/${id}/revoke`, tokens.get('admin'))).statusCode).toBe(200);
    expect((await call('GET', '/v1/whoami', token)).json().code).toBe('AUTH_INVALID_KEY');
    const actions = (await t.runtime.store.audit.list({ limit: 1000 })).filter((e) => e.resource.id === id).map((e) => e.action);
    expect(actions).toEqual(['key.created', 'key.rotated', 'key.revoked']);
  });

  it('rate limits failed authentications per source and counts them in a metric', async () => {
    const wrong = 'bk_0000000000_' + 'A'.repeat(43);
    const codes: string[] = [];
    for (let i = 0; i < 25; i++) codes.push((await t.server.app.inject({ method: 'GET', url: '/v1/services', remoteAddress: '10.9.9.9', headers: { authorization: `Bearer ${wrong}` } })).json().code);
    expect(codes.slice(0, 20).every((c) => c === 'AUTH_INVALID_KEY')).toBe(true);
    expect(codes.at(-1)).toBe('AUTH_RATE_LIMITED');
    const limited = await t.server.app.inject({ method: 'GET', url: '/v1/services', remoteAddress: '10.9.9.9', headers: { authorization: `Bearer ${tokens.get('viewer')}` } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another source is not affected.
    expect((await t.server.app.inject({ method: 'GET', url: '/v1/services', remoteAddress: '10.9.9.8', headers: { authorization: `Bearer ${tokens.get('viewer')}` } })).statusCode).toBe(200);
    const metrics = await t.server.metrics.registry.metrics();
    expect(metrics).toMatch(/ballast_auth_failures_total\{reason="invalid"\} (2\d|[3-9]\d)/);
    expect(metrics).toMatch(/ballast_auth_failures_total\{reason="rate_limited"\} [1-9]/);
  });
});
