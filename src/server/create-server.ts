import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { resolveInputLimits, type InputLimits } from '../contracts/index.js';
import { monitorNotices, type MonitoringHub } from '../monitoring/hub/index.js';
import { createDecisionMetrics, type DecisionMetrics } from '../monitoring/metrics/index.js';
import { breakerFigures, createDecisionPipeline, ServiceCatalog, type BreakerEvent, type DecisionPipeline, type Service, type ShadowRunner } from '../pipeline/index.js';
import type { RoutingPlan } from '../routing/index.js';
import { createKeyManager, type Approvals, type AuditLedger, type GateInput, type KeyManager, type KillSwitch, type ModelRegistry, type Retention, type RolloutController } from '../governance/index.js';
import { newId, type NewReviewItem, type Store } from '../store/index.js';
import { createAppeals, createReviewQueue, createReviewStats, planReviewTicket, reviewConfigOf, type ReviewQueue } from '../review/index.js';
import type { DecisionRecord } from '../pipeline/index.js';
import { registerReviewRoutes } from './routes/review-routes.js';
import { registerFairnessRoutes } from './routes/fairness-routes.js';
import { registerDatasetRoutes } from './routes/dataset-routes.js';
import { createReviewMetrics } from './review-metrics.js';
import { installAuth, type ServerAuth } from './auth.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerRetentionRoutes } from './routes/retention-routes.js';
import { registerKeyRoutes } from './routes/key-routes.js';
import { createBaseApp } from './app-base.js';
import { registerDecisionRoutes } from './routes/decision-routes.js';
import { registerMonitorRoutes } from './routes/monitor-routes.js';
import { registerOperationalRoutes } from './routes/operational-routes.js';
import { registerReferenceRoutes } from './routes/reference-routes.js';
import { registerServiceRoutes } from './routes/service-routes.js';
import { registerBreakerRoutes } from './routes/breaker-routes.js';
import { registerConfigRoutes, type ConfigApplier } from './routes/config-routes.js';
import { registerRolloutRoutes } from './routes/rollout-routes.js';
import { registerApprovalRoutes } from './routes/approval-routes.js';
import { registerModelRoutes } from './routes/model-routes.js';
import { createAdmission, type Admission } from './admission.js';
import { observeShadowResult, runtimeProvider } from './runtime-metrics.js';

export interface ServerOptions {
  readonly services: ReadonlyMap<string, Service>;
  readonly store: Store;
  /** Keyed hash of subject keys; the same key as the contracts' pii hashing. */
  hashSubject(key: string): string;
  readonly limits?: Partial<InputLimits>;
  readonly logger?: FastifyBaseLogger | false;
  /** Ballast's version, reported by /healthz and the OpenAPI document. */
  readonly version: string;
  /** Subscribes to breaker state changes (the runtime's), for metrics and the log. */
  readonly breakerEvents?: (listener: (event: BreakerEvent) => void) => void;
  /** Admission control of the decision route; built from the services' `resilience:` blocks when not given. */
  readonly admission?: Admission;
  /** Prometheus metrics served at /metrics; a fresh registry when not given. */
  readonly metrics?: DecisionMetrics;
  /** Monitoring: sketches fed from every durable decision and feedback, monitor and alert routes, alerts in explanations. */
  readonly monitoring?: MonitoringHub;
  /** API keys and roles, or `{ mode: 'off' }` (every caller is an anonymous admin: loopback only, the CLI checks). */
  readonly auth: ServerAuth;
  /** The Merkle log over the store: checkpoints and proofs for the audit routes. */
  readonly ledger: AuditLedger;
  /** Purges, legal holds and erasure for the retention routes. */
  readonly retention: Retention;
  /** The rollouts' routing per service (the rollout controller's plan); without it every live version serves all traffic. */
  readonly routing?: (service: string) => RoutingPlan | undefined;
  /** Runs the shadow copies of shadow rollouts. */
  readonly shadow?: ShadowRunner;
  /** Rollouts, approvals and the kill switch, for their routes. */
  readonly safeChange?: {
    readonly rollouts: RolloutController;
    readonly approvals: Approvals;
    readonly killSwitch: KillSwitch;
    versionFacts(service: string, version: string): Promise<{ readonly digest: string; readonly author: string } | undefined>;
    gateInputs(service: string, version: string): Promise<Omit<GateInput, 'approvals'> | undefined>;
  };
  /** The model registry, for its routes; `baseDir` is where relative artifact paths resolve (the config file's directory). */
  readonly registry?: { readonly registry: ModelRegistry; readonly baseDir: string };
  /** Live configuration (`apply`, revisions); without it those routes are not registered. */
  readonly config?: ConfigApplier;
  /** Wakes the webhook outbox's delivery loop (the alert dispatcher's), so a review outcome goes out at once, not at the next poll. */
  readonly wakeDeliveries?: () => void;
  /** How long a client may take to send a whole request (headers and body) before a 408; default 30 s. */
  readonly requestTimeoutMs?: number;
  /**
   * How long a drain goes on accepting connections and reading requests before it stops listening and closes the
   * idle connections (default 1 s): a request already on its way gets its 503 SERVER_DRAINING with
   * `Connection: close` instead of a connection reset. The grace ends sooner when no connection is open.
   */
  readonly drainGraceMs?: number;
  /** Trust X-Forwarded-For from this address: the internal listener behind decision workers (see app-base.ts). */
  readonly trustProxy?: (address: string, hop: number) => boolean;
  /** What /metrics serves, when more than this process's registry: the primary of decision workers merges theirs. */
  readonly metricsText?: () => Promise<string>;
}

/** The store's review item of a decision the pipeline planned one for. */
export function reviewItemOf(record: DecisionRecord): NewReviewItem {
  const ticket = record.review!;
  return {
    id: ticket.id,
    decisionId: record.id,
    service: record.service,
    version: record.version,
    createdAt: record.createdAt,
    priority: ticket.priority,
    reasons: record.explanation.reasons,
    dueAt: ticket.dueAt,
    requiredReviews: ticket.requiredReviews,
    kind: 'decision',
    detail: null,
  };
}

export { defaultDrainGraceMs, defaultRequestTimeoutMs } from './app-base.js';

export interface BallastServer {
  readonly app: FastifyInstance;
  readonly pipeline: DecisionPipeline;
  readonly metrics: DecisionMetrics;
  /** API key management, with audit events; revocations here apply to this server at once. */
  readonly keys: KeyManager;
  /** The review queue (its SLA sweep is started by whoever serves: `reviews.start()`; drain stops it). */
  readonly reviews: ReviewQueue;
  /** Stops accepting, finishes what is in flight, flushes the decision log. Idempotent. */
  drain(): Promise<void>;
}

/** Builds the HTTP API over compiled services and a store. Does not listen; the caller does. */
export function createServer(options: ServerOptions): BallastServer {
  const limits = resolveInputLimits(options.limits);
  const metrics = options.metrics ?? createDecisionMetrics();
  const base = createBaseApp({ limits, metrics, ...(options.logger === undefined ? {} : { logger: options.logger }), ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }), ...(options.drainGraceMs === undefined ? {} : { drainGraceMs: options.drainGraceMs }), ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }) });
  const app = base.app;
  const hub = options.monitoring;
  const unsubscribe = hub?.subscribeStatus(metrics.observeMonitorStatus);
  const store = options.store;
  const reviewMetrics = createReviewMetrics(metrics.registry, { store, services: () => options.services.keys() });
  const reviewConfig = (name: string) => {
    const service = options.services.get(name);
    return service === undefined ? undefined : reviewConfigOf(service);
  };
  const reviews = createReviewQueue({
    store,
    config: reviewConfig,
    services: () => options.services.keys(),
    onBreaches: (items) => {
      for (const item of items) reviewMetrics.observeBreach(item.service);
      app.log.warn({ items: items.map((i) => i.id) }, `${items.length} review item(s) passed their SLA and were escalated`);
    },
    onError: (error, what) => app.log.error({ err: error }, `${what} failed`),
    onDecided: (item, decision) => reviewMetrics.observeDecision(item.service, decision),
    ...(options.wakeDeliveries === undefined ? {} : { onDeliveries: options.wakeDeliveries }),
    ...(hub === undefined ? {} : { onFeedback: (feedback, decision, all) => hub.observeFeedback(feedback, decision, all) }),
  });
  const pipeline = createDecisionPipeline({
    services: options.services,
    // A decision that goes to review brings its item into the same transaction.
    sink: { append: (record) => store.decisions.append(record, record.review === undefined ? undefined : reviewItemOf(record)) },
    planReview: (service, record) => planReviewTicket(reviewConfigOf(service), record),
    newId: () => newId('dec'),
    hashSubject: options.hashSubject,
    ...(options.routing === undefined ? {} : { routing: options.routing }),
    ...(options.shadow === undefined ? {} : { shadow: options.shadow }),
    onDecision:
      hub === undefined
        ? metrics.observeDecision
        : (decision, record) => {
            metrics.observeDecision(decision);
            hub.observeDecision(record);
          },
    ...(hub === undefined
      ? {}
      : {
          notices: (service: string, version: string | null) =>
            monitorNotices(hub.activeAlerts(service, version)),
        }),
  });
  const removeInFlight = hub?.addInFlightSource(pipeline.oldestInFlight);
  const unsubscribeShadow = options.shadow?.onResult(observeShadowResult(metrics));
  const removeRuntime = metrics.observeRuntime(
    runtimeProvider({
      services: options.services,
      ...(options.routing === undefined ? {} : { routing: options.routing }),
      ...(options.safeChange === undefined ? {} : { rollouts: options.safeChange.rollouts }),
      ...(options.registry === undefined ? {} : { registry: options.registry.registry }),
    }),
  );
  for (const service of options.services.values()) {
    for (const version of service.versions.values()) {
      if (version.breaker !== undefined) metrics.observeBreakerState({ service: service.name, version: version.name, kind: 'errors', to: version.breaker.snapshot().state });
      if (version.quality !== undefined) metrics.observeBreakerState({ service: service.name, version: version.name, kind: 'quality', to: version.quality.snapshot().state });
    }
  }
  options.breakerEvents?.((event) => {
    const { service, version, kind, transition: t, forced } = event;
    metrics.observeBreakerTransition({ service, version, kind, from: t.from, to: t.to });
    const fields = { service, version, kind, from: t.from, to: t.to, reason: t.reason, ...breakerFigures(event), forced };
    if (t.to === 'open') app.log.warn(fields, `breaker of ${service}/${version} opened: ${t.reason}`);
    else app.log.info(fields, `breaker of ${service}/${version} is ${t.to.replace('_', '-')}: ${t.reason}`);
  });
  const admission = options.admission ?? createAdmission(options.services);
  let drained: Promise<void> | undefined;

  const access = installAuth(app, { auth: options.auth, store: options.store, metrics });
  const keys = createKeyManager({
    store: options.store,
    services: () => options.services.keys(),
    ...(options.auth.mode === 'keys' ? { onChange: options.auth.authenticator.invalidate } : {}),
  });

  registerDecisionRoutes(app, { pipeline, services: options.services, admission, store: options.store, access, onFeedback: hub && ((feedback, decision, all) => hub.observeFeedback(feedback, decision, all)) });
  if (hub !== undefined) registerMonitorRoutes(app, { services: options.services, store: options.store, hub, access });
  registerServiceRoutes(app, { services: options.services, access });
  registerBreakerRoutes(app, { services: options.services, store: options.store });
  if (options.config !== undefined) registerConfigRoutes(app, { applier: options.config, store: options.store });
  const safe = options.safeChange;
  if (safe !== undefined) {
    const hasService = (service: string) => options.services.has(service);
    registerRolloutRoutes(app, { rollouts: safe.rollouts, hasService });
    registerApprovalRoutes(app, {
      approvals: safe.approvals,
      killSwitch: safe.killSwitch,
      hasService,
      versionInfo: (service, version) => safe.versionFacts(service, version),
      currentRevision: () => (options.services instanceof ServiceCatalog ? options.services.revision : 0),
      gateInputs: (service, version) => safe.gateInputs(service, version),
    });
  }
  if (options.registry !== undefined) registerModelRoutes(app, { ...options.registry, hasService: (service) => options.services.has(service) });
  registerKeyRoutes(app, { keys, store: options.store });
  registerAuditRoutes(app, { store: options.store, ledger: options.ledger });
  registerRetentionRoutes(app, { retention: options.retention });
  registerReferenceRoutes(app, { services: options.services, store: options.store, hub });
  registerFairnessRoutes(app, { services: options.services, store });
  registerDatasetRoutes(app, { store, hasService: (service) => options.services.has(service) });
  registerReviewRoutes(app, { reviews, appeals: createAppeals({
      store,
      config: reviewConfig,
      onError: (error, what) => app.log.error({ err: error }, `${what} failed`),
      ...(hub === undefined ? {} : { onFeedback: (feedback, decision, all) => hub.observeFeedback(feedback, decision, all) }),
    }), store, stats: createReviewStats({ store }), access, hasService: (service) => options.services.has(service) });
  registerOperationalRoutes(app, { store: options.store, services: options.services, version: options.version, metrics, isDraining: base.isDraining, ...(options.metricsText === undefined ? {} : { metricsText: options.metricsText }) });

  return {
    app,
    pipeline,
    metrics,
    keys,
    reviews,
    drain() {
      drained ??= (async () => {
        await base.drainConnections();
        await reviews.stop();
        await options.store.flush();
        unsubscribe?.();
        removeInFlight?.();
        unsubscribeShadow?.();
        removeRuntime();
        if (options.admission === undefined) admission.close();
      })();
      return drained;
    },
  };
}
