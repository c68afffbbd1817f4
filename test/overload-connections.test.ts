// What clients see on the connection itself under abuse and shutdown, over raw loopback sockets: an oversized
// body gets its 413 problem document (not a connection reset), and a drain under load answers every request on
// an open keep-alive connection, with its decision or 503 SERVER_DRAINING, and Connection: close.
import type http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBallast, type TestBallast } from './helpers/test-ballast.js';

const path = '/v1/services/loans/decisions';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const portOf = (ballast: TestBallast) => (ballast.server.app.server.address() as net.AddressInfo).port;

interface RawExchange {
  /** Everything the server sent before the connection ended. */
  readonly data: string;
  /** The socket error the client saw (EPIPE, ECONNRESET), if any. */
  readonly error: string | undefined;
}

/**
 * Sends one POST with `body` on a fresh socket and reads until the server closes. `framing`: a Content-Length,
 * or chunked transfer-encoding (64 KiB chunks). `write`: the whole body in one write without waiting, or in
 * 256 KiB pieces 2 ms apart. `readAfterMs`: the client does not read for that long (a slow reader).
 */
function rawPost(port: number, body: Buffer, options: { framing?: 'length' | 'chunked'; write?: 'at-once' | 'dribble'; readAfterMs?: number } = {}): Promise<RawExchange> {
  const { framing = 'length', write = 'at-once', readAfterMs = 0 } = options;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let error: string | undefined;
    if (readAfterMs > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), readAfterMs);
    }
    socket.on('connect', async () => {
      const framingHeader = framing === 'length' ? `Content-Length: ${body.length}` : 'Transfer-Encoding: chunked';
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ballast\r\nContent-Type: application/json\r\n${framingHeader}\r\n\r\n`);
      const piece = write === 'at-once' ? body.length : 256 * 1024;
      for (let at = 0; at < body.length && !socket.destroyed; at += piece) {
        const part = body.subarray(at, at + piece);
        if (framing === 'chunked') {
          for (let c = 0; c < part.length; c += 64 * 1024) {
            const chunk = part.subarray(c, c + 64 * 1024);
            socket.write(`${chunk.length.toString(16)}\r\n`);
            socket.write(chunk);
            socket.write('\r\n');
          }
        } else socket.write(part);
        if (write === 'dribble') await sleep(2);
      }
      if (framing === 'chunked' && !socket.destroyed) socket.write('0\r\n\r\n');
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => resolve({ data: Buffer.concat(received).toString('utf8'), error }));
    socket.setTimeout(20_000, () => socket.destroy(new Error('timed out')));
  });
}

/** A 413 REQUEST_BODY_TOO_LARGE problem document, then the connection closed cleanly (no reset, no failed write). */
function expect413(exchange: RawExchange, label: string) {
  const [head = '', payload = ''] = exchange.data.split('\r\n\r\n');
  expect(exchange.error, `${label}: the client saw ${exchange.error} (got ${exchange.data.length} bytes)`).toBeUndefined();
  expect(head, label).toMatch(/^HTTP\/1\.1 413 /);
  expect(head, label).toMatch(/\r\ncontent-type: application\/problem\+json/i);
  expect(head, label).toMatch(/\r\nconnection: close/i);
  expect(JSON.parse(payload), label).toMatchObject({ type: 'urn:ballast:problem:REQUEST_BODY_TOO_LARGE', code: 'REQUEST_BODY_TOO_LARGE', status: 413 });
}

describe('an oversized body gets its 413 problem document, not a connection reset', () => {
  let ballast: TestBallast;
  let port = 0;
  const sixMB = Buffer.alloc(6 * 1000 * 1000, 0x20);
  beforeAll(async () => {
    ballast = await startTestBallast();
    await ballast.server.app.listen({ host: '127.0.0.1', port: 0 });
    port = portOf(ballast);
  });
  afterAll(async () => {
    await ballast.close();
  });

  it('20 six-megabyte bodies on raw sockets (headers and body written at once) and 20 with fetch: 40 × 413', async () => {
    const raw = await Promise.all(Array.from({ length: 20 }, () => rawPost(port, sixMB)));
    raw.forEach((exchange, i) => expect413(exchange, `raw #${i}`));
    let fetched = 0;
    for (const concurrent of [false, true]) {
      const send = async () => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sixMB });
        expect(response.status).toBe(413);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await response.json()).toMatchObject({ code: 'REQUEST_BODY_TOO_LARGE', status: 413 });
        fetched++;
      };
      if (concurrent) await Promise.all(Array.from({ length: 10 }, send));
      else for (let i = 0; i < 10; i++) await send();
    }
    expect(fetched).toBe(20);
  });

  // Before the fix (the server closed right after the 413, with part of the body unread, so the kernel reset the
  // connection) a client that read its answer 300 ms late lost it 10 times out of 10 (EPIPE, 0 bytes), and one that
  // wrote its body in pieces about once in 10.
  it('also a slow reader, a body written in pieces, chunked transfer-encoding, and 50 MB bodies', async () => {
    const fiftyMB = Buffer.alloc(50 * 1000 * 1000, 0x20);
    const cases: Array<[string, Buffer, Parameters<typeof rawPost>[2]]> = [
      ['6 MB, read 300 ms late', sixMB, { readAfterMs: 300 }],
      ['6 MB in 256 KiB pieces', sixMB, { write: 'dribble' }],
      ['6 MB chunked', sixMB, { framing: 'chunked' }],
      ['6 MB chunked, in pieces, read late', sixMB, { framing: 'chunked', write: 'dribble', readAfterMs: 300 }],
      ['50 MB at once', fiftyMB, {}],
      ['50 MB, read 300 ms late', fiftyMB, { readAfterMs: 300 }],
    ];
    for (const [label, body, options] of cases) {
      const exchanges = await Promise.all(Array.from({ length: body === fiftyMB ? 4 : 10 }, () => rawPost(port, body, options)));
      exchanges.forEach((exchange, i) => expect413(exchange, `${label} #${i}`));
    }
    // The server keeps serving, and holds no connection open.
    const ok = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ input: { text: 'fine', amount: 500 } }) });
    expect(ok.status).toBe(200);
    await ok.json();
  });
});

interface LoadTally {
  decisions: number;
  draining: number;
  /** Answers other than a decision or a well-formed 503 SERVER_DRAINING with Connection: close. */
  wrong: string[];
  /** The connection failed (reset, closed) while a request was outstanding, or could not be opened. */
  failures: string[];
  /** Connections that ended after an answer with Connection: close. */
  closedByAnswer: number;
  /** Connections closed by the server while idle (no request outstanding). */
  closedIdle: number;
  drainingSince: number;
  /** Decisions received after the drain began (some written just before it). */
  lateDecisions: number;
}

/**
 * One keep-alive connection over a raw socket that parses its answers. `continuous`: sends decision requests back
 * to back (after a pause of 0–3 ms) until an answer says Connection: close; `once`: one request, then it stays
 * open and idle; `silent`: connects and never sends a byte. Resolves when the connection has closed; `answered`
 * when it had its first answer (or, silent, when connected).
 */
function keepAliveClient(port: number, tally: LoadTally, bodies: () => string, mode: 'continuous' | 'once' | 'silent'): { closed: Promise<void>; answered: Promise<void> } {
  let answered!: () => void;
  const first = new Promise<void>((resolve) => (answered = resolve));
  const closed = new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let outstanding = false;
    let ended = false;
    const send = () => {
      const body = bodies();
      outstanding = true;
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ballast\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    socket.on('connect', () => (mode === 'silent' ? answered() : send()));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const headEnd = buffer.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffer.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < headEnd + 4 + length) return;
        const payload = buffer.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
        buffer = buffer.subarray(headEnd + 4 + length);
        outstanding = false;
        answered();
        const status = Number(head.slice(9, 12));
        const closing = /\r\nconnection: *close/i.test(head);
        if (status === 200) {
          tally.decisions++;
          if (tally.drainingSince > 0) tally.lateDecisions++;
        } else if (status === 503 && closing && /\r\ncontent-type: application\/problem\+json/i.test(head) && /\r\nretry-after: 1\r\n/i.test(`${head}\r\n`) && (JSON.parse(payload) as { code?: string }).code === 'SERVER_DRAINING') {
          tally.draining++;
        } else tally.wrong.push(`${head.split('\r\n')[0]} ${closing ? 'close' : 'keep-alive'} ${payload.slice(0, 100)}`);
        if (closing) {
          ended = true;
          tally.closedByAnswer++;
          socket.end();
          return;
        }
        if (mode === 'continuous') {
          const pause = Math.floor(Math.random() * 4);
          if (pause === 0) send();
          else setTimeout(send, pause);
        }
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (outstanding || !ended) tally.failures.push(`${error.code ?? error.message}${outstanding ? ' with a request outstanding' : ''} ${tally.drainingSince > 0 ? `${(performance.now() - tally.drainingSince).toFixed(0)} ms into the drain` : 'before the drain'}`);
      outstanding = false;
      ended = true;
    });
    socket.on('close', () => {
      if (outstanding) tally.failures.push('closed with a request outstanding');
      else if (!ended) tally.closedIdle++;
      resolve();
    });
  });
  return { closed, answered: first };
}

describe('SIGTERM under load: a drain answers every request on an open connection', () => {
  it('100 keep-alive connections sending continuously while server.drain() runs: each request gets its decision or 503 SERVER_DRAINING with Connection: close; no connection is reset', async () => {
    const ballast = await startTestBallast();
    try {
      await ballast.server.app.listen({ host: '127.0.0.1', port: 0 });
      const port = portOf(ballast);
      // Server side: each answer whose head is written after drain() began must say Connection: close.
      const heads = { duringDrain: 0, closing: 0 };
      ballast.server.app.server.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
        const writeHead = response.writeHead as (...args: unknown[]) => http.ServerResponse;
        response.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
          if (tally.drainingSince > 0) {
            heads.duringDrain++;
            const given = args.find((a): a is Record<string, unknown> => typeof a === 'object' && a !== null && !Array.isArray(a));
            if (/^close$/i.test(String(given?.connection ?? this.getHeader('connection')))) heads.closing++;
          }
          return writeHead.apply(this, args);
        } as typeof response.writeHead;
      });
      const tally: LoadTally = { decisions: 0, draining: 0, wrong: [], failures: [], closedByAnswer: 0, closedIdle: 0, drainingSince: 0, lateDecisions: 0 };
      let n = 0;
      // Mostly quick decisions, some that take 30 ms, so that the drain finds requests in flight, in sockets not
      // read yet and about to be sent.
      const bodies = () => JSON.stringify({ input: { text: n++ % 4 === 0 ? 'slow30' : 'hello there', amount: 500 } });
      const busy = Array.from({ length: 100 }, () => keepAliveClient(port, tally, bodies, 'continuous'));
      // Connections that had one answer and stay idle, and connections that never send a byte: the drain closes
      // both after its grace period (http.Server#close alone would wait for the silent ones forever).
      const idle = Array.from({ length: 10 }, () => keepAliveClient(port, tally, bodies, 'once'));
      const silent = Array.from({ length: 5 }, () => keepAliveClient(port, tally, bodies, 'silent'));
      // Every connection is open and in use (accepted by the server) before the drain begins.
      await Promise.all([...busy, ...idle, ...silent].map((c) => c.answered));
      await sleep(300);
      const before = tally.decisions;
      tally.drainingSince = performance.now();
      const drained = ballast.server.drain();
      // Connections opened while the drain runs are answered the same way.
      await sleep(50);
      const late = Array.from({ length: 20 }, () => keepAliveClient(port, tally, bodies, 'continuous'));
      await drained;
      const drainMs = performance.now() - tally.drainingSince;
      await Promise.all([...busy, ...idle, ...silent, ...late].map((c) => c.closed));
      console.info(
        `drain under load: ${before} decisions before the drain, then ${tally.lateDecisions} decisions and ${tally.draining} × 503 SERVER_DRAINING (${heads.closing}/${heads.duringDrain} answers written during the drain said Connection: close); ${tally.failures.length} failures; ${tally.closedIdle} idle connections closed; drain took ${drainMs.toFixed(0)} ms`,
      );
      expect(tally.failures).toEqual([]);
      expect(tally.wrong).toEqual([]);
      // Every busy connection ended on an answer that said so; the idle and silent ones were closed while idle.
      expect(tally.closedByAnswer).toBe(120);
      expect(tally.closedIdle).toBe(15);
      expect(heads.duringDrain).toBeGreaterThanOrEqual(tally.draining);
      expect(heads.closing).toBe(heads.duringDrain);
      expect(tally.draining).toBeGreaterThanOrEqual(20);
      // Every decision answered is durable; no refused request was recorded.
      const counts = await ballast.runtime.store.decisions.countByOutcome({ service: 'loans' });
      expect(Object.values(counts).reduce((sum, c) => sum + Number(c), 0)).toBe(tally.decisions);
      // The idle connections were given the grace period (1 s), not much more.
      expect(drainMs).toBeGreaterThanOrEqual(900);
      expect(drainMs).toBeLessThan(3_000);
      // After the drain nothing listens: a new connection is refused, not reset.
      const refused = await new Promise<string | undefined>((resolve) => net.connect(port, '127.0.0.1').on('connect', () => resolve(undefined)).on('error', (e: NodeJS.ErrnoException) => resolve(e.code)));
      expect(refused).toBe('ECONNREFUSED');
    } finally {
      await ballast.close();
    }
  });

  it('a drain with no open connection does not wait for the grace period', async () => {
    const ballast = await startTestBallast();
    try {
      await ballast.server.app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`http://127.0.0.1:${portOf(ballast)}/healthz`, { headers: { connection: 'close' } });
      expect(response.status).toBe(200);
      await response.text();
      await sleep(20);
      const started = performance.now();
      await ballast.server.drain();
      expect(performance.now() - started).toBeLessThan(500);
    } finally {
      await ballast.close();
    }
  });
});
