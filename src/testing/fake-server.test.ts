// The behaviours of the fakes, seen from a client on real loopback HTTP: timing of drips, a reset
// after a partial body, sequences, recoveries, and each protocol's contract violation.

import net from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultViolation,
  startFakeHttpModel,
  startFakeKServeV2,
  startFakeOpenAI,
  startFakeServer,
  type FakeBehaviour,
  type FakeServer,
} from './index.js';

let fakes: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  fakes = [];
});
const track = <T extends FakeServer>(fake: T): T => (fakes.push(fake), fake);

const predict = (url: string, text = 'hello') =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }), headersTimeout: 10_000, bodyTimeout: 10_000 });

async function statusOf(url: string): Promise<number> {
  const response = await predict(url);
  await response.body.text();
  return response.statusCode;
}

/** Sends one request on a raw socket and records when each byte of the answer arrived (ms after sending). */
function rawExchange(url: string, body: string): Promise<{ text: string; arrivals: number[] }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const started = performance.now();
    const arrivals: number[] = [];
    const chunks: Buffer[] = [];
    socket.setNoDelay(true);
    socket.on('connect', () => {
      socket.write(`POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    socket.on('data', (chunk: Buffer) => {
      const at = performance.now() - started;
      for (let i = 0; i < chunk.length; i += 1) arrivals.push(at);
      chunks.push(chunk);
    });
    socket.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), arrivals }));
    socket.on('error', reject);
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const gaps = (times: number[]): number[] => times.slice(1).map((time, i) => time - (times[i] as number));

describe('drip', () => {
  it('headers: the status line and headers arrive one byte every intervalMs', async () => {
    const fake = track(await startFakeHttpModel());
    fake.behaviour = { kind: 'drip', phase: 'headers', intervalMs: 10 };
    const { text, arrivals } = await rawExchange(fake.url, '{"text":"hello"}');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nconnection: close\r\n/);
    expect(text.endsWith('{"label":"ham","score":0.8,"explanation":[]}')).toBe(true);
    // The status line alone is 17 bytes: it cannot be complete before about 17 intervals.
    expect(arrivals[16]).toBeGreaterThanOrEqual(17 * 10 * 0.9);
    const headEnd = text.indexOf('\r\n\r\n') + 4;
    expect(arrivals[headEnd - 1]).toBeGreaterThanOrEqual(headEnd * 10 * 0.9);
    expect(median(gaps(arrivals))).toBeGreaterThanOrEqual(8);
    expect(median(gaps(arrivals))).toBeLessThan(40);
  });

  it('body: headers at once with Content-Length, then the body one byte every intervalMs', async () => {
    const fake = track(await startFakeHttpModel());
    fake.behaviour = { kind: 'drip', phase: 'body', intervalMs: 20 };
    const started = performance.now();
    const response = await predict(fake.url);
    const headersAt = performance.now() - started;
    const expected = '{"label":"ham","score":0.8,"explanation":[]}';
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(expected.length));
    expect(headersAt).toBeLessThan(200);
    const arrivals: number[] = [];
    const chunks: Buffer[] = [];
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i += 1) arrivals.push(performance.now() - started);
      chunks.push(chunk);
    }
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
    expect(arrivals.at(-1)).toBeGreaterThanOrEqual(expected.length * 20 * 0.9);
    expect(median(gaps(arrivals))).toBeGreaterThanOrEqual(16);
    expect(median(gaps(arrivals))).toBeLessThan(60);
  });

  it('keeps the connection usable after a body drip (keep-alive)', async () => {
    const fake = track(await startFakeHttpModel());
    fake.behaviour = { kind: 'sequence', steps: [{ kind: 'drip', phase: 'body', intervalMs: 1 }, { kind: 'normal' }] };
    expect([await statusOf(fake.url), await statusOf(fake.url)]).toEqual([200, 200]);
  });
});

describe('reset-mid-body', () => {
  it('sends 200 with the full Content-Length and half the body, then resets: the client gets a socket error', async () => {
    const fake = track(await startFakeHttpModel());
    fake.behaviour = { kind: 'reset-mid-body' };
    const full = Buffer.byteLength('{"label":"ham","score":0.8,"explanation":[]}');
    const response = await predict(fake.url);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(full));
    let received = 0;
    const error = await (async () => {
      for await (const chunk of response.body as AsyncIterable<Buffer>) received += chunk.length;
    })().then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    expect(received).toBe(Math.floor(full / 2));
  });
});

describe('sequence and first', () => {
  it('sequence: request i gets steps[i % steps.length], so [fault, normal] fails every other call', async () => {
    const fake = track(await startFakeHttpModel());
    fake.behaviour = { kind: 'sequence', steps: [{ kind: 'status', status: 503 }, { kind: 'normal' }] };
    const statuses: number[] = [];
    for (let call = 0; call < 6; call += 1) statuses.push(await statusOf(fake.url));
    expect(statuses).toEqual([503, 200, 503, 200, 503, 200]);
  });

  it('first: fails the first count calls, then recovers (after defaults to normal)', async () => {
    const fake = track(await startFakeHttpModel());
    fake.behaviour = { kind: 'first', count: 3, behaviour: { kind: 'status', status: 500 } };
    const statuses: number[] = [];
    for (let call = 0; call < 5; call += 1) statuses.push(await statusOf(fake.url));
    expect(statuses).toEqual([500, 500, 500, 200, 200]);
  });

  it('nests, counting only the requests that reach each part, and restarts its counts when reassigned', async () => {
    const fake = track(await startFakeHttpModel());
    const behaviour: FakeBehaviour = {
      kind: 'first',
      count: 2,
      behaviour: { kind: 'status', status: 429, retryAfter: '1' },
      after: { kind: 'sequence', steps: [{ kind: 'normal' }, { kind: 'status', status: 502 }] },
    };
    fake.behaviour = behaviour;
    const statuses: number[] = [];
    for (let call = 0; call < 6; call += 1) statuses.push(await statusOf(fake.url));
    expect(statuses).toEqual([429, 429, 200, 502, 200, 502]);
    fake.behaviour = behaviour;
    expect(await statusOf(fake.url)).toBe(429);
  });

  it('refuses behaviours it could not follow when they are assigned', async () => {
    const fake = track(await startFakeHttpModel());
    expect(() => (fake.behaviour = { kind: 'sequence', steps: [] })).toThrow(RangeError);
    expect(() => (fake.behaviour = { kind: 'first', count: -1, behaviour: { kind: 'hang' } })).toThrow(RangeError);
    expect(() => (fake.behaviour = { kind: 'sequence', steps: [{ kind: 'drip', phase: 'body', intervalMs: Number.NaN }] })).toThrow(RangeError);
    expect(fake.behaviour).toEqual({ kind: 'normal' });
  });
});

describe('violate', () => {
  it('http: a well-formed answer whose label has the wrong type; other requests are unchanged', async () => {
    const fake = track(await startFakeHttpModel());
    fake.behaviour = { kind: 'violate' };
    const response = await predict(fake.url, 'win a free phone');
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({ label: 42, score: 0.9, explanation: [] });
    expect(await statusOf(fake.url.replace('/predict', '/other'))).toBe(404);
  });

  it('http: the violation can be given per fake', async () => {
    const fake = track(await startFakeHttpModel({ violation: () => ({ label: 'maybe', score: 0.5, explanation: [] }) }));
    fake.behaviour = { kind: 'violate' };
    expect(await (await predict(fake.url)).body.json()).toEqual({ label: 'maybe', score: 0.5, explanation: [] });
  });

  it('openai: a valid completion whose content is {"label":42}; the models list is unchanged', async () => {
    const fake = track(await startFakeOpenAI({ apiKey: 'sk-test' }));
    fake.behaviour = { kind: 'violate' };
    const headers = { authorization: 'Bearer sk-test', 'content-type': 'application/json' };
    const body = JSON.stringify({ model: 'fake-gpt', messages: [{ role: 'user', content: 'hi' }], logprobs: true });
    const response = await request(`${fake.url}/chat/completions`, { method: 'POST', headers, body });
    const answer = (await response.body.json()) as { choices: { message: { content: string }; finish_reason: string; logprobs: { content: { token: string }[] } }[] };
    expect(response.statusCode).toBe(200);
    expect(answer.choices[0]?.message.content).toBe('{"label":42}');
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(answer.choices[0]?.logprobs.content.map((t) => t.token).join('')).toBe('{"label":42}');
    const models = await request(`${fake.url}/models`, { headers });
    expect(((await models.body.json()) as { data: { id: string }[] }).data[0]?.id).toBe('fake-gpt');
  });

  it('openai: the violation can be given per fake', async () => {
    const fake = track(await startFakeOpenAI({ violation: { content: { label: 'maybe' } } }));
    fake.behaviour = { kind: 'violate' };
    const body = JSON.stringify({ model: 'fake-gpt', messages: [{ role: 'user', content: 'hi' }] });
    const answer = (await (await request(`${fake.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).body.json()) as {
      choices: { message: { content: string } }[];
    };
    expect(answer.choices[0]?.message.content).toBe('{"label":"maybe"}');
  });

  it('kserve-v2: a valid inference answer whose label tensor says "maybe"; readiness is unchanged', async () => {
    const fake = track(await startFakeKServeV2());
    fake.behaviour = { kind: 'violate' };
    const body = JSON.stringify({ id: 'r1', inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['win a free phone'] }] });
    const response = await request(`${fake.url}/v2/models/spam-classifier/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({
      model_name: 'spam-classifier',
      model_version: '1',
      id: 'r1',
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [1], data: ['maybe'] },
        { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.125, 0.875] },
      ],
    });
    const ready = await request(`${fake.url}/v2/models/spam-classifier/ready`);
    expect(await ready.body.json()).toEqual({ name: 'spam-classifier', ready: true });
  });

  it('kserve-v2: the violation can be given per fake', async () => {
    const fake = track(await startFakeKServeV2(undefined, { violation: (outputs) => outputs.map((t) => (t.name === 'probabilities' ? { ...t, data: [0.5, 0.5] } : t)) }));
    fake.behaviour = { kind: 'violate' };
    const body = JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['hello'] }], outputs: [{ name: 'probabilities' }] });
    const answer = (await (await request(`${fake.url}/v2/models/spam-classifier/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).body.json()) as {
      outputs: { data: number[] }[];
    };
    expect(answer.outputs).toHaveLength(1);
    expect(answer.outputs[0]?.data).toEqual([0.5, 0.5]);
  });

  it('a protocol without its own violation answers defaultViolation', async () => {
    const fake = track(await startFakeServer({ answer: () => ({ status: 200, body: { ok: true } }), errorBody: (_s, message) => ({ message }), wrongShape: [] }));
    fake.behaviour = { kind: 'violate' };
    expect(await (await request(fake.url, { method: 'POST', body: '{}' })).body.json()).toEqual(defaultViolation);
  });
});
