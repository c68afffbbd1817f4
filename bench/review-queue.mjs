// The review queue over real HTTP on loopback: `ballast serve` (core 0) in front of bench/safe-change-model.mjs
// (core 1, with this process: the load, the reviewers and the caller's webhook receiver). The service is
// bench/safe-change.mjs's: the fake answers with confidence 0.97 (auto at 0.9), and its pre rule sends
// amounts above 5000 to review, so one body goes to auto and the other opens a review item.
// - cost on the decision path: review and auto decisions interleaved (each caller alternates) on one
//   server, closed loop at 1 and 16 connections; p50/p99 of each.
// - claim throughput: N items pre-filled, then R reviewers (each its own key) loop next → decide(accept)
//   until next answers 204; items settled per second, claim and decide p50/p99. Baselines in the same run:
//   plain auto decisions per second at the same concurrency (group-committed), and the store alone
//   (store.reviews.claimNext + decide in a process pinned to core 0, on the server's SQLite file after it
//   stopped, no HTTP; its decide writes no audit, feedback or delivery rows, so it is a floor).
// - review latency: decisions opened at `--rate` a second; one reviewer polls next (every `--poll` ms
//   while empty) and accepts at once; per item, from the decision's answer to the webhook receiving
//   review.decided: queue wait (answer → claim answered), decide round trip, outbox delay (decide answered
//   → webhook received).
// CPU of the server and of this process during each drain come from /proc and process.cpuUsage, to show
// which side is the bottleneck.
// Usage: npm run bench:review [-- --runs 5 --items 600 --reviewers 1,4,16,64 --seconds 2 --rate 20 --poll 5 --out file.json]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { closedLoop, quantile } from './load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, items: { type: 'string' }, reviewers: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' }, poll: { type: 'string' }, out: { type: 'string' }, store: { type: 'string' } } });
const runs = Number(args.runs ?? 5);
const items = Number(args.items ?? 600);
const reviewerCounts = (args.reviewers ?? '1,4,16,64').split(',').map(Number);
const seconds = Number(args.seconds ?? 2);
const rate = Number(args.rate ?? 20);
const pollMs = Number(args.poll ?? 5);
const node = process.execPath;
const ballastBin = path.join(here, '..', 'bin', 'ballast.js');
const service = 'scorer';
const decisionPath = `/v1/services/${service}/decisions`;
const autoBody = JSON.stringify({ input: { amount: 120.5, country: 'DE', note: 'benchmark' } });
const reviewBody = JSON.stringify({ input: { amount: 6000, country: 'DE', note: 'benchmark' } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const load1 = () => round(os.loadavg()[0], 2);
const stats = (xs) => {
  const s = Float64Array.from(xs).sort();
  return { n: s.length, p50: round(quantile(s, 0.5)), p99: round(quantile(s, 0.99)), max: round(s.at(-1) ?? Number.NaN) };
};

// --store <db> --items n: the store alone, in this process (the parent runs it pinned to core 0).
if (args.store !== undefined) {
  const { openStore } = await import('../dist/store/index.js');
  const store = await openStore({ kind: 'sqlite', path: args.store });
  const out = {};
  for (const concurrency of [1, 16]) {
    const claim = [], decide = [];
    let settled = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
      for (;;) {
        const c0 = performance.now();
        const item = await store.reviews.claimNext({ reviewer: `raw-${i}`, role: 'reviewer', services: null, now: new Date().toISOString(), leaseMs: 600_000 });
        claim.push(performance.now() - c0);
        if (item === undefined) return;
        const d0 = performance.now();
        await store.reviews.decide({ itemId: item.id, reviewer: `raw-${i}`, role: 'reviewer', decision: 'accept', label: null, rationale: '', now: new Date().toISOString(), escalateTo: 'senior-reviewer' }, () => ({ audit: [] }));
        decide.push(performance.now() - d0);
        settled++;
        if (concurrency === 1 && settled >= Number(args.items) / 2) return;
      }
    }));
    out[`r${concurrency}`] = { settled, perSecond: round(settled / ((performance.now() - t0) / 1000), 1), claim: stats(claim), decide: stats(decide) };
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-review-'));
// The signing secret is named in the config and read from the server's environment.
process.env.REVIEW_HOOK_SECRET = 'whsec_' + Buffer.from('ballast-bench-review-queue-secret').toString('base64');

function start(cpu, command, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), command, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)|on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const key = /^ {2}(bk_[0-9a-z]{10}_[\w-]{43})$/m.exec(out)?.[1];
      if (m) resolve({ pid: child.pid, port: Number(m[1] ?? m[2]), headers: key === undefined ? {} : { authorization: `Bearer ${key}` }, stop: () => new Promise((r) => { child.once('close', r); child.kill('SIGTERM'); }) });
    });
    child.on('close', (code) => reject(new Error(`${command} ${argv.join(' ')} exited ${code}: ${out}`)));
  });
}

function runToEnd(cpu, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), node, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (the taskset child execs node, same pid). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const selfCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/** The caller's webhook: when each review.decided arrived, by item id. */
function startHook() {
  const received = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (body.type === 'review.decided' && !received.has(body.id)) received.set(body.id, at);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/reviews`, received, close: () => new Promise((r) => server.close(r)) })));
}

function config(modelPort, hookUrl) {
  const file = path.join(work, 'review.yaml');
  writeFileSync(file, stringify({
    version: 1,
    services: {
      [service]: {
        contract: {
          input: { schema: { type: 'object', required: ['amount', 'country'], additionalProperties: false, properties: { amount: { type: 'number', minimum: 0 }, country: { type: 'string' }, note: { type: 'string' } } }, fields: { amount: { kind: 'numeric', expected: { min: 0, max: 10000 } }, country: { kind: 'categorical', expected: { categories: ['DE', 'FR'] } } } },
          output: { schema: { type: 'object', required: ['label', 'score'], properties: { label: { type: 'string' }, score: { type: 'number' } } } },
        },
        policy: { thresholds: { auto: 0.9 }, rules: [{ name: 'big', stage: 'pre', when: 'input.amount > 5000', action: 'review' }] },
        models: { v1: { timeoutMs: 2000, adapter: { kind: 'http', url: `http://127.0.0.1:${modelPort}/v1`, response: { confidence: '/score' } } } },
        live: 'v1',
        review: { webhook: { url: hookUrl, secret: 'REVIEW_HOOK_SECRET' } },
      },
    },
  }));
  return file;
}

async function startAll(tag) {
  const hook = await startHook();
  const model = await start(1, node, [path.join(here, 'safe-change-model.mjs')]);
  const dataDir = path.join(work, `data-${tag}`);
  mkdirSync(dataDir, { recursive: true });
  const ballast = await start(0, node, [ballastBin, 'serve', '--config', config(model.port, hook.url), '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  const url = `http://127.0.0.1:${ballast.port}`;
  const control = new Pool(url, { connections: 1 });
  const key = async (principal, role, kind) => {
    const answer = await control.request({ path: '/v1/keys', method: 'POST', headers: { 'content-type': 'application/json', ...ballast.headers }, body: JSON.stringify({ principal, role, kind }) });
    const json = await answer.body.json();
    if (answer.statusCode !== 201) throw new Error(`POST /v1/keys: ${answer.statusCode} ${JSON.stringify(json)}`);
    return { authorization: `Bearer ${json.token}` };
  };
  const app = await key('bench-app', 'decider', 'workload');
  const reviewers = [];
  for (let i = 0; i < Math.max(...reviewerCounts); i++) reviewers.push(await key(`reviewer-${i}`, 'reviewer', 'person'));
  await control.close();
  const pool = new Pool(url, { connections: 128 });
  const request = async (p, body, headers) => {
    const t0 = performance.now();
    const answer = await pool.request({ path: p, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const json = answer.statusCode === 204 ? undefined : await answer.body.json();
    if (answer.statusCode === 204) await answer.body.dump();
    return { status: answer.statusCode, json, t0, t1: performance.now() };
  };
  // One of each, checked: the review body opens an item, the auto body does not.
  const r = await request(decisionPath, reviewBody, app);
  const a = await request(decisionPath, autoBody, app);
  if (r.status !== 200 || typeof r.json.review?.id !== 'string' || a.status !== 200 || a.json.review !== undefined) throw new Error(`unexpected answers: ${JSON.stringify(r.json)} ${JSON.stringify(a.json)}`);
  // A fresh server's first seconds are compiling: warm it before anything is measured.
  await closedLoop({ url, path: decisionPath, body: autoBody, connections: 8, seconds: 2, warmupSeconds: 0, headers: app });
  return {
    url, app, reviewers, hook, request, pid: ballast.pid, dataDir,
    async stop() {
      await pool.close();
      await ballast.stop();
      await model.stop();
      await hook.close();
    },
  };
}

/** The review items the bench has opened and not yet seen settled. */
let open = 0;

/** `count` review decisions over `connections` callers. */
async function fill(s, count, connections = 16) {
  let left = count;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (left > 0) {
      left--;
      const r = await s.request(decisionPath, reviewBody, s.app);
      if (r.status !== 200 || r.json.review === undefined) throw new Error(`fill: ${r.status} ${JSON.stringify(r.json)}`);
      open++;
    }
  }));
}

/** R reviewers loop next → accept until next answers 204. */
async function drain(s, R) {
  const claim = [], decide = [];
  let settled = 0, errors = 0;
  const cpu0 = cpuSeconds(s.pid), self0 = selfCpu(), t0 = performance.now();
  await Promise.all(s.reviewers.slice(0, R).map(async (headers) => {
    for (;;) {
      const c = await s.request('/v1/reviews/next', '{}', headers);
      if (c.status === 204) return;
      claim.push(c.t1 - c.t0);
      if (c.status !== 200) { errors++; continue; }
      const d = await s.request(`/v1/reviews/${c.json.id}/decision`, JSON.stringify({ decision: 'accept', rationale: 'bench' }), headers);
      decide.push(d.t1 - d.t0);
      if (d.status !== 200) errors++;
      else settled++;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  open -= settled;
  return { settled, errors, perSecond: round(settled / secs, 1), claim: stats(claim), decide: stats(decide), serverCpu: round((cpuSeconds(s.pid) - cpu0) / secs), benchCpu: round((selfCpu() - self0) / secs) };
}

/** Waits until the webhook has heard every item settled so far (the outbox's backlog must not load the next measurement). */
async function settle(s, expected) {
  const end = performance.now() + 60_000;
  while (s.hook.received.size < expected && performance.now() < end) await sleep(50);
  if (s.hook.received.size < expected) throw new Error(`webhook heard ${s.hook.received.size} of ${expected}`);
}

/** Review and auto decisions interleaved: each of `connections` callers alternates the two bodies. */
async function interleaved(s, connections) {
  const lat = { review: [], auto: [] };
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async (_, i) => {
    for (let k = i; performance.now() < end; k++) {
      const kind = k % 2 === 0 ? 'review' : 'auto';
      const r = await s.request(decisionPath, kind === 'review' ? reviewBody : autoBody, s.app);
      if (r.status !== 200 || (kind === 'review') !== (r.json.review !== undefined)) errors++;
      if (kind === 'review') open++;
      lat[kind].push(r.t1 - r.t0);
    }
  }));
  return { review: stats(lat.review), auto: stats(lat.auto), errors };
}

/** Decisions opened at `rate`/s; one reviewer polls next and accepts each at once; the parts of each item's latency. */
async function latency(s) {
  const made = new Map(); // item id → { answered, claimed, decideSent, decided }
  let stop = false, errors = 0;
  const reviewer = (async () => {
    while (!stop || [...made.values()].some((m) => m.decided === undefined)) {
      const c = await s.request('/v1/reviews/next', '{}', s.reviewers[0]);
      if (c.status === 204) { await sleep(pollMs); continue; }
      if (c.status !== 200) { errors++; continue; }
      const m = made.get(c.json.id) ?? {};
      made.set(c.json.id, m);
      m.claimed = c.t1;
      const d = await s.request(`/v1/reviews/${c.json.id}/decision`, JSON.stringify({ decision: 'accept', rationale: 'bench' }), s.reviewers[0]);
      if (d.status !== 200) errors++;
      m.decideSent = d.t0;
      m.decided = d.t1;
    }
  })();
  const total = Math.round(rate * seconds * 1.5);
  const t0 = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    inflight.push(s.request(decisionPath, reviewBody, s.app).then((r) => {
      const m = made.get(r.json.review.id) ?? {};
      made.set(r.json.review.id, m);
      m.answered = r.t1;
    }));
  }
  await Promise.all(inflight);
  stop = true;
  await reviewer;
  const end = performance.now() + 10_000;
  while ([...made.keys()].some((id) => !s.hook.received.has(id)) && performance.now() < end) await sleep(20);
  const rows = [...made.entries()].filter(([id]) => s.hook.received.has(id)).map(([id, m]) => ({ total: s.hook.received.get(id) - m.answered, queueWait: m.claimed - m.answered, decide: m.decided - m.decideSent, outbox: s.hook.received.get(id) - m.decided }));
  return { items: made.size, heard: rows.length, errors, total: stats(rows.map((r) => r.total)), queueWait: stats(rows.map((r) => r.queueWait)), decide: stats(rows.map((r) => r.decide)), outbox: stats(rows.map((r) => r.outbox)) };
}

async function oneRun(run) {
  const s = await startAll(`run-${run}`);
  open = 0;
  const result = { load: load1(), interleaved: {}, auto: {}, claims: {} };
  for (const c of [1, 16]) result.interleaved[`c${c}`] = await interleaved(s, c);
  // Items left by the interleaved part are part of the first pre-fill.
  for (const R of reviewerCounts) {
    await fill(s, Math.max(0, items - open));
    result.auto[`c${R}`] = await closedLoop({ url: s.url, path: decisionPath, body: autoBody, connections: R, seconds, warmupSeconds: 0.3, headers: s.app });
    const before = s.hook.received.size;
    result.claims[`r${R}`] = { load: load1(), ...(await drain(s, R)) };
    await settle(s, before + result.claims[`r${R}`].settled);
  }
  result.latency = await latency(s);
  // The store alone: items for it, then the server stops and a process on core 0 drains them in-process.
  await fill(s, items);
  await s.stop();
  result.store = await runToEnd(0, [fileURLToPath(import.meta.url), '--store', path.join(s.dataDir, 'ballast.db'), '--items', String(items)]);
  return result;
}

function lscpu() {
  return new Promise((resolve) => {
    const child = spawn('lscpu', [], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => resolve(Object.fromEntries(out.split('\n').filter((l) => /^(Model name|CPU\(s\)|Thread|Core|Socket|L3)/.test(l)).map((l) => l.split(/:\s+/)))));
    child.on('error', () => resolve({}));
  });
}

async function main() {
  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, lscpu: await lscpu(), node: process.version, memoryGiB: Math.round(os.totalmem() / 2 ** 30), tmpdir: os.tmpdir() };
  const report = { date: new Date().toISOString(), machine, runs, items, reviewerCounts, seconds, rate, pollMs, loadBefore: os.loadavg(), raw: [] };
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`run ${run}/${runs} (load ${load1()})\n`);
    report.raw.push(await oneRun(run));
  }
  report.loadAfter = os.loadavg();
  const m = (f) => median(report.raw.map(f));
  const all = (f) => report.raw.map(f);
  report.summary = {
    claims: Object.fromEntries(reviewerCounts.map((R) => [`r${R}`, {
      settledPerSecond: m((x) => x.claims[`r${R}`].perSecond), runs: all((x) => x.claims[`r${R}`].perSecond),
      autoPerSecond: m((x) => x.auto[`c${R}`].perSecond), autoRuns: all((x) => Math.round(x.auto[`c${R}`].perSecond)),
      ratioToAuto: round(m((x) => x.claims[`r${R}`].perSecond / x.auto[`c${R}`].perSecond)),
      claimP50: m((x) => x.claims[`r${R}`].claim.p50), claimP99: m((x) => x.claims[`r${R}`].claim.p99),
      decideP50: m((x) => x.claims[`r${R}`].decide.p50), decideP99: m((x) => x.claims[`r${R}`].decide.p99),
      serverCpu: m((x) => x.claims[`r${R}`].serverCpu), benchCpu: m((x) => x.claims[`r${R}`].benchCpu),
      errors: report.raw.reduce((a, x) => a + x.claims[`r${R}`].errors, 0),
    }])),
    store: Object.fromEntries(['r1', 'r16'].map((k) => [k, { perSecond: m((x) => x.store[k].perSecond), runs: all((x) => x.store[k].perSecond), claimP50: m((x) => x.store[k].claim.p50), decideP50: m((x) => x.store[k].decide.p50) }])),
    latency: Object.fromEntries(['total', 'queueWait', 'decide', 'outbox'].map((k) => [k, { p50: m((x) => x.latency[k].p50), p99: m((x) => x.latency[k].p99), max: Math.max(...all((x) => x.latency[k].max)) }])),
    latencyItems: all((x) => `${x.latency.heard}/${x.latency.items}`),
    interleaved: Object.fromEntries(['c1', 'c16'].map((c) => [c, {
      reviewP50: m((x) => x.interleaved[c].review.p50), reviewP99: m((x) => x.interleaved[c].review.p99),
      autoP50: m((x) => x.interleaved[c].auto.p50), autoP99: m((x) => x.interleaved[c].auto.p99),
      dP50: round(m((x) => x.interleaved[c].review.p50 - x.interleaved[c].auto.p50)), dP50Runs: all((x) => round(x.interleaved[c].review.p50 - x.interleaved[c].auto.p50)),
      dP99: round(m((x) => x.interleaved[c].review.p99 - x.interleaved[c].auto.p99)),
      errors: report.raw.reduce((a, x) => a + x.interleaved[c].errors, 0),
    }])),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (args.out) writeFileSync(args.out, json);
  else process.stdout.write(json);
  const S = report.summary;
  const lines = ['', '| reviewers | settled/s (runs) | auto decisions/s at same concurrency | settled/auto | claim p50 / p99 ms | decide p50 / p99 ms | server CPU | bench CPU | errors |', '|---|---|---|---|---|---|---|---|---|'];
  for (const R of reviewerCounts) { const r = S.claims[`r${R}`]; lines.push(`| ${R} | ${r.settledPerSecond} (${r.runs.join(', ')}) | ${r.autoPerSecond.toFixed(0)} (${r.autoRuns.join(', ')}) | ${r.ratioToAuto} | ${r.claimP50} / ${r.claimP99} | ${r.decideP50} / ${r.decideP99} | ${r.serverCpu} | ${r.benchCpu} | ${r.errors} |`); }
  lines.push('', `store alone (claimNext + decide, no HTTP): 1 caller ${S.store.r1.perSecond}/s (${S.store.r1.runs.join(', ')}), claim p50 ${S.store.r1.claimP50} ms, decide p50 ${S.store.r1.decideP50} ms; 16 callers ${S.store.r16.perSecond}/s (${S.store.r16.runs.join(', ')})`);
  lines.push('', '| part | p50 ms | p99 ms | max ms |', '|---|---|---|---|');
  for (const k of ['total', 'queueWait', 'decide', 'outbox']) lines.push(`| ${k} | ${S.latency[k].p50} | ${S.latency[k].p99} | ${S.latency[k].max} |`);
  lines.push(`items heard/opened per run: ${S.latencyItems.join(', ')}`);
  lines.push('', '| connections | review p50 / p99 | auto p50 / p99 | Δp50 (runs) | Δp99 | errors |', '|---|---|---|---|---|---|');
  for (const c of ['c1', 'c16']) { const r = S.interleaved[c]; lines.push(`| ${c} | ${r.reviewP50} / ${r.reviewP99} | ${r.autoP50} / ${r.autoP99} | ${r.dP50} (${r.dP50Runs.join(', ')}) | ${r.dP99} | ${r.errors} |`); }
  process.stderr.write(`${lines.join('\n')}\n`);
}

await main();
