// The shared core of the fake upstreams: a loopback node:http server that answers with its
// protocol's handler, or misbehaves the way real upstreams do when told to.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How the fake answers the next requests; `normal` follows the protocol. Assigning a behaviour
 * restarts the counts of `sequence` and `first`, which count every request the fake receives from
 * then on (readiness probes included).
 */
export type FakeBehaviour =
  | { readonly kind: 'normal' }
  /** Answers normally after `ms` milliseconds. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Reads the request and never answers: a black hole. */
  | { readonly kind: 'hang' }
  /** Answers `status` with the protocol's error envelope and, when given, a Retry-After header. */
  | { readonly kind: 'status'; readonly status: number; readonly message?: string; readonly retryAfter?: string }
  /** Answers 200 with a body that is not JSON. */
  | { readonly kind: 'malformed-json' }
  /** Answers 200 with JSON that is not the protocol's answer. */
  | { readonly kind: 'wrong-shape' }
  /** Resets the TCP connection (RST) instead of answering. */
  | { readonly kind: 'reset' }
  /** Answers 200 with `bytes` bytes of JSON-looking text, streamed without a Content-Length. */
  | { readonly kind: 'huge'; readonly bytes: number }
  /**
   * Sends the normal answer one byte every `intervalMs` (a slow upstream). `headers`: the whole
   * response drips from its status line on, the first byte `intervalMs` after the request was read;
   * `body`: the status line and headers (with Content-Length) go at once, then the body drips, the
   * first byte `intervalMs` after the headers. A `headers` drip closes the connection at the end.
   */
  | { readonly kind: 'drip'; readonly phase: 'headers' | 'body'; readonly intervalMs: number }
  /** Sends 200 headers with the normal answer's Content-Length and the first half of its body, then resets the connection (RST). */
  | { readonly kind: 'reset-mid-body' }
  /** A valid protocol answer whose model output breaks the output contract (each fake says which; see its `violation` option). */
  | { readonly kind: 'violate' }
  /** Request i (counted from when this behaviour was set) gets `steps[i % steps.length]`: `[fault, normal]` fails every other call. */
  | { readonly kind: 'sequence'; readonly steps: readonly FakeBehaviour[] }
  /** The first `count` requests get `behaviour`, every later one `after` (default `normal`): fail N calls, then recover. */
  | { readonly kind: 'first'; readonly count: number; readonly behaviour: FakeBehaviour; readonly after?: FakeBehaviour };

/** A request the fake received, parsed. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or its raw text when it is not JSON ('' when empty). */
  readonly body: unknown;
}

/** A normal protocol answer. */
export interface FakeAnswer {
  readonly status: number;
  /** JSON-encoded unless it is a string, which is sent as is. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What makes a fake speak one protocol. */
export interface FakeProtocol {
  /** The answer to a request when the fake behaves. */
  answer(request: ReceivedRequest): FakeAnswer;
  /** The protocol's error envelope. */
  errorBody(status: number, message: string): unknown;
  /** Valid JSON that is not a valid answer of the protocol. */
  readonly wrongShape: unknown;
  /**
   * The answer under `violate`: valid for the protocol, but its model output breaks the output
   * contract. Default: 200 with `defaultViolation` (`{ label: 42, score: 0.9 }`).
   */
  violation?(request: ReceivedRequest): FakeAnswer;
}

/** The `violate` answer of a protocol that does not define its own: a label of the wrong type. */
export const defaultViolation = { label: 42, score: 0.9 } as const;

/** A running fake upstream. */
export interface FakeServer {
  /** What to put in an adapter's config to reach this fake. */
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** TCP connections accepted so far (keep-alive reuses one). */
  readonly connections: number;
  /** TCP connections open right now. */
  readonly openConnections: number;
  readonly received: readonly ReceivedRequest[];
  /** Applies to every later request until changed; an invalid behaviour throws a RangeError when assigned. */
  behaviour: FakeBehaviour;
  close(): Promise<void>;
}

/** A behaviour that answers one request directly (no `sequence` or `first`). */
type LeafBehaviour = Exclude<FakeBehaviour, { kind: 'sequence' } | { kind: 'first' }>;

// A reset right after the last write could discard bytes still in the send buffer; this pause lets them reach the client.
const resetPauseMs = 20;

/** Starts a fake on 127.0.0.1 at a free port; `path` is appended to the origin to make `url`. */
export async function startFakeServer(protocol: FakeProtocol, path = ''): Promise<FakeServer> {
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let behaviour: FakeBehaviour = { kind: 'normal' };
  // Requests seen by each `sequence` and `first` of the current behaviour; a new behaviour starts afresh.
  let counts = new Map<FakeBehaviour, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: ReceivedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: parse(text) };
      received.push(request);
      misbehave(resolve(behaviour, counts), request, protocol, req, res);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    get requests() {
      return received.length;
    },
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    received,
    get behaviour() {
      return behaviour;
    },
    set behaviour(next: FakeBehaviour) {
      check(next);
      behaviour = next;
      counts = new Map();
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests would keep close() waiting forever; the fake owns them, so it ends them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Picks the behaviour for the next request, counting it in every `sequence` and `first` it passes through. */
function resolve(behaviour: FakeBehaviour, counts: Map<FakeBehaviour, number>): LeafBehaviour {
  if (behaviour.kind !== 'sequence' && behaviour.kind !== 'first') return behaviour;
  const index = counts.get(behaviour) ?? 0;
  counts.set(behaviour, index + 1);
  if (behaviour.kind === 'sequence') return resolve(behaviour.steps[index % behaviour.steps.length] as FakeBehaviour, counts);
  return resolve(index < behaviour.count ? behaviour.behaviour : (behaviour.after ?? { kind: 'normal' }), counts);
}

/** Refuses behaviours that could not be followed, when they are assigned rather than at the next request. */
function check(behaviour: FakeBehaviour): void {
  const count = (value: number, what: string, min: number): void => {
    if (!Number.isFinite(value) || value < min) throw new RangeError(`The fake's ${behaviour.kind} behaviour needs ${what} >= ${min}, not ${value}.`);
  };
  switch (behaviour.kind) {
    case 'sequence':
      if (behaviour.steps.length === 0) throw new RangeError("The fake's sequence behaviour needs at least one step.");
      return behaviour.steps.forEach(check);
    case 'first':
      count(behaviour.count, 'count', 0);
      check(behaviour.behaviour);
      if (behaviour.after !== undefined) check(behaviour.after);
      return;
    case 'drip':
      if (behaviour.phase !== 'headers' && behaviour.phase !== 'body') throw new RangeError(`The fake's drip phase must be 'headers' or 'body', not '${String(behaviour.phase)}'.`);
      return count(behaviour.intervalMs, 'intervalMs', 0);
    case 'delay':
      return count(behaviour.ms, 'ms', 0);
    case 'huge':
      return count(behaviour.bytes, 'bytes', 0);
    default:
      return;
  }
}

function misbehave(behaviour: LeafBehaviour, request: ReceivedRequest, protocol: FakeProtocol, req: http.IncomingMessage, res: http.ServerResponse): void {
  switch (behaviour.kind) {
    case 'normal':
      return send(res, protocol.answer(request));
    case 'delay': {
      const timer = setTimeout(() => send(res, protocol.answer(request)), behaviour.ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    case 'hang':
      return;
    case 'status':
      return send(res, {
        status: behaviour.status,
        body: protocol.errorBody(behaviour.status, behaviour.message ?? http.STATUS_CODES[behaviour.status] ?? 'error'),
        headers: behaviour.retryAfter === undefined ? {} : { 'retry-after': behaviour.retryAfter },
      });
    case 'malformed-json':
      return send(res, { status: 200, body: '{"output": "spam", "confid' });
    case 'wrong-shape':
      return send(res, { status: 200, body: protocol.wrongShape });
    case 'reset':
      req.socket.resetAndDestroy();
      return;
    case 'huge':
      return streamHuge(res, behaviour.bytes);
    case 'drip':
      return behaviour.phase === 'headers' ? dripResponse(req.socket, res, protocol.answer(request), behaviour.intervalMs) : dripBody(res, protocol.answer(request), behaviour.intervalMs);
    case 'reset-mid-body':
      return resetMidBody(req.socket, res, protocol.answer(request));
    case 'violate':
      return send(res, protocol.violation?.(request) ?? { status: 200, body: defaultViolation });
  }
}

function encode(answer: FakeAnswer): { body: Buffer; headers: Record<string, string> } {
  const body = Buffer.from(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body), 'utf8');
  return { body, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...answer.headers } };
}

function send(res: http.ServerResponse, answer: FakeAnswer): void {
  if (res.destroyed) return;
  const { body, headers } = encode(answer);
  res.writeHead(answer.status, headers);
  res.end(body);
}

/** Writes `bytes` one at a time, `intervalMs` apart, then calls `done`; stops when the response closes (the client went away). */
function drip(res: http.ServerResponse, write: (byte: Buffer) => void, bytes: Buffer, intervalMs: number, done: () => void): void {
  let sent = 0;
  const next = (): void => {
    if (res.destroyed || res.socket?.destroyed !== false) return;
    if (sent === bytes.length) return done();
    write(bytes.subarray(sent, sent + 1));
    sent += 1;
    timer = setTimeout(next, intervalMs);
  };
  let timer = setTimeout(next, intervalMs);
  res.once('close', () => clearTimeout(timer));
}

/** Drips the whole response, status line first, straight onto the socket (node:http would send the head at once), then closes the connection. */
function dripResponse(socket: Socket, res: http.ServerResponse, answer: FakeAnswer, intervalMs: number): void {
  const { body, headers } = encode(answer);
  const lines = Object.entries({ ...headers, connection: 'close' }).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = `HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status] ?? 'Unknown'}\r\n${lines.join('')}\r\n`;
  drip(res, (byte) => socket.write(byte), Buffer.concat([Buffer.from(head, 'latin1'), body]), intervalMs, () => socket.end());
}

/** Sends the head (with Content-Length) at once, then drips the body through the response. */
function dripBody(res: http.ServerResponse, answer: FakeAnswer, intervalMs: number): void {
  if (res.destroyed) return;
  const { body, headers } = encode(answer);
  res.writeHead(answer.status, headers);
  res.flushHeaders();
  drip(res, (byte) => res.write(byte), body, intervalMs, () => res.end());
}

/** Sends the head with the full Content-Length and half the body, then resets the connection once those bytes are out. */
function resetMidBody(socket: Socket, res: http.ServerResponse, answer: FakeAnswer): void {
  if (res.destroyed) return;
  const { body, headers } = encode(answer);
  res.writeHead(200, headers);
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
    const timer = setTimeout(() => socket.resetAndDestroy(), resetPauseMs);
    res.once('close', () => clearTimeout(timer));
  });
}

/** Streams a JSON string of about `bytes` bytes in 64 KiB chunks, honouring backpressure, and stops if the client goes away. */
function streamHuge(res: http.ServerResponse, bytes: number): void {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"output":"');
  const pump = (): void => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end('"}');
  };
  pump();
}

function parse(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
