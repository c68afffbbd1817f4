// Load from wrk (https://github.com/wg/wrk), pinned to its own core: one thread, `connections`
// keep-alive connections, closed loop. POST body and headers come from a Lua script written to a
// temp file; its done() prints the summary and latency percentiles (µs) as one JSON line.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The wrk binary's version line, or undefined when wrk is not installed. */
export function wrkVersion() {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (r.error !== undefined) return undefined;
  return `${r.stdout}${r.stderr}`.split('\n')[0].trim();
}

export const wrkMissing = 'wrk is not installed (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk)';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ballast-wrk-'));
let scripts = 0;

/** A long-bracket Lua string holding `text` verbatim (no escapes to get wrong); as a table key it needs spaces inside the brackets. */
function luaString(text) {
  let level = '';
  while (text.includes(`]${level}]`)) level += '=';
  return `[${level}[${text}]${level}]`;
}

function script(body, headers) {
  const file = path.join(dir, `load-${++scripts}.lua`);
  const lines = [
    'wrk.method = "POST"',
    `wrk.body = ${luaString(body)}`,
    'wrk.headers["content-type"] = "application/json"',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`),
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'{"requests":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\\n\',',
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))',
    'end',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * One wrk run against `url` + `path` on `cpu`: requests/s, latencies in ms (p50, p90, p99, max,
 * mean), errors (sockets, timeouts and non-2xx/3xx answers).
 */
export function wrkRun({ url, path: urlPath, body, headers = {}, connections, seconds, cpu = 0, timeoutSeconds = 10 }) {
  const file = script(body, headers);
  const argv = ['-c', String(cpu), 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, `--timeout`, `${timeoutSeconds}s`, '-s', file, `${url}${urlPath}`];
  return new Promise((resolve, reject) => {
    execFile('taskset', argv, { encoding: 'utf8', maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('{"requests"'));
      if (line === undefined) return reject(new Error(`wrk printed no summary:\n${stdout}${stderr}`));
      const r = JSON.parse(line);
      const errors = r.errors.connect + r.errors.read + r.errors.write + r.errors.status + r.errors.timeout;
      resolve({ requests: r.requests, perSecond: r.requests / (r.durationUs / 1e6), p50: r.p50 / 1000, p90: r.p90 / 1000, p99: r.p99 / 1000, max: r.max / 1000, mean: r.mean / 1000, errors, errorKinds: r.errors });
    });
  });
}
