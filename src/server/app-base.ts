// What every Ballast HTTP server shares, the whole API's (createServer) and a decision worker's
// (createDecisionServer): Fastify's limits and timeouts, the JSON body parser, problem documents
// for every error, 503 SERVER_DRAINING while draining, and a drain that loses no answer.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { parseJsonInput, type InputLimits } from '../contracts/index.js';
import { BallastError } from '../errors/index.js';
import type { DecisionMetrics } from '../monitoring/metrics/index.js';
import { clientErrorResponse, problemContentType, problemOf, toBallastError } from './problem.js';
import { trackRouteMethods } from './route-methods.js';

/** The default of `requestTimeoutMs`: a slow client cannot hold a connection (and its memory) forever. */
export const defaultRequestTimeoutMs = 30_000;

/** The default of `drainGraceMs`. */
export const defaultDrainGraceMs = 1_000;

/**
 * A reply that closes its connection before the request body has arrived (a 413, a 503 while draining) first
 * reads and discards the rest of the body, at most this many bytes for at most this long: closing a socket with
 * unread data makes the kernel send a reset, and a client still writing its body then often loses the answer.
 */
const discardBodyMaxBytes = 64 * 1024 * 1024;
const discardBodyMaxMs = 10_000;

/** Reads and drops the rest of `raw`'s body, then calls `then` (once): at its end, after the byte or time cap, or when the client goes away. */
function discardBody(raw: IncomingMessage, then: () => void): void {
  if (raw.readableEnded || raw.destroyed || Number(raw.headers['content-length']) > discardBodyMaxBytes) return then();
  let bytes = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    raw.off('data', onData).off('end', finish).off('close', finish).off('error', finish);
    then();
  };
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > discardBodyMaxBytes) finish();
  };
  const timer = setTimeout(finish, discardBodyMaxMs);
  raw.on('data', onData).once('end', finish).once('close', finish).once('error', finish);
  raw.resume();
}

export interface BaseAppOptions {
  readonly limits: InputLimits;
  readonly logger?: FastifyBaseLogger | false;
  readonly metrics: DecisionMetrics;
  readonly requestTimeoutMs?: number;
  readonly drainGraceMs?: number;
  /**
   * Trust X-Forwarded-For from these addresses (Fastify's trustProxy): the internal listener of a server
   * behind decision workers, which forward every request they do not answer themselves. Default: trust none.
   */
  readonly trustProxy?: (address: string, hop: number) => boolean;
}

export interface BaseApp {
  readonly app: FastifyInstance;
  isDraining(): boolean;
  /**
   * Starts draining: for a grace period the server goes on accepting and reading requests and answers each with
   * 503 SERVER_DRAINING and Connection: close (answers in flight get Connection: close too); then it stops
   * listening, closes idle connections and waits for the requests in flight (app.close()).
   */
  drainConnections(): Promise<void>;
}

/** A Fastify app with Ballast's limits, body parser, error documents and drain; routes are the caller's. */
export function createBaseApp(options: BaseAppOptions): BaseApp {
  const { limits, metrics } = options;
  const app = Fastify({
    loggerInstance: options.logger === false ? undefined : options.logger,
    bodyLimit: limits.maxBodyBytes,
    // Our onRequest hook answers 503 SERVER_DRAINING itself, with the problem envelope.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    routerOptions: { ignoreTrailingSlash: true },
    requestTimeout: options.requestTimeoutMs ?? defaultRequestTimeoutMs,
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    // Errors of the router (a path segment over 100 characters, a malformed URL) as problem documents.
    frameworkErrors: (error, request, reply) => {
      const failure = toBallastError(error);
      const problem = problemOf(failure, request.url.split('?')[0]);
      metrics.observeRefusal(failure.code, problem.status);
      // The router's reply type is unparameterised; the problem is plain JSON.
      void (reply as unknown as { status(n: number): { type(t: string): { send(b: unknown): unknown } } }).status(problem.status).type(problemContentType).send(problem);
    },
    // What Node's parser refuses before there is a request (headers over 16 KiB, the request timeout).
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(error));
      socket.destroy(error);
    },
  });
  let draining = false;
  // Open connections, so that a drain can wait for them to close after their last answer.
  const sockets = new Set<Socket>();
  let allClosed: (() => void) | undefined;
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) allClosed?.();
    });
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(request.headers['content-type'] ?? '')?.[2];
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
      done(new BallastError('REQUEST_UNSUPPORTED_MEDIA_TYPE', { detail: `charset ${charset} is not supported; send UTF-8` }), undefined);
      return;
    }
    try {
      done(null, parseJsonInput(body as Buffer, limits));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // While draining, every answer closes its connection: a keep-alive connection that was busy when
  // the drain began would otherwise stay open (and keep the process alive) until its idle timeout.
  // Callback-style hooks: they run on every request, and async ones cost a promise each.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    // Closing with part of the body unread would reset the connection (and lose this answer): read it first.
    // (`complete` is only false on a real socket; an injected request has none.)
    if (request.raw.complete === false && String(reply.getHeader('connection')).toLowerCase() === 'close') discardBody(request.raw, () => done(null, payload));
    else done(null, payload);
  });

  app.addHook('onRequest', (_request, _reply, done) => {
    done(draining ? new BallastError('SERVER_DRAINING', { detail: 'the server is shutting down; retry on another replica', retryAfterSeconds: 1 }) : undefined);
  });

  // Shedding load is expected under overload: a warning a second per code with a count, never a
  // stack trace per request (which would turn an overload into a flood of logs).
  const shed = new Map<string, { until: number; suppressed: number }>();
  const logShed = (code: string, detail: string) => {
    const now = Date.now();
    const entry = shed.get(code);
    if (entry !== undefined && now < entry.until) {
      entry.suppressed++;
      return;
    }
    app.log.warn({ code, suppressed: entry?.suppressed ?? 0 }, `shedding load: ${detail}`);
    shed.set(code, { until: now + 1000, suppressed: 0 });
  };

  app.setErrorHandler((error, request, reply) => {
    const failure = toBallastError(error);
    const problem = problemOf(failure, request.url);
    if (failure.code === 'SERVER_BUSY' || failure.code === 'SERVER_DRAINING') logShed(failure.code, failure.detail);
    else if (problem.status >= 500) request.log.error({ err: error, code: failure.code }, failure.detail);
    else request.log.debug({ code: failure.code }, failure.detail);
    metrics.observeRefusal(failure.code, problem.status);
    if (failure.retryable) reply.header('retry-after', String(failure.retryAfterSeconds ?? 1));
    void reply.status(problem.status).type(problemContentType).send(problem);
  });

  // A known path asked with a method it does not take is 405 with Allow, not 404 (RFC 9110 §15.5.6).
  const methodsOf = trackRouteMethods(app);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = methodsOf(path);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      throw new BallastError('METHOD_NOT_ALLOWED', { detail: `${path} does not accept ${request.method}; it accepts ${allowed.join(', ')}` });
    }
    throw new BallastError('ROUTE_NOT_FOUND', { detail: `no route ${request.method} ${path}` });
  });

  return {
    app,
    isDraining: () => draining,
    async drainConnections() {
      draining = true;
      // Closing the listener and the idle keep-alive connections at once would reset every connection still waiting
      // to be accepted (under load libuv accepts one per event-loop turn) and every idle one on which a request is
      // already on its way. The grace ends sooner when no connection is open.
      if (sockets.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.drainGraceMs ?? defaultDrainGraceMs);
          allClosed = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        allClosed = undefined;
      }
      // A connection that never sent a byte is not idle to http.Server#close, which would wait for it forever.
      for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
      // Stops listening, closes the connections still idle and waits for the requests in flight.
      await app.close();
    },
  };
}
