// The fault matrix (issue 8): every failure class of a model call × every kind of fallback step,
// over real loopback sockets. The model servers are the ballast/testing fakes, Ballast listens on
// 127.0.0.1 and is called with fetch. Each cell asserts the HTTP status (never a 5xx), the outcome,
// the catalogue code, the explanation (attempts, fallback trace, breakers), the reasons, the
// recorded decision and the metric deltas: no failure class may skip the chain. Then chains of
// several steps, a chain that does not answer, every version open, the deadline, retries per class,
// and the chain checks `ballast validate` makes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigProblem, parseConfigText } from '../src/cli/config-file.js';
import { startRuntime } from '../src/cli/runtime.js';
import type { Decision } from '../src/pipeline/index.js';
import type { FallbackStepConfig, TimeoutsConfig } from '../src/resilience/index.js';
import { refusingUrl, startFakeHttpModel, startFakeKServeV2, startFakeOpenAI, startNeverAccepting, type FakeBehaviour, type FakeServer } from '../src/testing/index.js';
import { keywordModelPath, startTestBallast, type TestBallast } from './helpers/test-ballast.js';

// ---------------------------------------------------------------------------------------------
// The failure classes and the kinds of step

type StepKind = 'version' | 'rules' | 'static' | 'review';
const stepKinds: readonly StepKind[] = ['version', 'rules', 'static', 'review'];

/** How the live version fails: a fake misbehaving, a port nothing listens on, a listener that never accepts, or its breaker forced open. */
type Fault = FakeBehaviour | 'refused' | 'never-accepting' | 'open-breaker';

interface FailureClass {
  /** Part of the service names: lower case, digits, dashes. */
  readonly name: string;
  readonly fault: Fault;
  /** The catalogue code the class must be reported with, everywhere. */
  readonly code: string;
  /** What the cause's message must say. */
  readonly message: RegExp;
  readonly retryable: boolean;
  /** Bounds of the live version other than the matrix's. */
  readonly timeouts?: TimeoutsConfig;
}

/** Every bound of the matrix's calls: small, so that a timeout costs little. */
const totalMs = 300;

const failureClasses: readonly FailureClass[] = [
  { name: 'timeout', fault: { kind: 'hang' }, code: 'UPSTREAM_TIMEOUT', message: /timeout|did not answer within 300 ms/, retryable: true },
  { name: 'refused', fault: 'refused', code: 'UPSTREAM_UNAVAILABLE', message: /could not be reached \(ECONNREFUSED\)/, retryable: true },
  { name: 'reset', fault: { kind: 'reset' }, code: 'UPSTREAM_CONNECTION_RESET', message: /reset/, retryable: true },
  { name: 'rejected', fault: { kind: 'status', status: 400 }, code: 'UPSTREAM_REJECTED_REQUEST', message: /rejected the request with 400/, retryable: false },
  { name: 'server-error', fault: { kind: 'status', status: 503 }, code: 'UPSTREAM_SERVER_ERROR', message: /failed with 503/, retryable: true },
  { name: 'rate-limited', fault: { kind: 'status', status: 429 }, code: 'UPSTREAM_RATE_LIMITED', message: /rate limiting \(429\)/, retryable: true },
  { name: 'malformed', fault: { kind: 'malformed-json' }, code: 'UPSTREAM_MALFORMED_RESPONSE', message: /could not be read/, retryable: false },
  { name: 'violating', fault: { kind: 'violate' }, code: 'CONTRACT_INVALID_OUTPUT', message: /violates the output contract \(\/label: /, retryable: false },
  { name: 'open-breaker', fault: 'open-breaker', code: 'CIRCUIT_OPEN', message: /was not called: its circuit breaker is open/, retryable: true },
];

/** Other ways to fall into the same classes (http only): each must still reach the chain with the class's code. */
const variantClasses: readonly FailureClass[] = [
  { name: 'connect-timeout', fault: 'never-accepting', code: 'UPSTREAM_TIMEOUT', message: /connect timeout/, retryable: true, timeouts: { connectMs: 150 } },
  { name: 'slow-headers', fault: { kind: 'drip', phase: 'headers', intervalMs: 1000 }, code: 'UPSTREAM_TIMEOUT', message: /first-byte timeout/, retryable: true, timeouts: { firstByteMs: 200 } },
  { name: 'slow-body', fault: { kind: 'drip', phase: 'body', intervalMs: 50 }, code: 'UPSTREAM_TIMEOUT', message: /did not answer within 300 ms/, retryable: true },
  { name: 'reset-mid-body', fault: { kind: 'reset-mid-body' }, code: 'UPSTREAM_CONNECTION_RESET', message: /reset/, retryable: true },
  { name: 'status-422', fault: { kind: 'status', status: 422 }, code: 'UPSTREAM_REJECTED_REQUEST', message: /rejected the request with 422/, retryable: false },
  { name: 'status-500', fault: { kind: 'status', status: 500 }, code: 'UPSTREAM_SERVER_ERROR', message: /failed with 500/, retryable: true },
  { name: 'wrong-shape', fault: { kind: 'wrong-shape' }, code: 'UPSTREAM_MALFORMED_RESPONSE', message: /has no value at '\/score'/, retryable: false },
];

const timeoutLike = (failure: FailureClass) => failure.code === 'UPSTREAM_TIMEOUT';

// ---------------------------------------------------------------------------------------------
// The protocols the live version and the fallback version speak

type AdapterConfig = Readonly<Record<string, unknown>>;

interface Protocol {
  /** Part of the service names. */
  readonly name: 'http' | 'openai' | 'kserve';
  start(): Promise<FakeServer>;
  adapter(url: string): AdapterConfig;
  /** Appended to a refusing origin, like the fake's own url. */
  readonly path: string;
  /** What a behaving fake answers to the matrix's input, and the confidence Ballast reads from it. */
  readonly backupOutput: unknown;
  readonly backupConfidence: number;
}

const http: Protocol = {
  name: 'http',
  start: () => startFakeHttpModel(),
  adapter: (url) => ({ kind: 'http', url, request: { body: { text: '{{/text}}' } }, response: { confidence: '/score' } }),
  path: '/predict',
  backupOutput: { label: 'spam', score: 0.91, explanation: [{ feature: 'text', token: 'free', contribution: 2.3 }] },
  backupConfidence: 0.91,
};

const openai: Protocol = {
  name: 'openai',
  start: () => startFakeOpenAI(),
  adapter: (url) => ({ kind: 'openai', baseUrl: url, model: 'fake-gpt', prompt: 'Classify: {{/text}}' }),
  path: '/v1',
  // The fake derives its answer from the schema Ballast sends: the first label, score 0.
  backupOutput: { label: 'spam', score: 0 },
  // Every word piece of the answer at logprob -0.05; the least sure one sets the confidence.
  backupConfidence: Math.exp(-0.05),
};

const kserve: Protocol = {
  name: 'kserve',
  start: () => startFakeKServeV2(),
  adapter: (url) => ({ kind: 'kserve-v2', url, model: 'spam-classifier', inputs: [{ name: 'text', datatype: 'BYTES', from: '/text' }], outputs: { label: { tensor: 'label' } }, confidence: { tensor: 'probabilities' } }),
  path: '',
  backupOutput: { label: 'spam' },
  backupConfidence: 0.875,
};

// ---------------------------------------------------------------------------------------------
// The services: one per cell, so that breakers, budgets and metric series never mix

const input = { text: 'win a free phone', amount: 500 };

const contract = {
  version: 1,
  input: { schema: { type: 'object', required: ['text', 'amount'], additionalProperties: false, properties: { text: { type: 'string' }, amount: { type: 'number' } } } },
  output: { schema: { type: 'object', required: ['label'], properties: { label: { enum: ['spam', 'ham'] }, score: { type: 'number' } } } },
};

const reviewReason = 'the model is down: a person decides';

/** The one step of each kind the matrix puts in the chain, what it answers and how the trace names it. */
const steps: Record<StepKind, { readonly config: FallbackStepConfig; readonly name: string; output(protocol: Protocol): unknown }> = {
  version: { config: { version: 'v0' }, name: 'v0', output: (protocol) => protocol.backupOutput },
  rules: {
    config: { rules: [{ name: 'by-amount', when: 'input.amount > 100.0', output: { label: '"ham"', score: 'input.amount / 1000.0' } }] },
    name: 'rules(by-amount)',
    output: () => ({ label: 'ham', score: 0.5 }),
  },
  static: { config: { static: { label: 'ham', score: 0 } }, name: 'static', output: () => ({ label: 'ham', score: 0 }) },
  review: { config: { review: { reason: reviewReason } }, name: 'review', output: () => null },
};

interface Cell {
  readonly protocol: Protocol;
  readonly failure: FailureClass;
  readonly kind: StepKind;
  readonly service: string;
}

const cellsOf = (protocol: Protocol, classes: readonly FailureClass[], kinds: readonly StepKind[]): Cell[] =>
  classes.flatMap((failure) => kinds.map((kind) => ({ protocol, failure, kind, service: `${protocol.name}-${failure.name}-${kind}` })));

const httpCells = cellsOf(http, failureClasses, stepKinds);
const variantCells = cellsOf(http, variantClasses, stepKinds);
const protocolCells = [...cellsOf(openai, failureClasses, ['version', 'static']), ...cellsOf(kserve, failureClasses, ['version', 'static'])];
const retryCells: readonly Cell[] = failureClasses.map((failure) => ({ protocol: http, failure, kind: 'static', service: `retry-${failure.name}` }));

/** Where each protocol's failing and behaving upstreams are, once started. */
interface Upstreams {
  /** The live fake of each class (a behaving one for an open breaker), by class name. */
  readonly fakes: Map<string, FakeServer>;
  readonly backup: FakeServer;
  readonly refused: string;
  readonly neverAccepting: string;
}

const upstreams = new Map<Protocol['name'], Upstreams>();
const closers: (() => Promise<void>)[] = [];
let ballast: TestBallast;
let base: string;

function liveUrl(cell: { protocol: Protocol; failure: FailureClass }): string {
  const up = upstreams.get(cell.protocol.name)!;
  if (cell.failure.fault === 'refused') return up.refused;
  if (cell.failure.fault === 'never-accepting') return up.neverAccepting;
  return up.fakes.get(cell.failure.name)!.url;
}

function service(options: {
  live: AdapterConfig;
  backup: AdapterConfig;
  fallback: readonly FallbackStepConfig[];
  resilience?: Readonly<Record<string, unknown>>;
  liveTimeouts?: TimeoutsConfig | undefined;
  policy?: Readonly<Record<string, unknown>>;
}) {
  return {
    contract,
    policy: { thresholds: { auto: 0.6 }, ...options.policy },
    models: {
      v1: { adapter: options.live, ...(options.liveTimeouts === undefined ? {} : { resilience: { timeouts: options.liveTimeouts } }) },
      v0: { adapter: options.backup },
    },
    live: 'v1',
    resilience: { timeouts: { totalMs }, retry: { attempts: 1 }, ...options.resilience, fallback: options.fallback },
  };
}

/** The services of some cells: the live version fails as the class says, v0 behaves, the chain is the cell's one step. */
function cellServices(cells: readonly Cell[], options: { resilience?: Readonly<Record<string, unknown>> } = {}): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const cell of cells) {
    const backup = cell.protocol.adapter(upstreams.get(cell.protocol.name)!.backup.url);
    services[cell.service] = service({ live: cell.protocol.adapter(liveUrl(cell)), backup, fallback: [steps[cell.kind].config], liveTimeouts: cell.failure.timeouts, ...options });
  }
  return services;
}

// The chains of several steps, over the http fakes.
const failing = (name: string) => http.adapter(upstreams.get('http')!.fakes.get(name)!.url);
const behaving = () => http.adapter(upstreams.get('http')!.backup.url);

function chainServices(): Record<string, unknown> {
  const noMatch = { rules: [{ name: 'big-amount', when: 'input.amount > 10000.0', output: { label: '"ham"', score: '1.0' } }] };
  return {
    'chain-walk': service({
      live: failing('server-error'),
      backup: failing('timeout'),
      fallback: [
        { version: 'v0' },
        { rules: [{ name: 'broken', when: 'input.missing > 1.0', output: { label: '"ham"' } }] },
        noMatch,
        { rules: [{ name: 'bad-label', output: { label: '"maybe"' } }] },
        { static: { label: 'ham', score: 0 } },
      ],
    }),
    'chain-exhausted': service({ live: failing('reset'), backup: http.adapter(upstreams.get('http')!.refused), fallback: [{ version: 'v0' }, noMatch] }),
    'chain-exhausted-reject': service({ live: failing('violating'), backup: failing('malformed'), fallback: [{ version: 'v0' }, noMatch], policy: { onModelError: 'reject' } }),
    // Both versions black holes with a long bound: only open breakers make this fast.
    'all-open': service({ live: failing('timeout'), backup: failing('timeout'), fallback: [{ version: 'v0' }, { static: { label: 'ham', score: 0 } }], resilience: { timeouts: { totalMs: 2000 } } }),
    // The live version uses the whole deadline; the fallback version behaves, but there is no time left to call it.
    deadline: service({ live: failing('timeout'), backup: behaving(), fallback: [{ version: 'v0' }, { static: { label: 'ham', score: 0 } }], resilience: { deadlineMs: 400, timeouts: { totalMs: 2000 } } }),
    // One decision at a time: a request that waits for admission spends its deadline waiting.
    queued: service({
      live: failing('timeout'),
      backup: behaving(),
      fallback: [{ version: 'v0' }, { static: { label: 'ham', score: 0 } }],
      resilience: { deadlineMs: 300, timeouts: { totalMs: 2000 }, admission: { limit: { fixed: 1 }, queue: { size: 4, maxWaitMs: 2000 } } },
    }),
    'review-default': service({ live: failing('server-error'), backup: behaving(), fallback: [noMatch, { review: null }] }),
    trip: service({
      live: failing('server-error'),
      backup: behaving(),
      fallback: [{ static: { label: 'ham', score: 0 } }],
      resilience: { breaker: { window: { calls: 10 }, minimumCalls: 3, failureRate: 0.5, openMs: 60_000 } },
    }),
  };
}

beforeAll(async () => {
  const neverAccepting = await startNeverAccepting(http.path);
  closers.push(() => neverAccepting.close());
  for (const protocol of [http, openai, kserve]) {
    const fakes = new Map<string, FakeServer>();
    const classes = protocol === http ? [...failureClasses, ...variantClasses] : failureClasses;
    for (const failure of classes) {
      if (failure.fault === 'refused' || failure.fault === 'never-accepting') continue;
      const fake = await protocol.start();
      closers.push(() => fake.close());
      if (failure.fault !== 'open-breaker') fake.behaviour = failure.fault;
      fakes.set(failure.name, fake);
    }
    const backup = await protocol.start();
    closers.push(() => backup.close());
    upstreams.set(protocol.name, { fakes, backup, refused: '', neverAccepting: neverAccepting.url });
  }
  // Last, so that no fake started afterwards can be handed the refusing port.
  for (const protocol of [http, openai, kserve]) {
    const up = upstreams.get(protocol.name)!;
    upstreams.set(protocol.name, { ...up, refused: await refusingUrl(protocol.path) });
  }
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(closers.map((close) => close()));
});

/**
 * A Ballast of its own for the enclosing describe, listening on loopback: each table keeps its
 * metrics registry small (the exposition grows with every service that decided, and rendering a
 * large one delays the event loop enough for admission to shed load).
 */
function withBallast(services: () => Record<string, unknown>): void {
  beforeAll(async () => {
    // JSON is YAML: the config file is the object as it is.
    ballast = await startTestBallast(JSON.stringify({ version: 1, services: services() }, null, 1));
    base = await ballast.server.app.listen({ host: '127.0.0.1', port: 0 });
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 30_000);
  afterAll(async () => {
    await ballast.close();
  });
}

// ---------------------------------------------------------------------------------------------
// Talking to Ballast over loopback, and reading its metrics

async function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${url}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: response.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) : text };
}

/**
 * Asks for one decision; it must be answered 200 whatever the model did. The one refusal retried is
 * admission shedding load because this process is under pressure (a test machine busy with other
 * work can stall the event loop past 200 ms): it comes before the model and the store are touched,
 * so no count or fake sees it, and a client would retry it after Retry-After too.
 */
async function decide(serviceName: string, body: Readonly<Record<string, unknown>> = input): Promise<{ decision: Decision; elapsed: number }> {
  for (let attempt = 1; ; attempt++) {
    const started = performance.now();
    const response = await call('POST', `/v1/services/${serviceName}/decisions`, { input: body });
    const elapsed = performance.now() - started;
    const problem = response.body as { code?: string; detail?: string };
    if (response.status === 503 && problem.code === 'SERVER_BUSY' && /event-loop delay|short of memory/.test(problem.detail ?? '') && attempt < 10) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return { decision: response.body as Decision, elapsed };
  }
}

async function forceBreaker(serviceName: string, version: string, target: 'open' | 'close'): Promise<void> {
  const response = await call('POST', `/v1/services/${serviceName}/breakers/${version}/${target}`, { reason: 'fault matrix' });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body).toMatchObject({ changed: true, breaker: { version, kind: 'errors', state: target === 'open' ? 'open' : 'closed' } });
}

type Samples = ReadonlyMap<string, number>;

/** A series' key: its name and its labels, sorted, as the exposition would print them. */
function series(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((label) => `${label}="${labels[label]}"`)
    .join(',')}}`;
}

/** Every sample of the text format, by series key. */
async function scrape(): Promise<Samples> {
  const response = await call('GET', '/metrics');
  expect(response.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of String(response.body).split('\n')) {
    if (!line.startsWith('ballast_') || line.startsWith('ballast_stage_') || line.startsWith('ballast_decision_duration')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.set(series(match[1]!, labels), Number(match[3]));
  }
  return samples;
}

const counters = new Set([
  'ballast_decisions_total',
  'ballast_model_errors_total',
  'ballast_model_calls_total',
  'ballast_model_retries_total',
  'ballast_fallback_steps_total',
  'ballast_fallback_exhausted_total',
  'ballast_breaker_transitions_total',
]);

/** The counters of one service that moved between two scrapes, and by how much. */
function counterDeltas(before: Samples, after: Samples, serviceName: string): Record<string, number> {
  const deltas: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!counters.has(key.slice(0, key.indexOf('{'))) || !key.includes(`service="${serviceName}"`)) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) deltas[key] = delta;
  }
  return deltas;
}

/** Builds the expected deltas: `add(name, labels)` counts one more in that series. */
function expectedDeltas(serviceName: string, build: (add: (name: string, labels: Readonly<Record<string, string>>, by?: number) => void) => void): Record<string, number> {
  const deltas: Record<string, number> = {};
  build((name, labels, by = 1) => {
    // No rollout runs here: every decision counts for arm "none".
    const key = series(name, { service: serviceName, ...(name === 'ballast_decisions_total' ? { arm: 'none' } : {}), ...labels });
    deltas[key] = (deltas[key] ?? 0) + by;
  });
  return deltas;
}

/** The decision as kept: the same outcome, version, output and explanation as answered. */
async function expectRecorded(decision: Decision): Promise<void> {
  const stored = await call('GET', `/v1/decisions/${decision.id}`);
  expect(stored.status).toBe(200);
  expect(stored.body).toMatchObject({ id: decision.id, service: decision.service, outcome: decision.outcome, version: decision.version, confidence: decision.confidence, output: decision.output });
  expect((stored.body as { explanation: unknown }).explanation).toEqual(decision.explanation);
}

const requestsOf = (fake: FakeServer | undefined) => fake?.requests ?? 0;

// ---------------------------------------------------------------------------------------------
// The matrix

async function runCell(cell: Cell): Promise<void> {
  const { protocol, failure, kind, service: name } = cell;
  const up = upstreams.get(protocol.name)!;
  const liveFake = up.fakes.get(failure.name);
  const step = steps[kind];
  const before = await scrape();
  const liveBefore = requestsOf(liveFake);
  const backupBefore = up.backup.requests;
  if (failure.fault === 'open-breaker') await forceBreaker(name, 'v1', 'open');

  const { decision } = await decide(name);
  const after = await scrape();
  const { explanation } = decision;
  const output = step.output(protocol);
  const confidence = kind === 'version' ? protocol.backupConfidence : null;

  // The outcome and who answered.
  expect(decision.outcome).toBe(kind === 'review' ? 'review' : 'fallback');
  // A review step has no output of its own: the decision stays the routed version's, like one onModelError decides.
  expect(decision.version).toBe(kind === 'version' ? 'v0' : kind === 'review' ? 'v1' : null);
  expect(explanation.version).toBe(decision.version);
  expect(decision.output).toEqual(output);
  if (confidence === null) expect(decision.confidence).toBeNull();
  else expect(decision.confidence).toBeCloseTo(confidence, 3);

  // The fallback trace: what started it, the step that answered, every step tried.
  const fallback = explanation.fallback!;
  expect(fallback).toBeDefined();
  expect(fallback.from).toBe('v1');
  expect(fallback.cause.code).toBe(failure.code);
  expect(fallback.cause.message).toMatch(failure.message);
  if (failure.code === 'CONTRACT_INVALID_OUTPUT') expect(fallback.cause.issues).toEqual([expect.objectContaining({ pointer: '/label' })]);
  else expect(fallback.cause).not.toHaveProperty('issues');
  expect(fallback.answeredBy).toEqual({ step: 0, kind, name: step.name });
  expect(fallback.steps).toEqual([{ step: 0, kind, name: step.name, answered: true }]);
  expect(explanation.modelError).toEqual({ code: failure.code, message: fallback.cause.message });
  // The routed model's broken output is in the cause, not held against the answer.
  expect(explanation).not.toHaveProperty('outputIssues');

  // Every model call: the live version once (not called at all when open), then the fallback version.
  const liveAttempt = { version: 'v1', attempt: 1, code: failure.code, ms: failure.fault === 'open-breaker' ? 0 : expect.any(Number) };
  expect(explanation.attempts).toEqual(kind === 'version' ? [liveAttempt, { version: 'v0', attempt: 1, code: null, ms: expect.any(Number) }] : [liveAttempt]);
  if (timeoutLike(failure)) {
    const bound = Math.min(totalMs, failure.timeouts?.connectMs ?? totalMs, failure.timeouts?.firstByteMs ?? totalMs);
    expect(explanation.attempts![0]!.ms).toBeGreaterThanOrEqual(bound - 5);
    expect(explanation.attempts![0]!.ms).toBeLessThanOrEqual(bound + 100);
  }
  if (failure.fault === 'open-breaker') expect(explanation.breakers).toEqual([{ version: 'v1', state: 'open' }]);
  else expect(explanation).not.toHaveProperty('breakers');

  // The reasons: the fallback first, the model's failure only informing.
  const said = `v1: ${failure.code}`;
  const fallbackReason =
    kind === 'review'
      ? { kind: 'fallback', code: 'review', effect: 'review', message: `${reviewReason} (fallback step 1, after ${said})` }
      : { kind: 'fallback', code: kind, effect: 'fallback', message: `fallback step 1 (${step.name}) answered after ${said}` };
  const modelReason = { kind: 'model_error', code: failure.code, effect: 'none', message: `the model failed: ${fallback.cause.message}` };
  const thresholdReason = { kind: 'threshold', code: 'confidence_at_or_above_auto', effect: 'fallback', message: expect.stringMatching(/at or above the auto threshold 0\.60/) };
  expect(decision.reasons).toEqual(kind === 'version' ? [fallbackReason, thresholdReason, modelReason] : [fallbackReason, modelReason]);
  expect(explanation.reasons).toEqual(decision.reasons);

  // What the upstreams saw: the failing one once (never when its breaker is open), the fallback version once when it is the step.
  if (liveFake !== undefined) expect(requestsOf(liveFake) - liveBefore).toBe(failure.fault === 'open-breaker' ? 0 : 1);
  expect(up.backup.requests - backupBefore).toBe(kind === 'version' ? 1 : 0);

  await expectRecorded(decision);

  // The metrics: exactly these counters of the service moved.
  const expected = expectedDeltas(name, (add) => {
    add('ballast_decisions_total', { version: decision.version ?? 'none', outcome: decision.outcome });
    add('ballast_model_errors_total', { version: 'v1', code: failure.code });
    // A breaker's refusal is not a model call.
    if (failure.code !== 'CIRCUIT_OPEN') add('ballast_model_calls_total', { version: 'v1', code: failure.code });
    if (kind === 'version') add('ballast_model_calls_total', { version: 'v0', code: 'ok' });
    add('ballast_fallback_steps_total', { step: '1', kind, result: 'answered' });
    if (failure.fault === 'open-breaker') add('ballast_breaker_transitions_total', { version: 'v1', kind: 'errors', from: 'closed', to: 'open' });
  });
  expect(counterDeltas(before, after, name)).toEqual(expected);
  const state = (s: string) => after.get(series('ballast_breaker_state', { service: name, version: 'v1', kind: 'errors', state: s }));
  expect([state('closed'), state('open')]).toEqual(failure.fault === 'open-breaker' ? [0, 1] : [1, 0]);
}

describe('the fault matrix over http: every failure class × every kind of step', () => {
  withBallast(() => cellServices(httpCells));
  it.each(httpCells.map((cell) => [cell.failure.name, cell.kind, cell] as const))('%s → %s', async (_failure, _kind, cell) => {
    await runCell(cell);
  });
});

describe('other faults of the same classes (http)', () => {
  withBallast(() => cellServices(variantCells));
  it.each(variantCells.map((cell) => [cell.failure.name, cell.failure.code, cell.kind, cell] as const))('%s (%s) → %s', async (_failure, _code, _kind, cell) => {
    await runCell(cell);
  });
});

describe('the fault matrix over openai and kserve-v2', () => {
  withBallast(() => cellServices(protocolCells));
  it.each(protocolCells.map((cell) => [cell.protocol.name, cell.failure.name, cell.kind, cell] as const))('%s: %s → %s', async (_protocol, _failure, _kind, cell) => {
    await runCell(cell);
  });
});

describe('retries per class (attempts: 2)', () => {
  withBallast(() => cellServices(retryCells, { resilience: { retry: { attempts: 2, backoff: { baseMs: 5, capMs: 10 } } } }));
  it.each(retryCells.map((cell) => [cell.failure.name, cell.failure.retryable ? 'retried' : 'not retried', cell] as const))('%s is %s, then the chain answers', async (_failure, _retried, cell) => {
    const { failure, service: name } = cell;
    const liveFake = upstreams.get('http')!.fakes.get(failure.name);
    const liveBefore = requestsOf(liveFake);
    const before = await scrape();
    if (failure.fault === 'open-breaker') await forceBreaker(name, 'v1', 'open');
    const { decision } = await decide(name);
    const after = await scrape();
    const attempts = decision.explanation.attempts!;
    // An open breaker is retryable for the caller, but not within the decision: nothing would change.
    const retried = failure.retryable && failure.fault !== 'open-breaker';
    expect(attempts.map((a) => [a.version, a.attempt, a.code])).toEqual(retried ? [['v1', 1, failure.code], ['v1', 2, failure.code]] : [['v1', 1, failure.code]]);
    if (retried) expect(attempts[1]!.waitedMs ?? 0).toBeLessThanOrEqual(10);
    expect(decision.outcome).toBe('fallback');
    expect(decision.explanation.fallback?.cause.code).toBe(failure.code);
    expect(decision.explanation.fallback?.cause.message.endsWith(' (after 2 attempts)')).toBe(retried);
    expect(decision.explanation.fallback?.answeredBy).toEqual({ step: 0, kind: 'static', name: 'static' });
    if (liveFake !== undefined) expect(requestsOf(liveFake) - liveBefore).toBe(failure.fault === 'open-breaker' ? 0 : retried ? 2 : 1);
    expect(counterDeltas(before, after, name)).toEqual(
      expectedDeltas(name, (add) => {
        add('ballast_decisions_total', { version: 'none', outcome: 'fallback' });
        add('ballast_model_errors_total', { version: 'v1', code: failure.code });
        if (failure.fault !== 'open-breaker') add('ballast_model_calls_total', { version: 'v1', code: failure.code }, retried ? 2 : 1);
        if (retried) add('ballast_model_retries_total', { version: 'v1' });
        add('ballast_fallback_steps_total', { step: '1', kind: 'static', result: 'answered' });
        if (failure.fault === 'open-breaker') add('ballast_breaker_transitions_total', { version: 'v1', kind: 'errors', from: 'closed', to: 'open' });
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Chains of several steps

describe('a chain of several steps', () => {
  withBallast(chainServices);
  it('walks a failing fallback version, rules that fail, do not match or break the contract, then answers with the static output', async () => {
    const timeoutFake = upstreams.get('http')!.fakes.get('timeout')!;
    const timeoutBefore = timeoutFake.requests;
    const before = await scrape();
    const { decision } = await decide('chain-walk');
    const after = await scrape();
    const { explanation } = decision;
    expect(decision.outcome).toBe('fallback');
    expect(decision.version).toBeNull();
    expect(decision.output).toEqual({ label: 'ham', score: 0 });
    expect(explanation.attempts).toEqual([
      { version: 'v1', attempt: 1, code: 'UPSTREAM_SERVER_ERROR', ms: expect.any(Number) },
      { version: 'v0', attempt: 1, code: 'UPSTREAM_TIMEOUT', ms: expect.any(Number) },
    ]);
    expect(explanation.attempts![1]!.ms).toBeGreaterThanOrEqual(totalMs - 5);
    expect(timeoutFake.requests - timeoutBefore).toBe(1);
    expect(explanation.fallback).toEqual({
      from: 'v1',
      cause: { code: 'UPSTREAM_SERVER_ERROR', message: expect.stringMatching(/failed with 503/) },
      answeredBy: { step: 4, kind: 'static', name: 'static' },
      steps: [
        { step: 0, kind: 'version', name: 'v0', answered: false, code: 'UPSTREAM_TIMEOUT', message: expect.stringMatching(/timeout|within 300 ms/) },
        { step: 1, kind: 'rules', name: 'rules(broken)', answered: false, code: 'POLICY_RULE_FAILED', message: expect.stringMatching(/^fallback rule broken could not be evaluated \(.*missing/) },
        { step: 2, kind: 'rules', name: 'rules(big-amount)', answered: false, code: 'FALLBACK_NO_RULE_MATCHED', message: 'no fallback rule matched (big-amount)' },
        { step: 3, kind: 'rules', name: 'rules(bad-label)', answered: false, code: 'CONTRACT_INVALID_OUTPUT', message: expect.stringMatching(/^fallback rule bad-label gave an output that violates the output contract \(\/label: /) },
        { step: 4, kind: 'static', name: 'static', answered: true },
      ],
    });
    expect(decision.reasons[0]).toEqual({
      kind: 'fallback',
      code: 'static',
      effect: 'fallback',
      message: 'fallback step 5 (static) answered after v1: UPSTREAM_SERVER_ERROR, v0: UPSTREAM_TIMEOUT, rules(broken): POLICY_RULE_FAILED, rules(big-amount): FALLBACK_NO_RULE_MATCHED, rules(bad-label): CONTRACT_INVALID_OUTPUT',
    });
    expect(decision.reasons.slice(1)).toEqual([{ kind: 'model_error', code: 'UPSTREAM_SERVER_ERROR', effect: 'none', message: expect.stringMatching(/^the model failed: /) }]);
    await expectRecorded(decision);
    expect(counterDeltas(before, after, 'chain-walk')).toEqual(
      expectedDeltas('chain-walk', (add) => {
        add('ballast_decisions_total', { version: 'none', outcome: 'fallback' });
        add('ballast_model_errors_total', { version: 'v1', code: 'UPSTREAM_SERVER_ERROR' });
        add('ballast_model_calls_total', { version: 'v1', code: 'UPSTREAM_SERVER_ERROR' });
        add('ballast_model_calls_total', { version: 'v0', code: 'UPSTREAM_TIMEOUT' });
        add('ballast_fallback_steps_total', { step: '1', kind: 'version', result: 'UPSTREAM_TIMEOUT' });
        add('ballast_fallback_steps_total', { step: '2', kind: 'rules', result: 'POLICY_RULE_FAILED' });
        add('ballast_fallback_steps_total', { step: '3', kind: 'rules', result: 'FALLBACK_NO_RULE_MATCHED' });
        add('ballast_fallback_steps_total', { step: '4', kind: 'rules', result: 'CONTRACT_INVALID_OUTPUT' });
        add('ballast_fallback_steps_total', { step: '5', kind: 'static', result: 'answered' });
      }),
    );
  });

  it('stops at the first step that answers: a rule that matches this input answers before the static output', async () => {
    const { decision } = await decide('chain-walk', { text: 'win a free phone', amount: 20_000 });
    expect(decision.outcome).toBe('fallback');
    expect(decision.output).toEqual({ label: 'ham', score: 1 });
    expect(decision.explanation.fallback?.answeredBy).toEqual({ step: 2, kind: 'rules', name: 'rules(big-amount)' });
    expect(decision.explanation.fallback?.steps.map((s) => [s.step, s.answered, s.code])).toEqual([
      [0, false, 'UPSTREAM_TIMEOUT'],
      [1, false, 'POLICY_RULE_FAILED'],
      [2, true, undefined],
    ]);
  });

  it.each([
    { name: 'chain-exhausted', onModelError: 'review', code: 'UPSTREAM_CONNECTION_RESET', fallbackCode: 'UPSTREAM_UNAVAILABLE' },
    { name: 'chain-exhausted-reject', onModelError: 'reject', code: 'CONTRACT_INVALID_OUTPUT', fallbackCode: 'UPSTREAM_MALFORMED_RESPONSE' },
  ])('with no step that answers leaves the decision to onModelError ($onModelError)', async ({ name, onModelError, code, fallbackCode }) => {
    const before = await scrape();
    const { decision } = await decide(name);
    const after = await scrape();
    const { explanation } = decision;
    const outcome = onModelError === 'reject' ? 'rejected' : 'review';
    expect(decision.outcome).toBe(outcome);
    expect(decision.version).toBe('v1');
    expect(decision.output).toBeNull();
    expect(decision.confidence).toBeNull();
    expect(explanation.fallback).toEqual({
      from: 'v1',
      cause: { code, message: expect.any(String), ...(code === 'CONTRACT_INVALID_OUTPUT' ? { issues: [expect.objectContaining({ pointer: '/label' })] } : {}) },
      answeredBy: null,
      steps: [
        { step: 0, kind: 'version', name: 'v0', answered: false, code: fallbackCode, message: expect.any(String) },
        { step: 1, kind: 'rules', name: 'rules(big-amount)', answered: false, code: 'FALLBACK_NO_RULE_MATCHED', message: 'no fallback rule matched (big-amount)' },
      ],
    });
    expect(explanation.attempts?.map((a) => [a.version, a.code])).toEqual([
      ['v1', code],
      ['v0', fallbackCode],
    ]);
    // No fallback reason: the model's failure (and the broken output's issues) decide, as without a chain.
    expect(decision.reasons[0]).toEqual({ kind: 'model_error', code, effect: outcome, message: `the model failed: ${explanation.fallback!.cause.message}` });
    expect(decision.reasons.every((r) => r.kind !== 'fallback' && r.effect === outcome)).toBe(true);
    if (code === 'CONTRACT_INVALID_OUTPUT') expect(decision.reasons.slice(1)).toEqual([expect.objectContaining({ kind: 'output_invalid', field: '/label' })]);
    else expect(decision.reasons).toHaveLength(1);
    await expectRecorded(decision);
    expect(counterDeltas(before, after, name)).toEqual(
      expectedDeltas(name, (add) => {
        add('ballast_decisions_total', { version: 'v1', outcome });
        add('ballast_model_errors_total', { version: 'v1', code });
        if (code !== 'CIRCUIT_OPEN') add('ballast_model_calls_total', { version: 'v1', code });
        if (fallbackCode !== 'CIRCUIT_OPEN') add('ballast_model_calls_total', { version: 'v0', code: fallbackCode });
        add('ballast_fallback_steps_total', { step: '1', kind: 'version', result: fallbackCode });
        add('ballast_fallback_steps_total', { step: '2', kind: 'rules', result: 'FALLBACK_NO_RULE_MATCHED' });
        add('ballast_fallback_exhausted_total', {});
      }),
    );
  });

  it('answers with every version open, calling no model, far below the timeout', async () => {
    const timeoutFake = upstreams.get('http')!.fakes.get('timeout')!;
    const requestsBefore = timeoutFake.requests;
    await forceBreaker('all-open', 'v1', 'open');
    await forceBreaker('all-open', 'v0', 'open');
    const before = await scrape();
    const { decision, elapsed } = await decide('all-open');
    const after = await scrape();
    expect(decision.outcome).toBe('fallback');
    expect(decision.output).toEqual({ label: 'ham', score: 0 });
    expect(decision.explanation.attempts).toEqual([
      { version: 'v1', attempt: 1, code: 'CIRCUIT_OPEN', ms: 0 },
      { version: 'v0', attempt: 1, code: 'CIRCUIT_OPEN', ms: 0 },
    ]);
    expect(decision.explanation.fallback?.steps).toEqual([
      { step: 0, kind: 'version', name: 'v0', answered: false, code: 'CIRCUIT_OPEN', message: 'model all-open/v0 was not called: its circuit breaker is open' },
      { step: 1, kind: 'static', name: 'static', answered: true },
    ]);
    expect(decision.explanation.fallback?.cause).toEqual({ code: 'CIRCUIT_OPEN', message: 'model all-open/v1 was not called: its circuit breaker is open' });
    expect(decision.explanation.breakers).toEqual([
      { version: 'v1', state: 'open' },
      { version: 'v0', state: 'open' },
    ]);
    expect(timeoutFake.requests).toBe(requestsBefore);
    // Both versions are black holes with a 2000 ms bound: only not calling them answers this fast.
    expect(elapsed).toBeLessThan(200);
    expect(decision.timings.invoke! + decision.timings.fallback!).toBeLessThan(20);
    await expectRecorded(decision);
    expect(counterDeltas(before, after, 'all-open')).toEqual(
      expectedDeltas('all-open', (add) => {
        add('ballast_decisions_total', { version: 'none', outcome: 'fallback' });
        add('ballast_model_errors_total', { version: 'v1', code: 'CIRCUIT_OPEN' });
        add('ballast_fallback_steps_total', { step: '1', kind: 'version', result: 'CIRCUIT_OPEN' });
        add('ballast_fallback_steps_total', { step: '2', kind: 'static', result: 'answered' });
      }),
    );
    const breakers = (await call('GET', '/v1/services/all-open/breakers')).body as { breakers: { version: string; state: string }[]; history: { version: string; to: string; actor: string | null; reason: string }[] };
    expect(breakers.breakers.map((b) => [b.version, b.state])).toEqual([
      ['v1', 'open'],
      ['v0', 'open'],
    ]);
    // An operator's change is kept with who made it and why (auth is off here: the anonymous principal).
    expect(breakers.history.map((h) => [h.version, h.to, h.actor, h.reason]).sort()).toEqual([
      ['v0', 'open', 'anonymous', 'anonymous: fault matrix'],
      ['v1', 'open', 'anonymous', 'anonymous: fault matrix'],
    ]);
  });

  it('does not call a fallback version once the deadline has run out: DEADLINE_EXCEEDED in its trace, the static output answers', async () => {
    const backup = upstreams.get('http')!.backup;
    const backupBefore = backup.requests;
    const before = await scrape();
    const { decision, elapsed } = await decide('deadline');
    const after = await scrape();
    const { explanation } = decision;
    expect(decision.outcome).toBe('fallback');
    expect(decision.output).toEqual({ label: 'ham', score: 0 });
    // The live version's call is cut at the deadline, not at its own 2000 ms bound.
    expect(explanation.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'UPSTREAM_TIMEOUT', ms: expect.any(Number) }]);
    expect(explanation.attempts![0]!.ms).toBeGreaterThanOrEqual(395);
    expect(explanation.attempts![0]!.ms).toBeLessThanOrEqual(500);
    expect(explanation.fallback?.steps).toEqual([
      { step: 0, kind: 'version', name: 'v0', answered: false, code: 'DEADLINE_EXCEEDED', message: "model deadline/v0 was not called: the request's 400 ms deadline had run out" },
      { step: 1, kind: 'static', name: 'static', answered: true },
    ]);
    expect(backup.requests).toBe(backupBefore);
    expect(elapsed).toBeLessThan(600);
    expect(decision.reasons[0]?.message).toBe('fallback step 2 (static) answered after v1: UPSTREAM_TIMEOUT, v0: DEADLINE_EXCEEDED');
    await expectRecorded(decision);
    expect(counterDeltas(before, after, 'deadline')).toEqual(
      expectedDeltas('deadline', (add) => {
        add('ballast_decisions_total', { version: 'none', outcome: 'fallback' });
        add('ballast_model_errors_total', { version: 'v1', code: 'UPSTREAM_TIMEOUT' });
        add('ballast_model_calls_total', { version: 'v1', code: 'UPSTREAM_TIMEOUT' });
        add('ballast_fallback_steps_total', { step: '1', kind: 'version', result: 'DEADLINE_EXCEEDED' });
        add('ballast_fallback_steps_total', { step: '2', kind: 'static', result: 'answered' });
      }),
    );
  });

  it('spends the deadline waiting for admission: the live version is not called at all, the chain still answers', async () => {
    const backup = upstreams.get('http')!.backup;
    const timeoutFake = upstreams.get('http')!.fakes.get('timeout')!;
    const backupBefore = backup.requests;
    const hangBefore = timeoutFake.requests;
    const before = await scrape();
    // One at a time, each up to its 300 ms deadline: the last one admitted has waited for two others, longer than its whole deadline.
    const decisions = (await Promise.all([decide('queued'), decide('queued'), decide('queued')])).map((d) => d.decision);
    const after = await scrape();
    expect(decisions.map((d) => d.outcome)).toEqual(['fallback', 'fallback', 'fallback']);
    const starved = decisions.filter((d) => d.explanation.fallback?.cause.code === 'DEADLINE_EXCEEDED');
    const called = decisions.filter((d) => d.explanation.fallback?.cause.code !== 'DEADLINE_EXCEEDED');
    expect(starved.length).toBeGreaterThanOrEqual(1);
    for (const decision of called) expect(decision.explanation.attempts?.map((a) => [a.version, a.code])).toEqual([['v1', 'UPSTREAM_TIMEOUT']]);
    const decision = starved[0]!;
    expect(decision.output).toEqual({ label: 'ham', score: 0 });
    // No call was made for it: no attempts, and the cause is the deadline itself.
    expect(decision.explanation).not.toHaveProperty('attempts');
    expect(decision.explanation.fallback).toEqual({
      from: 'v1',
      cause: { code: 'DEADLINE_EXCEEDED', message: "model queued/v1 was not called: the request's 300 ms deadline had run out" },
      answeredBy: { step: 1, kind: 'static', name: 'static' },
      steps: [
        { step: 0, kind: 'version', name: 'v0', answered: false, code: 'DEADLINE_EXCEEDED', message: "model queued/v0 was not called: the request's 300 ms deadline had run out" },
        { step: 1, kind: 'static', name: 'static', answered: true },
      ],
    });
    expect(decision.reasons.map((r) => [r.kind, r.code, r.effect])).toEqual([
      ['fallback', 'static', 'fallback'],
      ['model_error', 'DEADLINE_EXCEEDED', 'none'],
    ]);
    expect(timeoutFake.requests - hangBefore).toBe(called.length);
    expect(backup.requests).toBe(backupBefore);
    await expectRecorded(decision);
    const deltas = counterDeltas(before, after, 'queued');
    // The starved decisions' model errors count under v1, the version that failed (explanation.fallback.from).
    expect(deltas).toEqual(
      expectedDeltas('queued', (add) => {
        add('ballast_model_errors_total', { version: 'v1', code: 'DEADLINE_EXCEEDED' }, starved.length);
        add('ballast_decisions_total', { version: 'none', outcome: 'fallback' }, 3);
        add('ballast_model_errors_total', { version: 'v1', code: 'UPSTREAM_TIMEOUT' }, called.length);
        add('ballast_model_calls_total', { version: 'v1', code: 'UPSTREAM_TIMEOUT' }, called.length);
        add('ballast_fallback_steps_total', { step: '1', kind: 'version', result: 'DEADLINE_EXCEEDED' }, 3);
        add('ballast_fallback_steps_total', { step: '2', kind: 'static', result: 'answered' }, 3);
      }),
    );
  });

  it('sends the case to review with the default reason when the review step gives none', async () => {
    const { decision } = await decide('review-default');
    expect(decision.outcome).toBe('review');
    expect(decision.reasons[0]).toEqual({
      kind: 'fallback',
      code: 'review',
      effect: 'review',
      message: 'the fallback chain sends the case to a human (fallback step 2, after v1: UPSTREAM_SERVER_ERROR, rules(big-amount): FALLBACK_NO_RULE_MATCHED)',
    });
    expect(decision.explanation.fallback?.answeredBy).toEqual({ step: 1, kind: 'review', name: 'review' });
  });

  it('trips the breaker for real after minimumCalls failures; then the version is not called and the chain still answers', async () => {
    const fake = upstreams.get('http')!.fakes.get('server-error')!;
    const before = await scrape();
    const requestsBefore = fake.requests;
    for (let i = 0; i < 3; i++) {
      const { decision } = await decide('trip');
      expect(decision.outcome).toBe('fallback');
      expect(decision.explanation.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'UPSTREAM_SERVER_ERROR', ms: expect.any(Number) }]);
      // Breaker states are read after the calls: the call that trips it already reports it open.
      if (i < 2) expect(decision.explanation).not.toHaveProperty('breakers');
      else expect(decision.explanation.breakers).toEqual([{ version: 'v1', state: 'open' }]);
    }
    expect(fake.requests - requestsBefore).toBe(3);
    const { decision } = await decide('trip');
    const after = await scrape();
    expect(fake.requests - requestsBefore).toBe(3);
    expect(decision.outcome).toBe('fallback');
    expect(decision.explanation.attempts).toEqual([{ version: 'v1', attempt: 1, code: 'CIRCUIT_OPEN', ms: 0 }]);
    expect(decision.explanation.fallback?.cause).toEqual({ code: 'CIRCUIT_OPEN', message: 'model trip/v1 was not called: its circuit breaker is open' });
    expect(decision.explanation.fallback?.answeredBy).toEqual({ step: 0, kind: 'static', name: 'static' });
    expect(decision.explanation.breakers).toEqual([{ version: 'v1', state: 'open' }]);
    await expectRecorded(decision);
    expect(counterDeltas(before, after, 'trip')).toEqual(
      expectedDeltas('trip', (add) => {
        add('ballast_decisions_total', { version: 'none', outcome: 'fallback' }, 4);
        add('ballast_model_errors_total', { version: 'v1', code: 'UPSTREAM_SERVER_ERROR' }, 3);
        add('ballast_model_errors_total', { version: 'v1', code: 'CIRCUIT_OPEN' });
        add('ballast_model_calls_total', { version: 'v1', code: 'UPSTREAM_SERVER_ERROR' }, 3);
        add('ballast_fallback_steps_total', { step: '1', kind: 'static', result: 'answered' }, 4);
        add('ballast_breaker_transitions_total', { version: 'v1', kind: 'errors', from: 'closed', to: 'open' });
      }),
    );
    expect(after.get(series('ballast_breaker_state', { service: 'trip', version: 'v1', kind: 'errors', state: 'open' }))).toBe(1);
    // The runtime keeps the transition in the store (not an operator's: no actor).
    let history: { version: string; from: string; to: string; actor: string | null }[] = [];
    for (let i = 0; i < 50 && history.length === 0; i++) {
      const breakers = await call('GET', '/v1/services/trip/breakers');
      history = (breakers.body as { history: typeof history }).history;
      if (history.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(history).toEqual([expect.objectContaining({ version: 'v1', from: 'closed', to: 'open', actor: null })]);
  });
});

// ---------------------------------------------------------------------------------------------
// What `ballast validate` refuses in a chain

function chainConfig(fallback: readonly string[]): string {
  const adapter = `{ kind: module, path: ${JSON.stringify(keywordModelPath)}, export: createModel }`;
  return `version: 1
services:
  loans:
    contract:
      version: 1
      input:
        schema: { type: object, required: [text, amount], properties: { text: { type: string }, amount: { type: number } } }
      output:
        schema: { type: object, required: [label], properties: { label: { enum: [spam, ham] }, score: { type: number } } }
    models:
      v1: { adapter: ${adapter} }
      v0: { adapter: ${adapter} }
    live: v1
    resilience:
      fallback:
${fallback.map((step) => `        ${step}`).join('\n')}
`;
}

/** Validates a config as `ballast validate` does: parse, then compile every service. */
async function validate(text: string): Promise<{ file: string; error: unknown }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-fault-matrix-'));
  const file = path.join(dir, 'ballast.yaml');
  try {
    const config = parseConfigText(text, file);
    const runtime = await startRuntime({ ...config, store: { kind: 'sqlite', path: ':memory:' } }, { dataDir: dir, redactionKey: 'validate', configText: text });
    await runtime.close();
    return { file, error: undefined };
  } catch (error) {
    return { file, error };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ballast validate refuses a chain that could not work', () => {
  it('accepts a chain of every kind of step', async () => {
    const { error } = await validate(chainConfig(['- version: v0', `- rules: [{ name: by-amount, when: 'input.amount > 100.0', output: { label: '"ham"', score: '0.0' } }]`, '- static: { label: ham, score: 0 }', '- review: null']));
    expect(error).toBeUndefined();
  });

  it.each([
    { what: 'names an unknown version', steps: ['- version: v9'], at: 0, pointer: '/0/version', message: /^'v9' is not a key of models \(v1, v0\)$/ },
    { what: 'falls back to the live version', steps: ['- version: v1'], at: 0, pointer: '/0/version', message: /^'v1' is the live version/ },
    { what: 'names a version twice', steps: ['- version: v0', '- version: v0'], at: 1, pointer: '/1/version', message: /already a step of the chain/ },
    { what: 'has a step after review', steps: ['- review: { reason: a person decides }', '- static: { label: ham }'], at: 1, pointer: '/1', message: /^no step can follow review/ },
    { what: 'has a static output that breaks the output contract', steps: ['- version: v0', '- static: { label: maybe, score: 0 }'], at: 1, pointer: '/1/static/label', message: /^the static output breaks the output contract: / },
    { what: 'has invalid CEL in a rule’s when', steps: [`- rules: [{ name: r, when: 'input.amount >> 1', output: { label: '"ham"' } }]`], at: 0, pointer: '/0/rules/0/when', message: /^invalid CEL/ },
    { what: 'has invalid CEL in a rule’s output', steps: [`- rules: [{ name: r, output: { label: '"ham" +' } }]`], at: 0, pointer: '/0/rules/0/output/label', message: /^invalid CEL/ },
    { what: 'has a when that is not a bool', steps: [`- rules: [{ name: r, when: '"yes"', output: { label: '"ham"' } }]`], at: 0, pointer: '/0/rules/0/when', message: /^when must yield a bool/ },
  ])('$what: CONFIG_INVALID at $pointer', async ({ steps: chain, at, pointer, message }) => {
    const text = chainConfig(chain);
    const { file, error } = await validate(text);
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    const full = `/services/loans/resilience/fallback${pointer}`;
    expect(problems.map((p) => p.pointer)).toEqual([full]);
    const problem = problems[0]!;
    expect(problem.message).toMatch(message);
    // The line of the offending step, as `ballast validate` prints it.
    const line = text.split('\n').indexOf('      fallback:') + 2 + at;
    expect(text.split('\n')[line - 1]).toContain(chain[at]);
    expect(problem.line).toBe(line);
    expect(formatConfigProblem(problem)).toBe(`${file}:${line}:${problem.column} ${full}: ${problem.message}`);
  });

  it('refuses a step of no known kind at the schema, before anything is compiled', async () => {
    const { error } = await validate(chainConfig(['- model: v0']));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.length).toBeGreaterThan(0);
    expect((error as ConfigError).problems.every((p) => p.pointer.startsWith('/services/loans/resilience/fallback/0'))).toBe(true);
  });
});
