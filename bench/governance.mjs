// What identity and the audit log cost on the decision path, in one run:
// 1. the key check of a request with a cached key (`authenticate`), per call, in process;
// 2. decisions/s in process (the demo model, the durable log, 64 and 256 in flight) with the Merkle
//    leaves written in the group commit, against a build of the commit before the audit log
//    (default 7088c72), run alternately on the same core.
// Usage: npm run bench:governance [-- --runs 5 --seconds 5 --baseline 7088c72]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAuthenticator, createKeyManager } from '../dist/governance/index.js';
import { loadOrTrainSpamModel, writeDemoConfig } from '../dist/demo/index.js';
import { openStore } from '../dist/store/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, baseline: { type: 'string' } } });
const runs = Number(args.runs ?? 5);
const seconds = Number(args.seconds ?? 5);
const baselineCommit = args.baseline ?? '7088c72';
const work = mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-gov-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Nanoseconds per `authenticate` of a valid, cached key (the request path's key check). */
async function keyCheck() {
  const store = await openStore({ kind: 'sqlite', path: path.join(work, 'keys.db') });
  const { token } = await createKeyManager({ store }).create({ principal: 'bench', role: 'decider' }, { actor: { principal: 'bench', keyId: null, role: 'admin' } });
  const auth = createAuthenticator({ store });
  await auth.authenticate(token); // fills the cache, as the first request of a client does
  const n = 300_000;
  for (let i = 0; i < 50_000; i++) await auth.authenticate(token);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await auth.authenticate(token);
  const ns = ((performance.now() - t0) * 1e6) / n;
  await store.close();
  return ns;
}

/** A build of the baseline commit beside this one, sharing node_modules (the dependencies did not change). */
function baselineTree() {
  const dir = path.join(os.tmpdir(), `ballast-baseline-${baselineCommit}`);
  if (!existsSync(path.join(dir, 'dist', 'cli', 'runtime.js'))) {
    if (!existsSync(dir)) execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, baselineCommit], { stdio: 'inherit' });
    if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
  return dir;
}

function runToEnd(cpu, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

async function main() {
  const base = baselineTree();
  const model = await loadOrTrainSpamModel({ cacheDir: path.join(root, '.ballast', 'demo') });
  const configPath = writeDemoConfig(path.join(work, 'demo'), model.weightsPath);
  const sorted = [...model.served].sort((a, b) => a.body.length - b.body.length);
  const message = sorted[Math.floor(sorted.length / 2)];
  const inputPath = path.join(work, 'spam-input.json');
  writeFileSync(inputPath, JSON.stringify({ subject: message.subject, body: message.body, from: message.from }));

  const keyNs = [];
  const results = {};
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`run ${run}/${runs}\n`);
    keyNs.push(await keyCheck());
    for (const inFlight of [64, 256]) {
      // Alternate which goes first, so a drift of the machine does not favour one side.
      const order = run % 2 === 0 ? ['baseline', 'audit'] : ['audit', 'baseline'];
      for (const side of order) {
        const tree = side === 'audit' ? root : base;
        const dataDir = path.join(work, `${side}-${inFlight}-${run}`);
        mkdirSync(dataDir, { recursive: true });
        const r = await runToEnd(0, [path.join(tree, 'bench', 'pipeline.mjs'), configPath, dataDir, inputPath, String(seconds), String(inFlight)]);
        ((results[`${side}-${inFlight}`] ??= [])).push(r.perSecond);
      }
    }
  }
  const table = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { median: median(v), runs: v.map(Math.round) }]));
  // Each run measured both sides back to back: the ratio within a run is less noisy than the ratio of medians.
  const paired = (f) => results[`audit-${f}`].map((a, i) => a / results[`baseline-${f}`][i]);
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    runs,
    seconds,
    baselineCommit,
    keyCheckNs: { median: median(keyNs), runs: keyNs.map((x) => Math.round(x)) },
    pipeline: table,
    ratios: { 64: table['audit-64'].median / table['baseline-64'].median, 256: table['audit-256'].median / table['baseline-256'].median },
    pairedRatios: { 64: { median: median(paired(64)), runs: paired(64).map((r) => Number(r.toFixed(3))) }, 256: { median: median(paired(256)), runs: paired(256).map((r) => Number(r.toFixed(3))) } },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(
    [
      '',
      `key check (cached key): ${median(keyNs).toFixed(0)} ns per request (runs: ${keyNs.map((x) => x.toFixed(0)).join(', ')})`,
      ...[64, 256].map((f) => `pipeline, ${f} in flight: with audit leaves ${table[`audit-${f}`].median.toFixed(0)}/s (${table[`audit-${f}`].runs.join(', ')}), before the audit log ${table[`baseline-${f}`].median.toFixed(0)}/s (${table[`baseline-${f}`].runs.join(', ')}): ratio of medians ${report.ratios[f].toFixed(3)}, median of paired ratios ${report.pairedRatios[f].median.toFixed(3)} (${report.pairedRatios[f].runs.join(', ')})`),
      '',
    ].join('\n'),
  );
}

await main();
