// The cost of sketching one text field on the hot path, by text length: TextStats.update as it is (a hand
// scan of the prefix up to the cap, ASCII tokens hashed in place and looked up in an open-addressing
// table) against, in the same run, what it did before (the regular expression over the whole lower-cased
// text, every token a string looked up in a Set). Texts are real SpamAssassin bodies: concatenated and cut
// to 2 KB, 8 KB and 50 KB, and the corpus's own bodies as they are. The vocabulary is the 20,000 most
// frequent tokens of half the corpus, as the reference builder would keep.
// Usage: npm run bench:text [-- --runs 5 --updates 20000]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DEFAULT_TEXT_MAX_CHARS, TextStats, tokenize } from '../dist/monitoring/sketches/index.js';
import { loadTexts } from './monitoring-data.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, updates: { type: 'string' }, out: { type: 'string' } } });
const runs = Number(args.runs ?? 5);
const updates = Number(args.updates ?? 20_000);

const texts = (await loadTexts()).map((t) => t.body);
const counts = new Map();
for (const body of texts.filter((_, i) => i % 2 === 0)) for (const w of tokenize(body)) counts.set(w, (counts.get(w) ?? 0) + 1);
const vocabulary = new Set([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20_000).map(([w]) => w));
const all = texts.join('\n');
const cut = (size) => Array.from({ length: 64 }, (_, i) => all.slice((i * 7919 * 13) % (all.length - size), ((i * 7919 * 13) % (all.length - size)) + size));
const sets = { '2 KB': cut(2048), '8 KB': cut(8192), '50 KB': cut(50_000), 'corpus bodies': texts };

/** What TextStats.update did before this change: the whole text lower-cased, every token a string. */
class RegexTextStats {
  tokens = 0;
  unknown = 0;
  length = 0;
  update(value) {
    const lower = value.toLowerCase();
    const re = /[\p{L}\p{M}\p{N}]+/gu;
    let t = 0;
    for (let m = re.exec(lower); m !== null; m = re.exec(lower)) {
      t++;
      if (!vocabulary.has(m[0])) this.unknown++;
    }
    this.tokens += t;
    let n = value.length;
    for (let i = 1; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff) {
        const p = value.charCodeAt(i - 1);
        if (p >= 0xd800 && p <= 0xdbff) n--;
      }
    }
    this.length += n;
  }
}

const config = { lengthEdges: [0, 100, 1000, 10_000, 100_000], tokenEdges: [0, 10, 100, 1000, 10_000], vocabulary };
const variants = {
  before: () => new RegexTextStats(),
  uncapped: () => new TextStats(config),
  capped: () => new TextStats({ ...config, maxChars: DEFAULT_TEXT_MAX_CHARS }),
};

function nsPerUpdate(make, values) {
  const sketch = make();
  for (let i = 0; i < Math.min(2000, updates); i++) sketch.update(values[i % values.length]);
  const fresh = make();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < updates; i++) fresh.update(values[i % values.length]);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallNs: (wall * 1e6) / updates, cpuNs: ((cpu.user + cpu.system) * 1e3) / updates };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const [name, values] of Object.entries(sets)) {
  results[name] = { meanChars: Math.round(values.reduce((s, v) => s + v.length, 0) / values.length) };
  for (const [variant, make] of Object.entries(variants)) {
    const perRun = Array.from({ length: runs }, () => nsPerUpdate(make, values));
    results[name][variant] = { medianCpuUs: median(perRun.map((r) => r.cpuNs)) / 1000, runsCpuUs: perRun.map((r) => Math.round(r.cpuNs) / 1000) };
  }
  const r = results[name];
  process.stderr.write(
    `${name.padEnd(14)} mean ${String(r.meanChars).padStart(6)} chars: before ${r.before.medianCpuUs.toFixed(2)} µs, uncapped ${r.uncapped.medianCpuUs.toFixed(2)} µs (${(r.before.medianCpuUs / r.uncapped.medianCpuUs).toFixed(1)}×), capped at ${DEFAULT_TEXT_MAX_CHARS} ${r.capped.medianCpuUs.toFixed(2)} µs (${(r.before.medianCpuUs / r.capped.medianCpuUs).toFixed(1)}×)\n`,
  );
}
const out = args.out ?? path.join(here, 'results', `text-sketch-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ node: process.version, cpu: os.cpus()[0]?.model, loadavg: os.loadavg(), runs, updates, vocabulary: vocabulary.size, cap: DEFAULT_TEXT_MAX_CHARS, results }, null, 2));
process.stderr.write(`wrote ${out}\n`);
