// What the route stage costs per decision, in process: ns per assignment for each kind of plan, against
// a no-op loop (the same loop reading the same pooled request, no assignment) and the assignment before
// rollouts (live only, `assignLiveRoute`), measured in the same run. Keys and decision ids come from a
// pool built beforehand (UUID-shaped ids, `user-N` subjects), so string building is not timed.
// - `assignRoute` cases: the pure function, per plan kind.
// - `route stage` cases: the pipeline's route stage itself (plan lookup, pinning the plan to the
//   request's revision, assignment) on a prepared context; the lookup is a Map read, as in the server.
// Two modes, both by default:
// - isolated: every (run, case) in a fresh process that warms the case, then times it and the no-op
//   three times each (the median of the three is the run's figure); cases rotate so a slow phase of
//   the machine does not land on one. Each case is then monomorphic, as a server with one kind of
//   plan per service is.
// - mixed: every case in one process, in a rotating order. The call sites see every plan shape, so
//   V8 optimises for all of them at once: shows how much the figures depend on that.
// Usage: npm run bench:routing [-- --runs 7 --iterations 1000000 --mode both|isolated|mixed --out file.json]
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assignLiveRoute, assignRoute } from '../dist/routing/index.js';
import { routeStage } from '../dist/pipeline/stages/model-stages.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string' }, iterations: { type: 'string' }, mode: { type: 'string' }, out: { type: 'string' }, case: { type: 'string' } } });
const runs = Number(args.runs ?? 7);
const n = Number(args.iterations ?? 1_000_000);
const mode = args.mode ?? 'both';
const poolSize = 1 << 14;
const mask = poolSize - 1;
const decisionIds = Array.from({ length: poolSize }, () => randomUUID());
const subjects = Array.from({ length: poolSize }, (_, i) => `user-${(i * 7919) % 1_000_000}`);
const service = 'spam-filter';
const rollout = (strategy, weight, shadowShare = 0) => ({ id: 'ro_2026-12-07_0001', strategy, candidate: 'v2', step: 1, weight, shadowShare });
const plans = {
  none: { stable: 'v1' },
  canary: { stable: 'v1', rollout: rollout('canary', 0.25) },
  experiment: { stable: 'v1', rollout: rollout('experiment', 0.5) },
  shadow: { stable: 'v1', rollout: rollout('shadow', 0, 0.25) },
  shadowAll: { stable: 'v1', rollout: rollout('shadow', 0, 1) },
};
const requests = decisionIds.map((decisionId, i) => ({ decisionId, subjectKey: subjects[i] }));
const anonymous = decisionIds.map((decisionId) => ({ decisionId }));
// The route stage's inputs: a service whose pinned revision knows v1 and v2, one context per pooled request.
const stageService = { name: service, config: { live: 'v1' }, versions: new Map([['v1', {}], ['v2', {}]]) };
const contexts = decisionIds.map((id, i) => ({ id, service: stageService, request: { subjectKey: subjects[i] }, route: undefined, rolloutStrategy: undefined }));
const anonymousContexts = decisionIds.map((id) => ({ id, service: stageService, request: {}, route: undefined, rolloutStrategy: undefined }));
let sink = 0;

const stage = (plan, pool = contexts) => {
  const routing = new Map([[service, plan]]);
  const env = { routing: (name) => routing.get(name) };
  return () => {
    for (let i = 0; i < n; i++) {
      const ctx = pool[i & mask];
      routeStage.run(ctx, env);
      sink += ctx.route.version.length;
    }
  };
};

const noop = 'no-op (the loop and its pool read)';
const cases = {
  [noop]: () => {
    for (let i = 0; i < n; i++) sink += requests[i & mask].decisionId.length;
  },
  'live only (before rollouts), subject key': () => {
    const state = { live: 'v1' };
    for (let i = 0; i < n; i++) sink += assignLiveRoute(state, service, subjects[i & mask]).version.length;
  },
  'live only (before rollouts), no key': () => {
    const state = { live: 'v1' };
    for (let i = 0; i < n; i++) sink += assignLiveRoute(state, service, undefined).version.length;
  },
  'assignRoute: no rollout': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.none, service, requests[i & mask]).version.length;
  },
  'assignRoute: canary 0.25, subject key': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.canary, service, requests[i & mask]).version.length;
  },
  'assignRoute: canary 0.25, no subject key': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.canary, service, anonymous[i & mask]).version.length;
  },
  'assignRoute: experiment, subject key': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.experiment, service, requests[i & mask]).version.length;
  },
  'assignRoute: shadow share 0.25': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.shadow, service, requests[i & mask]).version.length;
  },
  'assignRoute: shadow share 1': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.shadowAll, service, requests[i & mask]).version.length;
  },
  'route stage: no rollout': stage(plans.none),
  'route stage: canary 0.25, subject key': stage(plans.canary),
  'route stage: canary 0.25, no subject key': stage(plans.canary, anonymousContexts),
  'route stage: experiment, subject key': stage(plans.experiment),
  'route stage: shadow share 1': stage(plans.shadowAll),
};
const names = Object.keys(cases);
const time = (name) => {
  const t0 = performance.now();
  cases[name]();
  return ((performance.now() - t0) * 1e6) / n;
};

if (args.case !== undefined) {
  // A child of the isolated mode: this case only, warmed, then timed three times beside the no-op;
  // the child's figure is the median of its three (one pass can land on a GC or a tier-up).
  if (!(args.case in cases)) throw new Error(`no case '${args.case}'`);
  cases[args.case]();
  cases[noop]();
  const mid = (xs) => [...xs].sort((a, b) => a - b)[1];
  const ns = mid([time(args.case), time(args.case), time(args.case)]);
  process.stdout.write(`${JSON.stringify({ ns, noop: mid([time(noop), time(noop), time(noop)]), sink: sink === 0.5 })}\n`);
  process.exit(0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r1 = (x) => Math.round(x * 10) / 10;
const report = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, runs, iterations: n, loadBefore: os.loadavg() };

function table(title, samples, noopSamples) {
  const rows = names.map((name) => ({ name, ns: r1(median(samples[name])), runs: samples[name].map(r1) }));
  const base = median(samples['live only (before rollouts), subject key']);
  const zero = median(noopSamples);
  for (const row of rows) {
    row.minusNoop = r1(row.ns - zero);
    row.minusLiveOnly = r1(row.ns - base);
  }
  const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  console.log(`\n${title}: median of ${runs} runs of ${n} assignments, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
  console.log(`${'case'.padEnd(44)} ${'ns/op'.padStart(7)} ${'- no-op'.padStart(8)} ${'- live'.padStart(8)}  runs`);
  for (const row of rows) console.log(`${row.name.padEnd(44)} ${row.ns.toFixed(1).padStart(7)} ${signed(row.minusNoop).padStart(8)} ${signed(row.minusLiveOnly).padStart(8)}  ${row.runs.join(', ')}`);
  return rows;
}

if (mode === 'both' || mode === 'isolated') {
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const noopSamples = [];
  const self = fileURLToPath(import.meta.url);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      const out = JSON.parse(execFileSync(process.execPath, [self, '--case', name, '--iterations', String(n)], { encoding: 'utf8' }));
      samples[name].push(out.ns);
      noopSamples.push(out.noop);
    }
  }
  report.isolated = table('isolated (a fresh process per case and run)', samples, noopSamples);
}
if (mode === 'both' || mode === 'mixed') {
  for (const name of names) cases[name](); // warm-up: every path compiled before the first timed run
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      samples[name].push(time(name));
    }
  }
  report.mixed = table('mixed (every case in one process)', samples, samples[noop]);
}
report.loadAfter = os.loadavg();
if (args.out !== undefined) writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
if (sink === 0.5) console.log(''); // keeps the results observable, so no loop is optimised away
