// One load-generator process of bench/resilience.mjs: holds many keep-alive HTTP/1.1 connections
// over raw sockets (one request at a time on each, no pipelining) and sends one prepared request
// on them, driven by the parent over IPC:
//   { cmd: 'connect', host, port, count, localAddress, request }  → { connected, failed, errors }
//   { cmd: 'open', rate, seconds, detail }   open loop: request i is due at start + i / rate and goes out on the
//                                             next idle connection, round-robin; its latency counts from when it
//                                             was due (no coordinated omission)
//   { cmd: 'closed', inflight, seconds }     closed loop: `inflight` connections each send again on every answer
//   { cmd: 'stats' } → { open }; { cmd: 'exit' }
// Raw sockets rather than undici: a Client per connection for 10,000 connections would cost this core
// more than the server under test spends on them; the parser only needs Content-Length framing.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const conns = [];
let request = Buffer.alloc(0);
let cursor = 0;
/** Where the current run's answers go; replaced per command. */
let sink = () => {};
const socketErrors = {};

class Conn {
  constructor(socket) {
    this.socket = socket;
    this.open = true;
    this.busy = false;
    this.buf = null;
    this.need = -1;
    this.status = 0;
    this.bodyStart = 0;
    this.due = 0;
    this.sent = 0;
    this.detail = false;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (error) => {
      socketErrors[error.code ?? 'error'] = (socketErrors[error.code ?? 'error'] ?? 0) + 1;
    });
    socket.on('close', () => {
      this.open = false;
      if (this.busy) {
        this.busy = false;
        sink(this, 'socket', undefined);
      }
    });
  }

  send(due, detail) {
    this.busy = true;
    this.due = due;
    this.sent = performance.now();
    this.detail = detail;
    this.socket.write(request);
  }

  onData(chunk) {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf !== null) {
      if (this.need < 0) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buf.toString('latin1', 0, end);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (length === null) {
          socketErrors.unframed = (socketErrors.unframed ?? 0) + 1;
          this.socket.destroy();
          return;
        }
        this.status = Number(head.slice(9, 12));
        this.bodyStart = end + 4;
        this.need = end + 4 + Number(length[1]);
      }
      if (this.buf.length < this.need) return;
      const body = this.status !== 200 || this.detail ? this.buf.subarray(this.bodyStart, this.need) : undefined;
      this.buf = this.buf.length > this.need ? this.buf.subarray(this.need) : null;
      this.need = -1;
      if (this.busy) {
        this.busy = false;
        sink(this, this.status, body);
      }
    }
  }
}

function connectOne(host, port, localAddress) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress });
    const fail = (error) => resolve({ error: error.code ?? String(error) });
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      resolve({ conn: new Conn(socket) });
    });
  });
}

async function connect({ host, port, count, localAddress, request: text }) {
  request = Buffer.from(text, 'latin1');
  let connected = 0;
  let failed = 0;
  const errors = {};
  const batch = 200;
  for (let i = 0; i < count; i += batch) {
    const results = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => connectOne(host, port, localAddress)));
    for (const r of results) {
      if (r.conn !== undefined) {
        conns.push(r.conn);
        connected++;
      } else {
        failed++;
        errors[r.error] = (errors[r.error] ?? 0) + 1;
      }
    }
  }
  return { connected, failed, errors };
}

function nextIdle() {
  for (let tries = 0; tries < conns.length; tries++) {
    const c = conns[cursor];
    cursor = cursor + 1 === conns.length ? 0 : cursor + 1;
    if (c.open && !c.busy) return c;
  }
  return undefined;
}

const openCount = () => conns.reduce((n, c) => n + (c.open ? 1 : 0), 0);

/** Tallies of one run: answers by status and by problem code, latencies (ms from due), and what went wrong below HTTP. */
function tally(detail) {
  const t = { byStatus: {}, byCode: {}, lat200: [], lat503: [], lat503FromSend: [], latOther: [], records: detail ? [] : undefined, samples: [], unparsed: 0 };
  const answer = (conn, status, body) => {
    const now = performance.now();
    const ms = now - conn.due;
    const key = String(status);
    t.byStatus[key] = (t.byStatus[key] ?? 0) + 1;
    let parsed;
    if (body !== undefined) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        t.unparsed++;
      }
    }
    if (status === 200) t.lat200.push(ms);
    else if (status === 503) {
      t.lat503.push(ms);
      t.lat503FromSend.push(now - conn.sent);
    }
    else t.latOther.push(ms);
    if (status !== 200 && status !== 'socket') {
      // SERVER_BUSY says why in its detail's last parenthesis (queue full, wait timeout, …).
      const why = parsed?.code === 'SERVER_BUSY' ? / \(([^)]+)\)$/.exec(parsed.detail ?? '')?.[1] ?? parsed.detail : undefined;
      const code = parsed?.code === undefined ? `(no code: ${String(body ?? '').slice(0, 80)})` : why === undefined ? parsed.code : `${parsed.code} (${why})`;
      t.byCode[`${status} ${code}`] = (t.byCode[`${status} ${code}`] ?? 0) + 1;
    }
    if (conn.detail === 'sample' && status === 200 && parsed !== undefined) {
      // One answer in `sampleEvery`: where the server says the time went (the model call, the durable record).
      t.samples.push([parsed.explanation?.attempts?.[0]?.ms ?? null, parsed.timings?.record ?? null, ms]);
    } else if (t.records !== undefined) {
      const e = parsed?.explanation;
      // Epoch ms on Date.now()'s clock, the one Ballast stamps breaker transitions with.
      const epoch = Date.now() - (performance.now() - now);
      t.records.push({
        due: epoch - ms,
        at: epoch,
        status,
        outcome: parsed?.outcome ?? null,
        attempts: e?.attempts?.map((a) => [a.code, a.ms]) ?? [],
        answeredBy: e?.fallback?.answeredBy?.kind ?? null,
      });
    }
  };
  return { t, answer };
}

async function drain(inFlight, timeoutMs) {
  const until = performance.now() + timeoutMs;
  while (inFlight() > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  return inFlight();
}

async function openLoop({ rate, seconds, detail = false, sampleEvery = 0 }) {
  const { t, answer } = tally(detail);
  let inFlight = 0;
  sink = (conn, status, body) => {
    inFlight--;
    answer(conn, status, body);
  };
  const errorsBefore = { ...socketErrors };
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const lateness = [];
  let noIdle = 0;
  let i = 0;
  const start = performance.now() + 2;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < total && start + i * interval <= now) {
        const due = start + i * interval;
        i++;
        const c = nextIdle();
        if (c === undefined) {
          noIdle++;
          continue;
        }
        lateness.push(now - due);
        inFlight++;
        c.send(due, detail || (sampleEvery > 0 && i % sampleEvery === 0 ? 'sample' : false));
      }
      if (i < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 1);
  });
  const sendEnd = performance.now();
  const unanswered = await drain(() => inFlight, 15_000);
  lateness.sort((a, b) => a - b);
  return {
    offered: total,
    sent: total - noIdle,
    noIdleConnection: noIdle,
    unanswered,
    sendSeconds: (sendEnd - start) / 1000,
    lateness: { p50: quantile(lateness, 0.5), p99: quantile(lateness, 0.99), max: lateness.at(-1) ?? 0 },
    socketErrors: diff(socketErrors, errorsBefore),
    open: openCount(),
    ...t,
  };
}

async function closedLoop({ inflight, seconds }) {
  const { t, answer } = tally(false);
  let live = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  let started = false;
  sink = (conn, status, body) => {
    if (started) answer(conn, status, body);
    if (performance.now() < stopAt && conn.open) conn.send(performance.now(), false);
    else live--;
  };
  const errorsBefore = { ...socketErrors };
  for (let k = 0; k < inflight; k++) {
    const c = nextIdle();
    if (c === undefined) break;
    live++;
    c.send(performance.now(), false);
  }
  // Every answer from here to the end of the window counts; the parent runs a warm-up call first.
  started = true;
  const t0 = performance.now();
  stopAt = t0 + seconds * 1000;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const answeredInWindow = Object.values(t.byStatus).reduce((a, b) => a + b, 0);
  const windowSeconds = (performance.now() - t0) / 1000;
  const unanswered = await drain(() => live, 15_000);
  return { inflight, answeredInWindow, windowSeconds, unanswered, socketErrors: diff(socketErrors, errorsBefore), open: openCount(), ...t };
}

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function diff(now, before) {
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v > 0));
}

process.on('message', async (message) => {
  let reply;
  if (message.cmd === 'connect') reply = await connect(message);
  else if (message.cmd === 'open') reply = await openLoop(message);
  else if (message.cmd === 'closed') reply = await closedLoop(message);
  else if (message.cmd === 'stats') reply = { open: openCount(), rssBytes: process.memoryUsage().rss };
  else if (message.cmd === 'exit') {
    for (const c of conns) c.socket.destroy();
    process.exit(0);
  }
  process.send({ id: message.id, ...reply });
});
process.send({ ready: true });
