import type { FastifyInstance } from 'fastify';
import { BallastError, type Issue } from '../../errors/index.js';
import {
  DEFAULT_REFERENCE_NAME,
  buildReferenceRecord,
  decisionWindowRows,
  referenceFeaturesOf,
  referenceNamePattern,
  windowLabels,
  type DecisionWindowOptions,
} from '../../monitoring/reference/index.js';
import type { Service } from '../../pipeline/index.js';
import { auditEvent } from '../../governance/index.js';
import { newId, type Store } from '../../store/index.js';
import { actorOf } from './key-routes.js';
import { monitoringLabels } from '../monitoring-runtime.js';

/** How a service's predicted and true labels are read from outputs and feedback values. */
export type ReferenceLabels = Required<Pick<DecisionWindowOptions, 'outputLabel' | 'feedbackLabel'>>;

interface Deps {
  readonly services: ReadonlyMap<string, Service>;
  readonly store: Store;
  /** Told when the profile monitors use (`default`) was rebuilt. */
  readonly hub?: { reloadReference(service: string): Promise<void> };
}

type ServiceParams = { Params: { service: string } };
type ReferenceParams = { Params: { service: string; name: string } };

const namePattern = new RegExp(referenceNamePattern);

interface WindowRequest {
  readonly name: string;
  readonly since: string;
  readonly until: string;
}

function instant(value: unknown, key: string, issues: Issue[]): string | undefined {
  if (value === undefined || value === null) {
    issues.push({ pointer: `/${key}`, code: 'required', message: `must have the property '${key}' (an ISO 8601 instant, e.g. 2025-01-31T00:00:00Z)` });
    return undefined;
  }
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    issues.push({ pointer: `/${key}`, code: 'format', message: 'must be an ISO 8601 date-time with a time zone, e.g. 2025-01-31T00:00:00Z' });
    return undefined;
  }
  return new Date(ms).toISOString();
}

/** Reads `{ name?, since, until }`: a name for the profile and the window [since, until) of the decision log. */
function readWindowRequest(body: unknown): WindowRequest {
  if (body === undefined) throw new BallastError('REQUEST_UNSUPPORTED_MEDIA_TYPE', { detail: 'building a reference needs a JSON body with Content-Type: application/json' });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BallastError('REQUEST_INVALID', { detail: 'the reference request must be a JSON object', issues: [{ pointer: '', code: 'type', message: 'must be an object' }] });
  }
  const obj = body as Record<string, unknown>;
  const issues: Issue[] = [];
  for (const key of Object.keys(obj)) {
    if (!['name', 'since', 'until'].includes(key)) issues.push({ pointer: `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, code: 'additionalProperties', message: `unknown property '${key}' (allowed: name, since, until)` });
  }
  const name = obj.name ?? DEFAULT_REFERENCE_NAME;
  if (typeof name !== 'string' || !namePattern.test(name)) issues.push({ pointer: '/name', code: 'pattern', message: `must match ${referenceNamePattern}` });
  const since = instant(obj.since, 'since', issues);
  const until = instant(obj.until, 'until', issues);
  if (since !== undefined && until !== undefined && since >= until) issues.push({ pointer: '/until', code: 'range', message: 'must be after since' });
  if (issues.length > 0 || since === undefined || until === undefined) throw new BallastError('REQUEST_INVALID', { detail: 'the reference request is not of the expected shape', issues });
  return { name: name as string, since, until };
}

/** Reference profiles: built from a window of the decision log, listed, read with their statistics. */
export function registerReferenceRoutes(app: FastifyInstance, { services, store, hub }: Deps): void {
  const serviceNamed = (name: string): Service => {
    const service = services.get(name);
    if (service === undefined) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${name}'` });
    return service;
  };

  app.post<ServiceParams>('/v1/services/:service/references', async (request, reply) => {
    const service = serviceNamed(request.params.service);
    const { name, since, until } = readWindowRequest(request.body);
    const { features, skipped: notSketched } = referenceFeaturesOf(service.contract.inputFields);
    const window: DecisionWindowOptions = { service: service.name, since, until, ...monitoringLabels(service) };
    const known = await windowLabels(store, window);
    const { record, skipped } = await buildReferenceRecord(() => decisionWindowRows(store, window, known), {
      service: service.name,
      features,
      id: newId('ref'),
      name,
      createdAt: new Date().toISOString(),
      source: (rows) => ({ kind: 'window', since, until, decisions: rows }),
      afterFirstPass: (rows) => {
        if (rows === 0) throw new BallastError('REFERENCE_WINDOW_EMPTY', { detail: `${service.name} has no decisions from ${since} until ${until}` });
      },
    });
    const { sketch: _sketch, vocabularies: _vocabularies, calibration: _calibration, ...summary } = record;
    await store.references.put(record, auditEvent({ actor: actorOf(request), action: 'reference.built', resource: { kind: 'reference', id: record.id }, service: service.name, after: record, redact: () => summary, requestId: request.id }));
    if (name === DEFAULT_REFERENCE_NAME) await hub?.reloadReference(service.name);
    void reply.status(201).header('location', `/v1/services/${service.name}/references/${name}`);
    return { ...record, skipped: [...notSketched, ...skipped] };
  });

  app.get<ServiceParams>('/v1/services/:service/references', async (request) => {
    const service = serviceNamed(request.params.service);
    const references = await store.references.list(service.name);
    return {
      service: service.name,
      // Newest first within a name: the first of each name is the one in use.
      references: references.map((r, i) => ({ ...r, latest: i === 0 || references[i - 1]!.name !== r.name })),
    };
  });

  app.get<ReferenceParams>('/v1/services/:service/references/:name', async (request) => {
    const service = serviceNamed(request.params.service);
    const reference = await store.references.get(service.name, request.params.name);
    if (reference === undefined) throw new BallastError('REFERENCE_NOT_FOUND', { detail: `${service.name} has no reference profile named '${request.params.name}'` });
    return reference;
  });
}
