// Pieces shared by the HTTP benchmarks (run.mjs, wrk.mjs, quick.mjs): starting a pinned process and
// reading its port (and the admin key `ballast serve` prints), the benchmark services' configs, and
// what /proc says about a process (CPU time, RSS) and about each core.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const node = process.execPath;
export const ballastBin = path.join(here, '..', 'bin', 'ballast.js');

/** The median; of an even count, the mean of the middle two (of two rounds: their mean, not the larger). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const round = (x, d = 3) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

/** `ballast serve` prints the admin key it made on a fresh data directory; the load sends it. */
export function keyHeaders(out) {
  const key = /^ {2}(bk_[0-9a-z]{10}_[\w-]{43})$/m.exec(out)?.[1];
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}

// Children still running when the benchmark exits (a failed run included) are stopped, not left behind.
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/**
 * Starts `command` pinned to `cpu` and resolves once it prints its port. taskset execs the command,
 * so `pid` is the server's own process (what /proc is read for).
 */
export function start(cpu, command, argv, ready = /listening (\d+)|on http:\/\/127\.0\.0\.1:(\d+)/) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), command, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(child);
    child.once('close', () => running.delete(child));
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve({ child, pid: child.pid, port: Number(m[1] ?? m[2]), headers: keyHeaders(out), stop: () => new Promise((r) => { if (child.exitCode !== null) r(); else { child.once('close', r); child.kill('SIGTERM'); } }) });
    });
    child.on('close', (code) => reject(new Error(`${command} ${argv.join(' ')} exited ${code}: ${out}`)));
  });
}

const ticksPerSecond = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** CPU time (user + system, all threads) of a process so far, in µs. */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
}

/** Resident memory now and at its peak (VmRSS, VmHWM), in MiB. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** Busy and total jiffies per core from /proc/stat (every process on the machine, ours or not). */
export function coreTimes() {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l));
  return lines.map((l) => {
    const [, ...v] = l.trim().split(/\s+/).map(Number);
    const idle = v[3] + v[4];
    const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
    return { busy: total - idle, total };
  });
}

/** Share of each core that was busy between two coreTimes() readings. */
export function coreBusy(before, after) {
  return after.map((a, i) => round((a.busy - before[i].busy) / Math.max(1, a.total - before[i].total), 2));
}

// The http-adapter service: a tiny contract in front of the minimal upstream (bench/upstream.mjs).
// `store` replaces the default log (SQLite at <data-dir>/ballast.db, durability full); `monitoring`
// is the service's monitoring: block (without it the monitors still run, with every default).
export function httpConfig(dir, upstreamPort, { name = 'http', store, monitoring } = {}) {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify({
    version: 1,
    ...(store === undefined ? {} : { store }),
    services: {
      scorer: {
        contract: {
          input: { schema: { type: 'object', required: ['amount', 'country'], additionalProperties: false, properties: { amount: { type: 'number', minimum: 0 }, country: { type: 'string' }, note: { type: 'string' } } }, fields: { amount: { kind: 'numeric', expected: { min: 0, max: 10000 } }, country: { kind: 'categorical', expected: { categories: ['DE', 'FR'] } } } },
          output: { schema: { type: 'object', required: ['label', 'score'], properties: { label: { type: 'string' }, score: { type: 'number' } } } },
        },
        policy: { thresholds: { auto: 0.9 }, rules: [{ name: 'big', stage: 'pre', when: 'input.amount > 5000', action: 'review' }, { name: 'sanity', stage: 'post', when: 'output.score > 1.0', action: 'review' }] },
        models: { v1: { timeoutMs: 2000, adapter: { kind: 'http', url: `http://127.0.0.1:${upstreamPort}/`, response: { confidence: '/score' } } } },
        live: 'v1',
        ...(monitoring === undefined ? {} : { monitoring }),
      },
    },
  }));
  return file;
}

export const httpBody = JSON.stringify({ input: { amount: 120.5, country: 'DE', note: 'benchmark' } });
/** What the direct and proxy setups send: the input alone, as the http adapter forwards it. */
export const upstreamBody = JSON.stringify({ amount: 120.5, country: 'DE', note: 'benchmark' });

// The openai-adapter service: three annotated input fields (a text, a number, a category), a label
// enum whose confidence comes from the token logprobs, two CEL rules, in front of
// bench/upstream-openai.mjs.
export function openaiConfig(dir, upstreamPort, { name = 'openai', store, monitoring } = {}) {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify({
    version: 1,
    ...(store === undefined ? {} : { store }),
    services: {
      tickets: {
        contract: {
          input: {
            schema: { type: 'object', required: ['text', 'amount', 'country'], additionalProperties: false, properties: { text: { type: 'string', maxLength: 5000 }, amount: { type: 'number', minimum: 0 }, country: { type: 'string' } } },
            fields: { text: { kind: 'text' }, amount: { kind: 'numeric', expected: { min: 0, max: 10000 } }, country: { kind: 'categorical', expected: { categories: ['DE', 'FR'] } } },
          },
          output: { schema: { type: 'object', required: ['label'], additionalProperties: false, properties: { label: { enum: ['approve', 'deny'] } } }, fields: { label: { kind: 'categorical' } } },
        },
        policy: { thresholds: { auto: 0.9 }, rules: [{ name: 'big', stage: 'pre', when: 'input.amount > 5000.0', action: 'review' }, { name: 'denied', stage: 'post', when: 'output.label == "deny"', action: 'review' }] },
        models: { v1: { timeoutMs: 2000, adapter: { kind: 'openai', baseUrl: `http://127.0.0.1:${upstreamPort}/v1`, model: 'fake-gpt', system: 'You approve or deny refund requests.', prompt: 'Request: {{/text}}', logprobs: true } } },
        live: 'v1',
        ...(monitoring === undefined ? {} : { monitoring }),
      },
    },
  }));
  return file;
}

// A 230-character request: a short support ticket, as an LLM classifier would get.
export const openaiBody = JSON.stringify({
  input: {
    text: 'Hello, I ordered a pair of running shoes last week (order 48213) and they arrived in the wrong size. I would like to return them and get a refund to my card. The box is unopened. Can you tell me how to send them back? Thanks, Anna',
    amount: 89.9,
    country: 'DE',
  },
});

/** The monitoring: block of the "+monitoring" setups: a segment (each decision also counts in its country's sketches), the label, latency budgets. */
export function monitoringBlock(outputLabel) {
  return { window: '1h', segments: ['country'], outputLabel, evaluateEvery: '1m', latency: { total: 250, invoke: { warning: 150, alert: 200 } } };
}
