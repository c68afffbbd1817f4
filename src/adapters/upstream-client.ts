// JSON over HTTP to one upstream origin through a keep-alive undici Pool, with bounded reads and
// every failure classified by upstream-errors.ts. HTTP-based adapters share this; none talks to undici directly.

import type { Socket } from 'node:net';
import { buildConnector, Pool, type Dispatcher } from 'undici';
import { BallastError } from '../errors/index.js';
import type { AdapterContext } from './model-adapter.js';
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.js';

/** Options of one upstream client: which base URL, how to name it in errors, how much to read. */
export interface UpstreamClientOptions {
  /** How errors name this upstream, e.g. `openai upstream`; the URL (without credentials or query) is appended. */
  readonly name: string;
  /** Base URL (http or https); request paths are appended to its path, and its query is kept. */
  readonly baseUrl: string;
  /** Headers sent with every request (after the JSON defaults, so they may override them). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The most bytes of a successful answer that are read before it counts as malformed (default 16 MiB). */
  readonly maxResponseBytes?: number;
  /** The most connections open to this upstream at once (default 64); further calls wait for one, within their deadline. */
  readonly maxConnections?: number;
  /** Opening a connection (TCP, and TLS for https) takes at most this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** A call's answer must begin (status and headers received) this long after the call started, connecting and queueing included (default: none; the caller's signal bounds the whole call). */
  readonly firstByteTimeoutMs?: number;
}

/** The default of `maxConnections`: a hanging upstream must not take every file descriptor of the process. */
export const defaultMaxUpstreamConnections = 64;

/** One request: a path under the base URL, an optional JSON body, and the call's signal. */
export interface UpstreamRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Appended to the base URL's path, e.g. `/chat/completions`; '' is the base URL itself. */
  readonly path: string;
  /** JSON-encoded into the body when present. */
  readonly body?: unknown;
  readonly signal: AbortSignal;
}

/** An upstream's answer, whatever its status; the body is text, read up to the size limit. */
export interface UpstreamReply {
  readonly status: number;
  readonly text: string;
  readonly retryAfter: string | undefined;
}

/** A keep-alive client for one upstream origin. */
export interface UpstreamClient {
  /** How errors name this upstream, e.g. `openai upstream at http://127.0.0.1:8000/v1`. */
  readonly upstream: string;
  /** Sends a request and returns the answer whatever its status; transport failures throw classified BallastErrors. */
  send(request: UpstreamRequest): Promise<UpstreamReply>;
  /** Sends a request and returns the parsed JSON of a 2xx answer; any other outcome throws a classified BallastError. */
  sendJson(request: UpstreamRequest): Promise<unknown>;
  /** An UPSTREAM_MALFORMED_RESPONSE for an answer whose shape the adapter cannot use. */
  malformed(reason: string, cause?: unknown): BallastError;
  /** Closes the pool: waits briefly for calls in flight, then destroys the sockets. Idempotent. */
  close(): Promise<void>;
}

const defaultMaxResponseBytes = 16 * 1024 * 1024;
// Error bodies are only excerpted, so a little is enough.
const errorBodyBytes = 64 * 1024;
const closeGraceMs = 5_000;
const defaultConnectTimeoutMs = 10_000;

/** The client options an adapter context carries: its call timeouts and its connection bound. */
export function contextOptions(context: Pick<AdapterContext, 'timeouts' | 'maxConnections'>): Pick<UpstreamClientOptions, 'connectTimeoutMs' | 'firstByteTimeoutMs' | 'maxConnections'> {
  return { connectTimeoutMs: context.timeouts?.connectMs, firstByteTimeoutMs: context.timeouts?.firstByteMs, maxConnections: context.maxConnections };
}

/** Creates a client with one keep-alive Pool for the base URL's origin; a URL that is not http(s) is CONFIG_INVALID. */
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const base = parseBaseUrl(options.baseUrl, options.name);
  const basePath = base.pathname.replace(/\/+$/, '');
  const upstream = `${options.name} at ${base.origin}${base.pathname}`;
  const maxBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  const headers = { accept: 'application/json', ...options.headers };
  const connectMs = options.connectTimeoutMs ?? defaultConnectTimeoutMs;
  const pool = new Pool(base.origin, {
    connections: options.maxConnections ?? defaultMaxUpstreamConnections,
    connect: connectWithin(connectMs, () => new BallastError('UPSTREAM_TIMEOUT', { detail: `The ${upstream} did not accept a connection within ${connectMs} ms (connect timeout).` })),
  });
  const firstByteMs = options.firstByteTimeoutMs;
  let closing: Promise<void> | undefined;

  // An upstream may echo the request's headers in its error body; their values (API keys) never
  // reach an error message. Values shorter than 8 characters are not credentials worth the name.
  const credentials = Object.values(options.headers ?? {})
    .flatMap((value) => [value, value.replace(/^(Bearer|Basic|Token)\s+/i, '')])
    .filter((value) => value.length >= 8)
    .sort((a, b) => b.length - a.length);
  const withoutCredentials = (text: string) => credentials.reduce((t, secret) => t.split(secret).join('***'), text);
  const fail = (failure: UpstreamFailure, signal?: AbortSignal): BallastError => classifyUpstreamError(failure, { upstream, signal });

  async function send(request: UpstreamRequest): Promise<UpstreamReply> {
    if (closing !== undefined) throw new BallastError('UPSTREAM_UNAVAILABLE', { detail: `The adapter for the ${upstream} is closed.` });
    const hasBody = request.body !== undefined;
    const call = firstByteMs === undefined ? { signal: request.signal, done() {} } : firstByteWatch(request.signal, firstByteMs);
    try {
      const response = await pool.request({
        method: request.method,
        // An origin-only URL with path '' still needs '/' on the request line.
        path: `${basePath}${request.path}`.replace(/^(?!\/)/, '/') + base.search,
        headers: hasBody ? { 'content-type': 'application/json', ...headers } : headers,
        body: hasBody ? JSON.stringify(request.body) : null,
        signal: call.signal,
      });
      call.done();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      const text = await readBounded(response.body, ok ? maxBytes : errorBodyBytes, ok, response.headers['content-length']);
      const retryAfter = response.headers['retry-after'];
      return { status: response.statusCode, text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (error) {
      call.done();
      // Before the headers, the first-byte watch may have aborted; after them, only the caller's signal.
      throw fail({ type: 'thrown', error }, call.signal.aborted ? call.signal : request.signal);
    }
  }

  /** A signal that also aborts when the answer has not begun within `ms`; `done()` once it has (or the call failed). */
  function firstByteWatch(parent: AbortSignal, ms: number): { signal: AbortSignal; done(): void } {
    const controller = new AbortController();
    const onParent = () => controller.abort(parent.reason);
    if (parent.aborted) onParent();
    else parent.addEventListener('abort', onParent, { once: true });
    const timer = setTimeout(() => controller.abort(new BallastError('UPSTREAM_TIMEOUT', { detail: `The ${upstream} sent no answer within ${ms} ms (first-byte timeout).` })), ms);
    return {
      signal: controller.signal,
      done() {
        clearTimeout(timer);
        parent.removeEventListener('abort', onParent);
      },
    };
  }

  async function readBounded(body: Dispatcher.ResponseData['body'], limit: number, strict: boolean, declared: unknown): Promise<string> {
    if (strict && Number(declared) > limit) {
      // undici emits an AbortError when a body is destroyed unread; nobody waits for it here.
      body.on('error', () => undefined);
      body.destroy();
      throw fail({ type: 'malformed', reason: `it declares ${String(declared)} bytes, more than the ${limit}-byte limit` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        // Leaving the loop destroys the body (and its socket), so the rest is never read.
        if (strict) throw fail({ type: 'malformed', reason: `it is larger than the ${limit}-byte limit` });
        chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
        break;
      }
      chunks.push(chunk);
    }
    try {
      return new TextDecoder('utf-8', { fatal: strict }).decode(Buffer.concat(chunks));
    } catch (error) {
      throw fail({ type: 'malformed', reason: 'it is not valid UTF-8', cause: error });
    }
  }

  async function sendJson(request: UpstreamRequest): Promise<unknown> {
    const reply = await send(request);
    if (reply.status < 200 || reply.status >= 300) {
      throw fail({ type: 'status', status: reply.status, body: withoutCredentials(reply.text), retryAfter: reply.retryAfter }, request.signal);
    }
    try {
      return JSON.parse(reply.text) as unknown;
    } catch (error) {
      throw fail({ type: 'malformed', reason: `it is not JSON (${reply.status}, ${reply.text.length} characters)`, cause: error });
    }
  }

  async function shutDown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), closeGraceMs);
      timer.unref();
    });
    const outcome = await Promise.race([pool.close().then(() => 'closed' as const), grace]);
    clearTimeout(timer);
    if (outcome === 'late') await pool.destroy();
  }

  return {
    upstream,
    send,
    sendJson,
    malformed: (reason, cause) => fail({ type: 'malformed', reason, cause }),
    close: () => (closing ??= shutDown()),
  };
}

/**
 * undici's connector with our own connect timeout: undici's timers tick every 500 ms, too coarse
 * for a bound that tests hold to ±50 ms. The connector's own timeout is off (0).
 */
function connectWithin(ms: number, timeoutError: () => Error): buildConnector.connector {
  const connector = buildConnector({ timeout: 0 });
  return (connectOptions, callback) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      callback(timeoutError(), null);
    }, ms);
    const socket = connector(connectOptions, (error, connected) => {
      if (settled) {
        connected?.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (error === null) callback(null, connected!);
      else callback(error, null);
    }) as unknown as Socket | undefined;
  };
}

function parseBaseUrl(text: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new BallastError('CONFIG_INVALID', { detail: `The URL '${text}' of the ${name} is not a URL.`, cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BallastError('CONFIG_INVALID', { detail: `The URL of the ${name} must be http or https, not ${url.protocol}` });
  }
  // Credentials in a URL end up in logs and error details; they belong in headers or secrets.
  if (url.username !== '' || url.password !== '') {
    throw new BallastError('CONFIG_INVALID', { detail: `The URL of the ${name} must not carry credentials.` });
  }
  return url;
}
