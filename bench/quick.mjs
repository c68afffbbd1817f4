// The quick benchmark (under a minute): Ballast's governed path against the floor, as ratios, to
// check a change before and after. Setups: the fake model alone (direct), the bare undici-pool proxy
// and `ballast serve` with the http adapter, a monitoring: block and the durable log (full); each at
// 32 connections (throughput, CPU per request) and at one connection (p50). Proxy and Ballast
// alternate for `--rounds` rounds, so each round gives a paired ratio.
// Cores: the server under test on core 1; wrk (or, without wrk, the in-process generator of
// bench/load.mjs), the fake model and this script on core 0. Builds dist/ first only if src/ is newer.
// Usage: npm run bench:quick [-- --rounds 2 --seconds 3 --json]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { closedLoop } from './load.mjs';
import { ballastBin, coreBusy, coreTimes, cpuMicros, here, httpBody, httpConfig, median, monitoringBlock, node, start, upstreamBody } from './setups.mjs';
import { wrkMissing, wrkRun, wrkVersion } from './wrk-load.mjs';

const { values: args } = parseArgs({ options: { rounds: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'boolean' } } });
const rounds = Number(args.rounds ?? 2);
const seconds = Number(args.seconds ?? 3);
const SERVER_CPU = 1;
const LOAD_CPU = 0;
const root = path.join(here, '..');
const say = (line) => process.stderr.write(`${line}\n`);

/** Newest mtime of the files under `dir` that `keep` accepts (0 when there are none). */
function newest(dir, keep) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !keep(entry.name)) continue;
    t = Math.max(t, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return t;
}

function ensureBuild() {
  const built = (() => {
    try {
      return statSync(path.join(root, 'dist', 'index.js')).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const source = newest(path.join(root, 'src'), (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
  if (built >= source) return;
  say('dist/ is older than src/: building first (not counted in the benchmark time)');
  const t0 = performance.now();
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    say('npm run build failed: nothing measured');
    process.exit(1);
  }
  say(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

ensureBuild();
const wrk = wrkVersion();
say(wrk === undefined ? `${wrkMissing}: using the in-process generator (bench/load.mjs), which tops out lower than wrk; compare runs made with the same generator` : `load: ${wrk.replace(/ Copyright.*/, '')} on core ${LOAD_CPU}; server on core ${SERVER_CPU}`);

const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-quick-'));

async function load({ url, urlPath, body, headers, connections, duration, warmup }) {
  if (wrk !== undefined) {
    if (warmup > 0) await wrkRun({ url, path: urlPath, body, headers, connections, seconds: warmup, cpu: LOAD_CPU });
    return wrkRun({ url, path: urlPath, body, headers, connections, seconds: duration, cpu: LOAD_CPU });
  }
  return closedLoop({ url, path: urlPath, body, headers, connections, seconds: duration, warmupSeconds: warmup });
}

/** Throughput and CPU per request at 32 connections, then p50 at one connection, on one started server. */
async function measure(server, urlPath, body) {
  const common = { url: `http://127.0.0.1:${server.port}`, urlPath, body, headers: server.headers };
  await load({ ...common, connections: 32, duration: 1, warmup: 0 });
  // Read after the warm-up: the CPU of the measured requests only.
  const cpu0 = cpuMicros(server.pid);
  const cores0 = coreTimes();
  const at32 = await load({ ...common, connections: 32, duration: seconds, warmup: 0 });
  const cpuUs = cpuMicros(server.pid) - cpu0;
  const busy = coreBusy(cores0, coreTimes());
  const single = await load({ ...common, connections: 1, duration: Math.max(1, seconds - 1), warmup: 0 });
  return { perSecond: at32.perSecond, p50At32: at32.p50, p50Single: single.p50, p99Single: single.p99, errors: at32.errors + single.errors, cpuUsPerRequest: cpuUs / Math.max(1, at32.requests), loadCoreBusy: busy[LOAD_CPU], serverCoreBusy: busy[SERVER_CPU] };
}

async function main() {
  const t0 = performance.now();
  const results = { direct: [], proxy: [], ballast: [] };
  {
    const direct = await start(SERVER_CPU, node, [path.join(here, 'upstream.mjs')]);
    results.direct.push(await measure(direct, '/', upstreamBody));
    await direct.stop();
  }
  const upstream = await start(LOAD_CPU, node, [path.join(here, 'upstream.mjs')]);
  const config = httpConfig(work, upstream.port, { name: 'http-monitoring', monitoring: monitoringBlock('/label') });
  for (let r = 1; r <= rounds; r++) {
    const proxy = await start(SERVER_CPU, node, [path.join(here, 'proxy.mjs'), `http://127.0.0.1:${upstream.port}/`]);
    results.proxy.push(await measure(proxy, '/', upstreamBody));
    await proxy.stop();
    const dir = path.join(work, `ballast-${r}`);
    mkdirSync(dir, { recursive: true });
    const ballast = await start(SERVER_CPU, node, [ballastBin, 'serve', '--config', config, '--port', '0', '--data-dir', dir, '--log-level', 'warn']);
    results.ballast.push(await measure(ballast, '/v1/services/scorer/decisions', httpBody));
    await ballast.stop();
  }
  await upstream.stop();

  const pairs = (f) => results.ballast.map((b, i) => f(b, results.proxy[i]));
  const ratio = pairs((b, p) => b.perSecond / p.perSecond);
  const addedP50 = pairs((b, p) => b.p50Single - p.p50Single);
  const m = (name, key) => median(results[name].map((x) => x[key]));
  const list = (xs, d) => xs.map((x) => x.toFixed(d)).join(', ');
  const errors = Object.values(results).flat().reduce((s, x) => s + x.errors, 0);
  const lines = [
    `ballast/proxy throughput at 32 connections: ${median(ratio).toFixed(2)} (rounds: ${list(ratio, 2)}; ballast ${Math.round(m('ballast', 'perSecond'))}/s, proxy ${Math.round(m('proxy', 'perSecond'))}/s, direct ${Math.round(m('direct', 'perSecond'))}/s)`,
    `added p50 at 1 connection vs proxy: ${median(addedP50) >= 0 ? '+' : ''}${median(addedP50).toFixed(3)} ms (rounds: ${list(addedP50, 3)}; ballast ${m('ballast', 'p50Single').toFixed(3)} ms, proxy ${m('proxy', 'p50Single').toFixed(3)} ms)`,
    `CPU per decision at 32 connections: ${Math.round(m('ballast', 'cpuUsPerRequest'))} µs (rounds: ${list(results.ballast.map((x) => x.cpuUsPerRequest), 0)}; proxy ${Math.round(m('proxy', 'cpuUsPerRequest'))} µs per request)`,
  ];
  const direct = results.direct[0];
  if (m('ballast', 'perSecond') >= direct.perSecond || m('proxy', 'perSecond') >= direct.perSecond) lines.push(`WARNING: a server was not slower than the direct model (${Math.round(direct.perSecond)}/s): the generator or the fake model is the bottleneck`);
  if (errors > 0) lines.push(`WARNING: ${errors} requests failed`);
  lines.push(`(${wrk === undefined ? 'in-process generator, wrk not installed' : 'wrk'}; ${rounds} rounds of ${seconds} s, ${((performance.now() - t0) / 1000).toFixed(0)} s in all; load average ${os.loadavg()[0].toFixed(2)}: on a busy machine compare ratios, not rates)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), generator: wrk ?? 'in-process (bench/load.mjs)', rounds, seconds, ratio, addedP50, results }, null, 2)}\n`);
}

await main();
