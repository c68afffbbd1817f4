// Sums a V8 .cpuprofile (node --cpu-prof) by function and by file: self time, and inclusive time
// (a function's own samples plus its callees', counted once per sample however deep the recursion).
// With --decisions N it prints µs per decision beside the share of the profile.
// --window START:END keeps only the samples between START and END ms after the profile began (the
// load, not start-up); --timeline prints the busy share of each second to find that window.
// Usage: node bench/profile-summary.mjs <file.cpuprofile> [--window 4000:14000] [--decisions 23558] [--top 30] [--json out.json] [--timeline]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { decisions: { type: 'string' }, top: { type: 'string' }, json: { type: 'string' }, root: { type: 'string' }, window: { type: 'string' }, timeline: { type: 'boolean' } } });
if (positionals.length !== 1) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [--window START:END] [--timeline] [--decisions N] [--top 30] [--json out.json] [--root /path/to/checkout]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const decisions = args.decisions === undefined ? undefined : Number(args.decisions);
const top = Number(args.top ?? 30);
const root = args.root ?? process.cwd();

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);

/** Where a frame's code lives: a path under the checkout, a package, or node's own. */
function fileOf(frame) {
  const url = frame.url ?? '';
  if (url === '') return `(${frame.functionName || 'native'})`;
  const file = url.replace(/^file:\/\//, '');
  const inModules = file.lastIndexOf('/node_modules/');
  if (inModules >= 0) return `npm:${file.slice(inModules + '/node_modules/'.length)}`;
  if (file.startsWith('node:')) return file;
  return path.relative(root, file) || file;
}
const functionOf = (frame) => `${frame.functionName || '(anonymous)'} ${fileOf(frame)}:${frame.lineNumber + 1}`;

// Each sample's time is the delta to the next sample (the last one gets the median delta).
const deltas = profile.timeDeltas ?? [];
const times = profile.samples.map((_, i) => (i + 1 < deltas.length ? deltas[i + 1] : 0));
if (times.length > 0) times[times.length - 1] = [...deltas].sort((a, b) => a - b)[Math.floor(deltas.length / 2)] ?? 0;
// When each sample was taken, in µs after the profile began.
const at = [];
deltas.reduce((t, d, i) => (at[i] = t + d), 0);
const idleId = profile.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id;
if (args.timeline) {
  const perSecond = [];
  profile.samples.forEach((id, i) => {
    const second = Math.floor(at[i] / 1e6);
    perSecond[second] ??= { busy: 0, all: 0 };
    perSecond[second].all += times[i];
    if (id !== idleId) perSecond[second].busy += times[i];
  });
  process.stdout.write(`busy share per second: ${perSecond.map((s, i) => `${i}s ${s === undefined ? 0 : Math.round((100 * s.busy) / s.all)}%`).join(', ')}\n`);
}
const [fromMs, toMs] = (args.window ?? '0:Infinity').split(':').map(Number);
const kept = (i) => at[i] >= fromMs * 1000 && at[i] < toMs * 1000;
const totalMicros = times.reduce((s, t, i) => (kept(i) ? s + t : s), 0);

const selfByFunction = new Map();
const selfByFile = new Map();
const inclusiveByFunction = new Map();
const inclusiveByFile = new Map();
const add = (map, key, t) => map.set(key, (map.get(key) ?? 0) + t);
profile.samples.forEach((id, i) => {
  if (!kept(i)) return;
  const t = times[i];
  const node = nodes.get(id);
  add(selfByFunction, functionOf(node.callFrame), t);
  add(selfByFile, fileOf(node.callFrame), t);
  const seenFunctions = new Set();
  const seenFiles = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frame = nodes.get(at).callFrame;
    const fn = functionOf(frame);
    const file = fileOf(frame);
    if (!seenFunctions.has(fn)) {
      seenFunctions.add(fn);
      add(inclusiveByFunction, fn, t);
    }
    if (!seenFiles.has(file)) {
      seenFiles.add(file);
      add(inclusiveByFile, file, t);
    }
  }
});

const rows = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, micros]) => ({ key, ms: micros / 1000, share: micros / totalMicros, ...(decisions === undefined ? {} : { usPerDecision: micros / decisions }) }));
const report = {
  file: positionals[0],
  ...(args.window === undefined ? {} : { window: args.window }),
  totalMs: totalMicros / 1000,
  samples: profile.samples.length,
  ...(decisions === undefined ? {} : { decisions, usPerDecision: totalMicros / decisions }),
  selfByFunction: rows(selfByFunction),
  selfByFile: rows(selfByFile),
  inclusiveByFunction: rows(inclusiveByFunction),
  inclusiveByFile: rows(inclusiveByFile),
};

const table = (title, list) => {
  const lines = [`\n## ${title}`, decisions === undefined ? '| ms | share | where |' : '| µs/decision | ms | share | where |', decisions === undefined ? '|---|---|---|' : '|---|---|---|---|'];
  for (const r of list) lines.push(`| ${decisions === undefined ? '' : `${r.usPerDecision.toFixed(1)} | `}${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)}% | ${r.key} |`);
  return lines.join('\n');
};
process.stdout.write(
  [
    `${positionals[0]}${args.window === undefined ? '' : ` (window ${args.window} ms)`}: ${report.totalMs.toFixed(0)} ms sampled in ${report.samples} samples${decisions === undefined ? '' : `, ${decisions} decisions: ${report.usPerDecision.toFixed(1)} µs per decision (idle included)`}`,
    table(`self time by function (top ${top})`, report.selfByFunction),
    table(`self time by file (top ${top})`, report.selfByFile),
    table(`inclusive time by function (top ${top})`, report.inclusiveByFunction),
    table(`inclusive time by file (top ${top})`, report.inclusiveByFile),
    '',
  ].join('\n'),
);
if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
