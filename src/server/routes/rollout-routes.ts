import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import type { RolloutController } from '../../governance/index.js';
import { actorOf, objectBody } from './key-routes.js';

interface Deps {
  readonly rollouts: RolloutController;
  hasService(service: string): boolean;
}

type ServiceParams = { Params: { service: string } };

function reasonOf(body: Record<string, unknown>, what: string): string {
  const reason = body.reason;
  if (typeof reason !== 'string' || reason.trim() === '') throw new BallastError('REQUEST_INVALID', { detail: `say why you ${what}`, issues: [{ pointer: '/reason', code: 'required', message: 'must be a non-empty string' }] });
  return reason.trim();
}

const actions = ['pause', 'resume', 'promote', 'abort', 'retry'] as const;

/** Rollouts: start one, read its state and whole history (every verdict with its numbers), act on it, roll back. */
export function registerRolloutRoutes(app: FastifyInstance, { rollouts, hasService }: Deps): void {
  const known = (service: string) => {
    if (!hasService(service)) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}'` });
  };

  app.post<ServiceParams>('/v1/services/:service/rollouts', async (request) => {
    known(request.params.service);
    const body = objectBody(request.body, 'a rollout start');
    const { candidate, reason: _reason, ...options } = body;
    if (typeof candidate !== 'string' || candidate === '') throw new BallastError('REQUEST_INVALID', { detail: 'a rollout needs the candidate version', issues: [{ pointer: '/candidate', code: 'required', message: 'must be the name of a model version' }] });
    const reason = reasonOf(body, `start a rollout of ${candidate}`);
    return rollouts.start(request.params.service, { ...(options as object), candidate }, { actor: actorOf(request), reason });
  });

  app.get<ServiceParams & { Querystring: { limit?: string } }>('/v1/services/:service/rollouts', async (request) => {
    known(request.params.service);
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    return { service: request.params.service, rollouts: await rollouts.list(request.params.service, Number.isFinite(limit) ? Math.min(Math.max(Math.trunc(limit), 1), 1000) : 50) };
  });

  app.get<ServiceParams>('/v1/services/:service/rollout', async (request) => {
    known(request.params.service);
    const status = await rollouts.status(request.params.service);
    if (status === undefined) throw new BallastError('ROLLOUT_NOT_FOUND', { detail: `service ${request.params.service} has had no rollout` });
    return { ...status, routing: rollouts.plan(request.params.service) };
  });

  for (const action of actions) {
    app.post<ServiceParams>(`/v1/services/:service/rollout/${action}`, async (request) => {
      known(request.params.service);
      const body = objectBody(request.body, `a rollout ${action}`);
      return rollouts[action](request.params.service, { actor: actorOf(request), reason: reasonOf(body, `${action} the rollout`) });
    });
  }

  app.post<ServiceParams>('/v1/services/:service/rollback', async (request) => {
    known(request.params.service);
    const body = objectBody(request.body, 'a rollback');
    const started = performance.now();
    const rollout = await rollouts.rollback(request.params.service, { actor: actorOf(request), reason: reasonOf(body, 'roll back') });
    return { rollout, routing: rollouts.plan(request.params.service), tookMs: Math.round((performance.now() - started) * 1000) / 1000 };
  });
}
