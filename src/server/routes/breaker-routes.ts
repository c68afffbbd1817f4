import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import { auditEvent } from '../../governance/index.js';
import type { ModelVersion, Service } from '../../pipeline/index.js';
import { newId, type Store } from '../../store/index.js';
import { actorOf, objectBody } from './key-routes.js';

interface Deps {
  readonly services: ReadonlyMap<string, Service>;
  readonly store: Pick<Store, 'breakers'>;
}

const historyLimit = 50;

/** A version's breaker as the API shows it. */
function breakerView(version: ModelVersion) {
  const breaker = version.breaker;
  if (breaker === undefined) return { version: version.name, kind: 'errors', enabled: false };
  const s = breaker.snapshot();
  const config = version.resilience.breaker;
  return {
    version: version.name,
    kind: 'errors',
    enabled: true,
    state: s.state,
    since: new Date(s.since).toISOString(),
    ...(s.openUntil === undefined ? {} : { openUntil: new Date(s.openUntil).toISOString() }),
    calls: s.calls,
    failures: s.failures,
    slowCalls: s.slowCalls,
    failureRate: s.failureRate,
    slowCallRate: s.slowCallRate,
    probesInFlight: s.probesInFlight,
    config,
  };
}

function findVersion(services: Deps['services'], serviceName: string, versionName: string): { service: Service; version: ModelVersion } {
  const service = services.get(serviceName);
  if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${serviceName}'` });
  const version = service.versions.get(versionName);
  if (version === undefined) throw new BallastError('VERSION_NOT_FOUND', { detail: `service ${serviceName} has no model version '${versionName}'` });
  return { service, version };
}

/** Breakers: their state and kept history; an operator opens or closes one, audited, with a reason. */
export function registerBreakerRoutes(app: FastifyInstance, { services, store }: Deps): void {
  app.get<{ Params: { service: string } }>('/v1/services/:service/breakers', async (request) => {
    const service = services.get(request.params.service);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${request.params.service}'` });
    const history = await store.breakers.list({ service: service.name, limit: historyLimit });
    return { service: service.name, breakers: [...service.versions.values()].map(breakerView), history };
  });

  for (const target of ['open', 'close'] as const) {
    app.post<{ Params: { service: string; version: string } }>(`/v1/services/:service/breakers/:version/${target}`, async (request) => {
      const { service, version } = findVersion(services, request.params.service, request.params.version);
      const body = objectBody(request.body, `a breaker ${target}`);
      const reason = body.reason;
      if (typeof reason !== 'string' || reason.trim() === '') {
        throw new BallastError('REQUEST_INVALID', { detail: `say why the breaker should ${target}`, issues: [{ pointer: '/reason', code: 'required', message: 'must be a non-empty string' }] });
      }
      if (version.breaker === undefined) {
        throw new BallastError('REQUEST_INVALID', { detail: `model ${service.name}/${version.name} has no breaker (resilience.breaker.enabled is false)` });
      }
      const before = version.breaker.snapshot();
      const to = target === 'open' ? 'open' : 'closed';
      if (before.state === to) return { changed: false, breaker: breakerView(version) };
      const actor = actorOf(request);
      const at = new Date().toISOString();
      const transition = {
        id: newId('brk'),
        service: service.name,
        version: version.name,
        kind: 'errors',
        from: before.state,
        to,
        at,
        reason: `${actor.principal}: ${reason.trim()}`,
        figures: { calls: before.calls, failureRate: before.failureRate, slowCallRate: before.slowCallRate },
        actor: actor.principal,
      };
      // Kept and audited before it takes effect: no operator's change is ever without its event.
      await store.breakers.append(
        transition,
        auditEvent({ actor, action: target === 'open' ? 'breaker.opened' : 'breaker.closed', resource: { kind: 'breaker', id: `${service.name}/${version.name}` }, service: service.name, before: { state: before.state }, after: { state: to }, detail: reason.trim(), requestId: request.id, at }),
      );
      version.forceBreaker(to, transition.reason);
      return { changed: true, breaker: breakerView(version) };
    });
  }
}
