// Fairness of a service's decisions across its protected attributes, over a window.
import type { FastifyInstance } from 'fastify';
import { BallastError } from '../../errors/index.js';
import { fairnessConfigOf, fairnessReport } from '../../monitoring/fairness/index.js';
import type { Service } from '../../pipeline/index.js';
import type { Store } from '../../store/index.js';
import { instantOf } from './query.js';

type FairnessQuery = { Params: { service: string }; Querystring: { since?: string; until?: string; version?: string } };

const instant = (raw: string | undefined, pointer: string): number | undefined => {
  const iso = instantOf(raw, pointer);
  return iso === undefined ? undefined : Date.parse(iso);
};

export function registerFairnessRoutes(app: FastifyInstance, deps: { readonly services: ReadonlyMap<string, Service>; readonly store: Store }): void {
  app.get<FairnessQuery>('/v1/services/:service/fairness', async (request) => {
    const service = deps.services.get(request.params.service);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${request.params.service}'` });
    const config = fairnessConfigOf(service);
    if (config === undefined) {
      throw new BallastError('REQUEST_INVALID', { detail: `${service.name} has no fairness: block (protected fields, the favourable answer, bounds)`, issues: [{ pointer: '/service', code: 'no_fairness', message: 'add a fairness: block to the service' }] });
    }
    const until = instant(request.query.until, '/until') ?? Date.now();
    const since = instant(request.query.since, '/since') ?? until - config.windowMs;
    if (since >= until) throw new BallastError('REQUEST_INVALID', { detail: 'since must be before until', issues: [{ pointer: '/since', code: 'range', message: 'not before until' }] });
    return fairnessReport(deps.store, { service: service.name, config, since: new Date(since).toISOString(), until: new Date(until).toISOString(), ...(request.query.version === undefined ? {} : { version: request.query.version }) });
  });
}
