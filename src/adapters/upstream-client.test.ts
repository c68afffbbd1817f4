import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from '../../test/fakes/fake-server.js';
import { BallastError } from '../errors/index.js';
import { createUpstreamClient } from './upstream-client.js';

const signal = (): AbortSignal => AbortSignal.timeout(5_000);
let fake: FakeServer | undefined;
afterEach(async () => fake?.close());

async function rejection(promise: Promise<unknown>): Promise<BallastError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(BallastError);
  return error as BallastError;
}

const echo = {
  answer: (request: { path: string; body: unknown }) => ({ status: 200, body: { path: request.path, padding: 'x'.repeat(2_000), got: request.body } }),
  errorBody: (_status: number, message: string) => ({ error: message }),
  wrongShape: {},
};

describe('upstream client', () => {
  it('appends the path to the base path and keeps the base query', async () => {
    fake = await startFakeServer(echo);
    const client = createUpstreamClient({ name: 'test upstream', baseUrl: `${fake.url}/openai/v1/?api-version=2024-06-01` });
    const answer = (await client.sendJson({ method: 'POST', path: '/chat/completions', body: { a: 1 }, signal: signal() })) as { path: string; got: unknown };
    expect(answer.path).toBe('/openai/v1/chat/completions?api-version=2024-06-01');
    expect(answer.got).toEqual({ a: 1 });
    expect(fake.received[0]?.headers['content-type']).toBe('application/json');
    await client.close();
  });

  it('sends a request for the bare origin to /', async () => {
    fake = await startFakeServer(echo);
    const client = createUpstreamClient({ name: 'test upstream', baseUrl: fake.url });
    const answer = (await client.sendJson({ method: 'POST', path: '', body: {}, signal: signal() })) as { path: string };
    expect(answer.path).toBe('/');
    await client.close();
  });

  it('refuses an answer whose declared length exceeds the limit, without reading it', async () => {
    fake = await startFakeServer(echo);
    const client = createUpstreamClient({ name: 'test upstream', baseUrl: fake.url, maxResponseBytes: 1_000 });
    const error = await rejection(client.sendJson({ method: 'POST', path: '/', body: {}, signal: signal() }));
    expect(error.code).toBe('UPSTREAM_MALFORMED_RESPONSE');
    expect(error.detail).toMatch(/declares \d+ bytes, more than the 1000-byte limit/);
    await client.close();
  });

  it('refuses an answer that is not UTF-8', async () => {
    const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0x22, 0xff, 0xfe, 0x22])));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createUpstreamClient({ name: 'test upstream', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const error = await rejection(client.sendJson({ method: 'GET', path: '/', signal: signal() }));
    expect(error.code).toBe('UPSTREAM_MALFORMED_RESPONSE');
    expect(error.detail).toContain('UTF-8');
    await client.close();
    server.closeAllConnections();
    server.close();
  });

  it.each(['ftp://127.0.0.1/model', 'not a url', 'http://user:secret@127.0.0.1/model'])('refuses the base URL %s as CONFIG_INVALID', (baseUrl) => {
    expect(() => createUpstreamClient({ name: 'test upstream', baseUrl })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('never puts credentials or query into error details', async () => {
    const client = createUpstreamClient({ name: 'test upstream', baseUrl: 'http://127.0.0.1:1/v1?key=sk-secret' });
    const error = await rejection(client.sendJson({ method: 'GET', path: '/models', signal: signal() }));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.detail).not.toContain('sk-secret');
    await client.close();
  });
});

describe('connections to an upstream', () => {
  it('are bounded: a hanging upstream never has more than maxConnections sockets open, and the calls beyond wait and time out', async () => {
    const net = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    let open = 0;
    let mostOpen = 0;
    const blackHole = net.createServer((socket) => {
      mostOpen = Math.max(mostOpen, ++open);
      sockets.add(socket);
      socket.on('close', () => open--);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const client = createUpstreamClient({ name: 'test upstream', baseUrl: `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`, maxConnections: 4 });
    const calls = Array.from({ length: 40 }, () => rejection(client.sendJson({ method: 'POST', path: '/', body: {}, signal: AbortSignal.timeout(600) })));
    // While all 40 wait (none has timed out yet), 4 sockets are open and 36 calls queue for them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mostOpen).toBe(4);
    expect(open).toBe(4);
    const errors = await Promise.all(calls);
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['UPSTREAM_TIMEOUT']));
    await client.close();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  });
});
