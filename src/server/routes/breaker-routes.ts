import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import { auditEvent } from '../../governance/index.js';
import type { ModelVersion, Service } from '../../pipeline/index.js';
import { createSerialQueue, type SerialQueue } from '../../resilience/index.js';
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

/** A version's quality breaker as the API shows it. */
function qualityView(version: ModelVersion) {
  const s = version.quality!.snapshot();
  return {
    version: version.name,
    kind: 'quality',
    enabled: true,
    state: s.state,
    since: new Date(s.since).toISOString(),
    reason: s.reason,
    figures: s.figures,
  };
}

function findVersion(services: Deps['services'], serviceName: string, versionName: string): { service: Service; version: ModelVersion } {
  const service = services.get(serviceName);
  if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${serviceName}'` });
  const version = service.versions.get(versionName);
  if (version === undefined) throw new BallastError('VERSION_NOT_FOUND', { detail: `service ${serviceName} has no model version '${versionName}'` });
  return { service, version };
}

type Request = Parameters<typeof actorOf>[0];

/**
 * Operator actions on one breaker run one at a time (a serial queue keyed by breaker): an action reads the state,
 * awaits the store, then acts, so two at once would both see the old state and both be recorded (and audited) as the change.
 */
export function registerBreakerRoutes(app: FastifyInstance, deps: Deps): void {
  registerRoutes(app, deps, createSerialQueue(), (service, version, target, reason, request) => forceQualityWith(deps, service, version, target, reason, request));
}

/** An operator opens or closes a quality breaker: kept and audited before it takes effect, like the error breaker. */
async function forceQualityWith(deps: Deps, service: Service, version: ModelVersion, target: 'open' | 'close', reason: string, request: Request) {
  const quality = version.quality;
  if (quality === undefined) throw new BallastError('REQUEST_INVALID', { detail: `service ${service.name} has no quality breaker (resilience.qualityBreaker)` });
  const before = quality.snapshot();
  const to = target === 'open' ? 'open' : 'closed';
  if (before.state === to) return { changed: false, breaker: qualityView(version) };
  const actor = actorOf(request);
  const at = new Date().toISOString();
  await deps.store.breakers.append(
    { id: newId('brk'), service: service.name, version: version.name, kind: 'quality', from: before.state, to, at, reason: `${actor.principal}: ${reason}`, figures: { operator: reason, before: before.figures, ...(to === 'closed' ? { pardonedThrough: quality.pardonOnClose() } : {}) }, actor: actor.principal },
    auditEvent({ actor, action: target === 'open' ? 'breaker.opened' : 'breaker.closed', resource: { kind: 'breaker', id: `${service.name}/${version.name}/quality` }, service: service.name, before: { state: before.state, reason: before.reason }, after: { state: to }, detail: reason, requestId: request.id, at }),
  );
  if (to === 'open') quality.forceOpen(`${actor.principal}: ${reason}`, { operator: reason });
  else quality.forceClose(`${actor.principal}: ${reason}`);
  return { changed: true, breaker: qualityView(version) };
}

/** Breakers: their state and kept history; an operator opens or closes one, audited, with a reason. */
function registerRoutes(
  app: FastifyInstance,
  { services, store }: Deps,
  oneAtATime: SerialQueue,
  forceQuality: (service: Service, version: ModelVersion, target: 'open' | 'close', reason: string, request: Request) => Promise<unknown>,
): void {
  app.get<{ Params: { service: string } }>('/v1/services/:service/breakers', async (request) => {
    const service = services.get(request.params.service);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${request.params.service}'` });
    const history = await store.breakers.list({ service: service.name, limit: historyLimit });
    const versions = [...service.versions.values()];
    return { service: service.name, breakers: [...versions.map(breakerView), ...versions.filter((v) => v.quality !== undefined).map(qualityView)], history };
  });

  for (const target of ['open', 'close'] as const) {
    app.post<{ Params: { service: string; version: string } }>(`/v1/services/:service/breakers/:version/${target}`, async (request) => {
      const { service, version } = findVersion(services, request.params.service, request.params.version);
      const body = objectBody(request.body, `a breaker ${target}`);
      const reason = body.reason;
      if (typeof reason !== 'string' || reason.trim() === '') {
        throw new BallastError('REQUEST_INVALID', { detail: `say why the breaker should ${target}`, issues: [{ pointer: '/reason', code: 'required', message: 'must be a non-empty string' }] });
      }
      const kind = body.kind ?? 'errors';
      if (kind !== 'errors' && kind !== 'quality') {
        throw new BallastError('REQUEST_INVALID', { detail: "kind must be 'errors' (the default) or 'quality'", issues: [{ pointer: '/kind', code: 'enum', message: 'must be errors or quality' }] });
      }
      const key = `${service.name}/${version.name}/${kind}`;
      if (kind === 'quality') return oneAtATime(key, () => forceQuality(service, version, target, reason.trim(), request));
      if (version.breaker === undefined) {
        throw new BallastError('REQUEST_INVALID', { detail: `model ${service.name}/${version.name} has no breaker (resilience.breaker.enabled is false)` });
      }
      const breaker = version.breaker;
      return oneAtATime(key, async () => {
        const before = breaker.snapshot();
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
    });
  }
}
