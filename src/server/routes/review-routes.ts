// The review queue over HTTP: reviewers take the next item under a lease and decide it; the caller
// polls an item's status and final outcome (it also hears by webhook).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BallastError, type Issue } from '../../errors/index.js';
import type { Principal } from '../../governance/index.js';
import { reviewVerdicts, reviewStates, type ReviewState, type ReviewVerdict } from '../../store/index.js';
import { advisoryPoints, advisoryReport, readAppeal, type Appeals, type ReviewQueue, type ReviewStats } from '../../review/index.js';
import type { Store } from '../../store/index.js';
import type { Access } from '../auth.js';
import { anonymousPrincipal } from '../auth.js';
import { objectBody } from './key-routes.js';
import { instantOf, limitOf } from './query.js';

interface Deps {
  readonly reviews: ReviewQueue;
  readonly appeals: Appeals;
  readonly store: Store;
  readonly stats: ReviewStats;
  readonly access: Access;
  readonly hasService: (service: string) => boolean;
}

type ItemParams = { Params: { id: string } };

const principalOf = (request: FastifyRequest): Principal => request.principal ?? anonymousPrincipal;

/** Reads `{ decision, label?, rationale? }`. */
export function readVerdict(body: unknown): { decision: ReviewVerdict; label?: unknown; rationale?: string } {
  const obj = objectBody(body, 'a review decision');
  const issues: Issue[] = [];
  for (const key of Object.keys(obj)) if (!['decision', 'label', 'rationale'].includes(key)) issues.push({ pointer: `/${key}`, code: 'additionalProperties', message: 'is not a property of a review decision' });
  if (typeof obj.decision !== 'string' || !(reviewVerdicts as readonly string[]).includes(obj.decision)) issues.push({ pointer: '/decision', code: 'enum', message: `must be one of ${reviewVerdicts.join(', ')}` });
  if (obj.rationale !== undefined && typeof obj.rationale !== 'string') issues.push({ pointer: '/rationale', code: 'type', message: 'must be a string' });
  if (issues.length > 0) throw new BallastError('REQUEST_INVALID', { detail: 'the review decision is not of the expected shape', issues });
  return { decision: obj.decision as ReviewVerdict, ...(obj.label === undefined ? {} : { label: obj.label }), ...(obj.rationale === undefined ? {} : { rationale: obj.rationale as string }) };
}

export function registerReviewRoutes(app: FastifyInstance, { reviews, appeals, store, stats, access, hasService }: Deps): void {
  const checkService = (service: string | undefined, pointer: string) => {
    if (service !== undefined && !hasService(service)) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service '${service}' is being served`, issues: [{ pointer, code: 'unknown_service', message: `no service '${service}'` }] });
  };
  /** Loads the item and checks the principal's permission on its service. */
  const item = async (request: FastifyRequest<ItemParams>, permission: 'reviews:status' | 'reviews:decide') => {
    const found = await reviews.find(request.params.id);
    if (found === undefined) throw new BallastError('REVIEW_NOT_FOUND', { detail: `no review item '${request.params.id}'` });
    await access.require(request, permission, found.service);
    return found;
  };

  app.get<{ Querystring: { service?: string; state?: string; limit?: string; after?: string } }>('/v1/reviews', async (request) => {
    const q = request.query;
    checkService(q.service, '/service');
    if (q.state !== undefined && !(reviewStates as readonly string[]).includes(q.state)) throw new BallastError('REQUEST_INVALID', { detail: `state must be one of ${reviewStates.join(', ')}`, issues: [{ pointer: '/state', code: 'enum', message: `got '${q.state}'` }] });
    if (q.service !== undefined) await access.require(request, 'reviews:read', q.service);
    const filter = { ...(q.service === undefined ? {} : { service: q.service }), ...(q.state === undefined ? {} : { state: q.state as ReviewState }) };
    const limit = limitOf(q.limit);
    const page = await reviews.list({ ...filter, limit, ...(q.after === undefined ? {} : { after: q.after }) });
    // A key of one service sees that service's items only.
    const items = page.filter((i) => access.allows(request, 'reviews:read', i.service));
    // A next page only when there is one: a full page may be the last.
    const last = page.at(-1);
    const more = page.length === limit && last !== undefined && (await reviews.list({ ...filter, limit: 1, after: last.id })).length > 0;
    return { items, next: more ? last.id : null };
  });

  app.get<{ Querystring: { service?: string; since?: string; until?: string } }>('/v1/reviews/stats', async (request) => {
    const q = request.query;
    checkService(q.service, '/service');
    const principal = principalOf(request);
    const service = q.service ?? principal.service ?? undefined;
    if (service !== undefined) await access.require(request, 'reviews:read', service);
    const since = instantOf(q.since, '/since');
    const until = instantOf(q.until, '/until');
    if (since !== undefined && until !== undefined && since >= until) throw new BallastError('REQUEST_INVALID', { detail: 'since must be before until', issues: [{ pointer: '/since', code: 'range', message: `${since} is not before ${until}` }] });
    return stats.compute({ ...(service === undefined ? {} : { service }), ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) });
  });

  app.post<{ Body: unknown }>('/v1/reviews/next', async (request, reply) => {
    const body = request.body === undefined ? {} : objectBody(request.body, 'a claim');
    const services = body.services;
    if (services !== undefined && (!Array.isArray(services) || !services.every((s) => typeof s === 'string'))) {
      throw new BallastError('REQUEST_INVALID', { detail: 'services must be a list of service names', issues: [{ pointer: '/services', code: 'type', message: 'must be an array of strings' }] });
    }
    for (const [i, s] of ((services ?? []) as string[]).entries()) {
      checkService(s, `/services/${i}`);
      await access.require(request, 'reviews:decide', s);
    }
    const next = await reviews.next(principalOf(request), services === undefined ? {} : { services: services as string[] });
    if (next === undefined) return reply.status(204).send();
    return next;
  });

  app.get<ItemParams>('/v1/reviews/:id', async (request) => {
    const found = await item(request, 'reviews:status');
    // The caller sees status and outcome; a reviewer (or auditor) also the input and explanation.
    return reviews.get(found.id, { actor: principalOf(request), withInput: access.allows(request, 'reviews:read', found.service) });
  });

  app.post<ItemParams>('/v1/reviews/:id/decision', async (request) => {
    const verdict = readVerdict(request.body);
    const found = await item(request, 'reviews:decide');
    return reviews.decide(principalOf(request), found.id, verdict, request.id);
  });

  app.post<ItemParams>('/v1/reviews/:id/renew', async (request) => {
    const found = await item(request, 'reviews:decide');
    return reviews.renew(principalOf(request), found.id);
  });

  app.get<{ Params: { service: string }; Querystring: { since?: string; until?: string; maxErrorRate?: string; minDecisions?: string } }>('/v1/services/:service/advisory', async (request) => {
    const { service } = request.params;
    checkService(service, '/service');
    const q = request.query;
    const since = instantOf(q.since, '/since');
    const until = instantOf(q.until, '/until');
    const maxErrorRate = q.maxErrorRate === undefined ? 0.05 : Number(q.maxErrorRate);
    const minDecisions = q.minDecisions === undefined ? 30 : Number(q.minDecisions);
    if (!Number.isInteger(minDecisions) || minDecisions < 1) throw new BallastError('REQUEST_INVALID', { detail: 'minDecisions must be a positive integer', issues: [{ pointer: '/minDecisions', code: 'range', message: `got '${q.minDecisions}'` }] });
    const points = await advisoryPoints(store, { service, ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) });
    return { service, since: since ?? null, until: until ?? null, ...advisoryReport(points, { maxErrorRate, minDecisions }) };
  });

  // Appeals: by or for the data subject, of any decision (an automatic decline as much as a reviewed one).
  app.post<ItemParams>('/v1/decisions/:id/appeals', async (request, reply) => {
    const input = readAppeal(objectBody(request.body, 'an appeal'));
    const decision = await store.decisions.get(request.params.id);
    if (decision === undefined) throw new BallastError('DECISION_NOT_FOUND', { detail: `no decision with id '${request.params.id}'` });
    await access.require(request, 'appeals:create', decision.service);
    const filed = await appeals.file(principalOf(request), decision.id, input, request.id);
    return reply.status(201).send(await reviews.get(filed.id, { actor: principalOf(request), withInput: false }));
  });

  app.get<ItemParams>('/v1/decisions/:id/appeals', async (request) => {
    const decision = await store.decisions.get(request.params.id);
    if (decision === undefined) throw new BallastError('DECISION_NOT_FOUND', { detail: `no decision with id '${request.params.id}'` });
    await access.require(request, 'reviews:status', decision.service);
    const items = await appeals.list(decision.id);
    return { decisionId: decision.id, appeals: await Promise.all(items.map((i) => reviews.get(i.id, { withInput: false }))) };
  });

  app.post<ItemParams>('/v1/reviews/:id/release', async (request) => {
    const found = await item(request, 'reviews:decide');
    return reviews.release(principalOf(request), found.id);
  });
}
