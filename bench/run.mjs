// Ballast's benchmark: throughput and added latency of the full decision path against calling the
// upstream directly and against a bare pass-through proxy, all in one run on loopback.
// The process under test is pinned to core 0; the load generator and the upstream share core 1.
// Usage: npm run bench [-- --runs 3 --seconds 5]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadOrTrainSpamModel, writeDemoConfig } from '../dist/demo/index.js';
import { closedLoop, openLoop } from './load.mjs';
import { httpConfig } from './setups.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, rate: { type: 'string' } } });
const runs = Number(args.runs ?? 3);
const seconds = Number(args.seconds ?? 5);
const connections = Number(args.connections ?? 64);
const rate = Number(args.rate ?? 500);
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-'));

function start(cpu, command, argv, ready = /listening (\d+)|on http:\/\/127\.0\.0\.1:(\d+)/) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), command, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve({ child, port: Number(m[1] ?? m[2]), headers: keyHeaders(out), stop: () => new Promise((r) => { child.once('close', r); child.kill('SIGTERM'); }) });
    });
    child.on('close', (code) => reject(new Error(`${command} ${argv.join(' ')} exited ${code}: ${out}`)));
  });
}

/** `ballast serve` prints the admin key it made on a fresh data directory; the load sends it. */
function keyHeaders(out) {
  const key = /^ {2}(bk_[0-9a-z]{10}_[\w-]{43})$/m.exec(out)?.[1];
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}

function runToEnd(cpu, command, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), command, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

const node = process.execPath;
const ballastBin = path.join(here, '..', 'bin', 'ballast.js');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dataDir = path.join(work, 'data');
  mkdirSync(dataDir, { recursive: true });
  const model = await loadOrTrainSpamModel({ cacheDir: path.join(here, '..', '.ballast', 'demo') });
  const demoConfigPath = writeDemoConfig(path.join(work, 'demo'), model.weightsPath);
  const sorted = [...model.served].sort((a, b) => a.body.length - b.body.length);
  const message = sorted[Math.floor(sorted.length / 2)];
  const spamInput = { subject: message.subject, body: message.body, from: message.from };
  const spamBody = JSON.stringify({ input: spamInput });
  const spamInputPath = path.join(work, 'spam-input.json');
  writeFileSync(spamInputPath, JSON.stringify(spamInput));
  const httpInput = { amount: 120.5, country: 'DE', note: 'benchmark' };
  const httpBody = JSON.stringify({ input: httpInput });

  const results = {};
  // single: one connection, closed loop: the latency of one request alone, no batch to share a commit with.
  const record = (name, kind, value) => ((results[name] ??= { throughput: [], latency: [], single: [] })[kind].push(value));
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`run ${run}/${runs}\n`);
    // direct: the upstream alone on core 0.
    {
      const upstream = await start(0, node, [path.join(here, 'upstream.mjs')]);
      const url = `http://127.0.0.1:${upstream.port}`;
      record('direct', 'throughput', await closedLoop({ url, path: '/', body: JSON.stringify(httpInput), connections, seconds }));
      record('direct', 'latency', await openLoop({ url, path: '/', body: JSON.stringify(httpInput), rate, seconds }));
      record('direct', 'single', await closedLoop({ url, path: '/', body: JSON.stringify(httpInput), connections: 1, seconds }));
      await upstream.stop();
    }
    const upstream = await start(1, node, [path.join(here, 'upstream.mjs')]);
    const upstreamUrl = `http://127.0.0.1:${upstream.port}/`;
    {
      const proxy = await start(0, node, [path.join(here, 'proxy.mjs'), upstreamUrl]);
      const url = `http://127.0.0.1:${proxy.port}`;
      record('proxy', 'throughput', await closedLoop({ url, path: '/', body: JSON.stringify(httpInput), connections, seconds }));
      record('proxy', 'latency', await openLoop({ url, path: '/', body: JSON.stringify(httpInput), rate, seconds }));
      record('proxy', 'single', await closedLoop({ url, path: '/', body: JSON.stringify(httpInput), connections: 1, seconds }));
      await proxy.stop();
    }
    {
      const ballast = await start(0, node, [ballastBin, 'serve', '--config', httpConfig(work, upstream.port), '--port', '0', '--data-dir', path.join(dataDir, `http-${run}`), '--log-level', 'warn']);
      const url = `http://127.0.0.1:${ballast.port}`;
      record('ballast-http', 'throughput', await closedLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, connections, seconds, headers: ballast.headers }));
      record('ballast-http', 'latency', await openLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, rate, seconds, headers: ballast.headers }));
      record('ballast-http', 'single', await closedLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, connections: 1, seconds, headers: ballast.headers }));
      await ballast.stop();
    }
    {
      // The same without API keys: the difference is what authentication costs per request.
      const ballast = await start(0, node, [ballastBin, 'serve', '--config', httpConfig(work, upstream.port), '--port', '0', '--data-dir', path.join(dataDir, `http-no-auth-${run}`), '--log-level', 'warn', '--insecure-no-auth']);
      const url = `http://127.0.0.1:${ballast.port}`;
      record('ballast-http-no-auth', 'throughput', await closedLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, connections, seconds }));
      record('ballast-http-no-auth', 'latency', await openLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, rate, seconds }));
      await ballast.stop();
    }
    {
      // durability: process (synchronous = NORMAL): nothing lost when the process dies, the last
      // commits may be lost on a power cut. Its own data directory and database file, as above.
      const store = { kind: 'sqlite', path: path.join(dataDir, `http-process-${run}`, 'ballast.db'), durability: 'process' };
      const ballast = await start(0, node, [ballastBin, 'serve', '--config', httpConfig(work, upstream.port, { name: 'http-process', store }), '--port', '0', '--data-dir', path.join(dataDir, `http-process-${run}`), '--log-level', 'warn']);
      const url = `http://127.0.0.1:${ballast.port}`;
      record('ballast-http-process', 'throughput', await closedLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, connections, seconds, headers: ballast.headers }));
      record('ballast-http-process', 'latency', await openLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, rate, seconds, headers: ballast.headers }));
      record('ballast-http-process', 'single', await closedLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, connections: 1, seconds, headers: ballast.headers }));
      await ballast.stop();
    }
    {
      // Diagnostic only: an in-memory log is not durable; it shows what durability costs.
      const store = { kind: 'sqlite', path: ':memory:' };
      const ballast = await start(0, node, [ballastBin, 'serve', '--config', httpConfig(work, upstream.port, { name: 'http-memory', store }), '--port', '0', '--data-dir', path.join(dataDir, `http-memory-${run}`), '--log-level', 'warn']);
      const url = `http://127.0.0.1:${ballast.port}`;
      record('ballast-http-memory-log', 'throughput', await closedLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, connections, seconds, headers: ballast.headers }));
      record('ballast-http-memory-log', 'latency', await openLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, rate, seconds, headers: ballast.headers }));
      record('ballast-http-memory-log', 'single', await closedLoop({ url, path: '/v1/services/scorer/decisions', body: httpBody, connections: 1, seconds, headers: ballast.headers }));
      await ballast.stop();
    }
    await upstream.stop();
    {
      const ballast = await start(0, node, [ballastBin, 'serve', '--config', demoConfigPath, '--port', '0', '--data-dir', path.join(dataDir, `module-${run}`), '--log-level', 'warn']);
      const url = `http://127.0.0.1:${ballast.port}`;
      record('ballast-module', 'throughput', await closedLoop({ url, path: '/v1/services/spam-filter/decisions', body: spamBody, connections, seconds, headers: ballast.headers }));
      record('ballast-module', 'latency', await openLoop({ url, path: '/v1/services/spam-filter/decisions', body: spamBody, rate, seconds, headers: ballast.headers }));
      await ballast.stop();
    }
    // In-process, the same number in flight as the HTTP runs, then enough that a batch can be
    // prepared while the previous one commits.
    for (const inFlight of [connections, 256]) {
      const name = inFlight === connections ? 'pipeline-module' : `pipeline-module-${inFlight}`;
      record(name, 'throughput', await runToEnd(0, node, [path.join(here, 'pipeline.mjs'), demoConfigPath, path.join(dataDir, `${name}-${run}`), spamInputPath, String(seconds), String(inFlight)]));
    }
  }

  const table = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        perSecond: median(r.throughput.map((x) => x.perSecond)),
        throughputRuns: r.throughput.map((x) => Math.round(x.perSecond)),
        errors: [...r.throughput, ...r.latency, ...r.single].reduce((s, x) => s + x.errors, 0),
        p50: r.latency.length ? median(r.latency.map((x) => x.p50)) : median(r.throughput.map((x) => x.p50)),
        p99: r.latency.length ? median(r.latency.map((x) => x.p99)) : median(r.throughput.map((x) => x.p99)),
        ...(r.single.length ? { p50Single: median(r.single.map((x) => x.p50)), p50SingleRuns: r.single.map((x) => Number(x.p50.toFixed(3))) } : {}),
        p50Runs: (r.latency.length ? r.latency : r.throughput).map((x) => Number(x.p50.toFixed(3))),
      },
    ]),
  );
  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, memoryGiB: Math.round(os.totalmem() / 2 ** 30) };
  const report = { date: new Date().toISOString(), machine, runs, seconds, connections, rate, table };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const d = table.direct, p = table.proxy, h = table['ballast-http'], hp = table['ballast-http-process'], m = table['ballast-module'];
  process.stderr.write([
    '',
    `| setup | decisions/s (median of ${runs}) | runs | p50 at ${rate}/s (ms) | p99 at ${rate}/s (ms) | p50 at 1 connection (ms) | runs |`,
    '|---|---|---|---|---|---|---|',
    ...Object.entries(table).map(([n, r]) => `| ${n} | ${r.perSecond.toFixed(0)} | ${r.throughputRuns.join(', ')} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.p50Single?.toFixed(3) ?? ''} | ${r.p50SingleRuns?.join(', ') ?? ''} |`),
    '',
    `ballast-http / proxy throughput: ${(h.perSecond / p.perSecond).toFixed(2)}; ballast-http-process / proxy: ${(hp.perSecond / p.perSecond).toFixed(2)}`,
    `added p50 at 1 connection vs proxy: ballast-http ${(h.p50Single - p.p50Single).toFixed(3)} ms, ballast-http-process ${(hp.p50Single - p.p50Single).toFixed(3)} ms, memory log ${(table['ballast-http-memory-log'].p50Single - p.p50Single).toFixed(3)} ms`,
    `added p50 at ${rate}/s vs proxy: ballast-http ${(h.p50 - p.p50).toFixed(3)} ms, ballast-http-process ${(hp.p50 - p.p50).toFixed(3)} ms`,
    `added p50 at 1 connection vs direct: ballast-http ${(h.p50Single - d.p50Single).toFixed(3)} ms, ballast-http-process ${(hp.p50Single - d.p50Single).toFixed(3)} ms, proxy ${(p.p50Single - d.p50Single).toFixed(3)} ms`,
    `ballast-http with keys / without (--insecure-no-auth): ${(h.perSecond / table['ballast-http-no-auth'].perSecond).toFixed(3)}; p50 ${(h.p50 - table['ballast-http-no-auth'].p50).toFixed(3)} ms apart`,
    `added p50 vs direct: ballast-http ${(h.p50 - d.p50).toFixed(3)} ms, proxy ${(p.p50 - d.p50).toFixed(3)} ms; ballast-http vs proxy ${(h.p50 - p.p50).toFixed(3)} ms`,
    `ballast-module over HTTP: ${m.perSecond.toFixed(0)}/s; pipeline in-process: ${table['pipeline-module'].perSecond.toFixed(0)}/s (${connections} in flight), ${table['pipeline-module-256'].perSecond.toFixed(0)}/s (256 in flight)`,
    '',
  ].join('\n'));
}

await main();
