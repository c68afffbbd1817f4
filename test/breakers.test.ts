// Retries and the error breaker end to end, over a real loopback Ballast and fake model servers:
// a retry that recovers, Retry-After within the deadline, the retry budget under sustained failure,
// the breaker opening (and how long that takes), skipping the model for the fallback chain,
// half-open probes, the breaker routes with their audit events and history (across a restart),
// roles, and the breaker metrics.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Decision } from '../src/pipeline/index.js';
import type { StoredAuditEvent, StoredBreakerTransition } from '../src/store/index.js';
import { startFakeHttpModel, type FakeHttpModel } from '../src/testing/index.js';
import { startTestBallast, startTestBallastIn, type TestBallast } from './helpers/test-ballast.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const contract = {
  version: 1,
  input: { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } },
  output: { schema: { type: 'object', required: ['label', 'score'], properties: { label: { enum: ['spam', 'ham'] }, score: { type: 'number' } } } },
};
const fallbackOutput = { label: 'ham', score: 0 };

/** One service over one fake JSON model, confident enough to answer `auto`, with its `resilience:` block. */
function serviceOver(model: FakeHttpModel, resilience: Record<string, unknown>) {
  return {
    contract,
    policy: { thresholds: { auto: 0.5 } },
    models: { v1: { adapter: { kind: 'http', url: model.url, request: { body: { text: '{{/text}}' } }, response: { output: '', confidence: '/score' } } } },
    live: 'v1',
    resilience,
  };
}

// The breaker under test: one call per decision, opens at 5 calls with half of them failed.
const breakerSettings = { window: { calls: 10 }, minimumCalls: 5, failureRate: 0.5, openMs: 600, halfOpenProbes: 2 };
const breakerTimeoutMs = 400;

interface Fakes {
  readonly retry: FakeHttpModel;
  readonly retryShort: FakeHttpModel;
  readonly budget: FakeHttpModel;
  readonly breaker: FakeHttpModel;
  readonly ops: FakeHttpModel;
}

function configYaml(f: Fakes): string {
  const noBreaker = { enabled: false };
  return stringify({
    version: 1,
    services: {
      retry: serviceOver(f.retry, { breaker: noBreaker, retry: { attempts: 2, backoff: { baseMs: 5, capMs: 20 } } }),
      'retry-short': serviceOver(f.retryShort, { deadlineMs: 800, breaker: noBreaker, retry: { attempts: 2 } }),
      budget: serviceOver(f.budget, { breaker: noBreaker, retry: { attempts: 3, backoff: { baseMs: 1, capMs: 2 }, budget: { ratio: 0.1, windowSeconds: 60, minRetries: 2 } } }),
      breaker: serviceOver(f.breaker, { timeouts: { totalMs: breakerTimeoutMs }, retry: { attempts: 1 }, breaker: breakerSettings, fallback: [{ static: fallbackOutput }] }),
      ops: serviceOver(f.ops, { retry: { attempts: 1 }, breaker: { minimumCalls: 5, openMs: 200 }, fallback: [{ static: fallbackOutput }] }),
    },
  });
}

/** A Ballast listening on loopback, spoken to with fetch. */
class Client {
  constructor(
    readonly ballast: TestBallast,
    readonly base: string,
  ) {}

  static async listen(ballast: TestBallast): Promise<Client> {
    const address = await ballast.server.app.listen({ host: '127.0.0.1', port: 0 });
    return new Client(ballast, address);
  }

  async request<T = Problem>(method: 'GET' | 'POST', url: string, options: { body?: unknown; token?: string } = {}): Promise<{ status: number; body: T; ms: number }> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const started = performance.now();
    const response = await fetch(this.base + url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    const ms = performance.now() - started;
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, body: (/json/.test(type) ? JSON.parse(text) : text) as T, ms };
  }

  /** One decision; `high` priority so that admission's load shedding (event-loop delay on a busy machine) never refuses it: admission is not under test here. */
  async decide(service: string, text = 'hello there'): Promise<{ decision: Decision; ms: number }> {
    const { status, body, ms } = await this.request<Decision>('POST', `/v1/services/${service}/decisions`, { body: { input: { text }, priority: 'high' } });
    expect(status, JSON.stringify(body)).toBe(200);
    return { decision: body, ms };
  }

  async breakers(service: string, token?: string) {
    const { status, body } = await this.request<{ service: string; breakers: BreakerView[]; history: History }>('GET', `/v1/services/${service}/breakers`, token === undefined ? {} : { token });
    expect(status).toBe(200);
    return body;
  }

  async metric(name: string, labels: Record<string, string>): Promise<number> {
    const { body } = await this.request<string>('GET', '/metrics');
    return sampleOf(body, name, labels);
  }
}

type History = StoredBreakerTransition[];

/** A problem document, or an operator action's answer. */
interface Problem {
  readonly code?: string;
  readonly issues?: readonly { readonly pointer: string }[];
  readonly changed?: boolean;
  readonly breaker?: BreakerView;
}

/** One breaker as GET /breakers shows it. */
interface BreakerView {
  readonly version: string;
  readonly state: string;
  readonly since: string;
  readonly openUntil?: string;
  readonly calls: number;
  readonly [field: string]: unknown;
}

/** The value of the sample of `name` whose labels include `labels` (0 when there is none). */
function sampleOf(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = Object.fromEntries([...match[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return 0;
}

/** Polls until `check` passes (the breaker's own transitions are kept in the store in the background). */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 2000): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (performance.now() > until) throw error;
      await sleep(20);
    }
  }
}

const transitions = (history: History) => history.map((t) => `${t.from}→${t.to}`);

let fakes: Fakes;
let dir: string;
let client: Client;

beforeAll(async () => {
  fakes = { retry: await startFakeHttpModel(), retryShort: await startFakeHttpModel(), budget: await startFakeHttpModel(), breaker: await startFakeHttpModel(), ops: await startFakeHttpModel() };
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-breakers-'));
  client = await Client.listen(await startTestBallastIn(dir, configYaml(fakes)));
});

afterAll(async () => {
  await client?.ballast.close();
  await Promise.allSettled(Object.values(fakes ?? {}).map((fake: FakeHttpModel) => fake.close()));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('retries', () => {
  it('a model that fails the first call and then recovers answers auto after one retry, both attempts explained and counted', async () => {
    const retriesBefore = await client.metric('ballast_model_retries_total', { service: 'retry', version: 'v1' });
    fakes.retry.behaviour = { kind: 'first', count: 1, behaviour: { kind: 'status', status: 503 } };
    const { decision } = await client.decide('retry', 'win a free prize');
    expect(decision.outcome).toBe('auto');
    expect(decision.output).toMatchObject({ label: 'spam' });
    expect(fakes.retry.requests).toBe(2);
    expect(decision.explanation.modelError).toBeUndefined();
    expect(decision.explanation.attempts).toHaveLength(2);
    expect(decision.explanation.attempts).toMatchObject([
      { version: 'v1', attempt: 1, code: 'UPSTREAM_SERVER_ERROR', ms: expect.any(Number) },
      { version: 'v1', attempt: 2, code: null, ms: expect.any(Number) },
    ]);
    // Full jitter under a 5 ms bound (absent when it drew 0).
    expect(decision.explanation.attempts?.[1]?.waitedMs ?? 0).toBeLessThan(5);
    expect(await client.metric('ballast_model_retries_total', { service: 'retry', version: 'v1' })).toBe(retriesBefore + 1);
    expect(await client.metric('ballast_model_calls_total', { service: 'retry', version: 'v1', code: 'UPSTREAM_SERVER_ERROR' })).toBe(1);
  });

  it('a 429 with Retry-After: 1 is waited for and retried when the deadline allows', async () => {
    fakes.retry.behaviour = { kind: 'first', count: 1, behaviour: { kind: 'status', status: 429, retryAfter: '1' } };
    const before = fakes.retry.requests;
    const { decision, ms } = await client.decide('retry');
    expect(decision.outcome).toBe('auto');
    expect(fakes.retry.requests - before).toBe(2);
    expect(decision.explanation.attempts).toMatchObject([
      { attempt: 1, code: 'UPSTREAM_RATE_LIMITED' },
      { attempt: 2, code: null, waitedMs: 1000 },
    ]);
    expect(ms).toBeGreaterThanOrEqual(995);
    expect(ms).toBeLessThan(1500);
  });

  it('a 429 with Retry-After: 1 is not retried when the deadline (800 ms) is shorter', async () => {
    fakes.retryShort.behaviour = { kind: 'first', count: 1, behaviour: { kind: 'status', status: 429, retryAfter: '1' } };
    const { decision, ms } = await client.decide('retry-short');
    expect(fakes.retryShort.requests).toBe(1);
    expect(decision.outcome).toBe('review');
    expect(decision.explanation.modelError?.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(decision.explanation.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'UPSTREAM_RATE_LIMITED', ms: expect.any(Number) }]);
    // It gave up at once rather than wait for a retry it could not make.
    expect(ms).toBeLessThan(500);
  });

  it('a version failing every call at a steady rate keeps its retries within the budget', async () => {
    fakes.budget.behaviour = { kind: 'status', status: 503 };
    const decisions = 40;
    const messages: string[] = [];
    for (let i = 0; i < decisions; i++) {
      const { decision } = await client.decide('budget');
      expect(decision.explanation.modelError?.code).toBe('UPSTREAM_SERVER_ERROR');
      messages.push(decision.explanation.modelError!.message);
      await sleep(5);
    }
    const ratio = 0.1;
    const minRetries = 2;
    const retries = fakes.budget.requests - decisions;
    console.log(`retry budget: ${decisions} failing decisions made ${fakes.budget.requests} model calls (${retries} retries; at most ${Math.floor(decisions * ratio) + minRetries})`);
    expect(fakes.budget.requests).toBeLessThanOrEqual(decisions * (1 + ratio) + minRetries);
    expect(retries).toBeGreaterThanOrEqual(minRetries);
    expect(messages.filter((m) => m.includes("the version's retry budget is spent")).length).toBeGreaterThan(decisions / 2);
    expect(await client.metric('ballast_model_retries_total', { service: 'budget', version: 'v1' })).toBe(retries);
  });
});

describe('the error breaker', () => {
  let openedAt = 0;

  it('opens once minimumCalls calls have failed, not before; the time it took is measured', async () => {
    fakes.breaker.behaviour = { kind: 'hang' };
    const startedFailing = performance.now();
    let decisions = 0;
    for (;;) {
      const { decision } = await client.decide('breaker');
      decisions++;
      expect(decision.explanation.attempts).toMatchObject([{ code: 'UPSTREAM_TIMEOUT' }]);
      expect(decision.outcome).toBe('fallback');
      if (decision.explanation.breakers !== undefined) {
        expect(decision.explanation.breakers).toEqual([{ version: 'v1', state: 'open' }]);
        break;
      }
      // Below the minimum the breaker stays closed, even at a 100% failure rate.
      const view = (await client.breakers('breaker')).breakers[0];
      expect(view).toMatchObject({ state: 'closed', calls: decisions, failures: decisions, failureRate: 1 });
      expect(decisions).toBeLessThan(breakerSettings.minimumCalls);
    }
    openedAt = Date.now();
    const elapsed = performance.now() - startedFailing;
    console.log(`breaker opened ${Math.round(elapsed)} ms after the model started failing (hanging, ${breakerTimeoutMs} ms timeout): ${decisions} decisions, minimumCalls ${breakerSettings.minimumCalls}`);
    expect(decisions).toBe(breakerSettings.minimumCalls);
    expect(fakes.breaker.requests).toBe(breakerSettings.minimumCalls);
    expect(elapsed).toBeGreaterThanOrEqual(breakerSettings.minimumCalls * (breakerTimeoutMs - 5));
    expect(elapsed).toBeLessThan(breakerSettings.minimumCalls * (breakerTimeoutMs + 150));
  });

  it('while open, decisions skip the model (CIRCUIT_OPEN, 0 ms) and go down the fallback chain, far faster than the timeout', async () => {
    const before = fakes.breaker.requests;
    for (let i = 0; i < 3; i++) {
      const { decision, ms } = await client.decide('breaker');
      expect(decision.outcome).toBe('fallback');
      expect(decision.output).toEqual(fallbackOutput);
      expect(decision.version).toBeNull();
      expect(decision.explanation.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'CIRCUIT_OPEN', ms: 0 }]);
      expect(decision.explanation.breakers).toEqual([{ version: 'v1', state: 'open' }]);
      expect(decision.explanation.modelError?.code).toBe('CIRCUIT_OPEN');
      expect(decision.explanation.fallback).toMatchObject({ from: 'v1', cause: { code: 'CIRCUIT_OPEN' }, answeredBy: { step: 0, kind: 'static' } });
      expect(ms).toBeLessThan(breakerTimeoutMs / 2);
      expect(decision.timings.invoke).toBeLessThan(breakerTimeoutMs / 20);
    }
    expect(fakes.breaker.requests).toBe(before);
    expect(await client.metric('ballast_breaker_state', { service: 'breaker', version: 'v1', state: 'open' })).toBe(1);
    expect(await client.metric('ballast_breaker_state', { service: 'breaker', version: 'v1', state: 'closed' })).toBe(0);
    expect(await client.metric('ballast_breaker_transitions_total', { service: 'breaker', version: 'v1', from: 'closed', to: 'open' })).toBe(1);
  });

  it('GET /breakers shows the open breaker with its counts, config and kept history', async () => {
    const view = await eventually(async () => {
      const v = await client.breakers('breaker');
      expect(v.history).toHaveLength(1);
      return v;
    });
    expect(view.service).toBe('breaker');
    expect(view.breakers).toEqual([
      {
        version: 'v1',
        kind: 'errors',
        enabled: true,
        state: 'open',
        since: expect.any(String),
        openUntil: expect.any(String),
        calls: 5,
        failures: 5,
        slowCalls: 5,
        failureRate: 1,
        slowCallRate: 1,
        probesInFlight: 0,
        config: {
          enabled: true,
          window: { type: 'count', size: 10 },
          minimumCalls: 5,
          failureRateThreshold: 0.5,
          slowCallRateThreshold: 1,
          slowCallDurationMs: breakerTimeoutMs,
          waitInOpenMs: 600,
          halfOpenProbes: 2,
        },
      },
    ]);
    const b = view.breakers[0];
    expect(Date.parse(b!.openUntil!) - Date.parse(b!.since)).toBe(600);
    expect(Math.abs(Date.parse(b!.since) - openedAt)).toBeLessThan(250);
    expect(view.history).toEqual([
      {
        id: expect.stringMatching(/^brk_/),
        service: 'breaker',
        version: 'v1',
        kind: 'errors',
        from: 'closed',
        to: 'open',
        at: b!.since,
        reason: 'failure rate 100% of the last 5 calls is at or above 50%',
        figures: { calls: 5, failureRate: 1, slowCallRate: 1 },
        actor: null,
      },
    ]);
  });

  it('after openMs it goes half-open, lets at most halfOpenProbes calls through, and closes when they succeed', async () => {
    fakes.breaker.behaviour = { kind: 'delay', ms: 250 };
    await sleep(Math.max(0, openedAt + 600 + 20 - Date.now()));
    const before = fakes.breaker.requests;
    const results = await Promise.all(Array.from({ length: 6 }, () => client.decide('breaker')));
    expect(fakes.breaker.requests - before).toBe(breakerSettings.halfOpenProbes);
    const probes = results.filter((r) => r.decision.explanation.attempts?.[0]?.code === null);
    const refused = results.filter((r) => r.decision.explanation.attempts?.[0]?.code === 'CIRCUIT_OPEN');
    expect(probes).toHaveLength(2);
    expect(refused).toHaveLength(4);
    for (const { decision } of probes) expect(decision).toMatchObject({ outcome: 'auto', version: 'v1' });
    for (const { decision, ms } of refused) {
      expect(decision.outcome).toBe('fallback');
      expect(decision.explanation.attempts?.[0]?.ms).toBe(0);
      expect(decision.explanation.modelError?.message).toMatch(/half-open/);
      expect(ms).toBeLessThan(200);
    }
    const view = await eventually(async () => {
      const v = await client.breakers('breaker');
      expect(v.history).toHaveLength(3);
      return v;
    });
    expect(view.breakers[0]).toMatchObject({ state: 'closed', calls: 0, failures: 0 });
    expect(view.history[0]).toMatchObject({ from: 'half_open', to: 'closed', figures: { calls: 2, failureRate: 0 }, actor: null });
    expect(view.history[1]).toMatchObject({ from: 'open', to: 'half_open', reason: 'waited 600 ms in open; permitting up to 2 probe calls', actor: null });
    fakes.breaker.behaviour = { kind: 'normal' };
    const { decision } = await client.decide('breaker');
    expect(decision).toMatchObject({ outcome: 'auto', version: 'v1' });
    expect(decision.explanation.breakers).toBeUndefined();
  });

  it('re-opens when the half-open probes fail', async () => {
    fakes.breaker.behaviour = { kind: 'status', status: 503 };
    // The window holds the good call just made: 4 failures more make 80% of 5 calls.
    let decisions = 0;
    while ((await client.decide('breaker')).decision.explanation.breakers === undefined) {
      decisions++;
      expect(decisions).toBeLessThan(breakerSettings.minimumCalls);
    }
    expect(decisions + 1).toBe(breakerSettings.minimumCalls - 1);
    const reopenedAt = Date.now();
    await sleep(Math.max(0, reopenedAt + 600 + 20 - Date.now()));
    const before = fakes.breaker.requests;
    const results = await Promise.all(Array.from({ length: 6 }, () => client.decide('breaker')));
    expect(fakes.breaker.requests - before).toBe(breakerSettings.halfOpenProbes);
    expect(results.filter((r) => r.decision.explanation.attempts?.[0]?.code === 'UPSTREAM_SERVER_ERROR')).toHaveLength(2);
    for (const { decision } of results) expect(decision.outcome).toBe('fallback');
    const view = await eventually(async () => {
      const v = await client.breakers('breaker');
      expect(v.history).toHaveLength(6);
      return v;
    });
    expect(view.breakers[0]?.state).toBe('open');
    expect(transitions(view.history)).toEqual(['half_open→open', 'open→half_open', 'closed→open', 'half_open→closed', 'open→half_open', 'closed→open']);
    expect(view.history[0]).toMatchObject({ reason: 'failure rate 100% of 2 probe calls is at or above 50%', figures: { calls: 2, failureRate: 1, slowCallRate: 0 } });
    expect(view.history[2]).toMatchObject({ reason: 'failure rate 80% of the last 5 calls is at or above 50%', figures: { calls: 5, failureRate: 0.8 } });

    // An operator closes it (which also leaves it in a state no timer changes, for what follows).
    fakes.breaker.behaviour = { kind: 'normal' };
    const closed = await client.request('POST', '/v1/services/breaker/breakers/v1/close', { body: { reason: 'upstream fixed' } });
    expect(closed.body).toMatchObject({ changed: true, breaker: { state: 'closed' } });
    expect((await client.breakers('breaker')).history[0]).toMatchObject({ from: 'open', to: 'closed', actor: 'anonymous', figures: { calls: 2, failureRate: 1 } });
    expect((await client.decide('breaker')).decision).toMatchObject({ outcome: 'auto', version: 'v1' });
  });
});

describe('operators and the breaker routes', () => {
  const post = (action: 'open' | 'close', body: unknown, version = 'v1', service = 'ops') => client.request('POST', `/v1/services/${service}/breakers/${version}/${action}`, { body });

  it('a forced open holds past openMs: decisions skip the model until an operator closes it', async () => {
    expect((await client.decide('ops')).decision.outcome).toBe('auto');
    const before = fakes.ops.requests;
    const opened = await post('open', { reason: 'drill: model host patching' });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ changed: true, breaker: { version: 'v1', state: 'open' } });
    expect(opened.body.breaker?.openUntil).toBeUndefined();
    expect((await post('open', { reason: 'again' })).body).toMatchObject({ changed: false, breaker: { state: 'open' } });
    // openMs is 200: a breaker that opened on its own would be half-open by now.
    await sleep(300);
    for (let i = 0; i < 3; i++) {
      const { decision } = await client.decide('ops');
      expect(decision.outcome).toBe('fallback');
      expect(decision.explanation.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'CIRCUIT_OPEN', ms: 0 }]);
      expect(decision.explanation.breakers).toEqual([{ version: 'v1', state: 'open' }]);
    }
    expect(fakes.ops.requests).toBe(before);
    expect((await client.breakers('ops')).breakers[0]?.state).toBe('open');

    const closed = await post('close', { reason: 'patched' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ changed: true, breaker: { state: 'closed', calls: 0 } });
    const { decision } = await client.decide('ops');
    expect(decision).toMatchObject({ outcome: 'auto', version: 'v1' });
    expect(fakes.ops.requests).toBe(before + 1);
  });

  it('each operator action is an audit event and in the history, with the actor', async () => {
    const { body } = await client.request<{ events: StoredAuditEvent[] }>('GET', '/v1/audit/events?service=ops');
    const events = body.events.filter((e) => e.action.startsWith('breaker.'));
    expect(events.map((e) => e.action)).toEqual(['breaker.opened', 'breaker.closed']);
    expect(events[0]).toMatchObject({ actor: { principal: 'anonymous' }, resource: { kind: 'breaker', id: 'ops/v1' }, service: 'ops', before: { state: 'closed' }, after: { state: 'open' }, detail: 'drill: model host patching' });
    expect(events[1]).toMatchObject({ actor: { principal: 'anonymous' }, before: { state: 'open' }, after: { state: 'closed' }, detail: 'patched' });
    const history = (await client.breakers('ops')).history;
    expect(transitions(history)).toEqual(['open→closed', 'closed→open']);
    expect(history[1]).toMatchObject({ actor: 'anonymous', reason: 'anonymous: drill: model host patching', figures: { calls: 1, failureRate: 0 } });
    expect(history[0]).toMatchObject({ actor: 'anonymous', reason: 'anonymous: patched' });
  });

  it('a missing or blank reason is 400 REQUEST_INVALID at /reason; an unknown version is 404 VERSION_NOT_FOUND', async () => {
    for (const body of [{}, { reason: '   ' }, { reason: 42 }]) {
      const refused = await post('open', body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'REQUEST_INVALID', issues: [{ pointer: '/reason' }] });
    }
    expect((await post('close', {})).body.issues?.[0]?.pointer).toBe('/reason');
    const unknown = await post('open', { reason: 'x' }, 'v9');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('VERSION_NOT_FOUND');
    const noService = await post('open', { reason: 'x' }, 'v1', 'nope');
    expect(noService.status).toBe(404);
    expect(noService.body.code).toBe('SERVICE_NOT_FOUND');
    // None of them changed anything.
    expect((await client.breakers('ops')).breakers[0]?.state).toBe('closed');
  });
});

describe('breaker metrics', () => {
  it('ballast_breaker_state and ballast_breaker_transitions_total match the kept history', async () => {
    const { body: text } = await client.request<string>('GET', '/metrics');
    for (const service of ['breaker', 'ops']) {
      const { history, breakers } = await client.breakers(service);
      const counts = new Map<string, number>();
      for (const t of history) counts.set(`${t.from}→${t.to}`, (counts.get(`${t.from}→${t.to}`) ?? 0) + 1);
      for (const from of ['closed', 'open', 'half_open']) {
        for (const to of ['closed', 'open', 'half_open']) {
          expect(sampleOf(text as string, 'ballast_breaker_transitions_total', { service, version: 'v1', kind: 'errors', from, to }), `${service} ${from}→${to}`).toBe(counts.get(`${from}→${to}`) ?? 0);
        }
      }
      for (const state of ['closed', 'open', 'half_open']) {
        expect(sampleOf(text as string, 'ballast_breaker_state', { service, version: 'v1', kind: 'errors', state }), `${service} ${state}`).toBe(state === breakers[0]?.state ? 1 : 0);
      }
    }
  });
});

describe('a restart', () => {
  it('keeps the breaker history; the breakers themselves start closed', async () => {
    const before = { breaker: (await client.breakers('breaker')).history, ops: (await client.breakers('ops')).history };
    expect(before.breaker).toHaveLength(7);
    await client.ballast.close();
    client = await Client.listen(await startTestBallastIn(dir, configYaml(fakes)));
    const after = await client.breakers('breaker');
    expect(after.history).toEqual(before.breaker);
    expect(after.breakers[0]).toMatchObject({ state: 'closed', calls: 0 });
    expect((await client.breakers('ops')).history).toEqual(before.ops);
    // A fresh start: every breaker's gauge says closed.
    expect(await client.metric('ballast_breaker_state', { service: 'breaker', version: 'v1', state: 'closed' })).toBe(1);
  });

  it('keeps an operator\'s forced open in the history across a restart', async () => {
    const opened = await client.request('POST', '/v1/services/ops/breakers/v1/open', { body: { reason: 'harmful outputs' } });
    expect(opened.body).toMatchObject({ changed: true, breaker: { state: 'open' } });
    await client.ballast.close();
    client = await Client.listen(await startTestBallastIn(dir, configYaml(fakes)));
    expect((await client.breakers('ops')).history[0]).toMatchObject({ from: 'closed', to: 'open', actor: 'anonymous', reason: 'anonymous: harmful outputs' });
  });

  it('a forced open still holds after the restart (only an operator closes it)', async () => {
    const before = fakes.ops.requests;
    const { decision } = await client.decide('ops');
    expect((await client.breakers('ops')).breakers[0]?.state).toBe('open');
    expect(decision.explanation.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'CIRCUIT_OPEN', ms: 0 }]);
    expect(fakes.ops.requests).toBe(before);
  });
});

describe('breaker routes with API keys', () => {
  let secured: Client;
  let model: FakeHttpModel;
  const tokens = new Map<string, string>();
  const admin = { actor: { principal: 'test', keyId: null, role: 'admin' } };

  beforeAll(async () => {
    model = await startFakeHttpModel();
    const yaml = stringify({ version: 1, services: { ops: serviceOver(model, { retry: { attempts: 1 }, breaker: { minimumCalls: 5 } }) } });
    const ballast = await startTestBallast(yaml, { auth: 'keys' });
    secured = await Client.listen(ballast);
    for (const role of ['viewer', 'operator', 'auditor'] as const) tokens.set(role, (await ballast.server.keys.create({ principal: `p-${role}`, role }, admin)).token);
  });
  afterAll(async () => {
    await secured?.ballast.close();
    await model?.close();
  });

  it('a viewer may read the breakers but not open or close one (403); an operator may, and is the actor', async () => {
    const open = (token: string | undefined) => secured.request('POST', '/v1/services/ops/breakers/v1/open', { body: { reason: 'drill' }, ...(token === undefined ? {} : { token }) });
    expect((await open(undefined)).status).toBe(401);
    const denied = await open(tokens.get('viewer'));
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('AUTH_FORBIDDEN');
    expect((await secured.breakers('ops', tokens.get('viewer'))).breakers[0]?.state).toBe('closed');

    const allowed = await open(tokens.get('operator'));
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ changed: true, breaker: { state: 'open' } });
    const closed = await secured.request('POST', '/v1/services/ops/breakers/v1/close', { body: { reason: 'done' }, token: tokens.get('operator')! });
    expect(closed.status).toBe(200);

    const { history } = await secured.breakers('ops', tokens.get('viewer'));
    expect(history.map((t) => [t.from, t.to, t.actor, t.reason])).toEqual([
      ['open', 'closed', 'p-operator', 'p-operator: done'],
      ['closed', 'open', 'p-operator', 'p-operator: drill'],
    ]);
    const audit = await secured.request<{ events: StoredAuditEvent[] }>('GET', '/v1/audit/events?resource=ops/v1', { token: tokens.get('auditor')! });
    expect(audit.status).toBe(200);
    // The model version ops/v1 has its own events under the same id (registered, made live at start).
    expect(audit.body.events.filter((e) => e.action.startsWith('breaker.')).map((e) => [e.action, e.actor.principal, e.actor.role])).toEqual([
      ['breaker.opened', 'p-operator', 'operator'],
      ['breaker.closed', 'p-operator', 'operator'],
    ]);
  });
});
