// Resilience under load, in one run (issue 8, item 10):
// 1. connections: one `ballast serve` (core 0) holding 10,000 keep-alive connections in front of a fake model
//    that answers in 50 ms (its own process, core 1), with a fixed concurrency limit L and a queue, so that its
//    nominal capacity is L / 0.05 s; open-loop load at 0.8×, 1× and 2× that, spread over the 10,000
//    connections by generator processes on core 1 (checked first against the fake model directly at twice the
//    highest rate). Before that, what one core does with this model (closed loop, limit far above the load).
// 2. hot path: ns per decision of the breaker, the retry budget, the concurrency limiter, the rate limiter and
//    the whole admission fast path, in process (bench/resilience-hot.mjs, core 0); and decisions/s of the
//    in-process pipeline (bench/pipeline.mjs, the demo model, durable log, core 0) with the default breaker and
//    retries against `breaker: { enabled: false }` + `retry: { attempts: 1 }`, alternating, as paired ratios.
// 3. time to open: at a steady rate, the model starts failing at t0 (hang with totalMs 1000 ms, or 500); when
//    does the breaker open, when did the last decision that waited on the failing model answer, and how many
//    went down the fallback chain without calling it. Default breaker settings.
// Usage: npm run bench:resilience [-- --runs 3 --seconds 10 --only hot,pipeline,connections,open]
// Writes bench/results/<date>-resilience.json and prints a summary on stderr. BALLAST_NODE_ARGS (e.g.
// `--trace-gc`) goes to the node of every `ballast serve`; its lines are kept in the JSON when not pino's.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { demoConfig, loadOrTrainSpamModel } from '../dist/demo/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    generators: { type: 'string' },
    limit: { type: 'string' },
    'model-ms': { type: 'string' },
    'hot-runs': { type: 'string' },
    iterations: { type: 'string' },
    'pipeline-runs': { type: 'string' },
    'pipeline-seconds': { type: 'string' },
    'open-runs': { type: 'string' },
    'open-rate': { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const runs = Number(args.runs ?? 3);
const seconds = Number(args.seconds ?? 10);
const connections = Number(args.connections ?? 10_000);
const generators = Number(args.generators ?? 2);
const requestedLimit = Number(args.limit ?? 50);
const modelMs = Number(args['model-ms'] ?? 50);
const hotRuns = Number(args['hot-runs'] ?? 9);
const iterations = Number(args.iterations ?? 1_000_000);
const pipelineRuns = Number(args['pipeline-runs'] ?? 9);
const pipelineSeconds = Number(args['pipeline-seconds'] ?? 3);
const openRuns = Number(args['open-runs'] ?? 5);
const openRate = Number(args['open-rate'] ?? 200);
const only = new Set((args.only ?? 'hot,pipeline,connections,open').split(','));
const wantFiles = 65_536;
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-res-'));
const clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const node = process.execPath;
const ballastBin = path.join(root, 'bin', 'ballast.js');

const median = (xs) => (xs.length === 0 ? Number.NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
const quantile = (sorted, q) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const log = (line) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Child processes: pinned with taskset, descriptor limit raised through sh (to the hard limit when
// 65,536 is above it), optionally with an IPC channel; `ready` is a stdout pattern or an IPC message.

function startChild(name, cpu, argv, { ipc = false, ready } = {}) {
  const script = `ulimit -n ${wantFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
  const child = spawn('taskset', ['-c', String(cpu), 'sh', '-c', script, 'sh', node, ...argv], { stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])] });
  const lines = [];
  const stderr = [];
  const pending = new Map();
  let seq = 0;
  let out = '';
  let closed = false;
  const exited = new Promise((resolve) => child.once('close', (code, signal) => ((closed = true), resolve({ code, signal }))));
  const started = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        lines.push(line);
        const m = ready instanceof RegExp ? ready.exec(line) : null;
        if (m) resolve({ port: Number(m[1]) });
      }
    });
    child.stderr.on('data', (d) => stderr.push(String(d)));
    if (ipc) {
      child.on('message', (m) => {
        if (m.ready) resolve({});
        else if (pending.has(m.id)) {
          pending.get(m.id)(m);
          pending.delete(m.id);
        }
      });
    }
    void exited.then(({ code, signal }) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${lines.join('\n')}${stderr.join('')}`)));
  });
  const handle = {
    name,
    child,
    pid: child.pid,
    lines,
    stderr,
    rpc: (message) =>
      new Promise((resolve, reject) => {
        if (closed) return reject(new Error(`${name} has exited`));
        const id = ++seq;
        pending.set(id, resolve);
        child.send({ ...message, id });
      }),
    async stop(signal = 'SIGTERM') {
      if (closed) return { ms: 0 };
      const t0 = performance.now();
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const how = await exited;
      clearTimeout(timer);
      return { ms: performance.now() - t0, ...how };
    },
  };
  return started.then((info) => Object.assign(handle, info));
}

/** RSS, peak RSS, CPU seconds (all threads), open descriptors and their limit, of a process, from /proc. */
function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const limits = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return {
    rssMiB: kb('VmRSS') / 1024,
    peakRssMiB: kb('VmHWM') / 1024,
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clkTck,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    fileLimit: limits ? { soft: Number(limits[1]), hard: Number(limits[2]) } : null,
  };
}

/** Pino's JSON lines of a Ballast process: counts by level, and the first few warnings and errors. */
function serverLog(ballast) {
  const byLevel = {};
  const notable = [];
  for (const line of ballast.lines) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    byLevel[entry.level] = (byLevel[entry.level] ?? 0) + 1;
    if (entry.level >= 40 && notable.length < 12) notable.push({ level: entry.level, msg: entry.msg, code: entry.code, suppressed: entry.suppressed });
  }
  const other = ballast.lines.filter((line) => !line.startsWith('{') && !line.includes('Scavenge'));
  return { byLevel, notable, stderr: ballast.stderr.join('').trim().slice(0, 2000), ...(other.length > 0 ? { otherLines: other.slice(-400) } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Configs.

const scorerContract = {
  input: { schema: { type: 'object', required: ['amount', 'country'], additionalProperties: false, properties: { amount: { type: 'number', minimum: 0 }, country: { type: 'string' }, note: { type: 'string' } } } },
  output: { schema: { type: 'object', required: ['label', 'score'], properties: { label: { type: 'string' }, score: { type: 'number' } } } },
};
const input = { amount: 120.5, country: 'DE', note: 'benchmark' };
const decisionBody = JSON.stringify({ input });

function scorerConfig(file, modelPort, resilience, version = {}) {
  writeFileSync(
    file,
    stringify({
      version: 1,
      services: {
        scorer: {
          contract: scorerContract,
          policy: { thresholds: { auto: 0.5 } },
          models: { v1: { ...version, adapter: { kind: 'http', url: `http://127.0.0.1:${modelPort}/predict`, response: { confidence: '/score' } } } },
          live: 'v1',
          resilience,
        },
      },
    }),
  );
  return file;
}

let serverSeq = 0;
async function startBallast(configPath) {
  const dataDir = path.join(work, `data-${++serverSeq}`);
  mkdirSync(dataDir, { recursive: true });
  const nodeArgs = (process.env.BALLAST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const ballast = await startChild('ballast', 0, [...nodeArgs, ballastBin, 'serve', '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn', '--insecure-no-auth'], {
    ready: /on http:\/\/127\.0\.0\.1:(\d+)/,
  });
  ballast.url = `http://127.0.0.1:${ballast.port}`;
  return ballast;
}

const startModel = (ms) => startChild('fake model', 1, [path.join(here, 'resilience-model.mjs'), String(ms)], { ipc: true, ready: /listening (\d+)/ });
const startGenerator = (i) => startChild(`generator ${i}`, 1, [path.join(here, 'resilience-load.mjs')], { ipc: true });

const httpRequest = (port, target, body) => `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** Starts `count` generators and opens `total` connections spread over them, each from its own loopback address. */
async function generatorFleet(count, total, port, request, addressBase) {
  const fleet = await Promise.all(Array.from({ length: count }, (_, i) => startGenerator(i)));
  const per = Math.ceil(total / count);
  const t0 = performance.now();
  const opened = await Promise.all(fleet.map((g, i) => g.rpc({ cmd: 'connect', host: '127.0.0.1', port, count: Math.min(per, total - i * per), localAddress: `127.0.0.${addressBase + i}`, request })));
  const connectSeconds = (performance.now() - t0) / 1000;
  return {
    fleet,
    connect: { connected: opened.reduce((s, o) => s + o.connected, 0), failed: opened.reduce((s, o) => s + o.failed, 0), errors: opened.map((o) => o.errors), seconds: round(connectSeconds, 2) },
    stop: () => Promise.all(fleet.map((g) => g.stop())),
  };
}

/** The server's event-loop delay since the previous scrape (prom-client's default metrics reset it on every scrape), ms. */
async function loopLag(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => round(Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]) * 1000, 1);
  return { p99: value('nodejs_eventloop_lag_p99_seconds'), max: value('nodejs_eventloop_lag_max_seconds') };
}

/** One open-loop phase over the whole fleet at `rate` (split evenly), with the server's CPU, RSS and event-loop delay. */
async function openPhase(fleet, rate, phaseSeconds, serverPid, serverUrl) {
  if (serverUrl !== undefined) await loopLag(serverUrl);
  const before = serverPid === undefined ? undefined : procStats(serverPid);
  const t0 = performance.now();
  const parts = await Promise.all(fleet.map((g) => g.rpc({ cmd: 'open', rate: rate / fleet.length, seconds: phaseSeconds, sampleEvery: serverPid === undefined ? 0 : 20 })));
  const wall = (performance.now() - t0) / 1000;
  const after = serverPid === undefined ? undefined : procStats(serverPid);
  const result = summarise(parts, rate, phaseSeconds, before, after, wall);
  if (serverUrl !== undefined) result.server.eventLoopDelayMs = await loopLag(serverUrl);
  return result;
}

function summarise(parts, rate, phaseSeconds, before, after, wall) {
  const sum = (f) => parts.reduce((s, p) => s + f(p), 0);
  const merge = (f) => {
    const out = {};
    for (const p of parts) for (const [k, v] of Object.entries(f(p))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const lat200 = Float64Array.from(parts.flatMap((p) => p.lat200)).sort();
  const lat503 = Float64Array.from(parts.flatMap((p) => p.lat503)).sort();
  const lat503FromSend = Float64Array.from(parts.flatMap((p) => p.lat503FromSend)).sort();
  const byStatus = merge((p) => p.byStatus);
  const answered = Object.entries(byStatus).reduce((s, [k, v]) => s + (k === 'socket' ? 0 : v), 0);
  const busy = Object.entries(merge((p) => p.byCode)).filter(([k]) => k.startsWith('503 SERVER_BUSY')).reduce((s, [, v]) => s + v, 0);
  const within50 = lat503.filter((x) => x <= 50).length;
  const samples = parts.flatMap((p) => p.samples);
  const column = (k) => Float64Array.from(samples.map((x) => x[k]).filter((x) => x !== null)).sort();
  const result = {
    offeredRate: rate,
    seconds: phaseSeconds,
    offered: sum((p) => p.offered),
    sent: sum((p) => p.sent),
    noIdleConnection: sum((p) => p.noIdleConnection),
    unanswered: sum((p) => p.unanswered),
    answeredPerSecond: round(answered / phaseSeconds),
    servedPerSecond: round((byStatus['200'] ?? 0) / phaseSeconds),
    byStatus,
    byCode: merge((p) => p.byCode),
    socketErrors: merge((p) => p.socketErrors),
    served: { p50: round(quantile(lat200, 0.5), 2), p99: round(quantile(lat200, 0.99), 2) },
    busy503: { count: busy, p50: round(quantile(lat503, 0.5), 2), p99: round(quantile(lat503, 0.99), 2), shareWithin50ms: lat503.length === 0 ? null : round(within50 / lat503.length, 4),
      // The same counted from when the generator actually sent it (its own lateness left out): the server's part.
      shareWithin50msFromSend: lat503FromSend.length === 0 ? null : round(lat503FromSend.filter((x) => x <= 50).length / lat503FromSend.length, 4), p99FromSend: round(quantile(lat503FromSend, 0.99), 2),
      over: Object.fromEntries([50, 100, 250].map((ms) => [`${ms}ms`, lat503FromSend.filter((x) => x > ms).length])) },
    generatorLateness: { p99: round(Math.max(...parts.map((p) => p.lateness.p99)), 2), max: round(Math.max(...parts.map((p) => p.lateness.max)), 2) },
    connectionsOpen: sum((p) => p.open),
    wallSeconds: round(wall, 2),
  };
  if (samples.length > 0) {
    // From one served answer in 20: the model call as Ballast timed it, and the durable record stage.
    const [model, record] = [column(0), column(1)];
    result.serverTimings = { sampled: samples.length, modelCall: { p50: round(quantile(model, 0.5), 2), p99: round(quantile(model, 0.99), 2) }, record: { p50: round(quantile(record, 0.5), 2), p99: round(quantile(record, 0.99), 2) } };
  }
  if (before !== undefined) {
    result.server = {
      cpuShare: round((after.cpuSeconds - before.cpuSeconds) / wall, 3),
      cpuMicrosPerAnswer: round(((after.cpuSeconds - before.cpuSeconds) * 1e6) / Math.max(1, answered), 1),
      rssMiB: round(after.rssMiB),
      peakRssMiB: round(after.peakRssMiB),
      fds: after.fds,
    };
  }
  return result;
}

const phaseLine = (name, p) =>
  `${name}: offered ${p.offeredRate}/s → served ${p.servedPerSecond}/s (answered ${p.answeredPerSecond}/s), p50 ${p.served.p50} ms, p99 ${p.served.p99} ms; ` +
  `statuses ${JSON.stringify(p.byStatus)}; 503 within 50 ms ${p.busy503.shareWithin50ms ?? '-'} (from send ${p.busy503.shareWithin50msFromSend ?? '-'}); socket errors ${JSON.stringify(p.socketErrors)}; ` +
  `open ${p.connectionsOpen}; lateness p99 ${p.generatorLateness.p99} ms` +
  (p.serverTimings ? `; model call p50 ${p.serverTimings.modelCall.p50} ms, record p50 ${p.serverTimings.record.p50} ms` : '') +
  (p.server ? `; server CPU ${Math.round(p.server.cpuShare * 100)}%, ${p.server.cpuMicrosPerAnswer} µs/answer, RSS ${p.server.rssMiB} MiB` : '') +
  (p.server?.eventLoopDelayMs ? `, event-loop delay p99 ${p.server.eventLoopDelayMs.p99} ms max ${p.server.eventLoopDelayMs.max} ms` : '') +
  (Object.keys(p.byCode).length > 0 ? `; ${JSON.stringify(p.byCode)}` : '');

// ---------------------------------------------------------------------------------------------
// 1. Hot path.

function runToEnd(cpu, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), node, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

async function hotPath() {
  log(`hot path: ${hotRuns} runs of ${iterations} iterations (core 0)`);
  const raw = await runToEnd(0, [path.join(here, 'resilience-hot.mjs'), String(hotRuns), String(iterations)]);
  const ops = Object.fromEntries(Object.entries(raw.nsPerOp).map(([k, v]) => [k, { median: round(median(v)), runs: v.map((x) => round(x)) }]));
  const m = (k) => ops[k].median;
  // What one decision pays on its fast path: admission (limiter inside), the breaker's permit and record, the budget's count.
  const total = m('admit + release (no rate limit)') + m('CircuitBreaker.tryAcquire + record') + m('RetryBudget.recordCall');
  const totalRate = m('admit + release (per-key rate limit)') + m('CircuitBreaker.tryAcquire + record') + m('RetryBudget.recordCall');
  const hot = {
    runs: hotRuns,
    iterations,
    nsPerOp: ops,
    perDecisionNs: { withoutRateLimit: round(total), withRateLimit: round(totalRate), target: 2000 },
    resilientCallNs: { iterations: raw.resilientCall.iterations, median: round(median(raw.resilientCall.nsPerCall)), runs: raw.resilientCall.nsPerCall.map((x) => round(x)) },
    descriptorProbeMs: Object.fromEntries(Object.entries(raw.descriptorProbeMs).map(([open, byProbe]) => [open, typeof byProbe === 'string' ? byProbe : Object.fromEntries(Object.entries(byProbe).map(([k, v]) => [k, { median: round(median(v), 3), runs: v.map((x) => round(x, 3)) }]))])),
  };
  for (const [k, v] of Object.entries(ops)) log(`  ${k}: ${v.median} ns (${v.runs.join(', ')})`);
  log(`  per decision: ${hot.perDecisionNs.withoutRateLimit} ns without a rate limit, ${hot.perDecisionNs.withRateLimit} ns with one (target < 2000)`);
  log(`  callResiliently around an immediate answer (for context): ${hot.resilientCallNs.median} ns`);
  log(`  pressure descriptor probe: ${JSON.stringify(hot.descriptorProbeMs)}`);
  return hot;
}

// ---------------------------------------------------------------------------------------------
// 2. The in-process pipeline with and without breakers and retries.

async function pipelineRatio() {
  const model = await loadOrTrainSpamModel({ cacheDir: path.join(root, '.ballast', 'demo') });
  const sorted = [...model.served].sort((a, b) => a.body.length - b.body.length);
  const message = sorted[Math.floor(sorted.length / 2)];
  const inputPath = path.join(work, 'spam-input.json');
  writeFileSync(inputPath, JSON.stringify({ subject: message.subject, body: message.body, from: message.from }));
  const configs = {};
  for (const side of ['breakers', 'none']) {
    const config = demoConfig(model.weightsPath);
    const service = config.services['spam-filter'];
    if (side === 'none') service.resilience = { ...service.resilience, breaker: { enabled: false }, retry: { attempts: 1 } };
    const dir = path.join(work, `pipeline-${side}`);
    mkdirSync(dir, { recursive: true });
    configs[side] = path.join(dir, 'ballast.yaml');
    writeFileSync(configs[side], stringify(config, { lineWidth: 0 }));
  }
  log(`pipeline: ${pipelineRuns} paired runs of ${pipelineSeconds} s, 64 in flight (core 0)`);
  const results = { breakers: [], none: [] };
  for (let run = 1; run <= pipelineRuns; run++) {
    const order = run % 2 === 0 ? ['none', 'breakers'] : ['breakers', 'none'];
    for (const side of order) {
      const dataDir = path.join(work, `pipeline-data-${side}-${run}`);
      mkdirSync(dataDir, { recursive: true });
      const r = await runToEnd(0, [path.join(here, 'pipeline.mjs'), configs[side], dataDir, inputPath, String(pipelineSeconds), '64']);
      results[side].push(r.perSecond);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const paired = results.breakers.map((b, i) => b / results.none[i]);
  const out = {
    runs: pipelineRuns,
    seconds: pipelineSeconds,
    inFlight: 64,
    withBreakers: { median: round(median(results.breakers)), runs: results.breakers.map(Math.round) },
    withoutBreakers: { median: round(median(results.none)), runs: results.none.map(Math.round) },
    pairedRatio: { median: round(median(paired), 3), runs: paired.map((x) => round(x, 3)) },
  };
  log(`  with breakers ${out.withBreakers.median}/s (${out.withBreakers.runs.join(', ')}), without ${out.withoutBreakers.median}/s (${out.withoutBreakers.runs.join(', ')}); paired ratio ${out.pairedRatio.median} (${out.pairedRatio.runs.join(', ')})`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. 10,000 connections at capacity and twice capacity.

async function heldConnections() {
  const result = { connections, generators, modelMs };
  const model = await startModel(modelMs);
  try {
    // a. What one core does with this model: closed loop, 512 in flight, the limit far above them.
    {
      const config = scorerConfig(path.join(work, 'one-core.yaml'), model.port, { admission: { limit: { fixed: 4096 }, queue: { size: 0 } } });
      const ballast = await startBallast(config);
      const load = await generatorFleet(generators, 512, ballast.port, httpRequest(ballast.port, '/v1/services/scorer/decisions', decisionBody), 2);
      const inflight = Math.floor(512 / generators);
      await Promise.all(load.fleet.map((g) => g.rpc({ cmd: 'closed', inflight, seconds: 2 })));
      const samples = [];
      for (let r = 0; r < 3; r++) {
        const before = procStats(ballast.pid);
        const t0 = performance.now();
        const parts = await Promise.all(load.fleet.map((g) => g.rpc({ cmd: 'closed', inflight, seconds: Math.min(seconds, 5) })));
        const wall = (performance.now() - t0) / 1000;
        const after = procStats(ballast.pid);
        const answered = parts.reduce((s, p) => s + p.answeredInWindow, 0);
        const perSecond = answered / Math.max(...parts.map((p) => p.windowSeconds));
        const lat = Float64Array.from(parts.flatMap((p) => p.lat200)).sort();
        const cpuShare = (after.cpuSeconds - before.cpuSeconds) / wall;
        const byStatus = {};
        for (const p of parts) for (const [k, v] of Object.entries(p.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + v;
        samples.push({ perSecond: round(perSecond), cpuShare: round(cpuShare, 3), cpuMicrosPerDecision: round(((after.cpuSeconds - before.cpuSeconds) * 1e6) / Math.max(1, answered), 1), p50: round(quantile(lat, 0.5), 2), p99: round(quantile(lat, 0.99), 2), byStatus });
      }
      await load.stop();
      await ballast.stop();
      const perSecond = median(samples.map((s) => s.perSecond));
      const cpuMicros = median(samples.map((s) => s.cpuMicrosPerDecision));
      result.oneCore = {
        inFlight: 512,
        samples,
        perSecond,
        cpuShare: median(samples.map((s) => s.cpuShare)),
        cpuMicrosPerDecision: cpuMicros,
        cpuBoundPerSecond: round(1e6 / cpuMicros),
        upstreamPoolBound: round(64 / (modelMs / 1000)),
      };
      log(`one core, ${modelMs} ms model, 512 in flight: ${perSecond}/s at ${Math.round(result.oneCore.cpuShare * 100)}% CPU (${cpuMicros} µs per decision → ≈${result.oneCore.cpuBoundPerSecond}/s if CPU-bound; the upstream pool of 64 connections bounds it at ${result.oneCore.upstreamPoolBound}/s)`);
    }
    // The capacity must stay well below what one core does, so that what is measured is admission, not the
    // CPU; and L at most the upstream pool's 64 connections, so that the pool does not queue admitted calls.
    const limit = Math.max(1, Math.min(requestedLimit, 64, Math.floor((0.7 * result.oneCore.cpuBoundPerSecond * modelMs) / 1000)));
    const capacity = limit / (modelMs / 1000);
    Object.assign(result, { limit, requestedLimit, queue: { size: limit, maxWaitMs: 250 }, capacityPerSecond: capacity });
    log(`limit L = ${limit} (asked ${requestedLimit}), queue ${limit} / 250 ms: capacity ${capacity}/s`);

    // b. The generators against the fake model directly, at twice the highest rate, over as many connections.
    {
      const load = await generatorFleet(generators, connections, model.port, httpRequest(model.port, '/predict', JSON.stringify(input)), 20);
      await openPhase(load.fleet, capacity, 2);
      result.generatorCheck = { connect: load.connect, ...(await openPhase(load.fleet, 4 * capacity, seconds)) };
      result.generatorCheck.fakeModel = await model.rpc({ stats: true });
      await load.stop();
      log(`generator check (fake model directly, ${connections} connections): ${phaseLine(`${4 * capacity}/s`, result.generatorCheck)}`);
    }

    // c. Ballast holding the connections.
    const config = scorerConfig(path.join(work, 'held.yaml'), model.port, { admission: { limit: { fixed: limit }, queue: { size: limit, maxWaitMs: 250 } } });
    const ballast = await startBallast(config);
    await sleep(1000);
    result.server = { idle: procStats(ballast.pid) };
    const load = await generatorFleet(generators, connections, ballast.port, httpRequest(ballast.port, '/v1/services/scorer/decisions', decisionBody), 40);
    result.connect = load.connect;
    await sleep(2000);
    result.server.holding = procStats(ballast.pid);
    log(`ballast: ${load.connect.connected} connections open in ${load.connect.seconds} s (${load.connect.failed} failed); RSS idle ${round(result.server.idle.rssMiB)} MiB, holding ${round(result.server.holding.rssMiB)} MiB, ${result.server.holding.fds} descriptors of ${result.server.holding.fileLimit?.soft}`);
    // The server's RSS once a second from here on: does it settle, or grow with the requests served?
    const t0 = performance.now();
    result.server.rssSeries = [];
    const sampler = setInterval(() => result.server.rssSeries.push([round((performance.now() - t0) / 1000), round(procStats(ballast.pid).rssMiB)]), 1000);
    result.warmup = await openPhase(load.fleet, capacity, 3, ballast.pid, ballast.url);
    // Below capacity too: the nominal L / model time ignores the time a slot is held around the model call.
    const phases = [['below', 0.8], ['capacity', 1], ['twice', 2]];
    result.phases = Object.fromEntries(phases.map(([name]) => [name, []]));
    for (let run = 1; run <= runs; run++) {
      for (const [name, factor] of phases) {
        const p = await openPhase(load.fleet, factor * capacity, seconds, ballast.pid, ballast.url);
        result.phases[name].push(p);
        log(`  run ${run}: ${phaseLine(name, p)}`);
        await sleep(500);
      }
    }
    clearInterval(sampler);
    result.server.afterLoad = procStats(ballast.pid);
    result.server.generatorsRssMiB = (await Promise.all(load.fleet.map((g) => g.rpc({ cmd: 'stats' })))).map((s) => round(s.rssBytes / 2 ** 20));
    const stopped = await ballast.stop();
    result.server.stop = { ms: round(stopped.ms), code: stopped.code, signal: stopped.signal };
    result.server.log = serverLog(ballast);
    await load.stop();
    result.fakeModel = await model.rpc({ stats: true });
    const med = (name, f) => median(result.phases[name].map(f));
    result.summary = Object.fromEntries(
      ['below', 'capacity', 'twice'].map((name) => [
        name,
        {
          offeredRate: result.phases[name][0].offeredRate,
          servedPerSecond: med(name, (p) => p.servedPerSecond),
          answeredPerSecond: med(name, (p) => p.answeredPerSecond),
          p50: med(name, (p) => p.served.p50),
          p99: med(name, (p) => p.served.p99),
          busy503ShareWithin50ms: med(name, (p) => p.busy503.shareWithin50ms ?? Number.NaN),
          busy503ShareWithin50msFromSend: med(name, (p) => p.busy503.shareWithin50msFromSend ?? Number.NaN),
          serverCpuShare: med(name, (p) => p.server.cpuShare),
          effectiveSlotMs: round((limit * 1000) / med(name, (p) => p.servedPerSecond), 1),
          runs: result.phases[name].map((p) => ({ served: p.servedPerSecond, p50: p.served.p50, p99: p.served.p99, byStatus: p.byStatus, socketErrors: p.socketErrors, share503Within50ms: p.busy503.shareWithin50ms, share503Within50msFromSend: p.busy503.shareWithin50msFromSend, modelCallP50: p.serverTimings?.modelCall.p50, recordP50: p.serverTimings?.record.p50, cpuShare: p.server.cpuShare, eventLoopDelayMs: p.server.eventLoopDelayMs, byCode: p.byCode, busy503Over: p.busy503.over })),
        },
      ]),
    );
  } finally {
    await model.stop();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// 4. Time to open.

async function timeToOpen(kind, run) {
  const model = await startModel(modelMs);
  const config = scorerConfig(
    path.join(work, `open-${kind}-${run}.yaml`),
    model.port,
    { admission: { limit: { fixed: 4096 }, queue: { size: 512 } }, fallback: [{ static: { label: 'ham', score: 0.5 } }] },
    { resilience: { timeouts: { totalMs: 1000 } } },
  );
  const ballast = await startBallast(config);
  const load = await generatorFleet(1, 1000, ballast.port, httpRequest(ballast.port, '/v1/services/scorer/decisions', decisionBody), 60 + (run % 100));
  try {
    // Fill the breaker's window (100 calls) and the retry budget's (10 s) with healthy calls first.
    await openPhase(load.fleet, openRate, 3);
    const before = 1000;
    const after = 5000;
    const measured = load.fleet[0].rpc({ cmd: 'open', rate: openRate, seconds: (before + after) / 1000, detail: true });
    await sleep(before);
    const behaviour = kind === 'hang' ? { kind: 'hang' } : { kind: 'status', status: 500 };
    const switched = await model.rpc({ behaviour });
    const t0 = switched.at;
    const out = await measured;
    const fake = await model.rpc({ stats: true });
    const breakers = await (await fetch(`${ballast.url}/v1/services/scorer/breakers`)).json();
    const opened = breakers.history.filter((h) => h.to === 'open' && h.version === 'v1').map((h) => Date.parse(h.at)).filter((at) => at >= t0 - 1000).sort((a, b) => a - b)[0];
    const records = out.records;
    const failed = (a) => a[0] !== null && a[0] !== 'CIRCUIT_OPEN';
    const waited = records.filter((r) => r.attempts.some(failed));
    const shortCircuited = records.filter((r) => !r.attempts.some(failed) && r.attempts.some((a) => a[0] === 'CIRCUIT_OPEN'));
    const firstShort = Math.min(...shortCircuited.map((r) => r.at));
    const shortLat = Float64Array.from(shortCircuited.map((r) => r.at - r.due)).sort();
    const waitedLat = Float64Array.from(waited.map((r) => r.at - r.due)).sort();
    const byStatus = out.byStatus;
    const codes = {};
    for (const r of waited) for (const a of r.attempts) if (failed(a)) codes[a[0]] = (codes[a[0]] ?? 0) + 1;
    return {
      kind,
      t0: new Date(t0).toISOString(),
      breakerOpenedMs: opened === undefined ? null : round(opened - t0),
      firstShortCircuitAnsweredMs: Number.isFinite(firstShort) ? round(firstShort - t0) : null,
      lastWaitingAnsweredMs: waited.length === 0 ? null : round(Math.max(...waited.map((r) => r.at)) - t0),
      decisionsThatWaited: waited.length,
      failedCalls: codes,
      retriesOfWaiting: waited.reduce((s, r) => s + r.attempts.filter(failed).length - 1, 0),
      waitedLatency: { p50: round(quantile(waitedLat, 0.5)), max: round(waitedLat.at(-1) ?? Number.NaN) },
      shortCircuited: shortCircuited.length,
      shortCircuitedLatency: { p50: round(quantile(shortLat, 0.5), 2), p99: round(quantile(shortLat, 0.99), 2) },
      shortCircuitedByFallback: shortCircuited.filter((r) => r.answeredBy === 'static').length,
      answeredAfterT0: records.filter((r) => r.at >= t0).length,
      healthyAfterT0: records.filter((r) => r.at >= t0 && r.attempts.length > 0 && r.attempts.every((a) => a[0] === null)).length,
      modelRequestsAfterT0: fake.requests - switched.requestsBefore,
      byStatus,
      byCode: out.byCode,
      socketErrors: out.socketErrors,
      unanswered: out.unanswered,
      breakerHistory: breakers.history.slice(0, 5).map((h) => ({ from: h.from, to: h.to, at: h.at, reason: h.reason })),
      server: serverLog(ballast),
    };
  } finally {
    await load.stop();
    await ballast.stop();
    await model.stop();
  }
}

async function timesToOpen() {
  const out = { rate: openRate, runs: openRuns, modelMs, totalMs: 1000, breaker: 'defaults: window 100 calls, minimumCalls 20, failureRate 0.5, slowCallMs = totalMs, openMs 30 s; retries: attempts 2, budget 10% + 3 per 10 s' };
  for (const kind of ['hang', 'status500']) {
    const list = [];
    for (let run = 1; run <= openRuns; run++) {
      const r = await timeToOpen(kind, run);
      list.push(r);
      log(`time to open, ${kind}, run ${run}: opened +${r.breakerOpenedMs} ms (first short-circuit answered +${r.firstShortCircuitAnsweredMs} ms), last waiting decision answered +${r.lastWaitingAnsweredMs} ms; ${r.decisionsThatWaited} decisions waited (${JSON.stringify(r.failedCalls)}), ${r.shortCircuited} short-circuited (p50 ${r.shortCircuitedLatency.p50} ms); model requests after t0 ${r.modelRequestsAfterT0}; statuses ${JSON.stringify(r.byStatus)}`);
    }
    out[kind] = {
      breakerOpenedMs: { median: median(list.map((r) => r.breakerOpenedMs)), runs: list.map((r) => r.breakerOpenedMs) },
      lastWaitingAnsweredMs: { median: median(list.map((r) => r.lastWaitingAnsweredMs)), runs: list.map((r) => r.lastWaitingAnsweredMs) },
      decisionsThatWaited: { median: median(list.map((r) => r.decisionsThatWaited)), runs: list.map((r) => r.decisionsThatWaited) },
      shortCircuited: { median: median(list.map((r) => r.shortCircuited)), runs: list.map((r) => r.shortCircuited) },
      modelRequestsAfterT0: { median: median(list.map((r) => r.modelRequestsAfterT0)), runs: list.map((r) => r.modelRequestsAfterT0) },
      details: list,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = Date.now();
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverageBefore: os.loadavg().map((x) => round(x, 2)) },
    command: `node bench/resilience.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    // The build under test is the working tree: its commit, and the files that differ from it.
    commit: execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).toString().trim(),
    uncommitted: execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).toString().trim().split('\n').filter(Boolean),
  };
  try {
    if (only.has('hot')) report.hotPath = await hotPath();
    if (only.has('pipeline')) report.pipeline = await pipelineRatio();
    if (only.has('connections')) report.connections = await heldConnections();
    if (only.has('open')) report.timeToOpen = await timesToOpen();
  } finally {
    report.machine.loadAverageAfter = os.loadavg().map((x) => round(x, 2));
    report.seconds = round((Date.now() - startedAt) / 1000);
    const file = args.out ?? path.join(here, 'results', `${report.date.slice(0, 10)}-resilience.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`\nwrote ${path.relative(root, file)} (${report.seconds} s; load average ${report.machine.loadAverageBefore.join(' ')} before, ${report.machine.loadAverageAfter.join(' ')} after)`);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
