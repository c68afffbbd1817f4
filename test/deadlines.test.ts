// Every bound of a model call is enforced at its configured value (± 50 ms) over real loopback
// sockets: connect (a listener that never accepts), first byte (a black hole, headers that drip),
// total (a body that drips), the module adapter's total, and the request's deadline over them all.
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecisionPipeline, createService, type Decision, type ServiceConfig } from '../src/pipeline/index.js';
import type { VersionResilienceConfig } from '../src/resilience/index.js';
import { startFakeHttpModel, startFakeKServeV2, startFakeOpenAI, startNeverAccepting, type FakeBehaviour, type FakeServer } from '../src/testing/index.js';
import { keywordModelPath } from './helpers/test-ballast.js';

// How late past its bound a cut may land: timers fire late on a loaded machine (shared CI boxes), and a call that
// was not cut would run for seconds (a byte a second), so the margin still tells the two apart.
const tolerance = 150;
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.allSettled(closers.map((close) => close()));
});

const labelOutput = { type: 'object', required: ['label'], properties: { label: { enum: ['spam', 'ham'] } } };

interface Protocol {
  readonly kind: 'http' | 'openai' | 'kserve-v2';
  start(): Promise<FakeServer>;
  adapter(url: string): ServiceConfig['models'][string]['adapter'];
}

const protocols: readonly Protocol[] = [
  { kind: 'http', start: startFakeHttpModel, adapter: (url) => ({ kind: 'http', url, request: { body: { text: '{{/text}}' } }, response: { output: '', confidence: '/score' } }) },
  {
    kind: 'openai',
    start: () => startFakeOpenAI({ apiKey: 'sk-test' }),
    adapter: (url) => ({ kind: 'openai', baseUrl: url, model: 'fake-gpt', apiKeySecret: 'OPENAI_API_KEY', prompt: 'Classify: {{/text}}' }),
  },
  {
    kind: 'kserve-v2',
    start: () => startFakeKServeV2(),
    adapter: (url) => ({ kind: 'kserve-v2', url, model: 'spam-classifier', inputs: [{ name: 'text', datatype: 'BYTES', from: '/text' }], outputs: { label: { tensor: 'probabilities', map: ['ham', 'spam'] } } }),
  },
];

async function pipelineFor(adapter: ServiceConfig['models'][string]['adapter'], resilience: VersionResilienceConfig & { deadlineMs?: number }) {
  const { deadlineMs, ...version } = resilience;
  const config: ServiceConfig = {
    contract: { version: 1, input: { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } }, output: { schema: labelOutput } },
    policy: {},
    models: { v1: { adapter, resilience: { ...version, retry: { attempts: 1 } } } },
    live: 'v1',
    resilience: { breaker: { enabled: false }, ...(deadlineMs === undefined ? {} : { deadlineMs }) },
  };
  const service = await createService('deadlines', config, { adapterContext: { baseDir: process.cwd(), secrets: { OPENAI_API_KEY: 'sk-test' } }, redactionKey: 'k' });
  closers.push(() => service.close());
  const pipeline = createDecisionPipeline({ services: new Map([['deadlines', service]]), sink: { append: async () => undefined }, newId: () => `dec_${Math.random()}`, hashSubject: (k) => k });
  return async (): Promise<{ decision: Decision; elapsed: number }> => {
    const started = performance.now();
    const decision = await pipeline.decide({ service: 'deadlines', input: { text: 'win a free prize' } });
    return { decision, elapsed: performance.now() - started };
  };
}

function expectCut(result: { decision: Decision; elapsed: number }, boundMs: number, phase: RegExp) {
  const attempt = result.decision.explanation.attempts?.[0];
  expect(result.decision.outcome).toBe('review');
  expect(result.decision.explanation.modelError?.code).toBe('UPSTREAM_TIMEOUT');
  expect(result.decision.explanation.modelError?.message).toMatch(phase);
  expect(attempt?.code).toBe('UPSTREAM_TIMEOUT');
  expect(attempt!.ms).toBeGreaterThanOrEqual(boundMs - 5);
  expect(attempt!.ms).toBeLessThanOrEqual(boundMs + tolerance);
  expect(result.elapsed).toBeLessThanOrEqual(boundMs + tolerance);
}

describe.each(protocols)('a $kind model call', (protocol) => {
  // One good call first, so that the timed call measures the bound, not loading code on first use.
  const faulty = async (behaviour: FakeBehaviour, resilience: Parameters<typeof pipelineFor>[1]) => {
    const server = await protocol.start();
    closers.push(() => server.close());
    const decide = await pipelineFor(protocol.adapter(server.url), resilience);
    expect((await decide()).decision.explanation.attempts?.[0]?.code).toBeNull();
    server.behaviour = behaviour;
    return { server, decide };
  };

  it('is cut at the first-byte bound by a black hole (accepts, never answers)', async () => {
    const { server, decide } = await faulty({ kind: 'hang' }, { timeouts: { firstByteMs: 300, totalMs: 2000 } });
    expectCut(await decide(), 300, /first-byte timeout/);
    expect(server.requests).toBe(2);
  });

  it('is cut at the first-byte bound when the headers drip a byte a second', async () => {
    const { decide } = await faulty({ kind: 'drip', phase: 'headers', intervalMs: 1000 }, { timeouts: { firstByteMs: 400, totalMs: 3000 } });
    expectCut(await decide(), 400, /first-byte timeout/);
  });

  it('is cut at the total bound when the body drips a byte a second', async () => {
    const { decide } = await faulty({ kind: 'drip', phase: 'body', intervalMs: 1000 }, { timeouts: { totalMs: 700 } });
    expectCut(await decide(), 700, /did not answer within 700 ms/);
  });

  it('is cut at the connect bound by a listener that never accepts', async () => {
    const listener = await startNeverAccepting();
    closers.push(() => listener.close());
    const decide = await pipelineFor(protocol.adapter(listener.url), { timeouts: { connectMs: 250, totalMs: 2000 } });
    expectCut(await decide(), 250, /connect timeout/);
  });

  it('is cut at the request deadline when that comes before its own bounds', async () => {
    const { decide } = await faulty({ kind: 'hang' }, { timeouts: { totalMs: 5000 }, deadlineMs: 600 });
    expectCut(await decide(), 600, /did not answer within 600 ms/);
  });
  it('opens at most resilience.connections.max connections to a hanging server; the calls beyond wait for one and are cut at their total bound too', async () => {
    const { server, decide } = await faulty({ kind: 'hang' }, { timeouts: { totalMs: 500 }, connections: { max: 3 } });
    // Sampled while the calls hang: a call that times out closes its connection, and one still waiting may then
    // open another, so what is bounded is the connections open at once, not those opened in all.
    let mostOpen = server.openConnections;
    const sampler = setInterval(() => (mostOpen = Math.max(mostOpen, server.openConnections)), 5);
    const results = await Promise.all(Array.from({ length: 12 }, () => decide()));
    clearInterval(sampler);
    expect(mostOpen).toBe(3);
    for (const result of results) expectCut(result, 500, /did not answer within 500 ms/);
  });
});

describe('a module model call', () => {
  it('that hangs is cut at the total bound (the only bound an in-process model has)', async () => {
    const config: ServiceConfig = {
      contract: { version: 1, input: { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } }, output: { schema: { type: 'object' } } },
      policy: {},
      models: { v1: { adapter: { kind: 'module', path: keywordModelPath, export: 'createModel' }, resilience: { timeouts: { totalMs: 350 }, retry: { attempts: 1 } } } },
      live: 'v1',
    };
    const service = await createService('module-deadline', config, { adapterContext: { baseDir: process.cwd(), secrets: {} }, redactionKey: 'k' });
    closers.push(() => service.close());
    const pipeline = createDecisionPipeline({ services: new Map([['module-deadline', service]]), sink: { append: async () => undefined }, newId: () => `dec_${Math.random()}`, hashSubject: (k) => k });
    const started = performance.now();
    const decision = await pipeline.decide({ service: 'module-deadline', input: { text: 'hang' } });
    const elapsed = performance.now() - started;
    expect(decision.explanation.modelError?.code).toBe('UPSTREAM_TIMEOUT');
    expect(decision.explanation.attempts?.[0]?.ms).toBeGreaterThanOrEqual(345);
    expect(elapsed).toBeLessThanOrEqual(350 + tolerance);
  });
});
