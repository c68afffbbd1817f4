import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBallast, type TestBallast } from './helpers/test-ballast.js';

let ballast: TestBallast;
beforeAll(async () => {
  ballast = await startTestBallast();
});
afterAll(async () => {
  await ballast.close();
});

const url = '/v1/services/loans/decisions';
const json = { 'content-type': 'application/json' };

async function send(payload: string | Buffer | undefined, headers: Record<string, string> = json) {
  const response = await ballast.server.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
  return { status: response.statusCode, type: response.headers['content-type'], body: response.json() as Record<string, unknown> & { issues?: Array<{ pointer: string; code: string; message: string }> } };
}

const valid = JSON.stringify({ input: { text: 'hello there', amount: 500 } });

describe('bad input gets a clear 4xx problem and the server keeps serving', () => {
  const cases: Array<{ name: string; payload: string | Buffer | undefined; headers?: Record<string, string>; status: number; code: string; pointer?: string }> = [
    { name: 'empty body', payload: '', status: 400, code: 'REQUEST_MALFORMED_JSON' },
    { name: 'null', payload: 'null', status: 400, code: 'REQUEST_INVALID', pointer: '' },
    { name: 'an array where an object belongs', payload: '[1,2]', status: 400, code: 'REQUEST_INVALID', pointer: '' },
    { name: 'input that is an array', payload: JSON.stringify({ input: [1] }), status: 422, code: 'CONTRACT_INVALID_INPUT', pointer: '/input' },
    { name: 'input that is null', payload: JSON.stringify({ input: null }), status: 422, code: 'CONTRACT_INVALID_INPUT', pointer: '/input' },
    { name: 'wrong content type', payload: valid, headers: { 'content-type': 'text/plain' }, status: 415, code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'missing content type', payload: valid, headers: {}, status: 415, code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a charset other than UTF-8', payload: valid, headers: { 'content-type': 'application/json; charset=latin1' }, status: 415, code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'malformed JSON', payload: '{"input": {"text": "a",}}', status: 400, code: 'REQUEST_MALFORMED_JSON' },
    { name: 'invalid UTF-8', payload: Buffer.concat([Buffer.from('{"input":{"text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","amount":5}}')]), status: 400, code: 'REQUEST_INVALID_ENCODING' },
    { name: 'a byte order mark', payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]), status: 400, code: 'REQUEST_MALFORMED_JSON' },
    { name: '__proto__ key', payload: '{"input":{"text":"a","amount":5,"__proto__":{"polluted":true}}}', status: 400, code: 'REQUEST_FORBIDDEN_KEY', pointer: '/input/__proto__' },
    { name: 'constructor.prototype key', payload: '{"input":{"text":"a","amount":5},"context":{"constructor":{"prototype":{"polluted":true}}}}', status: 400, code: 'REQUEST_FORBIDDEN_KEY' },
    { name: 'a number too large for JSON to carry', payload: '{"input":{"text":"a","amount":1e400}}', status: 400, code: 'REQUEST_MALFORMED_JSON' },
    { name: 'a number outside the contract range', payload: JSON.stringify({ input: { text: 'a', amount: -5 } }), status: 422, code: 'CONTRACT_INVALID_INPUT', pointer: '/input/amount' },
    { name: 'a missing required field', payload: JSON.stringify({ input: { amount: 5 } }), status: 422, code: 'CONTRACT_INVALID_INPUT', pointer: '/input/text' },
    { name: 'a decision request without input', payload: JSON.stringify({ inptu: {} }), status: 400, code: 'REQUEST_INVALID', pointer: '/input' },
    { name: 'a string over the limit', payload: JSON.stringify({ input: { text: 'x'.repeat(1_000_001), amount: 5 } }), status: 400, code: 'REQUEST_STRING_TOO_LONG', pointer: '/input/text' },
    { name: 'an array over the limit', payload: JSON.stringify({ input: { text: 'a', amount: 5 }, context: { list: new Array(10_001).fill(0) } }), status: 400, code: 'REQUEST_ARRAY_TOO_LONG', pointer: '/context/list' },
    { name: '10,000 levels of nesting', payload: '{"input":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}', status: 400, code: 'REQUEST_NESTING_TOO_DEEP' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const answer = await send(c.payload, c.headers);
      expect(answer.status).toBe(c.status);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body.code).toBe(c.code);
      expect(answer.body.status).toBe(c.status);
      expect(typeof answer.body.detail).toBe('string');
      expect(answer.body.type).toBe(`urn:ballast:problem:${c.code}`);
      if (c.pointer !== undefined) expect(answer.body.issues?.map((i) => i.pointer)).toContain(c.pointer);
      // The server keeps serving after every bad request.
      expect((await send(valid)).status).toBe(200);
    });
  }

  it('a 50 MB body → 413 REQUEST_BODY_TOO_LARGE', async () => {
    const answer = await send(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('REQUEST_BODY_TOO_LARGE');
    expect((await send(valid)).status).toBe(200);
  });

  it('lists every contract violation, each with a pointer and a keyword code', async () => {
    const answer = await send(JSON.stringify({ input: { text: 7, amount: 'many', extra: true } }));
    expect(answer.status).toBe(422);
    const issues = answer.body.issues!.map((i) => `${i.pointer} ${i.code}`).sort();
    expect(issues).toEqual(['/input/amount type', '/input/extra additionalProperties', '/input/text type']);
  });

  it('never pollutes Object.prototype', async () => {
    await send('{"input":{"text":"a","amount":5},"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers unknown routes and services with problem documents', async () => {
    const route = await ballast.server.app.inject({ method: 'GET', url: '/v1/nope' });
    expect(route.statusCode).toBe(404);
    expect(route.json().code).toBe('ROUTE_NOT_FOUND');
    const service = await ballast.server.app.inject({ method: 'POST', url: '/v1/services/nope/decisions', headers: json, payload: valid });
    expect(service.statusCode).toBe(404);
    expect(service.json().code).toBe('SERVICE_NOT_FOUND');
  });
});

describe('what the router and the HTTP parser refuse is a problem document too', () => {
  it('a path segment over 100 characters: 414 REQUEST_URI_TOO_LONG', async () => {
    const response = await ballast.server.app.inject({ method: 'GET', url: `/v1/decisions/dec_${'a'.repeat(101)}` });
    expect(response.statusCode).toBe(414);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'REQUEST_URI_TOO_LONG', status: 414, retryable: false });
  });

  it('headers over 16 KiB on a real socket: 431 REQUEST_HEADERS_TOO_LARGE, then the connection closes, and the server keeps serving', async () => {
    const server = await startTestBallast();
    try {
      await server.server.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (server.server.app.server.address() as { port: number }).port;
      const net = await import('node:net');
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', () => undefined);
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 431 /);
      expect(head).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(body!)).toMatchObject({ code: 'REQUEST_HEADERS_TOO_LARGE', status: 431 });
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
