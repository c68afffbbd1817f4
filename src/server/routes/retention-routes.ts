import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import type { Retention } from '../../governance/index.js';
import { actorOf, objectBody } from './key-routes.js';

interface Deps {
  readonly retention: Retention;
}

const optionalString = (body: Record<string, unknown>, key: string): string | undefined => {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BallastError('REQUEST_INVALID', { detail: `${key} must be a string`, issues: [{ pointer: `/${key}`, code: 'type', message: 'must be a string' }] });
  return value;
};

/** Retention for admins: purge now, legal holds, erasure of one data subject. Each is audited. */
export function registerRetentionRoutes(app: FastifyInstance, { retention }: Deps): void {
  app.post('/v1/retention/purge', async (request) => ({ services: await retention.purge({ actor: actorOf(request), requestId: request.id }) }));

  app.get<{ Querystring: { active?: string } }>('/v1/retention/holds', async (request) => ({ holds: await retention.holds(request.query.active === 'true' ? { active: true } : {}) }));

  app.post('/v1/retention/holds', async (request, reply) => {
    const body = objectBody(request.body, 'a legal hold');
    const service = optionalString(body, 'service');
    const decisionId = optionalString(body, 'decisionId');
    const hold = await retention.hold({ ...(service === undefined ? {} : { service }), ...(decisionId === undefined ? {} : { decisionId }), reason: optionalString(body, 'reason') ?? '' }, { actor: actorOf(request), requestId: request.id });
    return reply.code(201).send(hold);
  });

  app.post<{ Params: { id: string } }>('/v1/retention/holds/:id/release', async (request) => retention.release(request.params.id, { actor: actorOf(request), requestId: request.id }));

  app.post('/v1/subjects/erase', async (request) => {
    const body = objectBody(request.body, 'an erasure request');
    return retention.eraseSubject(optionalString(body, 'subjectKey') ?? '', { actor: actorOf(request), requestId: request.id });
  });
}
