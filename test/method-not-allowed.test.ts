// A known path asked with a method it does not take: 405 METHOD_NOT_ALLOWED with Allow, as a
// problem document; an unknown path stays 404 ROUTE_NOT_FOUND.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBallast, type TestBallast } from './helpers/test-ballast.js';

let open: TestBallast;
let keyed: TestBallast;
beforeAll(async () => {
  open = await startTestBallast();
  keyed = await startTestBallast(undefined, { auth: 'keys' });
});
afterAll(async () => {
  await open.close();
  await keyed.close();
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

describe('405 METHOD_NOT_ALLOWED', () => {
  it.each<[Method, string, string]>([
    ['DELETE', '/v1/services', 'GET, HEAD'],
    ['POST', '/v1/services/', 'GET, HEAD'],
    ['PUT', '/v1/services/loans/decisions', 'POST'],
    ['GET', '/v1/services/loans/decisions?x=1', 'POST'],
    ['DELETE', '/v1/keys/bk_x', 'GET, HEAD'],
    ['PATCH', '/v1/decisions/dec_1/feedback', 'POST'],
    ['DELETE', '/v1/services/loans/monitors/evaluate', 'GET, HEAD, POST'],
    ['OPTIONS', '/healthz', 'GET, HEAD'],
  ])('%s %s answers 405 with Allow: %s', async (method, url, allow) => {
    const r = await open.server.app.inject({ method, url });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe(allow);
    expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const path = url.split('?')[0]!;
    expect(r.json()).toStrictEqual({
      type: 'urn:ballast:problem:METHOD_NOT_ALLOWED',
      title: 'The route does not accept this method',
      status: 405,
      detail: `${path} does not accept ${method}; it accepts ${allow}`,
      instance: url,
      code: 'METHOD_NOT_ALLOWED',
      retryable: false,
    });
  });

  it('an unknown path is still 404 ROUTE_NOT_FOUND, without Allow', async () => {
    for (const [method, url] of [['GET', '/v1/nope'], ['DELETE', '/v1/services/loans/nope'], ['GET', '/v1/services/loans/decisions/extra']] as const) {
      const r = await open.server.app.inject({ method, url });
      expect([r.statusCode, r.json().code], `${method} ${url}`).toStrictEqual([404, 'ROUTE_NOT_FOUND']);
      expect(r.headers.allow).toBeUndefined();
    }
  });

  it('with API keys: authentication first (401 without a key), then 405 for any valid key', async () => {
    const anonymous = await keyed.server.app.inject({ method: 'DELETE', url: '/v1/services' });
    expect([anonymous.statusCode, anonymous.json().code]).toStrictEqual([401, 'AUTH_REQUIRED']);
    const { token } = await keyed.server.keys.create({ principal: 'reader', role: 'viewer' }, { actor: { principal: 'test', keyId: null, role: 'admin' } });
    const r = await keyed.server.app.inject({ method: 'DELETE', url: '/v1/services', headers: { authorization: `Bearer ${token}` } });
    expect([r.statusCode, r.json().code, r.headers.allow]).toStrictEqual([405, 'METHOD_NOT_ALLOWED', 'GET, HEAD']);
  });
});
