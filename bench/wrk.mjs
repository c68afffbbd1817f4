// The benchmark the way users measure a gateway: wrk on its own core against, in turn, the model
// server alone (direct), a bare undici-pool proxy, and `ballast serve` with the http and the openai
// adapter, each with and without a monitoring: block, at 1, 32 and 256 connections.
//
// Cores (2 vCPUs): the process under test alone on core 1; wrk, the fake model and this script on
// core 0. For `direct` the fake model is the process under test (core 1). Each round starts every
// setup fresh (its own data directory) and measures each connection count after a warm-up; rounds
// are interleaved (round 1 of every setup, then round 2, ...). Per measured run: requests/s, p50 and
// p99 (wrk's), CPU time of the server process (user + system, all threads, from /proc/<pid>/stat)
// per request served, RSS at the end and its peak (VmRSS, VmHWM), and how busy each core was.
// Added latency = the setup's p50/p99 minus direct's in the same round and at the same connections.
//
// Usage: npm run bench:wrk [-- --runs 3 --seconds 5 --connections 1,32,256 --setups a,b --out file.json]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closedLoop } from './load.mjs';
import { ballastBin, coreBusy, coreTimes, cpuMicros, here, httpBody, httpConfig, median, memory, monitoringBlock, node, openaiBody, openaiConfig, round, start, upstreamBody } from './setups.mjs';
import { wrkMissing, wrkRun, wrkVersion } from './wrk-load.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' }, connections: { type: 'string' }, setups: { type: 'string' }, out: { type: 'string' } } });
const runs = Number(args.runs ?? 3);
const seconds = Number(args.seconds ?? 5);
const warmup = Number(args.warmup ?? 1);
const connectionCounts = (args.connections ?? '1,32,256').split(',').map(Number);
const SERVER_CPU = 1;
const LOAD_CPU = 0;

const version = wrkVersion()?.replace(/ Copyright.*/, '');
if (version === undefined) {
  process.stderr.write(`bench:wrk needs wrk: ${wrkMissing}. (npm run bench uses the in-process generator instead.)\n`);
  process.exit(1);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-wrk-'));
const decisions = { http: '/v1/services/scorer/decisions', openai: '/v1/services/tickets/decisions' };

/** Every setup: how to start it (given the round's fake models) and what to send it. */
const allSetups = [
  { name: 'direct', about: 'the fake model alone (bench/upstream.mjs)', start: () => start(SERVER_CPU, node, [path.join(here, 'upstream.mjs')]), path: '/', body: upstreamBody },
  { name: 'proxy', about: 'bare pass-through proxy, undici pool (bench/proxy.mjs)', start: (u) => start(SERVER_CPU, node, [path.join(here, 'proxy.mjs'), `http://127.0.0.1:${u.http.port}/`]), path: '/', body: upstreamBody },
  { name: 'ballast-http', about: 'http adapter, no monitoring: block, durable log (full)', ballast: (dir, u) => httpConfig(dir, u.http.port), path: decisions.http, body: httpBody },
  { name: 'ballast-http+monitoring', about: 'http adapter, monitoring: block (segment by country), durable log (full)', ballast: (dir, u) => httpConfig(dir, u.http.port, { name: 'http-monitoring', monitoring: monitoringBlock('/label') }), path: decisions.http, body: httpBody },
  { name: 'ballast-openai', about: 'openai adapter, logprob confidence, text + 2 fields, no monitoring: block, durable log (full)', ballast: (dir, u) => openaiConfig(dir, u.openai.port), path: decisions.openai, body: openaiBody },
  { name: 'ballast-openai+monitoring', about: 'openai adapter as above, monitoring: block (segment by country), durable log (full)', ballast: (dir, u) => openaiConfig(dir, u.openai.port, { name: 'openai-monitoring', monitoring: monitoringBlock('/label') }), path: decisions.openai, body: openaiBody },
  {
    name: 'ballast-http+monitoring/process',
    about: 'ballast-http+monitoring with store.durability: process (WAL, synchronous = NORMAL)',
    ballast: (dir, u) => httpConfig(dir, u.http.port, { name: 'http-monitoring-process', monitoring: monitoringBlock('/label'), store: { kind: 'sqlite', path: path.join(dir, 'ballast.db'), durability: 'process' } }),
    path: decisions.http,
    body: httpBody,
  },
];
const wanted = args.setups?.split(',');
const setups = wanted === undefined ? allSetups : allSetups.filter((s) => wanted.includes(s.name));
if (!setups.some((s) => s.name === 'direct')) process.stderr.write('note: without the direct setup there is no added latency and no bottleneck check\n');

async function startSetup(setup, upstreams, run) {
  if (setup.ballast === undefined) return setup.start(upstreams);
  const dir = path.join(work, `${setup.name.replace(/[^\w-]/g, '_')}-${run}`);
  mkdirSync(dir, { recursive: true });
  return start(SERVER_CPU, node, [ballastBin, 'serve', '--config', setup.ballast(dir, upstreams), '--port', '0', '--data-dir', dir, '--log-level', 'warn']);
}

/** One measured wrk run against a started server, with its CPU, memory and the cores' load. */
async function measure(server, setup, connections) {
  const load = { url: `http://127.0.0.1:${server.port}`, path: setup.path, body: setup.body, headers: server.headers, connections, cpu: LOAD_CPU };
  await wrkRun({ ...load, seconds: warmup });
  const cpu0 = cpuMicros(server.pid);
  const cores0 = coreTimes();
  const loadavg = round(os.loadavg()[0], 2);
  const r = await wrkRun({ ...load, seconds });
  const cpuUs = cpuMicros(server.pid) - cpu0;
  const busy = coreBusy(cores0, coreTimes());
  return { perSecond: round(r.perSecond, 1), p50: r.p50, p90: r.p90, p99: r.p99, max: r.max, requests: r.requests, errors: r.errors, cpuUsPerRequest: round(cpuUs / Math.max(1, r.requests), 1), serverCpuShare: round(cpuUs / 1e6 / seconds, 2), ...mapValues(memory(server.pid), (x) => round(x, 1)), loadCoreBusy: busy[LOAD_CPU], serverCoreBusy: busy[SERVER_CPU], loadavg };
}

const mapValues = (o, f) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

async function main() {
  const startedAt = new Date();
  const raw = Object.fromEntries(setups.map((s) => [s.name, Object.fromEntries(connectionCounts.map((c) => [c, []]))]));
  const inProcess = [];
  for (let run = 1; run <= runs; run++) {
    const upstreams = { http: await start(LOAD_CPU, node, [path.join(here, 'upstream.mjs')]), openai: await start(LOAD_CPU, node, [path.join(here, 'upstream-openai.mjs')]) };
    for (const setup of setups) {
      const server = await startSetup(setup, upstreams, run);
      for (const connections of connectionCounts) {
        process.stderr.write(`run ${run}/${runs} ${setup.name} at ${connections} connection(s) (load ${os.loadavg()[0].toFixed(2)})\n`);
        const m = await measure(server, setup, connections);
        raw[setup.name][connections].push(m);
        process.stderr.write(`  ${m.perSecond.toFixed(0)}/s p50 ${m.p50.toFixed(3)} ms p99 ${m.p99.toFixed(3)} ms, ${m.cpuUsPerRequest} µs CPU/request, RSS ${m.rssMiB} MiB, cores busy: load ${m.loadCoreBusy} server ${m.serverCoreBusy}${m.errors ? `, ${m.errors} errors` : ''}\n`);
      }
      // The in-process generator of bench/run.mjs against the same direct model: its ceiling.
      if (setup.name === 'direct' && connectionCounts.includes(32)) {
        const r = await closedLoop({ url: `http://127.0.0.1:${server.port}`, path: '/', body: upstreamBody, connections: 32, seconds, warmupSeconds: warmup });
        inProcess.push(round(r.perSecond, 1));
        process.stderr.write(`  direct with the in-process generator (bench/load.mjs) at 32: ${r.perSecond.toFixed(0)}/s\n`);
      }
      await server.stop();
    }
    await upstreams.http.stop();
    await upstreams.openai.stop();
  }

  // Medians; ratios and added latency are per round (paired), then the median of the rounds.
  const summary = {};
  for (const setup of setups) {
    for (const c of connectionCounts) {
      const xs = raw[setup.name][c];
      const direct = raw.direct?.[c];
      const proxy = raw.proxy?.[c];
      const perRound = (f, base) => (base === undefined ? undefined : xs.map((x, i) => round(f(x, base[i]))));
      const addedP50 = perRound((x, d) => x.p50 - d.p50, direct);
      const addedP99 = perRound((x, d) => x.p99 - d.p99, direct);
      const ofProxy = perRound((x, p) => x.perSecond / p.perSecond, proxy);
      (summary[setup.name] ??= {})[c] = {
        perSecond: round(median(xs.map((x) => x.perSecond)), 0),
        perSecondRuns: xs.map((x) => Math.round(x.perSecond)),
        ofProxy: ofProxy && median(ofProxy),
        ofProxyRuns: ofProxy,
        p50: round(median(xs.map((x) => x.p50))),
        p50Runs: xs.map((x) => round(x.p50)),
        p99: round(median(xs.map((x) => x.p99))),
        p99Runs: xs.map((x) => round(x.p99)),
        addedP50: addedP50 && median(addedP50),
        addedP50Runs: addedP50,
        addedP99: addedP99 && median(addedP99),
        addedP99Runs: addedP99,
        cpuUsPerRequest: median(xs.map((x) => x.cpuUsPerRequest)),
        cpuUsPerRequestRuns: xs.map((x) => x.cpuUsPerRequest),
        rssMiB: median(xs.map((x) => x.rssMiB)),
        hwmMiB: median(xs.map((x) => x.hwmMiB)),
        rssMiBRuns: xs.map((x) => x.rssMiB),
        errors: xs.reduce((s, x) => s + x.errors, 0),
        loadCoreBusy: median(xs.map((x) => x.loadCoreBusy)),
        serverCoreBusy: median(xs.map((x) => x.serverCoreBusy)),
      };
    }
  }

  // The generator is the bottleneck when a server does as much as the model alone, or when the load core is saturated while the server's is not.
  const warnings = [];
  for (const c of connectionCounts) {
    const d = summary.direct?.[c];
    if (d === undefined) continue;
    for (const s of setups.filter((x) => x.name !== 'direct')) {
      if (summary[s.name][c].perSecond >= d.perSecond) warnings.push(`at ${c} connections ${s.name} (${summary[s.name][c].perSecond}/s) is not slower than direct (${d.perSecond}/s): the generator or the fake model is the bottleneck`);
    }
    for (const s of setups) {
      const r = summary[s.name][c];
      if (c > 1 && r.loadCoreBusy >= 0.97 && r.serverCoreBusy < 0.9) warnings.push(`at ${c} connections ${s.name}: the load core was ${r.loadCoreBusy} busy, the server's ${r.serverCoreBusy}: the load side may limit it`);
    }
  }
  if (inProcess.length > 0 && summary.direct?.[32] !== undefined) {
    const ratio = median(inProcess) / summary.direct[32].perSecond;
    if (ratio < 0.9) warnings.push(`the in-process generator (bench/load.mjs) drives the direct model at ${Math.round(median(inProcess))}/s, ${round(ratio, 2)} of wrk's ${summary.direct[32].perSecond}/s: bench/run.mjs's figures above that are capped by its generator`);
  }

  const cpuModel = os.cpus()[0]?.model;
  const machine = { cpus: os.cpus().length, model: cpuModel, node: process.version, wrk: version, memoryGiB: Math.round(os.totalmem() / 2 ** 30) };
  const command = `flock /tmp/bench.lock npm run bench:wrk -- --runs ${runs} --seconds ${seconds} --warmup ${warmup} --connections ${connectionCounts.join(',')}`;
  const report = { date: startedAt.toISOString(), finished: new Date().toISOString(), command, machine, runs, seconds, warmup, connections: connectionCounts, cores: { server: SERVER_CPU, load: LOAD_CPU }, setups: setups.map(({ name, about }) => ({ name, about })), summary, inProcessDirect32: inProcess, warnings, raw };
  const out = args.out ?? path.join(here, 'results', `wrk-${startedAt.toISOString().slice(0, 10)}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  const n = (x) => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
  const ms = (x) => (x === undefined ? '—' : x.toFixed(2));
  const signed = (x) => (x === undefined ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`);
  const lines = [
    '',
    `| connections | setup | requests/s (runs) | × proxy | p50 ms (runs) | p99 ms | added p50 ms | added p99 ms | CPU µs/request (runs) | RSS MiB (peak) |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of connectionCounts) {
    for (const s of setups) {
      const r = summary[s.name][c];
      lines.push(`| ${c} | ${s.name} | **${n(r.perSecond)}** (${r.perSecondRuns.map(n).join(', ')}) | ${r.ofProxy === undefined ? '—' : r.ofProxy.toFixed(2)} | ${ms(r.p50)} (${r.p50Runs.map(ms).join(', ')}) | ${ms(r.p99)} | ${s.name === 'direct' ? '—' : signed(r.addedP50)} | ${s.name === 'direct' ? '—' : signed(r.addedP99)} | ${r.cpuUsPerRequest} (${r.cpuUsPerRequestRuns.join(', ')}) | ${Math.round(r.rssMiB)} (${Math.round(r.hwmMiB)}) |${r.errors ? ` ${r.errors} errors` : ''}`);
    }
  }
  lines.push('', `machine: ${machine.cpus} × ${cpuModel}, Node ${machine.node}, ${version}; written to ${path.relative(process.cwd(), out)}`);
  if (inProcess.length) lines.push(`in-process generator (bench/load.mjs) against direct at 32 connections: ${inProcess.map(n).join(', ')}/s`);
  for (const w of warnings) lines.push(`WARNING: ${w}`);
  if (warnings.length === 0) lines.push('the direct model was faster than every server at every connection count: the generator was not the bottleneck');
  process.stderr.write(`${lines.join('\n')}\n`);
}

await main();
