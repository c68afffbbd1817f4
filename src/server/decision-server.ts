// A decision worker's HTTP server (`ballast serve --workers N`): it answers the request path itself
// (authentication, admission, the whole decision pipeline) and forwards every other request, as it
// came, to the primary process that holds the store, the monitors and the control loops. The
// decision's durability is the sink's: the worker answers only once the primary has committed it.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Pool } from 'undici';
import { resolveInputLimits, type InputLimits } from '../contracts/index.js';
import { BallastError } from '../errors/index.js';
import { createDecisionMetrics, type DecisionMetrics } from '../monitoring/metrics/index.js';
import { createDecisionPipeline, type BreakerEvent, type DecisionPipeline, type DecisionPipelineOptions, type Service, type ShadowRunner } from '../pipeline/index.js';
import type { RoutingPlan } from '../routing/index.js';
import type { Store } from '../store/index.js';
import { createAdmission, type Admission } from './admission.js';
import { createBaseApp } from './app-base.js';
import { installAuth, type ServerAuth } from './auth.js';
import { registerDecideRoute } from './routes/decision-routes.js';
import { observeShadowResult } from './runtime-metrics.js';

export interface DecisionServerOptions {
  readonly services: ReadonlyMap<string, Service>;
  /** Where each decision goes to be made durable (the primary's group commit); resolves once it is. */
  readonly sink: DecisionPipelineOptions['sink'];
  newId(): string;
  hashSubject(key: string): string;
  readonly limits?: Partial<InputLimits>;
  readonly logger?: FastifyBaseLogger | false;
  readonly auth: ServerAuth;
  /** Where a denial's audit event goes (the primary's audit log). */
  readonly audit: Pick<Store['audit'], 'append'>;
  readonly routing?: (service: string) => RoutingPlan | undefined;
  readonly shadow?: ShadowRunner;
  readonly notices?: DecisionPipelineOptions['notices'];
  readonly planReview?: DecisionPipelineOptions['planReview'];
  readonly breakerEvents?: (listener: (event: BreakerEvent) => void) => void;
  /** The primary's internal address (http://127.0.0.1:port): every request but a decision goes there. */
  readonly forwardTo: string;
  readonly metrics?: DecisionMetrics;
  readonly requestTimeoutMs?: number;
  readonly drainGraceMs?: number;
}

export interface DecisionServer {
  readonly app: FastifyInstance;
  readonly pipeline: DecisionPipeline;
  readonly metrics: DecisionMetrics;
  /** Stops accepting, finishes the decisions in flight (each until its sink resolves), closes the forwarding pool. Idempotent. */
  drain(): Promise<void>;
}

// RFC 9110 §7.6.1: connection-specific fields are not forwarded.
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/** Builds a decision worker's server. Does not listen; the caller does. */
export function createDecisionServer(options: DecisionServerOptions): DecisionServer {
  const limits = resolveInputLimits(options.limits);
  const metrics = options.metrics ?? createDecisionMetrics();
  const base = createBaseApp({
    limits,
    metrics,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    ...(options.drainGraceMs === undefined ? {} : { drainGraceMs: options.drainGraceMs }),
  });
  const app = base.app;
  const pipeline = createDecisionPipeline({
    services: options.services,
    sink: options.sink,
    newId: options.newId,
    hashSubject: options.hashSubject,
    onDecision: metrics.observeDecision,
    ...(options.planReview === undefined ? {} : { planReview: options.planReview }),
    ...(options.routing === undefined ? {} : { routing: options.routing }),
    ...(options.shadow === undefined ? {} : { shadow: options.shadow }),
    ...(options.notices === undefined ? {} : { notices: options.notices }),
  });
  const unsubscribeShadow = options.shadow?.onResult(observeShadowResult(metrics));
  options.breakerEvents?.((event) => {
    const { service, version, kind, transition: t } = event;
    metrics.observeBreakerTransition({ service, version, kind, from: t.from, to: t.to });
  });
  const admission: Admission = createAdmission(options.services);

  // The request path, with the same authentication and permission table as the whole API.
  void app.register(async (scope) => {
    installAuth(scope, { auth: options.auth, store: { audit: options.audit }, metrics });
    registerDecideRoute(scope, { pipeline, services: options.services, admission });
  });

  // Everything else, byte for byte, to the primary (which authenticates it); X-Forwarded-For says who asked.
  const primary = new Pool(options.forwardTo, { connections: 16, pipelining: 1 });
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.all('/*', (request, reply) => forward(primary, request, reply));
    scope.all('/', (request, reply) => forward(primary, request, reply));
  });

  let drained: Promise<void> | undefined;
  return {
    app,
    pipeline,
    metrics,
    drain() {
      drained ??= (async () => {
        await base.drainConnections();
        unsubscribeShadow?.();
        admission.close();
        await primary.close();
      })();
      return drained;
    },
  };
}

async function forward(primary: Pool, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || hopByHop.has(name) || name === 'content-length') continue;
    headers[name] = value;
  }
  const forwardedFor = request.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor === undefined ? request.ip : `${String(forwardedFor)}, ${request.ip}`;
  const body = request.body === undefined || request.body === null ? undefined : (request.body as Buffer);
  let response;
  try {
    response = await primary.request({ method: request.method as 'GET', path: request.url, headers, ...(body === undefined ? {} : { body }) });
  } catch (error) {
    throw new BallastError('SERVER_PRIMARY_UNAVAILABLE', { detail: `the primary process did not answer: ${error instanceof Error ? error.message : String(error)}`, cause: error, retryAfterSeconds: 1 });
  }
  void reply.status(response.statusCode);
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || hopByHop.has(name)) continue;
    void reply.header(name, value);
  }
  return reply.send(response.body);
}
