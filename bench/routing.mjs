// What the route stage costs per decision, in process: ns per `assignRoute` for each kind of plan,
// against the assignment before rollouts (live only, `assignLiveRoute`) measured in the same run.
// Median of `runs` runs of `iterations` assignments; every run times each case once, in a rotating
// order, so a slow phase of the machine does not land on one case. Keys and decision ids come from a
// pool built beforehand (UUID-shaped ids, `user-N` subjects), so string building is not timed.
// Usage: npm run build && node bench/routing.mjs [runs=5] [iterations=1000000]
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { assignLiveRoute, assignRoute } from '../dist/routing/index.js';

const runs = Number(process.argv[2] ?? 5);
const n = Number(process.argv[3] ?? 1_000_000);
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
};
const requests = decisionIds.map((decisionId, i) => ({ decisionId, subjectKey: subjects[i] }));
const anonymous = decisionIds.map((decisionId) => ({ decisionId }));
let sink = 0;

const cases = {
  'empty loop (pool read)': () => {
    for (let i = 0; i < n; i++) sink += requests[i & mask].decisionId.length;
  },
  'baseline: live only, subject key': () => {
    const state = { live: 'v1' };
    for (let i = 0; i < n; i++) sink += assignLiveRoute(state, service, subjects[i & mask]).version.length;
  },
  'baseline: live only, no key': () => {
    const state = { live: 'v1' };
    for (let i = 0; i < n; i++) sink += assignLiveRoute(state, service, undefined).version.length;
  },
  'no rollout': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.none, service, requests[i & mask]).version.length;
  },
  'canary, subject key': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.canary, service, requests[i & mask]).version.length;
  },
  'canary, no subject key': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.canary, service, anonymous[i & mask]).version.length;
  },
  'experiment, subject key': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.experiment, service, requests[i & mask]).version.length;
  },
  'shadow (share 0.25)': () => {
    for (let i = 0; i < n; i++) sink += assignRoute(plans.shadow, service, requests[i & mask]).version.length;
  },
};

const names = Object.keys(cases);
for (const name of names) cases[name](); // warm-up: every path compiled before the first timed run
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let r = 0; r < runs; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length];
    const t0 = performance.now();
    cases[name]();
    samples[name].push(((performance.now() - t0) * 1e6) / n);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = names.map((name) => ({ name, ns: median(samples[name]), min: Math.min(...samples[name]), max: Math.max(...samples[name]) }));
const base = rows.find((row) => row.name === 'baseline: live only, subject key').ns;
console.log(`routing cost per decision: median of ${runs} runs of ${n} assignments, node ${process.version}`);
console.log(`${'case'.padEnd(36)} ${'ns/op'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'vs baseline'.padStart(12)}`);
for (const row of rows)
  console.log(`${row.name.padEnd(36)} ${row.ns.toFixed(1).padStart(8)} ${row.min.toFixed(1).padStart(8)} ${row.max.toFixed(1).padStart(8)} ${`${(row.ns - base >= 0 ? '+' : '')}${(row.ns - base).toFixed(1)}`.padStart(12)}`);
if (sink === 0.5) console.log(''); // keeps the results observable, so no loop is optimised away
