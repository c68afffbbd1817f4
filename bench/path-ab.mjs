// The decision path of this build against an earlier commit's, paired: bench/run.mjs's `ballast-http`
// setup (http adapter, durable log, API key) served by each build in turn, in the same run, against the
// same fake model, with the same load: closed loop at `--connections` for throughput, open loop at
// `--rate` for latency. Which build goes first alternates from run to run, so each run gives a paired
// ratio. The baseline is built in a git worktree beside this checkout, sharing node_modules.
// Server on core 0; generator and fake model on core 1 (run it under `taskset -c 1`).
// Usage: npm run bench:path-ab [-- --baseline 222ea8f --runs 5 --seconds 3 --out file.json]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closedLoop, openLoop } from './load.mjs';
import { httpConfig } from './setups.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const { values: args } = parseArgs({ options: { baseline: { type: 'string' }, runs: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, rate: { type: 'string' }, out: { type: 'string' } } });
const baselineCommit = args.baseline ?? '222ea8f';
const runs = Number(args.runs ?? 5);
const seconds = Number(args.seconds ?? 3);
const connections = Number(args.connections ?? 64);
const rate = Number(args.rate ?? 500);
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-path-ab-'));
const node = process.execPath;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function baselineBuild() {
  const dir = path.join(os.tmpdir(), `ballast-baseline-${baselineCommit}`);
  if (!existsSync(dir)) execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, baselineCommit], { stdio: 'inherit' });
  if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(node, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  return dir;
}

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

async function main() {
  const builds = { current: root, baseline: baselineBuild() };
  const commits = Object.fromEntries(Object.entries(builds).map(([k, dir]) => [k, execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()]));
  const body = JSON.stringify({ input: { amount: 120.5, country: 'DE', note: 'benchmark' } });
  const p = '/v1/services/scorer/decisions';
  const upstream = await start(1, node, [path.join(here, 'upstream.mjs')]);
  const config = httpConfig(work, upstream.port);
  const results = { current: [], baseline: [] };
  for (let run = 1; run <= runs; run++) {
    const order = run % 2 === 1 ? ['current', 'baseline'] : ['baseline', 'current'];
    for (const name of order) {
      const load = round(os.loadavg()[0], 2);
      process.stderr.write(`run ${run}/${runs} ${name} (load ${load})\n`);
      const dataDir = path.join(work, `${name}-${run}`);
      mkdirSync(dataDir, { recursive: true });
      const ballast = await start(0, node, [path.join(builds[name], 'bin', 'ballast.js'), 'serve', '--config', config, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
      const url = `http://127.0.0.1:${ballast.port}`;
      const throughput = await closedLoop({ url, path: p, body, connections, seconds, headers: ballast.headers });
      const latency = await openLoop({ url, path: p, body, rate, seconds, headers: ballast.headers });
      await ballast.stop();
      results[name].push({ perSecond: throughput.perSecond, p50: latency.p50, p99: latency.p99, errors: throughput.errors + latency.errors, load });
    }
  }
  await upstream.stop();
  const summary = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, { commit: commits[k], perSecond: Math.round(median(xs.map((x) => x.perSecond))), runs: xs.map((x) => Math.round(x.perSecond)), p50: round(median(xs.map((x) => x.p50))), p50Runs: xs.map((x) => round(x.p50)), p99: round(median(xs.map((x) => x.p99))), errors: xs.reduce((s, x) => s + x.errors, 0), loads: xs.map((x) => x.load) }]));
  const ratios = results.current.map((c, i) => c.perSecond / results.baseline[i].perSecond);
  const dp50 = results.current.map((c, i) => c.p50 - results.baseline[i].p50);
  const paired = { throughputRatio: round(median(ratios)), ratioRuns: ratios.map((x) => round(x)), dp50: round(median(dp50)), dp50Runs: dp50.map((x) => round(x)) };
  const report = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, runs, seconds, connections, rate, summary, paired, raw: results };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (args.out) writeFileSync(args.out, json);
  else process.stdout.write(json);
  process.stderr.write([
    '',
    `| build | decisions/s (median of ${runs}) | runs | p50 at ${rate}/s | p99 at ${rate}/s | errors |`,
    '|---|---|---|---|---|---|',
    ...Object.entries(summary).map(([k, s]) => `| ${k} (${s.commit}) | ${s.perSecond} | ${s.runs.join(', ')} | ${s.p50} ms (${s.p50Runs.join(', ')}) | ${s.p99} ms | ${s.errors} |`),
    '',
    `current / baseline throughput, paired: ${paired.throughputRatio} (${paired.ratioRuns.join(', ')}); p50 current − baseline: ${paired.dp50} ms (${paired.dp50Runs.join(', ')})`,
    '',
  ].join('\n'));
}

await main();
