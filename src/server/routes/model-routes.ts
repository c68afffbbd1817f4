// The model registry over HTTP: list, show, register, a version's history, and which versions served a
// service at an instant. Files named in a remote registration resolve against the server's config
// directory (the client's paths mean nothing here), so a spec registered over the API is hashed as the
// server sees those files.
import type { FastifyInstance } from 'fastify';
import { createSchemaValidator } from '../../contracts/index.js';
import { BallastError, type Issue } from '../../errors/index.js';
import { isoInstant, modelVersionSpecDocumentSchema, type ModelRegistry, type ModelVersionSpec, type ModelVersionView } from '../../governance/index.js';
import { versionNamePattern } from '../../pipeline/index.js';
import { actorOf, objectBody } from './key-routes.js';

export interface ModelRouteDeps {
  readonly registry: ModelRegistry;
  /** Relative paths in a registered spec resolve against this directory (the config file's). */
  readonly baseDir: string;
  /** Whether a service of this name runs; when given, registering for another is SERVICE_NOT_FOUND. */
  readonly hasService?: (service: string) => boolean;
}

type ServiceParams = { service: string };
type VersionParams = { service: string; version: string };

const specValidator = createSchemaValidator<ModelVersionSpec>(modelVersionSpecDocumentSchema as unknown as Record<string, unknown>, { subject: 'the spec' });
const versionName = new RegExp(versionNamePattern);

/** A version in a list: what it is, without its whole spec. */
const summary = (v: ModelVersionView) => ({
  name: v.name,
  digest: v.digest,
  author: v.author,
  registeredAt: v.registeredAt,
  state: v.state,
  since: v.since,
  ...(v.spec.description === undefined ? {} : { description: v.spec.description }),
});

function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  throw new BallastError('REQUEST_INVALID', {
    detail: `unknown propert${unknown.length === 1 ? 'y' : 'ies'} ${unknown.join(', ')}`,
    issues: unknown.map((k) => ({ pointer: `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, code: 'additionalProperties', message: `unknown property '${k}' (allowed: ${allowed.join(', ')})` })),
  });
}

/** GET list, GET one (with history), POST register, GET history, GET served. */
export function registerModelRoutes(app: FastifyInstance, deps: ModelRouteDeps): void {
  const { registry } = deps;

  /** SERVICE_NOT_FOUND for a service that neither runs nor ever had a version registered. */
  async function knownService(service: string): Promise<void> {
    if (deps.hasService === undefined || deps.hasService(service)) return;
    if ((await registry.list(service)).length > 0) return;
    throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}'` });
  }

  async function versionOf(service: string, version: string): Promise<ModelVersionView> {
    const found = await registry.get(service, version);
    if (found === undefined) {
      await knownService(service);
      throw new BallastError('VERSION_NOT_FOUND', { detail: `service ${service} has no registered model version '${version}'` });
    }
    return found;
  }

  app.get<{ Params: ServiceParams }>('/v1/services/:service/models', async (request) => {
    const { service } = request.params;
    await knownService(service);
    return { service, versions: (await registry.list(service)).map(summary) };
  });

  app.get<{ Params: VersionParams }>('/v1/services/:service/models/:version', async (request) => {
    const { service, version } = request.params;
    const found = await versionOf(service, version);
    return { ...found, history: await registry.history(service, version) };
  });

  app.get<{ Params: VersionParams }>('/v1/services/:service/models/:version/history', async (request) => {
    const { service, version } = request.params;
    const found = await versionOf(service, version);
    return { service, version, state: found.state, transitions: await registry.history(service, version) };
  });

  app.post<{ Params: ServiceParams }>('/v1/services/:service/models', async (request, reply) => {
    const { service } = request.params;
    if (deps.hasService !== undefined && !deps.hasService(service)) throw new BallastError('SERVICE_NOT_FOUND', { detail: `no service named '${service}'` });
    const body = objectBody(request.body, 'a model version registration');
    onlyKeys(body, ['name', 'spec', 'reason']);
    const issues: Issue[] = [];
    if (typeof body.name !== 'string' || !versionName.test(body.name)) issues.push({ pointer: '/name', code: 'pattern', message: `must be a version name matching ${versionNamePattern}` });
    if (body.reason !== undefined && typeof body.reason !== 'string') issues.push({ pointer: '/reason', code: 'type', message: 'must be a string' });
    const checked = specValidator(body.spec);
    if (!checked.ok) issues.push(...checked.issues.map((i) => ({ ...i, pointer: `/spec${i.pointer}` })));
    if (issues.length > 0 || !checked.ok) throw new BallastError('REQUEST_INVALID', { detail: 'the registration is invalid', issues });
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    try {
      const result = await registry.register({ service, name: body.name as string, spec: checked.value, baseDir: deps.baseDir }, { actor: actorOf(request), reason, requestId: request.id });
      void reply.code(result.created ? 201 : 200);
      return result;
    } catch (error) {
      // The digest's issues point into the spec; in this body the spec sits under /spec.
      if (error instanceof BallastError && error.issues.length > 0) {
        throw new BallastError(error.code, { detail: error.detail, issues: error.issues.map((i) => ({ ...i, pointer: `/spec${i.pointer}` })) });
      }
      throw error;
    }
  });

  app.get<{ Params: ServiceParams; Querystring: { at?: string } }>('/v1/services/:service/served', async (request) => {
    const { service } = request.params;
    await knownService(service);
    const at = request.query.at === undefined ? new Date().toISOString() : isoInstant(request.query.at, '/at');
    return registry.servedAt(service, at);
  });
}

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const serviceParam = { name: 'service', in: 'path', required: true, schema: { type: 'string' } };
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string' } };
const state = { enum: ['registered', 'shadow', 'canary', 'live', 'retired', 'rolled-back'] };
const transition = {
  type: 'object',
  properties: { id: { type: 'string' }, service: { type: 'string' }, version: { type: 'string' }, from: { anyOf: [state, { type: 'null' }] }, to: state, at: { type: 'string', format: 'date-time' }, actor: { type: 'string' }, reason: { type: 'string' }, rolloutId: { type: ['string', 'null'] }, revision: { type: ['integer', 'null'] } },
};
const versionSummary = { type: 'object', properties: { name: { type: 'string' }, digest: { type: 'string' }, author: { type: 'string' }, registeredAt: { type: 'string', format: 'date-time' }, state, since: { type: 'string', format: 'date-time' }, description: { type: 'string' } } };
const versionFull = { type: 'object', properties: { service: { type: 'string' }, ...versionSummary.properties, spec: { type: 'object', description: 'The registered spec, every sha256 filled in (null for a url given without one)' } } };

/** OpenAPI paths of the registry routes, to merge into the served document. */
export const modelRouteDocs = {
  '/v1/services/{service}/models': {
    get: {
      operationId: 'listModelVersions',
      summary: "The service's registered model versions with their lifecycle state",
      parameters: [serviceParam],
      responses: { 200: json({ type: 'object', properties: { service: { type: 'string' }, versions: { type: 'array', items: versionSummary } } }, 'Versions, by registration time'), 404: problemResponse('SERVICE_NOT_FOUND') },
    },
    post: {
      operationId: 'registerModelVersion',
      summary: "Register a model version: files named by path are hashed on the server (relative to its config file's directory), urls recorded and never downloaded. Idempotent for the same spec (200); another spec under a registered name is MODEL_VERSION_CONFLICT. Audited as model.registered.",
      parameters: [serviceParam],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name', 'spec'], additionalProperties: false, properties: { name: { type: 'string' }, spec: modelVersionSpecDocumentSchema, reason: { type: 'string' } } } } } },
      responses: {
        200: json({ type: 'object', properties: { version: versionFull, created: { const: false }, unverified: { type: 'array', items: { type: 'string' } } } }, 'Already registered with this very spec'),
        201: json({ type: 'object', properties: { version: versionFull, created: { const: true }, unverified: { type: 'array', items: { type: 'string' }, description: 'Pointers of remote references registered without a sha256' } } }, 'Registered'),
        400: problemResponse('REQUEST_INVALID, or CONFIG_INVALID when a file does not have the sha256 given'),
        404: problemResponse('SERVICE_NOT_FOUND'),
        409: problemResponse('MODEL_VERSION_CONFLICT'),
        422: problemResponse('MODEL_ARTIFACT_UNREADABLE'),
      },
    },
  },
  '/v1/services/{service}/models/{version}': {
    get: {
      operationId: 'getModelVersion',
      summary: 'One version: spec, digest, author, state and its whole lifecycle history',
      parameters: [serviceParam, versionParam],
      responses: { 200: json({ ...versionFull, properties: { ...versionFull.properties, history: { type: 'array', items: transition } } }, 'The version'), 404: problemResponse('SERVICE_NOT_FOUND or VERSION_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/models/{version}/history': {
    get: {
      operationId: 'modelVersionHistory',
      summary: "A version's lifecycle transitions, oldest first: who, when, why, under which rollout and revision",
      parameters: [serviceParam, versionParam],
      responses: { 200: json({ type: 'object', properties: { service: { type: 'string' }, version: { type: 'string' }, state, transitions: { type: 'array', items: transition } } }, 'The history'), 404: problemResponse('SERVICE_NOT_FOUND or VERSION_NOT_FOUND') },
    },
  },
  '/v1/services/{service}/served': {
    get: {
      operationId: 'servedAt',
      summary: 'Which versions served the service at an instant (live or canary), and which were shadowed',
      parameters: [serviceParam, { name: 'at', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'ISO 8601 instant (default now)' }],
      responses: {
        200: json({ type: 'object', properties: { service: { type: 'string' }, at: { type: 'string', format: 'date-time' }, served: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, state: { enum: ['live', 'canary'] }, since: { type: 'string' } } } }, shadow: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, since: { type: 'string' } } } } } }, 'The versions'),
        400: problemResponse('REQUEST_INVALID'),
        404: problemResponse('SERVICE_NOT_FOUND'),
      },
    },
  },
} as const;
