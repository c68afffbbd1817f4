import type { FastifyInstance } from 'fastify';
import type { DecisionMetrics } from '../../monitoring/metrics/index.js';
import type { Service } from '../../pipeline/index.js';
import type { Store } from '../../store/index.js';
import { buildOpenApiDocument } from '../openapi.js';

interface Deps {
  readonly store: Store;
  readonly services: ReadonlyMap<string, Service>;
  readonly version: string;
  readonly metrics: DecisionMetrics;
  /** The text /metrics serves, when it is more than this process's registry (the primary of decision workers merges theirs). */
  readonly metricsText?: () => Promise<string>;
  isDraining(): boolean;
}

/** Liveness, readiness, Prometheus metrics and the API's own description. */
export function registerOperationalRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/healthz', async () => ({ status: 'ok', version: deps.version }));

  // Ready means able to acknowledge decisions: the log is writable and we are not draining. A model
  // that is down does not make Ballast unready, since its decisions degrade to review instead.
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = { draining: deps.isDraining() ? 'yes' : 'no' };
    try {
      await deps.store.ping();
      checks.store = 'ok';
    } catch (error) {
      checks.store = error instanceof Error ? error.message : 'unavailable';
    }
    const ready = checks.store === 'ok' && checks.draining === 'no';
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready', checks };
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.type(deps.metrics.registry.contentType);
    return deps.metricsText === undefined ? deps.metrics.registry.metrics() : deps.metricsText();
  });

  const document = buildOpenApiDocument({ version: deps.version, services: deps.services });
  app.get('/v1/openapi.json', async () => document);
}
