// Overload over real loopback sockets: admission (concurrency limit, bounded priority queue, fast 503
// SERVER_BUSY), per-key rate limits (429 RATE_LIMITED with the IETF RateLimit fields), bounds that hold under
// a flood, and clients that go away mid-decision.
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmission, type Admission } from '../src/server/admission.js';
import { createPressureMonitor, type Priority } from '../src/resilience/index.js';
import { startFakeHttpModel, type FakeHttpModel } from '../src/testing/index.js';
import { startTestBallast, type TestBallast } from './helpers/test-ballast.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(2);
  }
}

/** The process is never under pressure here: admission's concurrency limit and queue are what is tested. */
const calmPressure = () => createPressureMonitor({}, { eventLoopDelayMs: () => 0, heapUsedRatio: () => 0 });

function serviceYaml(name: string, modelUrl: string, resilience: string): string {
  return `  ${name}:
    contract:
      version: 1
      input:
        schema: { type: object, required: [text], properties: { text: { type: string } } }
      output:
        schema: { type: object, required: [label], properties: { label: { enum: [spam, ham] } } }
    models:
      v1:
        adapter: { kind: http, url: ${JSON.stringify(modelUrl)}, request: { body: { text: '{{/text}}' } }, response: { output: '', confidence: /score } }
    live: v1
    resilience:
      retry: { attempts: 1 }
      breaker: { enabled: false }
${resilience}
`;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
  /** From sending to the answer's headers, ms. */
  readonly ms: number;
  readonly text: string;
}

let fake: FakeHttpModel;
let agent: Agent;
beforeAll(async () => {
  fake = await startFakeHttpModel();
  agent = new Agent({ connections: 1_000, keepAliveTimeout: 30_000 });
});
afterAll(async () => {
  await agent.close();
  await fake.close();
});

function decide(origin: string, service: string, text: string, options: { priority?: Priority; token?: string; signal?: AbortSignal; dispatcher?: Agent } = {}): Promise<Answer> {
  const started = performance.now();
  return request(`${origin}/v1/services/${service}/decisions`, {
    dispatcher: options.dispatcher ?? agent,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) },
    body: JSON.stringify({ input: { text }, ...(options.priority === undefined ? {} : { priority: options.priority }) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }).then(async (response) => {
    const ms = performance.now() - started;
    const body = (await response.body.json()) as Record<string, unknown>;
    return { status: response.statusCode, headers: response.headers, body, ms, text };
  });
}

async function decisionsOf(ballast: TestBallast, service: string): Promise<number> {
  const counts = await ballast.runtime.store.decisions.countByOutcome({ service });
  return Object.values(counts).reduce((sum, n) => sum + Number(n), 0);
}

function expectBusy(answer: Answer) {
  expect(answer.status).toBe(503);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ type: 'urn:ballast:problem:SERVER_BUSY', code: 'SERVER_BUSY', status: 503, retryable: true });
  expect(answer.headers['retry-after']).toMatch(/^[1-9]\d*$/);
}

describe('admission over a real socket', () => {
  let ballast: TestBallast;
  let admission: Admission;
  let origin = '';
  // Every admission decision is followed by a sample of the limiters, so that the bounds are checked at each step.
  const peak = new Map<string, { inFlight: number; queued: number }>();
  const sample = () => {
    for (const [name, s] of Object.entries(admission.snapshot())) {
      const p = peak.get(name) ?? { inFlight: 0, queued: 0 };
      peak.set(name, { inFlight: Math.max(p.inFlight, s.inFlight), queued: Math.max(p.queued, s.queued) });
    }
  };

  beforeAll(async () => {
    const yaml = `version: 1
services:
${serviceYaml('busy', fake.url, '      admission: { limit: { fixed: 4 }, queue: { size: 4, maxWaitMs: 300 } }')}
${serviceYaml('ranked', fake.url, '      admission: { limit: { fixed: 1 }, queue: { size: 4, maxWaitMs: 5000 } }')}
${serviceYaml('flood', fake.url, '      admission: { limit: { fixed: 8 }, queue: { size: 16, maxWaitMs: 500 } }')}
${serviceYaml('gone', fake.url, '      admission: { limit: { fixed: 1000 }, queue: { size: 0, maxWaitMs: 500 } }')}
`;
    ballast = await startTestBallast(yaml, {
      admission: (runtime) => {
        const inner = createAdmission(runtime.services, { pressure: calmPressure() });
        admission = {
          admit(service, req) {
            const result = inner.admit(service, req);
            sample();
            if (result instanceof Promise) void result.then(sample);
            return result;
          },
          snapshot: () => inner.snapshot(),
          close: () => inner.close(),
        };
        return admission;
      },
    });
    await ballast.server.app.listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${(ballast.server.app.server.address() as AddressInfo).port}`;
    // Warm up: connections in the client pool, and the served, queued and refused paths compiled (the first
    // bursts after start take several times longer than later ones).
    fake.behaviour = { kind: 'delay', ms: 20 };
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => decide(origin, 'busy', `warm ${round}.${i}`)));
      await until(() => admission.snapshot().busy!.inFlight === 0);
    }
  });
  afterAll(async () => {
    await ballast.close();
  });

  it('limit 4, queue 4: of 20 concurrent requests at most 8 are served; the rest get a fast 503 SERVER_BUSY, never reach the model and are not recorded', async () => {
    fake.behaviour = { kind: 'delay', ms: 200 };
    const modelBefore = fake.requests;
    const storedBefore = await decisionsOf(ballast, 'busy');
    peak.clear();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => decide(origin, 'busy', `burst ${i}`)));
    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    for (const answer of refused) expectBusy(answer);
    const queueFull = refused.filter((a) => /queue full/.test(String(a.body.detail)));
    console.info(
      `admission: ${served.length} served (${served.map((a) => a.ms.toFixed(0)).join(', ')} ms), ${refused.length} refused; queue-full refusals in ${Math.min(...queueFull.map((a) => a.ms)).toFixed(1)}–${Math.max(...queueFull.map((a) => a.ms)).toFixed(1)} ms`,
    );
    expect(served.length).toBeLessThanOrEqual(8);
    expect(served.length).toBeGreaterThanOrEqual(4);
    expect(queueFull.length).toBeGreaterThanOrEqual(12);
    // Refused at once, not after the model's 200 ms.
    for (const answer of queueFull) expect(answer.ms).toBeLessThan(50);
    expect(peak.get('busy')!.inFlight).toBeLessThanOrEqual(4);
    expect(peak.get('busy')!.queued).toBeLessThanOrEqual(4);
    // The model saw exactly the admitted requests, and only they were recorded.
    expect(fake.requests - modelBefore).toBe(served.length);
    const seen = new Set(fake.received.slice(modelBefore).map((r) => (r.body as { text: string }).text));
    for (const answer of refused) expect(seen.has(answer.text)).toBe(false);
    expect((await decisionsOf(ballast, 'busy')) - storedBefore).toBe(served.length);
  });

  it('a queued request that waits longer than maxWaitMs (300 ms) is refused with 503 SERVER_BUSY, unrecorded', async () => {
    fake.behaviour = { kind: 'delay', ms: 700 };
    const modelBefore = fake.requests;
    const storedBefore = await decisionsOf(ballast, 'busy');
    const inFlight = Array.from({ length: 4 }, (_, i) => decide(origin, 'busy', `long ${i}`));
    await until(() => admission.snapshot().busy!.inFlight === 4);
    const queued = await Promise.all(Array.from({ length: 4 }, (_, i) => decide(origin, 'busy', `waiting ${i}`)));
    for (const answer of queued) {
      expectBusy(answer);
      expect(answer.body.detail).toMatch(/wait timeout/);
      expect(answer.ms).toBeGreaterThanOrEqual(290);
      expect(answer.ms).toBeLessThan(600);
    }
    console.info(`wait timeout (300 ms): refused after ${queued.map((a) => a.ms.toFixed(0)).join(', ')} ms`);
    expect((await Promise.all(inFlight)).map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(fake.requests - modelBefore).toBe(4);
    expect((await decisionsOf(ballast, 'busy')) - storedBefore).toBe(4);
  });

  it('priority: with the queue full of low requests a high one displaces the newest low and is served first; highs are shed last', async () => {
    fake.behaviour = { kind: 'delay', ms: 150 };
    const modelBefore = fake.requests;
    const queuedCount = () => admission.snapshot().ranked!.queued;
    // Limit 1: one normal request in flight, then four low ones fill the queue.
    const first = decide(origin, 'ranked', 'normal 0');
    await until(() => admission.snapshot().ranked!.inFlight === 1);
    const lows: Promise<Answer>[] = [];
    for (let i = 1; i <= 4; i++) {
      lows.push(decide(origin, 'ranked', `low ${i}`, { priority: 'low' }));
      await until(() => queuedCount() === i);
    }
    // A high request displaces the newest low one, which is refused at once; the older lows still wait.
    const highs = [decide(origin, 'ranked', 'high 1', { priority: 'high' })];
    const displaced = await lows[3]!;
    expectBusy(displaced);
    expect(displaced.body.detail).toMatch(/shed/);
    expect(displaced.ms).toBeLessThan(50);
    expect(queuedCount()).toBe(4);
    // Three more highs displace the other lows, newest first: lows are always shed before highs.
    for (const i of [2, 3, 4]) {
      highs.push(decide(origin, 'ranked', `high ${i}`, { priority: 'high' }));
      const low = await lows[4 - i]!;
      expectBusy(low);
      expect(low.body.detail).toMatch(/shed/);
    }
    // Only highs are queued now: another high, a normal and a low are refused (queue full), the queued highs stay.
    for (const [text, priority] of [['high 5', 'high'], ['normal 5', 'normal'], ['low 5', 'low']] as const) {
      const answer = await decide(origin, 'ranked', text, { priority });
      expectBusy(answer);
      expect(answer.body.detail).toMatch(/queue full/);
      expect(answer.ms).toBeLessThan(50);
    }
    expect(queuedCount()).toBe(4);
    expect((await first).status).toBe(200);
    expect((await Promise.all(highs)).map((a) => a.status)).toEqual([200, 200, 200, 200]);
    // The model served the normal request, then the highs in their order; no low or refused request reached it.
    expect(fake.received.slice(modelBefore).map((r) => (r.body as { text: string }).text)).toEqual(['normal 0', 'high 1', 'high 2', 'high 3', 'high 4']);
  });

  it('nothing grows without bound: 2,000 requests at 200 concurrent against limit 8 / queue 16', async () => {
    fake.behaviour = { kind: 'delay', ms: 20 };
    const flood = async (total: number, concurrency: number) => {
      let next = 0;
      const tally = { served: 0, busy: 0, other: 0 };
      const sampler = setInterval(sample, 1);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) {
            const answer = await decide(origin, 'flood', `flood ${next++}`);
            if (answer.status === 200) tally.served++;
            else if (answer.status === 503 && answer.body.code === 'SERVER_BUSY') tally.busy++;
            else tally.other++;
          }
        }),
      );
      clearInterval(sampler);
      return { ...tally, ms: performance.now() - started };
    };
    await flood(500, 200);
    await until(() => admission.snapshot().flood!.inFlight === 0);
    const heap0 = heapAfterGc();
    const modelBefore = fake.requests;
    const storedBefore = await decisionsOf(ballast, 'flood');
    peak.clear();
    const round1 = await flood(2_000, 200);
    await until(() => admission.snapshot().flood!.inFlight === 0);
    const heap1 = heapAfterGc();
    const round2 = await flood(2_000, 200);
    await until(() => admission.snapshot().flood!.inFlight === 0);
    const heap2 = heapAfterGc();
    console.info(
      `flood: ${JSON.stringify(round1)}, ${JSON.stringify(round2)}; peak ${JSON.stringify(peak.get('flood'))}; heap after gc ${(heap0 / MB).toFixed(1)} → ${(heap1 / MB).toFixed(1)} → ${(heap2 / MB).toFixed(1)} MB`,
    );
    for (const round of [round1, round2]) {
      expect(round.other).toBe(0);
      expect(round.served + round.busy).toBe(2_000);
      expect(round.served).toBeGreaterThan(0);
      expect(round.busy).toBeGreaterThan(0);
    }
    expect(peak.get('flood')!.inFlight).toBeLessThanOrEqual(8);
    expect(peak.get('flood')!.queued).toBeLessThanOrEqual(16);
    expect(admission.snapshot().flood).toEqual({ limit: 8, inFlight: 0, queued: 0 });
    expect(fake.requests - modelBefore).toBe(round1.served + round2.served);
    expect((await decisionsOf(ballast, 'flood')) - storedBefore).toBe(round1.served + round2.served);
    // 4,000 requests later the heap is where it was after the first 500: nothing is kept per request.
    expect(heap1 - heap0).toBeLessThan(16 * MB);
    expect(heap2 - heap0).toBeLessThan(16 * MB);
  });

  it('clients that go away mid-decision: the server stays up, every decision whose model call started is completed and recorded, nothing leaks', async () => {
    fake.behaviour = { kind: 'delay', ms: 100 };
    const count = 500;
    const connections = () => new Promise<number>((resolve, reject) => ballast.server.app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    const resources = () => {
      const byType: Record<string, number> = {};
      for (const type of process.getActiveResourcesInfo()) byType[type] = (byType[type] ?? 0) + 1;
      return byType;
    };
    // Only this test's clients are connected from here on: the server's open connections must drop to 0.
    await agent.close();
    agent = new Agent({ connections: 1_000, keepAliveTimeout: 30_000 });
    // A first wave that is answered fills the adapter's upstream pool, so that the baseline includes it.
    const warm = new Agent({ connections: 1_000 });
    const warmed = await Promise.all(Array.from({ length: count }, (_, i) => decide(origin, 'gone', `warm ${i}`, { dispatcher: warm })));
    expect(warmed.every((a) => a.status === 200)).toBe(true);
    await warm.close();
    await until(async () => (await connections()) === 0);
    const before = resources();
    const heapBefore = heapAfterGc();
    const modelBefore = fake.requests;
    const storedBefore = await decisionsOf(ballast, 'gone');

    // Each request is aborted by its client as soon as the model has received it.
    const client = new Agent({ connections: 1_000 });
    const pending = new Map<string, AbortController>();
    const outcomes = Array.from({ length: count }, (_, i) => {
      const controller = new AbortController();
      pending.set(`gone ${i}`, controller);
      return decide(origin, 'gone', `gone ${i}`, { dispatcher: client, signal: controller.signal }).then(
        (answer) => ({ aborted: false, status: answer.status }),
        (error: Error) => ({ aborted: error.name === 'AbortError' || (error as { code?: string }).code === 'UND_ERR_ABORTED', status: 0 }),
      );
    });
    let seen = modelBefore;
    await until(() => {
      for (; seen < fake.requests; seen++) {
        const text = (fake.received[seen]!.body as { text: string }).text;
        pending.get(text)?.abort();
        pending.delete(text);
      }
      return pending.size === 0;
    });
    const settled = await Promise.all(outcomes);
    expect(settled.filter((o) => o.aborted)).toHaveLength(count);
    await client.close();

    // Every decision is completed and recorded although nobody waits for it.
    await until(async () => (await decisionsOf(ballast, 'gone')) - storedBefore === count);
    await until(() => admission.snapshot().gone!.inFlight === 0);
    expect(fake.requests - modelBefore).toBe(count);
    await until(async () => (await connections()) === 0);
    // The server still answers.
    const last = new Agent();
    const after = await decide(origin, 'gone', 'still there', { dispatcher: last });
    expect(after.status).toBe(200);
    await last.close();
    await until(async () => (await connections()) === 0);
    const heapAfter = heapAfterGc();
    const now = resources();
    console.info(`aborts: ${count} aborted after the model started, ${count} recorded; resources ${JSON.stringify(before)} → ${JSON.stringify(now)}; heap after gc ${(heapBefore / MB).toFixed(1)} → ${(heapAfter / MB).toFixed(1)} MB`);
    expect(now.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
    expect(now.Timeout ?? 0).toBeLessThanOrEqual((before.Timeout ?? 0) + 2);
    expect(heapAfter - heapBefore).toBeLessThan(16 * MB);
  });
});

describe('per-key rate limits over a real socket', () => {
  let ballast: TestBallast;
  let origin = '';
  const tokens: string[] = [];

  beforeAll(async () => {
    const yaml = `version: 1
services:
${serviceYaml('metered', fake.url, '      rateLimit: { perKey: { ratePerSecond: 2, burst: 3 } }')}
`;
    ballast = await startTestBallast(yaml, { auth: 'keys' });
    const admin = { actor: { principal: 'test', keyId: null, role: 'admin' } };
    for (const principal of ['caller-a', 'caller-b']) tokens.push((await ballast.server.keys.create({ principal, role: 'decider' }, admin)).token);
    await ballast.server.app.listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${(ballast.server.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await ballast.close();
  });

  it('key A spends its burst and gets 429 RATE_LIMITED with Retry-After, RateLimit-Policy and RateLimit; key B is still served; after the refill A is served again', async () => {
    fake.behaviour = { kind: 'normal' };
    const [a, b] = tokens as [string, string];
    const modelBefore = fake.requests;
    // burst 3 at 2 per second: a drained bucket fills in 2 s (w=2).
    for (const remaining of [2, 1, 0]) {
      const answer = await decide(origin, 'metered', 'from a', { token: a });
      expect(answer.status).toBe(200);
      expect(answer.headers['ratelimit-policy']).toBe('"metered";q=3;w=2');
      expect(answer.headers.ratelimit).toMatch(new RegExp(`^"metered";r=${remaining};t=[12]$`));
    }
    const limited = await decide(origin, 'metered', 'from a, too soon', { token: a });
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ type: 'urn:ballast:problem:RATE_LIMITED', code: 'RATE_LIMITED', status: 429, retryable: true });
    expect(limited.headers['retry-after']).toBe('1');
    // Structured Field Lists (draft-ietf-httpapi-ratelimit-headers): a string item with integer parameters.
    expect(limited.headers['ratelimit-policy']).toBe('"metered";q=3;w=2');
    expect(limited.headers.ratelimit).toBe('"metered";r=0;t=1');
    expect(limited.ms).toBeLessThan(50);

    const other = await decide(origin, 'metered', 'from b', { token: b });
    expect(other.status).toBe(200);
    expect(other.headers.ratelimit).toMatch(/^"metered";r=2;t=1$/);
    // The refused request reached neither the model nor the store.
    expect(fake.requests - modelBefore).toBe(4);
    expect(await decisionsOf(ballast, 'metered')).toBe(4);

    await sleep(Number(limited.headers['retry-after']) * 1000);
    const again = await decide(origin, 'metered', 'from a, later', { token: a });
    expect(again.status).toBe(200);
    expect(again.headers.ratelimit).toMatch(/^"metered";r=[01];t=[12]$/);
  });
});
