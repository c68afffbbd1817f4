// Load generation over undici keep-alive pools, with latencies measured in microseconds.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/** The q-quantile by nearest rank. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summary(latencies, seconds, errors) {
  const sorted = Float64Array.from(latencies).sort();
  return { requests: latencies.length, perSecond: latencies.length / seconds, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), errors };
}

async function once(pool, path, body, headers) {
  const answer = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await answer.body.dump();
  return answer.statusCode;
}

/** Closed loop (`headers` go with every request, e.g. the API key): `connections` callers each send the next request as soon as the last answered. */
export async function closedLoop({ url, path, body, connections, seconds, warmupSeconds = 1, headers = {} }) {
  const pool = new Pool(url, { connections });
  const run = async (duration, record) => {
    const latencies = [];
    let errors = 0;
    const end = performance.now() + duration * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const status = await once(pool, path, body, headers);
          if (status !== 200) errors++;
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    return { latencies, errors };
  };
  await run(warmupSeconds, false);
  const { latencies, errors } = await run(seconds, true);
  await pool.close();
  return summary(latencies, seconds, errors);
}

/** Open loop at a fixed rate: latency counts from when each request was due (no coordinated omission). */
export async function openLoop({ url, path, body, rate, seconds, warmupSeconds = 1, headers = {} }) {
  const pool = new Pool(url, { connections: 64 });
  await closedLoop({ url, path, body, connections: 4, seconds: warmupSeconds, warmupSeconds: 0, headers });
  const latencies = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Late sends count from when they were due (no coordinated omission); early ones from when sent.
    const from = Math.min(due, performance.now());
    inflight.push(
      once(pool, path, body, headers).then((status) => {
        if (status !== 200) errors++;
        latencies.push(performance.now() - from);
      }),
    );
  }
  await Promise.all(inflight);
  await pool.close();
  return summary(latencies, seconds, errors);
}
