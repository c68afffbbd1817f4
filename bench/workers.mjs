// `serve --workers N` against one process, on loopback with wrk (apt-get install wrk): throughput at
// 32 connections and the CPU every process of the server spent per decision (the primary and its
// workers added up, from /proc/<pid>/stat), in interleaved rounds. The fake model (bench/upstream.mjs)
// and wrk run on core 0; the server on the cores each setup names. On a 2-vCPU machine "two cores"
// means the server shares core 0 with wrk and the model: the figure to read is the CPU per decision
// (what the IPC hop to the primary costs) and the throughput each setup reaches on the same machine.
// Usage: node bench/workers.mjs [--runs 3 --seconds 6 --connections 32 --only 'core 1']   (after npm run build)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, only: { type: 'string' } } });
const runs = Number(args.runs ?? 3);
const seconds = Number(args.seconds ?? 6);
const connections = Number(args.connections ?? 32);
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-workers-'));
const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

try {
  execFileSync('wrk', ['--version'], { stdio: 'ignore' });
} catch (error) {
  if (error.code === 'ENOENT') {
    process.stderr.write('wrk is not installed: apt-get install -y wrk\n');
    process.exit(2);
  }
}

function start(cpus, command, argv, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', cpus, command, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve({ child, port: Number(m[1]), out, stop: () => new Promise((r) => { child.once('close', r); child.kill('SIGTERM'); }) });
    });
    child.on('close', (code) => reject(new Error(`${command} exited ${code}: ${out}`)));
  });
}

/** The process and all its descendants. */
function tree(pid) {
  let children = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    // no children
  }
  return [pid, ...children.flatMap(tree)];
}

function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return (ticks / tick) * 1000;
}

function rssMb(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

function wrk(url, key) {
  const script = path.join(work, 'post.lua');
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = '{"input":{"amount":120.5,"country":"DE","note":"benchmark"}}'\nwrk.headers["content-type"] = "application/json"\nwrk.headers["authorization"] = "Bearer ${key}"\n`);
  const out = execFileSync('taskset', ['-c', '0', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const ms = (m) => (m === null ? NaN : Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]]);
  return { requests, non2xx, perSecond: requests / seconds, p50: ms(p50), p99: ms(/99%\s+([\d.]+)(us|ms|s)/.exec(out)) };
}

const upstream = await start('0', process.execPath, [path.join(here, 'upstream.mjs')], /listening (\d+)/);
const config = path.join(work, 'ballast.yaml');
writeFileSync(config, `version: 1
services:
  scorer:
    contract:
      input:
        schema: { type: object, required: [amount, country], additionalProperties: false, properties: { amount: { type: number, minimum: 0 }, country: { type: string }, note: { type: string } } }
        fields: { amount: { kind: numeric, expected: { min: 0, max: 10000 } }, country: { kind: categorical, expected: { categories: [DE, FR] } } }
      output: { schema: { type: object, required: [label, score], properties: { label: { type: string }, score: { type: number } } } }
    policy:
      thresholds: { auto: 0.9 }
      rules:
        - { name: big, stage: pre, when: 'input.amount > 5000', action: review }
        - { name: sanity, stage: post, when: 'output.score > 1.0', action: review }
    models:
      v1: { timeoutMs: 2000, adapter: { kind: http, url: 'http://127.0.0.1:${upstream.port}/', response: { confidence: /score } } }
    live: v1
`);

const setups = [
  { name: 'one process, core 1', cpus: '1', workers: 0 },
  { name: 'primary + 1 worker, core 1', cpus: '1', workers: 1 },
  { name: 'one process, cores 0-1', cpus: '0,1', workers: 0 },
  { name: 'primary + 2 workers, cores 0-1', cpus: '0,1', workers: 2 },
].filter((s) => args.only === undefined || args.only.split(',').some((word) => s.name.includes(word)));
const results = Object.fromEntries(setups.map((s) => [s.name, []]));
for (let round = 0; round < runs; round++) {
  for (const setup of setups) {
    const data = path.join(work, `data-${round}-${setup.name.replace(/\W+/g, '-')}`);
    const workersArg = ['--workers', String(setup.workers)];
    const server = await start(setup.cpus, process.execPath, [path.join(here, '..', 'bin', 'ballast.js'), 'serve', '-c', config, '--data-dir', data, '-p', '0', '--log-level', 'warn', ...workersArg], /on http:\/\/127\.0\.0\.1:(\d+)/);
    const key = /^ {2}(bk_\S+)$/m.exec(server.out)[1];
    const url = `http://127.0.0.1:${server.port}/v1/services/scorer/decisions`;
    wrk(url, key); // warm-up
    const pids = tree(server.child.pid).filter((p) => p !== server.child.pid); // taskset exec'd node: its pid is node's
    const all = [server.child.pid, ...pids];
    const before = cpuMs(all);
    const r = wrk(url, key);
    const cpu = cpuMs(all) - before;
    results[setup.name].push({ ...r, cpuUsPerDecision: (cpu * 1000) / r.requests, rssMb: rssMb(all), processes: all.length });
    process.stderr.write(`round ${round + 1} ${setup.name}: ${r.perSecond.toFixed(0)}/s, p50 ${r.p50} ms, ${((cpu * 1000) / r.requests).toFixed(0)} µs CPU per decision, ${all.length} processes\n`);
    await server.stop();
  }
}
await upstream.stop();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const report = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, runs, seconds, connections, results };
const outFile = path.join(here, 'results', `workers-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
const base = median(results[setups[0].name].map((r) => r.perSecond));
process.stdout.write(`| setup | decisions/s (median; runs) | vs one process on core 1 | p50 ms | CPU µs/decision (all processes) | RSS MB |\n|---|---|---|---|---|---|\n`);
for (const s of setups) {
  const rs = results[s.name];
  const tput = median(rs.map((r) => r.perSecond));
  process.stdout.write(`| ${s.name} | ${tput.toFixed(0)} (${rs.map((r) => r.perSecond.toFixed(0)).join(', ')}) | ${(tput / base).toFixed(2)} | ${median(rs.map((r) => r.p50)).toFixed(2)} | ${median(rs.map((r) => r.cpuUsPerDecision)).toFixed(0)} | ${median(rs.map((r) => r.rssMb)).toFixed(0)} |\n`);
}
process.stdout.write(`written ${outFile}\n`);
