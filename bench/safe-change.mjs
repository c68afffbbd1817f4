// Safe change over real HTTP on loopback: what a shadow rollout does to the served answer, and how
// long a rollback takes to stop the candidate answering, under load.
// - shadow: one `ballast serve` (core 0) in front of one fake model (core 1, with the load generator);
//   v1 and v2 are the same fake on two paths. No rollout vs a shadow rollout of v2 with share 1 (every
//   request copied to v2, off the request path), in alternating order on the same server, closed loop at
//   each of `--connections` and open loop at `--rate`. The generator is also run against the fake model
//   alone on core 0 (as bench/run.mjs's `direct`), to show it is not the bottleneck.
// - rollback: a canary of v2 at weight 0.5 under load (open loop at `--rate`, then closed loop at the
//   largest of `--connections`); after 1 s, POST /rollback. Rollback time = from sending the rollback
//   request to the completion (body read) of the last response whose `version` is the candidate (0 if
//   that one had completed before the rollback was sent).
// Usage: npm run bench:safe-change [-- --runs 5 --seconds 3 --rollbacks 7 --connections 1,8,64 --rate 500 --out file.json]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { closedLoop, openLoop, quantile } from './load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, rollbacks: { type: 'string' }, connections: { type: 'string' }, rate: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } } });
const runs = Number(args.runs ?? 5);
const seconds = Number(args.seconds ?? 3);
const rollbacks = Number(args.rollbacks ?? 7);
const concurrencies = (args.connections ?? '1,8,64').split(',').map(Number);
const rate = Number(args.rate ?? 500);
const only = args.only; // 'shadow' or 'rollback' to run one part
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-safe-change-'));
const node = process.execPath;
const ballastBin = path.join(here, '..', 'bin', 'ballast.js');
const service = 'scorer';
const decisionPath = `/v1/services/${service}/decisions`;
const body = JSON.stringify({ input: { amount: 120.5, country: 'DE', note: 'benchmark' } });
const modelBody = JSON.stringify({ amount: 120.5, country: 'DE', note: 'benchmark' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const load1 = () => round(os.loadavg()[0], 2);

function start(cpu, command, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), command, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)|on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const key = /^ {2}(bk_[0-9a-z]{10}_[\w-]{43})$/m.exec(out)?.[1];
      if (m) resolve({ port: Number(m[1] ?? m[2]), headers: key === undefined ? {} : { authorization: `Bearer ${key}` }, stop: () => new Promise((r) => { child.once('close', r); child.kill('SIGTERM'); }) });
    });
    child.on('close', (code) => reject(new Error(`${command} ${argv.join(' ')} exited ${code}: ${out}`)));
  });
}

/** bench/run.mjs's http service with a second version: v1 and v2 are the same fake model on two paths. */
function config(modelPort) {
  const file = path.join(work, 'safe-change.yaml');
  const adapter = (version) => ({ timeoutMs: 2000, adapter: { kind: 'http', url: `http://127.0.0.1:${modelPort}/${version}`, response: { confidence: '/score' } } });
  writeFileSync(file, stringify({
    version: 1,
    services: {
      [service]: {
        contract: {
          input: { schema: { type: 'object', required: ['amount', 'country'], additionalProperties: false, properties: { amount: { type: 'number', minimum: 0 }, country: { type: 'string' }, note: { type: 'string' } } }, fields: { amount: { kind: 'numeric', expected: { min: 0, max: 10000 } }, country: { kind: 'categorical', expected: { categories: ['DE', 'FR'] } } } },
          output: { schema: { type: 'object', required: ['label', 'score'], properties: { label: { type: 'string' }, score: { type: 'number' } } } },
        },
        policy: { thresholds: { auto: 0.9 }, rules: [{ name: 'big', stage: 'pre', when: 'input.amount > 5000', action: 'review' }, { name: 'sanity', stage: 'post', when: 'output.score > 1.0', action: 'review' }] },
        models: { v1: adapter('v1'), v2: adapter('v2') },
        live: 'v1',
      },
    },
  }));
  return file;
}

async function startPair(tag) {
  const model = await start(1, node, [path.join(here, 'safe-change-model.mjs')]);
  const dataDir = path.join(work, `data-${tag}`);
  mkdirSync(dataDir, { recursive: true });
  const ballast = await start(0, node, [ballastBin, 'serve', '--config', config(model.port), '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  // The control requests (rollout start, abort, rollback) on their own connection, never behind the load.
  const control = new Pool(`http://127.0.0.1:${ballast.port}`, { connections: 1 });
  const modelControl = new Pool(`http://127.0.0.1:${model.port}`, { connections: 1 });
  const call = async (method, p, payload) => {
    const answer = await control.request({ path: p, method, headers: { 'content-type': 'application/json', ...ballast.headers }, ...(payload === undefined ? {} : { body: JSON.stringify(payload) }) });
    const json = await answer.body.json();
    if (answer.statusCode !== 200) throw new Error(`${method} ${p}: ${answer.statusCode} ${JSON.stringify(json)}`);
    return json;
  };
  const counts = async () => (await (await modelControl.request({ path: '/counts', method: 'GET' })).body.json());
  // prom-client's event-loop figures, reset at every scrape: a scrape before a measurement and one after
  // give the longest stall and the p99 delay of the server's event loop during it.
  const eventLoop = async () => {
    const answer = await control.request({ path: '/metrics', method: 'GET', headers: ballast.headers });
    const text = await answer.body.text();
    const value = (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN) * 1000;
    return { maxMs: round(value('nodejs_eventloop_lag_max_seconds')), p99Ms: round(value('nodejs_eventloop_lag_p99_seconds')) };
  };
  // A fresh server's first seconds are compiling: warm it before anything is measured.
  await closedLoop({ url: `http://127.0.0.1:${ballast.port}`, path: decisionPath, body, connections: 8, seconds: 2, warmupSeconds: 0, headers: ballast.headers });
  return {
    url: `http://127.0.0.1:${ballast.port}`,
    headers: ballast.headers,
    call,
    counts,
    eventLoop,
    async stop() {
      await control.close();
      await modelControl.close();
      await ballast.stop();
      await model.stop();
    },
  };
}

// A step that is never judged (the analysis needs 10⁹ decisions), so the rollout holds still.
const hold = { minDecisions: 1_000_000_000 };

async function shadowPart() {
  const results = { direct: {}, none: {}, shadow: {} };
  const push = (cond, key, value) => (results[cond][key] ??= []).push(value);
  const loads = [...concurrencies.map((c) => ({ key: `c${c}`, kind: 'closed', connections: c })), { key: `open${rate}`, kind: 'open', rate }];
  const drive = (url, p, b, l, headers = {}) =>
    l.kind === 'closed' ? closedLoop({ url, path: p, body: b, connections: l.connections, seconds, warmupSeconds: 0.5, headers }) : openLoop({ url, path: p, body: b, rate: l.rate, seconds, warmupSeconds: 0.5, headers });
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`shadow run ${run}/${runs} (load ${load1()})\n`);
    {
      // The generator against the fake model alone on core 0: what it can drive at all.
      const model = await start(0, node, [path.join(here, 'safe-change-model.mjs')]);
      for (const l of loads) push('direct', l.key, { ...(await drive(`http://127.0.0.1:${model.port}`, '/v1', modelBody, l)), load: load1() });
      await model.stop();
    }
    const pair = await startPair(`shadow-${run}`);
    for (let i = 0; i < loads.length; i++) {
      const l = loads[i];
      const order = (run + i) % 2 === 0 ? ['none', 'shadow'] : ['shadow', 'none'];
      for (const cond of order) {
        if (cond === 'shadow') {
          await pair.call('POST', `/v1/services/${service}/rollouts`, { candidate: 'v2', strategy: 'shadow', share: 1, pause: hold, reason: 'bench: shadow share 1' });
          // One decision to check the copy is made: its explanation names the shadowed version.
          const d = await fetch(`${pair.url}${decisionPath}`, { method: 'POST', headers: { 'content-type': 'application/json', ...pair.headers }, body }).then((r) => r.json());
          if (d.explanation?.routing?.shadowed !== 'v2' || d.version !== 'v1') throw new Error(`not shadowed: ${JSON.stringify(d.explanation?.routing)} version ${d.version}`);
        }
        const before = await pair.counts();
        const loadBefore = load1();
        await pair.eventLoop();
        const r = await drive(pair.url, decisionPath, body, l, pair.headers);
        const loop = await pair.eventLoop();
        await sleep(50); // the copies still in flight land
        const after = await pair.counts();
        const calls = (v) => (after[`/${v}`] ?? 0) - (before[`/${v}`] ?? 0);
        push(cond, l.key, { ...r, v1Calls: calls('v1'), v2Calls: calls('v2'), load: loadBefore, eventLoopMaxMs: loop.maxMs, eventLoopP99Ms: loop.p99Ms });
        if (cond === 'shadow') await pair.call('POST', `/v1/services/${service}/rollout/abort`, { reason: 'bench: next measurement' });
      }
    }
    await pair.stop();
  }
  return results;
}

/**
 * Load that keeps every answer: when it was sent, when its body was read, its status and the version that
 * answered. `closed`: `connections` callers back to back; `open`: `rate` requests a second on a schedule.
 * Runs until `state.stop` is set, then waits for the answers in flight.
 */
async function recordingLoad(url, headers, l, state) {
  const pool = new Pool(url, { connections: l.kind === 'closed' ? l.connections : 64 });
  const records = [];
  const one = async () => {
    const sent = performance.now();
    const answer = await pool.request({ path: decisionPath, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const json = await answer.body.json();
    records.push({ sent, done: performance.now(), status: answer.statusCode, version: json.version, arm: json.explanation?.routing?.arm });
  };
  if (l.kind === 'closed') {
    await Promise.all(Array.from({ length: l.connections }, async () => {
      while (!state.stop) await one();
    }));
  } else {
    const inflight = [];
    const t0 = performance.now();
    for (let i = 0; !state.stop; i++) {
      const wait = t0 + (i * 1000) / l.rate - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(one());
    }
    await Promise.all(inflight);
  }
  await pool.close();
  return records;
}

async function rollbackPart() {
  const results = {};
  const loads = [{ key: `open${rate}`, kind: 'open', rate }, { key: `c${Math.max(...concurrencies)}`, kind: 'closed', connections: Math.max(...concurrencies) }];
  const pair = await startPair('rollback');
  for (const l of loads) {
    results[l.key] = [];
    for (let k = 1; k <= rollbacks; k++) {
      process.stderr.write(`rollback ${l.key} ${k}/${rollbacks} (load ${load1()})\n`);
      const loadBefore = load1();
      await pair.call('POST', `/v1/services/${service}/rollouts`, { candidate: 'v2', strategy: 'canary', steps: [{ weight: 0.5, pause: hold }], reason: 'bench: canary at 50%' });
      const state = { stop: false };
      const loading = recordingLoad(pair.url, pair.headers, l, state);
      await sleep(1000);
      const rbSent = performance.now();
      const rb = await pair.call('POST', `/v1/services/${service}/rollback`, { reason: 'bench: rollback under load' });
      const rbDone = performance.now();
      await sleep(500);
      state.stop = true;
      const records = await loading;
      const candidate = records.filter((r) => r.version === 'v2');
      const last = candidate.reduce((a, r) => (a === undefined || r.done > a.done ? r : a), undefined);
      const before = records.filter((r) => r.done < rbSent);
      results[l.key].push({
        load: loadBefore,
        requests: records.length,
        errors: records.filter((r) => r.status !== 200).length,
        candidateShareBefore: round(before.filter((r) => r.version === 'v2').length / before.length),
        // The definition: from sending the rollback request to the completion of the last response served by
        // the candidate; 0 when that response had completed before the rollback was sent (nothing in flight on it).
        rollbackMs: Math.max(0, round(last.done - rbSent)),
        lastCandidateDoneMs: round(last.done - rbSent),
        rollbackRequestMs: round(rbDone - rbSent),
        tookMs: rb.tookMs,
        lastCandidateSentMs: round(last.sent - rbSent),
        lastCandidateArm: last.arm,
        candidateInFlightAtRollback: candidate.filter((r) => r.sent < rbSent && r.done > rbSent).length,
        sentDuringRollback: records.filter((r) => r.sent >= rbSent && r.sent <= rbDone).length,
        candidateSentDuringRollback: candidate.filter((r) => r.sent >= rbSent && r.sent <= rbDone).length,
        candidateSentAfterRollbackAnswered: candidate.filter((r) => r.sent > rbDone).length,
        latencyP50: round(quantile(Float64Array.from(records.map((r) => r.done - r.sent)).sort(), 0.5)),
        state: rb.rollout.state,
        // Every answer sent from 30 ms before the rollback to 10 ms after its answer: [sent, done] from the rollback's send, version.
        around: records.filter((r) => r.sent > rbSent - 30 && r.sent < rbDone + 10).sort((a, b) => a.sent - b.sent).map((r) => [round(r.sent - rbSent, 2), round(r.done - rbSent, 2), r.version]),
      });
    }
  }
  await pair.stop();
  return results;
}

function summarizeShadow(results) {
  const rows = [];
  for (const key of Object.keys(results.none)) {
    const row = { load: key };
    for (const cond of ['direct', 'none', 'shadow']) {
      const xs = results[cond][key];
      row[cond] = { eventLoopMaxMs: xs.map((x) => x.eventLoopMaxMs), perSecond: median(xs.map((x) => x.perSecond)), runs: xs.map((x) => Math.round(x.perSecond)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), p50Runs: xs.map((x) => round(x.p50)), p99Runs: xs.map((x) => round(x.p99)), errors: xs.reduce((s, x) => s + x.errors, 0), loads: xs.map((x) => x.load) };
    }
    // Paired per run (same server, adjacent measurements): shadow − none.
    const n = results.none[key], s = results.shadow[key];
    const dp50 = n.map((x, i) => s[i].p50 - x.p50), dp99 = n.map((x, i) => s[i].p99 - x.p99), ratio = n.map((x, i) => s[i].perSecond / x.perSecond);
    row.paired = { dp50: median(dp50), dp50Runs: dp50.map((x) => round(x)), dp99: median(dp99), dp99Runs: dp99.map((x) => round(x)), throughputRatio: median(ratio), ratioRuns: ratio.map((x) => round(x)) };
    row.copies = s.map((x) => round(x.v2Calls / x.v1Calls));
    row.noneV2Calls = n.reduce((a, x) => a + x.v2Calls, 0);
    rows.push(row);
  }
  return rows;
}

function summarizeRollback(results) {
  return Object.fromEntries(Object.entries(results).map(([key, xs]) => [key, {
    rollbackMs: median(xs.map((x) => x.rollbackMs)),
    rollbackMsMax: Math.max(...xs.map((x) => x.rollbackMs)),
    rollbackRuns: xs.map((x) => x.rollbackMs),
    rollbackRequestMs: median(xs.map((x) => x.rollbackRequestMs)),
    rollbackRequestRuns: xs.map((x) => x.rollbackRequestMs),
    tookMs: median(xs.map((x) => x.tookMs)),
    tookRuns: xs.map((x) => x.tookMs),
    candidateInFlightAtRollback: xs.map((x) => x.candidateInFlightAtRollback),
    // Requests sent while the rollback was being answered, and how many of them the candidate served.
    sentDuringRollback: xs.reduce((s, x) => s + x.sentDuringRollback, 0),
    candidateSentDuringRollback: xs.reduce((s, x) => s + x.candidateSentDuringRollback, 0),
    candidateSentAfterRollbackAnswered: xs.reduce((s, x) => s + x.candidateSentAfterRollbackAnswered, 0),
    errors: xs.reduce((s, x) => s + x.errors, 0),
  }]));
}

async function main() {
  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, memoryGiB: Math.round(os.totalmem() / 2 ** 30) };
  const report = { date: new Date().toISOString(), machine, runs, seconds, rollbacks, concurrencies, rate, loadBefore: os.loadavg() };
  if (only !== 'rollback') {
    report.shadowRaw = await shadowPart();
    report.shadow = summarizeShadow(report.shadowRaw);
  }
  if (only !== 'shadow') {
    report.rollbackRaw = await rollbackPart();
    report.rollback = summarizeRollback(report.rollbackRaw);
  }
  report.loadAfter = os.loadavg();
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (args.out) writeFileSync(args.out, json);
  else process.stdout.write(json);
  const lines = [''];
  if (report.shadow) {
    lines.push('| load | direct/s | none/s | shadow/s | shadow/none | none p50 | shadow p50 | Δp50 (paired) | none p99 | shadow p99 | Δp99 (paired) | v2 calls / v1 calls |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of report.shadow) lines.push(`| ${r.load} | ${r.direct.perSecond.toFixed(0)} | ${r.none.perSecond.toFixed(0)} (${r.none.runs.join(', ')}) | ${r.shadow.perSecond.toFixed(0)} (${r.shadow.runs.join(', ')}) | ${r.paired.throughputRatio.toFixed(3)} (${r.paired.ratioRuns.join(', ')}) | ${r.none.p50.toFixed(3)} | ${r.shadow.p50.toFixed(3)} | ${r.paired.dp50.toFixed(3)} (${r.paired.dp50Runs.join(', ')}) | ${r.none.p99.toFixed(3)} | ${r.shadow.p99.toFixed(3)} | ${r.paired.dp99.toFixed(3)} (${r.paired.dp99Runs.join(', ')}) | ${r.copies.join(', ')} |`);
  }
  if (report.shadow) {
    lines.push('');
    for (const r of report.shadow) lines.push(`event loop's longest stall per run (ms), ${r.load}: none ${r.none.eventLoopMaxMs.join(', ')}; shadow ${r.shadow.eventLoopMaxMs.join(', ')}`);
  }
  if (report.rollback) {
    lines.push('', '| load | rollback time median | max | runs | rollback request | tookMs | candidate in flight at the rollback | sent during the rollback: all / served by the candidate | candidate answers sent after the rollback answered | errors |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const [k, r] of Object.entries(report.rollback)) lines.push(`| ${k} | ${r.rollbackMs} ms | ${r.rollbackMsMax} ms | ${r.rollbackRuns.join(', ')} | ${r.rollbackRequestMs} ms (${r.rollbackRequestRuns.join(', ')}) | ${r.tookMs} (${r.tookRuns.join(', ')}) | ${r.candidateInFlightAtRollback.join(', ')} | ${r.sentDuringRollback} / ${r.candidateSentDuringRollback} | ${r.candidateSentAfterRollbackAnswered} | ${r.errors} |`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}

await main();
