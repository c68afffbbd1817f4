// The one place that turns an upstream failure (a thrown transport error, an HTTP status, an
// unreadable answer) into a catalogue code. Every HTTP-based adapter reports through it.

import { BallastError, type ErrorCode } from '../errors/index.js';

/** What went wrong talking to an upstream, before it has a catalogue code. */
export type UpstreamFailure =
  | { readonly type: 'thrown'; readonly error: unknown }
  | { readonly type: 'status'; readonly status: number; readonly body: string; readonly retryAfter?: string | undefined }
  | { readonly type: 'malformed'; readonly reason: string; readonly cause?: unknown };

/** Who failed and under which signal, so that the detail names the upstream and an abort reads as a timeout. */
export interface UpstreamErrorContext {
  /** The upstream as a reader would name it, without credentials, e.g. `http model at http://127.0.0.1:8080/predict`; sentences read `The ${upstream} ...`. */
  readonly upstream: string;
  readonly signal?: AbortSignal | undefined;
  /** Clock for Retry-After dates (ms since the epoch); defaults to now. */
  readonly now?: number;
}

const transportCodes: Readonly<Record<string, ErrorCode>> = {
  UND_ERR_HEADERS_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UND_ERR_CONNECT_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UND_ERR_ABORTED: 'UPSTREAM_TIMEOUT',
  ETIMEDOUT: 'UPSTREAM_TIMEOUT',
  ECONNREFUSED: 'UPSTREAM_UNAVAILABLE',
  ENOTFOUND: 'UPSTREAM_UNAVAILABLE',
  EHOSTUNREACH: 'UPSTREAM_UNAVAILABLE',
  ENETUNREACH: 'UPSTREAM_UNAVAILABLE',
  EAI_AGAIN: 'UPSTREAM_UNAVAILABLE',
  // The pool was closed or destroyed: this adapter can no longer reach its upstream.
  UND_ERR_CLOSED: 'UPSTREAM_UNAVAILABLE',
  UND_ERR_DESTROYED: 'UPSTREAM_UNAVAILABLE',
  ECONNRESET: 'UPSTREAM_CONNECTION_RESET',
  UND_ERR_SOCKET: 'UPSTREAM_CONNECTION_RESET',
  EPIPE: 'UPSTREAM_CONNECTION_RESET',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'UPSTREAM_MALFORMED_RESPONSE',
  // undici refused what we asked it to send: our bug (config should have been checked), not the upstream's.
  UND_ERR_INVALID_ARG: 'INTERNAL',
  UND_ERR_NOT_SUPPORTED: 'INTERNAL',
};

const abortNames = new Set(['AbortError', 'TimeoutError']);
const excerptLength = 200;

/** Classifies an upstream failure into a BallastError whose detail is one sentence naming the upstream and what it said. */
export function classifyUpstreamError(failure: UpstreamFailure, context: UpstreamErrorContext): BallastError {
  const { upstream } = context;
  if (failure.type === 'thrown' && failure.error instanceof BallastError) return failure.error;
  if (context.signal?.aborted === true) {
    // A deadline that aborts with its own classified error (connect, first byte, total) says best what ran out.
    if (context.signal.reason instanceof BallastError) return context.signal.reason;
    const cause = failure.type === 'thrown' ? failure.error : context.signal.reason;
    return new BallastError('UPSTREAM_TIMEOUT', { detail: `The call to the ${upstream} was aborted before it answered (timeout).`, cause });
  }
  switch (failure.type) {
    case 'status':
      return fromStatus(failure, context);
    case 'malformed':
      return new BallastError('UPSTREAM_MALFORMED_RESPONSE', { detail: `The answer of the ${upstream} could not be read: ${failure.reason}.`, cause: failure.cause });
    case 'thrown':
      return fromThrown(failure.error, upstream);
  }
}

function fromStatus(failure: { status: number; body: string; retryAfter?: string | undefined }, context: UpstreamErrorContext): BallastError {
  const { status } = failure;
  const { upstream } = context;
  const said = upstreamErrorExcerpt(failure.body);
  const suffix = said === '' ? '.' : `: "${said}".`;
  const retryAfterSeconds = failure.retryAfter === undefined ? undefined : parseRetryAfter(failure.retryAfter, context.now ?? Date.now());
  if (status === 429) {
    return new BallastError('UPSTREAM_RATE_LIMITED', { detail: `The ${upstream} is rate limiting (429)${suffix}`, retryAfterSeconds });
  }
  if (status >= 500) {
    return new BallastError('UPSTREAM_SERVER_ERROR', { detail: `The ${upstream} failed with ${status}${suffix}`, retryAfterSeconds });
  }
  if (status >= 400) {
    return new BallastError('UPSTREAM_REJECTED_REQUEST', { detail: `The ${upstream} rejected the request with ${status}${suffix}` });
  }
  // Redirects are not followed on purpose (a model URL that moves is a configuration error), so 1xx/3xx are unreadable answers.
  return new BallastError('UPSTREAM_MALFORMED_RESPONSE', { detail: `The ${upstream} answered ${status}, which is not a model answer${suffix}` });
}

function fromThrown(error: unknown, upstream: string): BallastError {
  for (const link of causeChain(error)) {
    const code = typeof link.code === 'string' ? link.code : undefined;
    const mapped = code === undefined ? undefined : transportCodes[code];
    if (mapped !== undefined) return new BallastError(mapped, { detail: transportDetail(mapped, upstream, code ?? ''), cause: error });
    if (typeof link.name === 'string' && abortNames.has(link.name)) {
      return new BallastError('UPSTREAM_TIMEOUT', { detail: `The call to the ${upstream} was aborted before it answered (timeout).`, cause: error });
    }
    if (code !== undefined && /CERT|TLS|SSL/.test(code)) {
      return new BallastError('UPSTREAM_UNAVAILABLE', { detail: `The ${upstream} could not be reached securely (${code}).`, cause: error });
    }
    if (code?.startsWith('UND_ERR_') === true || typeof link.syscall === 'string') {
      return new BallastError('UPSTREAM_UNAVAILABLE', { detail: `The ${upstream} could not be reached (${code ?? String(link.syscall)}).`, cause: error });
    }
  }
  return new BallastError('INTERNAL', { detail: `Calling the ${upstream} failed unexpectedly.`, cause: error });
}

function transportDetail(code: ErrorCode, upstream: string, transportCode: string): string {
  switch (code) {
    case 'UPSTREAM_TIMEOUT':
      return `The ${upstream} did not answer in time (${transportCode}).`;
    case 'UPSTREAM_CONNECTION_RESET':
      return `The connection to the ${upstream} was reset before it answered (${transportCode}).`;
    case 'UPSTREAM_MALFORMED_RESPONSE':
      return `The answer of the ${upstream} could not be read (${transportCode}).`;
    case 'INTERNAL':
      return `The request to the ${upstream} could not be sent (${transportCode}).`;
    default:
      return `The ${upstream} could not be reached (${transportCode}).`;
  }
}

interface ErrorLink {
  readonly code?: unknown;
  readonly name?: unknown;
  readonly syscall?: unknown;
}

/** The error, its causes and (for AggregateError, e.g. happy-eyeballs connects) its inner errors, breadth first. */
function causeChain(error: unknown): ErrorLink[] {
  const links: ErrorLink[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && links.length < 16) {
    const next = queue.shift();
    if (next === null || typeof next !== 'object') continue;
    links.push(next as ErrorLink);
    if ('cause' in next) queue.push(next.cause);
    if (next instanceof AggregateError) queue.push(...(next.errors as unknown[]));
  }
  return links;
}

/** A short, single-line excerpt of an upstream error body: its message when the body is a known JSON error envelope. */
export function upstreamErrorExcerpt(body: string): string {
  let text = body;
  try {
    text = messageOf(JSON.parse(body)) ?? body;
  } catch {
    // Not JSON: the raw text is the best excerpt there is.
  }
  // Control characters and newlines must not reach a one-line detail (or a log line built from it).
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > excerptLength ? `${line.slice(0, excerptLength - 1)}…` : line;
}

/** Finds the message in the envelopes model servers use: `{error: "..."}` (Open Inference Protocol), `{error: {message}}` (OpenAI), `{message}`, `{detail}`. */
function messageOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.error === 'string') return record.error;
  if (record.error !== null && typeof record.error === 'object') {
    const inner = (record.error as Record<string, unknown>).message;
    if (typeof inner === 'string') return inner;
  }
  for (const key of ['message', 'detail', 'title']) {
    if (typeof record[key] === 'string') return record[key];
  }
  return undefined;
}

/** Parses a Retry-After header (delay-seconds or HTTP-date, RFC 9110 §10.2.3) into whole seconds from `now`. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
