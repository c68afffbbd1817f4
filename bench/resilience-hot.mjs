// What the resilience layer adds to one decision on its fast path, in process (run pinned to one core
// by bench/resilience.mjs): ns per operation, `runs` runs of `iterations` each, every run timing each
// operation once (in a rotating order). Prints one JSON line.
// Usage: node bench/resilience-hot.mjs [runs=9] [iterations=1000000]
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createAdmission } from '../dist/server/admission.js';
import { callResiliently, CircuitBreaker, ConcurrencyLimiter, deadlineIn, defaultBreakerConfig, defaultRetryBudgetConfig, RateLimiter, RetryBudget } from '../dist/resilience/index.js';

const runs = Number(process.argv[2] ?? 9);
const n = Number(process.argv[3] ?? 1_000_000);
let sink = 0;

// The services admission reads: only `name` and `config.resilience` (what createAdmission looks at).
const plain = { name: 'scorer', config: { resilience: { admission: { limit: { fixed: 512 }, queue: { size: 512, maxWaitMs: 500 } } } } };
const limited = { name: 'limited', config: { resilience: { admission: { limit: { fixed: 512 } }, rateLimit: { perKey: { ratePerSecond: 1e9, burst: 1e9 } } } } };
const admission = createAdmission(new Map([[plain.name, plain], [limited.name, limited]]));
const breaker = new CircuitBreaker(defaultBreakerConfig);
const budget = new RetryBudget(defaultRetryBudgetConfig);
const limiter = new ConcurrencyLimiter({ limit: { kind: 'fixed', max: 512 }, queueSize: 512, maxWaitMs: 500 });
const gradient = new ConcurrencyLimiter({ limit: { kind: 'gradient', initial: 64, min: 8, max: 1024 }, queueSize: 512, maxWaitMs: 500 });
const rates = new RateLimiter({ ratePerSecond: 1e9, burst: 1e9 });
const request = { caller: 'key_0123456789', priority: 'normal' };

const ops = {
  'empty loop': () => {
    for (let i = 0; i < n; i++) sink += i & 1;
  },
  'CircuitBreaker.tryAcquire + record': () => {
    for (let i = 0; i < n; i++) {
      const permit = breaker.tryAcquire();
      breaker.record(permit, false, 1);
    }
  },
  'RetryBudget.recordCall': () => {
    for (let i = 0; i < n; i++) budget.recordCall();
  },
  'ConcurrencyLimiter.acquire + release (fixed)': () => {
    for (let i = 0; i < n; i++) limiter.acquire('normal').permit.release(1);
  },
  'ConcurrencyLimiter.acquire + release (gradient)': () => {
    for (let i = 0; i < n; i++) gradient.acquire('normal').permit.release(40);
  },
  'RateLimiter.take': () => {
    for (let i = 0; i < n; i++) sink += rates.take('key_0123456789').remaining & 1;
  },
  'RateLimiter.take + headers': () => {
    for (let i = 0; i < n; i++) sink += rates.headers(rates.take('key_0123456789'), 'limited').RateLimit.length;
  },
  'admit + release (no rate limit)': () => {
    for (let i = 0; i < n; i++) {
      const admitted = admission.admit(plain, request);
      admitted.permit.release(performance.now() - admitted.startedAt, false);
    }
  },
  'admit + release (per-key rate limit)': () => {
    for (let i = 0; i < n; i++) {
      const admitted = admission.admit(limited, request);
      admitted.permit.release(performance.now() - admitted.startedAt, false);
    }
  },
};

function time(fn) {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1e6) / n;
}

// Warm-up: every operation once (JIT), not counted.
for (const fn of Object.values(ops)) fn();
const names = Object.keys(ops);
const results = Object.fromEntries(names.map((k) => [k, []]));
for (let run = 0; run < runs; run++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + run) % names.length];
    results[name].push(time(ops[name]));
  }
}

// For context, not part of the < 2 µs: the whole resilient call around a model that answers at once
// (breaker, budget, the deadline's AbortController and timer, Promise.race, the attempts array).
const plan = { version: 'v1', what: 'model scorer/v1', totalMs: 2000, attempts: 2, backoff: { baseMs: 25, capMs: 1000 }, budget: new RetryBudget(defaultRetryBudgetConfig), breaker: new CircuitBreaker(defaultBreakerConfig) };
const answer = { output: { label: 'ok' } };
const call = () => Promise.resolve(answer);
const asyncN = Math.max(1, Math.floor(n / 5));
async function resilientCall() {
  const t0 = performance.now();
  for (let i = 0; i < asyncN; i++) {
    const outcome = await callResiliently(plan, deadlineIn(5000), call);
    sink += outcome.attempts.length;
  }
  return ((performance.now() - t0) * 1e6) / asyncN;
}
await resilientCall();
const resilient = [];
for (let run = 0; run < runs; run++) resilient.push(await resilientCall());

// The pressure monitor's descriptor probe (src/resilience/pressure.ts) runs every 500 ms: a stat of
// /proc/self/fd off the event loop (its size is the count since Linux 6.2); before 2026-12-07 it listed
// /proc/self/fd synchronously on the loop. Both timed here, synchronously (an upper bound of what the loop
// pays for the asynchronous stat), with 0 and 10,000 descriptors open.
const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
const probes = {
  stat: () => statSync('/proc/self/fd').size / limit,
  listing: () => readdirSync('/proc/self/fd').length / limit,
};
const probe = {};
for (const open of [0, 10_000]) {
  const fds = [];
  try {
    for (let i = 0; i < open; i++) fds.push(openSync('/dev/null', 'r'));
    probe[open] = {};
    for (const [name, descriptorProbe] of Object.entries(probes)) {
      const ms = [];
      descriptorProbe();
      for (let k = 0; k < 9; k++) {
        const t0 = performance.now();
        sink += descriptorProbe();
        ms.push(performance.now() - t0);
      }
      probe[open][name] = ms;
    }
  } catch (error) {
    probe[open] = String(error);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}
admission.close();
process.stdout.write(`${JSON.stringify({ runs, iterations: n, nsPerOp: results, resilientCall: { iterations: asyncN, nsPerCall: resilient }, descriptorProbeMs: probe, sink: sink % 7 })}\n`);
