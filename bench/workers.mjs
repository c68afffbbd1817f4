// `serve --workers N` against one process, on loopback with wrk (apt-get install wrk): throughput at
// 32 connections and the CPU every process of the server spent per decision (the primary and its
// workers added up, from /proc/<pid>/stat), in interleaved rounds. The fake model (bench/upstream.mjs)
// and wrk run on core 0; the server on the cores each setup names. On a 2-vCPU machine "two cores"
// means the server shares core 0 with wrk and the model: the figure to read is the CPU per decision
// (what the IPC hop to the primary costs) and the throughput each setup reaches on the same machine.
// Usage: node bench/workers.mjs [--runs 3 --seconds 6 --connections 32 --only 'core 1']   (after npm run build)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ballastBin, cpuMicros, here, httpBody, httpConfig, median, memory, node, start } from './setups.mjs';
import { wrkMissing, wrkRun, wrkVersion } from './wrk-load.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, only: { type: 'string' } } });
const runs = Number(args.runs ?? 3);
const seconds = Number(args.seconds ?? 6);
const connections = Number(args.connections ?? 32);
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-workers-'));

if (wrkVersion() === undefined) {
  process.stderr.write(`${wrkMissing}\n`);
  process.exit(2);
}

/** The process and all its descendants (the primary and its workers). */
function tree(pid) {
  let children = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    // no children
  }
  return [pid, ...children.flatMap(tree)];
}

/** Summed over processes that may have gone meanwhile. */
const total = (pids, read) => pids.reduce((sum, pid) => {
  try {
    return sum + read(pid);
  } catch {
    return sum;
  }
}, 0);

const upstream = await start(0, node, [path.join(here, 'upstream.mjs')]);
const config = httpConfig(work, upstream.port);

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
    const server = await start(setup.cpus, node, [ballastBin, 'serve', '-c', config, '--data-dir', data, '-p', '0', '--log-level', 'warn', '--workers', String(setup.workers)]);
    const load = { url: `http://127.0.0.1:${server.port}`, path: '/v1/services/scorer/decisions', body: httpBody, headers: server.headers, connections, seconds };
    await wrkRun(load); // warm-up
    // start() gives node's own pid (taskset execs it): the primary, or the one process.
    const all = tree(server.pid);
    const before = total(all, cpuMicros);
    const r = await wrkRun(load);
    const cpu = total(all, cpuMicros) - before;
    results[setup.name].push({ ...r, cpuUsPerDecision: cpu / r.requests, rssMb: total(all, (pid) => memory(pid).rssMiB), processes: all.length });
    process.stderr.write(`round ${round + 1} ${setup.name}: ${r.perSecond.toFixed(0)}/s, p50 ${r.p50.toFixed(2)} ms, ${(cpu / r.requests).toFixed(0)} µs CPU per decision, ${all.length} processes\n`);
    await server.stop();
  }
}
await upstream.stop();
const report = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, runs, seconds, connections, results };
const outFile = path.join(here, 'results', `workers-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
const base = median(results[setups[0].name].map((r) => r.perSecond));
process.stdout.write(`| setup | decisions/s (median; runs) | vs ${setups[0].name} | p50 ms | CPU µs/decision (all processes) | RSS MB |\n|---|---|---|---|---|---|\n`);
for (const s of setups) {
  const rs = results[s.name];
  const tput = median(rs.map((r) => r.perSecond));
  process.stdout.write(`| ${s.name} | ${tput.toFixed(0)} (${rs.map((r) => r.perSecond.toFixed(0)).join(', ')}) | ${(tput / base).toFixed(2)} | ${median(rs.map((r) => r.p50)).toFixed(2)} | ${median(rs.map((r) => r.cpuUsPerDecision)).toFixed(0)} | ${median(rs.map((r) => r.rssMb)).toFixed(0)} |\n`);
}
process.stdout.write(`written ${outFile}\n`);
