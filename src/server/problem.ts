import { BallastError, classifyError, errorCatalogue, type ErrorCode, type Issue } from '../errors/index.js';
import { httpStatusOf } from './http-status.js';

/** An RFC 9457 problem document with Ballast's stable code and the issues behind it. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly issues?: readonly Issue[];
}

export const problemContentType = 'application/problem+json; charset=utf-8';

/** Fastify's own errors, mapped to catalogue codes so clients see one vocabulary. */
const fastifyCodes: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_TYPE: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_INVALID',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST_MALFORMED_JSON',
  FST_ERR_VALIDATION: 'REQUEST_INVALID',
  FST_ERR_BAD_URL: 'REQUEST_INVALID',
  FST_ERR_ASYNC_CONSTRAINT: 'REQUEST_INVALID',
  FST_ERR_MAX_PARAM_LENGTH: 'REQUEST_URI_TOO_LONG',
};

/**
 * What Node's HTTP parser refuses before Fastify sees a request (oversized headers, a request not
 * received within the request timeout, a malformed request line), as a raw HTTP/1.1 answer carrying
 * a problem document; the connection is then closed.
 */
export function clientErrorResponse(error: { readonly code?: string }): string {
  const failure =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new BallastError('REQUEST_HEADERS_TOO_LARGE', { detail: 'the request headers exceed the limit (16 KiB)' })
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new BallastError('REQUEST_TIMEOUT', { detail: 'the request was not received within the request timeout' })
        : new BallastError('REQUEST_INVALID', { detail: 'the request is not valid HTTP/1.1' });
  const body = JSON.stringify(problemOf(failure));
  const reason = { REQUEST_HEADERS_TOO_LARGE: 'Request Header Fields Too Large', REQUEST_TIMEOUT: 'Request Timeout' }[failure.code as string] ?? 'Bad Request';
  return `HTTP/1.1 ${httpStatusOf[failure.code]} ${reason}\r\nContent-Type: ${problemContentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Turns anything thrown while serving into a BallastError, mapping framework errors by their code. */
export function toBallastError(error: unknown): BallastError {
  if (error instanceof BallastError) return error;
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    const mapped = fastifyCodes[error.code];
    if (mapped !== undefined) {
      const message = 'message' in error && typeof error.message === 'string' ? error.message : undefined;
      return new BallastError(mapped, { detail: message, cause: error });
    }
  }
  if (error !== null && typeof error === 'object' && 'statusCode' in error && error.statusCode === 413) {
    return new BallastError('REQUEST_BODY_TOO_LARGE', { cause: error });
  }
  return classifyError(error);
}

/** The problem document for an error at `instance` (the request path). */
export function problemOf(error: BallastError, instance?: string): Problem {
  return {
    type: `urn:ballast:problem:${error.code}`,
    title: errorCatalogue[error.code].title,
    status: httpStatusOf[error.code],
    detail: error.detail,
    ...(instance === undefined ? {} : { instance }),
    code: error.code,
    retryable: error.retryable,
    ...(error.issues.length > 0 ? { issues: error.issues } : {}),
  };
}
