// Guards on the decision path's per-decision cost (issue 12, item 6). Real pipeline, default stages,
// compiled services with a contract and pre/post rules, the SQLite store on a file (its writer
// thread included). Two guards:
// - allocations: timers, AbortControllers and AbortSignal helpers created per decision, counted by
//   wrapping the globals while decisions run, attributed to whoever called the global directly;
// - CPU: process.cpuUsage() per decision (all threads) as a ratio to a bare JSON round trip of the
//   same stored record, measured in the same test, so a slower or busier machine moves both.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecisionPipeline, createService, type DecisionPipeline, type DecisionRecord, type Service, type ServiceConfig } from '../src/pipeline/index.js';
import { newId, openStore, type Store } from '../src/store/index.js';
import { startFakeHttpModel, type FakeHttpModel } from '../src/testing/index.js';
import { keywordModelPath } from './helpers/test-ballast.js';

const contract: ServiceConfig['contract'] = {
  version: 1,
  input: {
    schema: { type: 'object', required: ['text', 'amount'], additionalProperties: false, properties: { text: { type: 'string' }, amount: { type: 'number', minimum: 0 }, country: { type: 'string' }, certainty: { type: 'number' } } },
    fields: { text: { kind: 'text' }, amount: { kind: 'numeric', expected: { min: 0, max: 10_000 } }, country: { kind: 'categorical', expected: { categories: ['DE', 'FR'] } } },
  },
  output: { schema: { type: 'object', required: ['label'], properties: { label: { type: 'string' }, score: { type: 'number' } } } },
};
const policy: ServiceConfig['policy'] = {
  thresholds: { auto: 0.8, reject: 0.2 },
  rules: [
    { name: 'big', stage: 'pre', when: 'input.amount > 5000', action: 'review', reason: 'large amounts need a human' },
    { name: 'sanity', stage: 'post', when: 'output.label == "unknown"', action: 'review', reason: 'the model did not know' },
  ],
};
const input = { text: 'good customer since 2019', amount: 120.5, country: 'DE', certainty: 0.93 };

let dir: string;
let store: Store;
let model: FakeHttpModel;
let services: Service[];
let pipeline: DecisionPipeline;
const recorded: DecisionRecord[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-hot-path-'));
  store = await openStore({ kind: 'sqlite', path: path.join(dir, 'ballast.db') });
  model = await startFakeHttpModel();
  const compile = (name: string, adapter: ServiceConfig['models'][string]['adapter'], resilience?: ServiceConfig['models'][string]['resilience']) =>
    createService(name, { contract, policy, models: { v1: { timeoutMs: 2_000, adapter, ...(resilience === undefined ? {} : { resilience }) } }, live: 'v1' }, { adapterContext: { baseDir: process.cwd(), secrets: {} }, redactionKey: 'k' });
  services = [
    await compile('module', { kind: 'module', path: keywordModelPath, export: 'createModel' }),
    await compile('http', { kind: 'http', url: model.url, request: { body: { text: '{{/text}}' } }, response: { output: '', confidence: '/score' } }),
    await compile('http-first-byte', { kind: 'http', url: model.url, request: { body: { text: '{{/text}}' } }, response: { output: '', confidence: '/score' } }, { timeouts: { firstByteMs: 1_000 } }),
  ];
  pipeline = createDecisionPipeline({
    services: new Map(services.map((s) => [s.name, s])),
    sink: { append: (record) => (recorded.push(record), store.decisions.append(record)) },
    newId: () => newId('dec'),
    hashSubject: (key) => key,
  });
});

afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.close()));
  await model?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `rounds` rounds of `concurrency` decisions at once, each checked to be a real, durable auto decision. */
async function decide(service: string, rounds: number, concurrency: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const decisions = await Promise.all(Array.from({ length: concurrency }, () => pipeline.decide({ service, input })));
    for (const decision of decisions) expect(decision.outcome, JSON.stringify(decision.explanation)).toBe('auto');
  }
}

type Allocation = 'setTimeout' | 'setInterval' | 'setImmediate' | 'AbortController' | 'AbortSignal.timeout' | 'AbortSignal.any';
/** Per allocation kind, how many were created, keyed by the file of the frame that called the global. */
type Tally = Record<Allocation, Map<string, number>>;

/** Runs `work` with the globals wrapped; every creation is tallied under its direct caller's file. */
async function tallied(work: () => Promise<void>): Promise<Tally> {
  const tally: Tally = { setTimeout: new Map(), setInterval: new Map(), setImmediate: new Map(), AbortController: new Map(), 'AbortSignal.timeout': new Map(), 'AbortSignal.any': new Map() };
  const note = (kind: Allocation) => {
    // Frame 0 is the message, 1 this function, 2 the wrapper, 3 the direct caller.
    const frame = new Error().stack?.split('\n')[3] ?? '';
    const file = /\(?((?:file:\/\/)?\/[^():]+)/.exec(frame)?.[1]?.replace(/^file:\/\//, '') ?? 'unknown';
    const where = path.relative(process.cwd(), file);
    tally[kind].set(where, (tally[kind].get(where) ?? 0) + 1);
  };
  const g = globalThis as unknown as Record<string, unknown>;
  const signal = AbortSignal as unknown as Record<string, unknown>;
  const restore: (() => void)[] = [];
  const wrap = (owner: Record<string, unknown>, key: string, kind: Allocation) => {
    const original = owner[key] as (...args: unknown[]) => unknown;
    owner[key] = function (this: unknown, ...args: unknown[]) {
      note(kind);
      return original.apply(this, args);
    };
    restore.push(() => (owner[key] = original));
  };
  wrap(g, 'setTimeout', 'setTimeout');
  wrap(g, 'setInterval', 'setInterval');
  wrap(g, 'setImmediate', 'setImmediate');
  wrap(signal, 'timeout', 'AbortSignal.timeout');
  wrap(signal, 'any', 'AbortSignal.any');
  const Original = globalThis.AbortController;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      note('AbortController');
    }
  };
  restore.push(() => (globalThis.AbortController = Original));
  try {
    await work();
  } finally {
    for (const undo of restore) undo();
  }
  return tally;
}

const total = (counts: Map<string, number>, filter: (file: string) => boolean = () => true) => [...counts].filter(([file]) => filter(file)).reduce((sum, [, n]) => sum + n, 0);
const ours = (file: string) => file.startsWith('src/');

describe('the hot path allocates per decision, not per stage', () => {
  const n = 200;

  it('over an in-process model: one deadline timer and one AbortController per decision, no AbortSignal helpers', async () => {
    await decide('module', 10, 10);
    const tally = await tallied(() => decide('module', n / 10, 10));
    const per = (kind: Allocation) => total(tally[kind]) / n;
    // The model call's deadline (withDeadline): one controller and one timer per attempt, one attempt here.
    expect(per('AbortController'), JSON.stringify([...tally.AbortController])).toBeLessThanOrEqual(1);
    expect(per('setTimeout'), JSON.stringify([...tally.setTimeout])).toBeLessThanOrEqual(1);
    expect(per('setInterval')).toBe(0);
    expect(per('AbortSignal.timeout')).toBe(0);
    expect(per('AbortSignal.any')).toBe(0);
    // Group commit schedules one flush per event-loop turn, shared by the decisions of that turn.
    expect(per('setImmediate'), JSON.stringify([...tally.setImmediate])).toBeLessThanOrEqual(1);
    // Today's figures are exactly those: a zero would mean the counting missed them.
    expect(per('AbortController')).toBe(1);
    expect(per('setTimeout')).toBe(1);
  });

  const overHttp = async (service: string) => {
    await decide(service, 10, 10);
    const tally = await tallied(() => decide(service, n / 10, 10));
    const per = (kind: Allocation, filter?: (file: string) => boolean) => total(tally[kind], filter) / n;
    const seen = JSON.stringify(Object.fromEntries(Object.entries(tally).map(([kind, counts]) => [kind, Object.fromEntries(counts)])));
    expect(per('setInterval'), seen).toBe(0);
    expect(per('AbortSignal.timeout'), seen).toBe(0);
    expect(per('AbortSignal.any'), seen).toBe(0);
    expect(per('setImmediate', ours), seen).toBeLessThanOrEqual(1);
    // The call's deadline is where the tally says (the attribution works).
    expect(tally.setTimeout.get('src/resilience/deadline.ts'), seen).toBe(n);
    expect(tally.AbortController.get('src/resilience/deadline.ts'), seen).toBe(n);
    return { per, tally, seen };
  };

  it('over HTTP: one deadline timer and one AbortController of Ballast per decision, whatever undici does inside', async () => {
    // No first-byte bound shorter than the total one: the call's deadline is the only watch.
    const { per, tally, seen } = await overHttp('http');
    expect(per('AbortController', ours), seen).toBe(1);
    expect(per('setTimeout', ours), seen).toBe(1);
    expect(tally.setTimeout.get('src/adapters/upstream-client.ts'), seen).toBeUndefined();
  });

  it('over HTTP with a first-byte bound shorter than the total: that watch adds its own timer and controller, no more', async () => {
    const { per, tally, seen } = await overHttp('http-first-byte');
    expect(per('AbortController', ours), seen).toBe(2);
    expect(per('setTimeout', ours), seen).toBe(2);
    expect(tally.setTimeout.get('src/adapters/upstream-client.ts'), seen).toBe(n);
  });
});

describe('the hot path costs a bounded multiple of a JSON round trip of its record', () => {
  // Today the ratio is about 10 (100-150 µs of CPU per decision in-process, writer thread included;
  // up to 18 measured on this 2-core machine while other test suites and benchmarks ran). The bound
  // is 5x the quiet figure: noise moved the ratio by less than 2x, a 5x regression of the path (a
  // per-stage allocation storm, an accidental deep copy per stage) moves it past the bound.
  const maxRatio = 50;

  it('in CPU time (process.cpuUsage, all threads), not wall time', async () => {
    const rounds = 5;
    const perRound = 400;
    const concurrency = 16;
    await decide('module', 100, concurrency);
    const record = recorded.at(-1)!;
    const roundTrips = 4_000;
    const cpuMicros = (started: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(started);
      return used.user + used.system;
    };
    const pathCosts: number[] = [];
    const jsonCosts: number[] = [];
    let sink = 0;
    for (let round = 0; round < rounds; round++) {
      let started = process.cpuUsage();
      await decide('module', perRound / concurrency, concurrency);
      pathCosts.push(cpuMicros(started) / perRound);
      started = process.cpuUsage();
      for (let i = 0; i < roundTrips; i++) sink += (JSON.parse(JSON.stringify(record)) as DecisionRecord).id.length;
      jsonCosts.push(cpuMicros(started) / roundTrips);
    }
    expect(sink).toBe(rounds * roundTrips * record.id.length);
    // The least of each: noise only ever adds CPU time.
    const pathCost = Math.min(...pathCosts);
    const jsonCost = Math.min(...jsonCosts);
    const ratio = pathCost / jsonCost;
    console.log(`hot path: ${pathCost.toFixed(1)} µs CPU per decision (rounds ${pathCosts.map((c) => c.toFixed(0)).join(', ')}), JSON round trip of its record ${jsonCost.toFixed(2)} µs, ratio ${ratio.toFixed(1)} (bound ${maxRatio})`);
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(maxRatio);
  });
});
